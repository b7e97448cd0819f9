using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Burrow.Cli.Options;
using Burrow.Core.Diagnostics;
using Burrow.Core.Instances;
using Burrow.Core.Runtime;
using Burrow.Core.Runtime.Launch;
using Burrow.Core.Runtime.Planning;
using Burrow.Linux;

namespace Burrow.Cli.Commands;

/// <summary>
/// burrow instance start|list|stop: a container that runs detached, Apptainer's instances. The engine of an instance
/// is burrow itself, started again in a session of its own with its output in log files; it serves the image, holds
/// the network helper and supervises the container for as long as the instance runs (docs/ARCHITECTURE.md, "Instances").
/// </summary>
public static class InstanceCommand
{
    /// <summary>Set in the environment of the detached engine, so that "instance start" runs there instead of detaching again.</summary>
    private const string EngineVariable = "BURROW_INSTANCE_ENGINE";
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    public static Command Create()
    {
        var command = new Command("instance", "Run containers detached, as services: start, list, stop");
        command.Subcommands.Add(Start());
        command.Subcommands.Add(List());
        command.Subcommands.Add(Stop());
        return command;
    }

    private static Command Start()
    {
        var name = new Argument<string>("NAME") { Description = "The instance's name (letters, digits, '.', '_', '-')" };
        var args = new Argument<string[]>("ARGS")
        {
            Description = "Arguments for the startscript (/.singularity.d/startscript, else the runscript, else the shell)",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var command = new Command("start", "Start an instance: the image's startscript (else its runscript) runs detached, with exec's options");
        ActionRunner.AddOptions(command);
        command.Arguments.Add(ActionOptions.Image);
        command.Arguments.Add(name);
        command.Arguments.Add(args);
        command.SetAction(result =>
        {
            string instance = InstanceStore.CheckName(result.GetValue(name) ?? "");
            return Environment.GetEnvironmentVariable(EngineVariable) == instance
                ? RunEngine(result, instance, result.GetValue(args) ?? [])
                : Detach(result, instance);
        });
        return command;
    }

    /// <summary>The caller's side: start burrow again, detached, and wait until its payload runs or it fails.</summary>
    private static int Detach(ParseResult result, string name)
    {
        GlobalOptions.Apply(result);
        InstanceStore store = InstanceStore.Open();
        if (store.Read(name) is { } existing)
        {
            if (InstanceStore.StateOf(existing) == InstanceState.Running)
            {
                throw new BurrowException($"instance {name} already exists (pid {existing.EnginePid}, image {existing.Image})",
                    $"choose another name, or stop it first: burrow instance stop {name}", ExitCodes.Usage);
            }
            store.Remove(name); // it ended; its name is free again
        }
        if (result.GetValue(ActionOptions.Explain))
        {
            // Nothing to detach: show the plan as exec would.
            Environment.SetEnvironmentVariable(EngineVariable, name);
            return RunEngine(result, name, []);
        }
        string self = Environment.ProcessPath ?? "/proc/self/exe";
        var environment = Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>()
            .Where(e => (string)e.Key != EngineVariable)
            .Select(e => $"{e.Key}={e.Value}")
            .Append($"{EngineVariable}={name}")
            .ToArray();
        int pid;
        using (FileStream stdout = Core.Images.PrivateFiles.CreateFile(store.StdoutPath(name), overwrite: true))
        using (FileStream stderr = Core.Images.PrivateFiles.CreateFile(store.StderrPath(name), overwrite: true))
        using (var stdin = new FileStream("/dev/null", FileMode.Open, FileAccess.Read))
        {
            pid = Processes.Spawn(self, [self, .. Program.OriginalArguments], environment, [],
                [((int)stdin.SafeFileHandle.DangerousGetHandle(), 0), ((int)stdout.SafeFileHandle.DangerousGetHandle(), 1), ((int)stderr.SafeFileHandle.DangerousGetHandle(), 2)]);
        }
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            if (store.Read(name) is { } record && record.EnginePid == pid)
            {
                Log.Info($"instance started successfully: {name} (pid {pid}; logs {store.StdoutPath(name)}, {store.StderrPath(name)})");
                return ExitCodes.Success;
            }
            if (Processes.TryReap(pid))
            {
                string why = ErrorLines(store.StderrPath(name));
                store.Remove(name);
                throw new BurrowException($"instance {name} did not start: {why}");
            }
            if (Interruption.Token.IsCancellationRequested || waited.Elapsed > StartTimeout)
            {
                // Interrupted or stuck: the half-started instance goes (its monitor and network helper die with its engine).
                ProcessSecurity.Kill(pid, 9);
                Processes.Wait(pid);
                store.Remove(name);
                Interruption.ThrowIfRequested();
                throw new BurrowException($"instance {name} did not start within {StartTimeout.TotalSeconds:0} s", "run the same command with burrow exec to see where it stops");
            }
            Thread.Sleep(10);
        }
    }

    /// <summary>The detached engine: a session of its own, then the container, recorded once its payload runs.</summary>
    private static int RunEngine(ParseResult result, string name, IReadOnlyList<string> args)
    {
        if (!result.GetValue(ActionOptions.Explain))
        {
            ProcessSecurity.NewSession();
        }
        InstanceStore store = InstanceStore.Open();
        InstanceRecord? record = null;
        int status = ActionRunner.Run(result, ActionKind.Start, args, (image, plan, starter) =>
        {
            JoinTarget? target = JoinTarget.FindPayload(starter, plan.Namespaces.Pid && plan.Namespaces.Init);
            if (target is null)
            {
                Log.Warning($"instance {name}: cannot find its payload's process; commands cannot join it (instance://{name})");
            }
            record = new InstanceRecord
            {
                Name = name, Image = image, EnginePid = Environment.ProcessId, EngineStartTime = InstanceStore.EngineStartTime(Environment.ProcessId),
                Started = DateTimeOffset.UtcNow, StdoutLog = store.StdoutPath(name), StderrLog = store.StderrPath(name),
                Ports = plan.Network?.Ports.Select(p => $"{p.HostAddress ?? "*"}:{p.HostPort}->{p.ContainerPort}/{p.Protocol}").ToArray() ?? [],
                Join = target is null ? null : new InstanceJoin(target.Pid, target.StartTime, plan.Process, plan.Identity, plan.Namespaces),
            };
            store.Write(record);
        });
        if (record is not null)
        {
            // list shows how it ended, once, and then forgets it.
            store.Write(record with { ExitStatus = status });
        }
        return status;
    }

    private static Command List()
    {
        var json = new Option<bool>("--json") { Description = "Print the instances as JSON" };
        var logs = new Option<bool>("--logs") { Description = "Show the paths of each instance's stdout and stderr logs" };
        var command = new Command("list", "List your instances; those that ended or were killed are shown once, then removed");
        command.Options.Add(json);
        command.Options.Add(logs);
        command.SetAction(result =>
        {
            GlobalOptions.Apply(result);
            InstanceStore store = InstanceStore.Open();
            var listings = new List<InstanceListing>();
            foreach (InstanceRecord r in store.All())
            {
                InstanceState state = InstanceStore.StateOf(r);
                listings.Add(new InstanceListing(r.Name, r.EnginePid, r.Image, Describe(state, r.ExitStatus), r.ExitStatus, r.Ports, r.Started,
                    result.GetValue(logs) || result.GetValue(json) ? r.StdoutLog : null, result.GetValue(logs) || result.GetValue(json) ? r.StderrLog : null));
                if (state != InstanceState.Running)
                {
                    store.Remove(r.Name);
                }
            }
            if (result.GetValue(json))
            {
                Console.Out.Write(JsonSerializer.Serialize(listings.ToArray(), InstanceJsonContext.Default.InstanceListingArray) + "\n");
                return ExitCodes.Success;
            }
            Console.Out.WriteLine($"{"INSTANCE NAME",-16} {"PID",-8} {"STATE",-12} {"PORTS",-28} IMAGE");
            foreach (InstanceListing l in listings)
            {
                string ports = l.Ports.Count == 0 ? "-" : string.Join(",", l.Ports);
                Console.Out.WriteLine(TerminalText.Escape($"{l.Name,-16} {l.Pid,-8} {l.State,-12} {ports,-28} {l.Image}"));
                if (result.GetValue(logs))
                {
                    Console.Out.WriteLine(TerminalText.Escape($"{"",-16} stdout {l.StdoutLog}"));
                    Console.Out.WriteLine(TerminalText.Escape($"{"",-16} stderr {l.StderrLog}"));
                }
            }
            return ExitCodes.Success;
        });
        return command;
    }

    private static string Describe(InstanceState state, int? status) => state switch
    {
        InstanceState.Running => "running",
        InstanceState.Exited when status > 128 => "killed (" + Interruption.Name(status.Value - 128) + ")",
        InstanceState.Exited => "exited (" + status?.ToString(CultureInfo.InvariantCulture) + ")",
        _ => "killed",
    };

    private static Command Stop()
    {
        var name = new Argument<string?>("NAME") { Description = "The instance to stop", Arity = ArgumentArity.ZeroOrOne };
        var all = new Option<bool>("--all", "-a") { Description = "Stop all your instances" };
        var signal = new Option<string?>("--signal", "-s") { Description = "The signal to send first (name or number; default SIGTERM)" };
        var timeout = new Option<int>("--timeout", "-t") { Description = "Seconds to wait before SIGKILL (default 10)", DefaultValueFactory = _ => 10 };
        var force = new Option<bool>("--force", "-F") { Description = "Send SIGKILL at once" };
        var command = new Command("stop", "Stop an instance (or --all): the signal, then SIGKILL after the timeout; its state and logs are removed");
        command.Arguments.Add(name);
        command.Options.Add(all);
        command.Options.Add(signal);
        command.Options.Add(timeout);
        command.Options.Add(force);
        command.SetAction(result =>
        {
            GlobalOptions.Apply(result);
            string? given = result.GetValue(name);
            bool everything = result.GetValue(all);
            if (given is null == !everything)
            {
                throw new BurrowException(everything ? "instance stop --all takes no NAME" : "instance stop needs a NAME or --all",
                    "burrow instance stop NAME, or burrow instance stop --all", ExitCodes.Usage);
            }
            int first = result.GetValue(force) ? 9 : SignalNumber(result.GetValue(signal) ?? "TERM");
            int seconds = result.GetValue(timeout);
            if (seconds < 0)
            {
                throw new BurrowException($"--timeout {seconds}: must be 0 or more seconds", "for example --timeout 30", ExitCodes.Usage);
            }
            InstanceStore store = InstanceStore.Open();
            IReadOnlyList<InstanceRecord> targets = everything ? store.All()
                : [store.Read(InstanceStore.CheckName(given!)) ?? throw new BurrowException($"no instance named {given}", "see burrow instance list", ExitCodes.Usage)];
            foreach (InstanceRecord r in targets)
            {
                StopOne(store, r, first, TimeSpan.FromSeconds(seconds));
            }
            return ExitCodes.Success;
        });
        return command;
    }

    private static void StopOne(InstanceStore store, InstanceRecord r, int signal, TimeSpan timeout)
    {
        if (InstanceStore.StateOf(r) != InstanceState.Running)
        {
            Log.Info($"instance {r.Name} had already ended ({Describe(InstanceStore.StateOf(r), r.ExitStatus)}); removed");
            store.Remove(r.Name);
            return;
        }
        Signal(r, signal);
        if (!WaitGone(r, timeout))
        {
            Log.Warning($"instance {r.Name} did not stop within {timeout.TotalSeconds:0} s of {Interruption.Name(signal)}; sending SIGKILL");
            Signal(r, 9);
            if (!WaitGone(r, TimeSpan.FromSeconds(10)))
            {
                throw new BurrowException($"instance {r.Name} (pid {r.EnginePid}) is still running after SIGKILL", "see ps -o pid,stat,cmd -p " + r.EnginePid);
            }
        }
        store.Remove(r.Name);
        Log.Info($"stopping {r.Name} instance of {r.Image} (PID={r.EnginePid})");
    }

    private static void Signal(InstanceRecord r, int signal)
    {
        try
        {
            ProcessSecurity.Kill(r.EnginePid, signal);
        }
        catch (LinuxException e) when (e.Errno == Errno.ESRCH)
        {
            // It ended meanwhile.
        }
    }

    private static bool WaitGone(InstanceRecord r, TimeSpan timeout)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (InstanceStore.EngineStartTime(r.EnginePid) == r.EngineStartTime)
        {
            if (waited.Elapsed > timeout)
            {
                return false;
            }
            Thread.Sleep(20);
        }
        return true;
    }

    private static int SignalNumber(string given)
    {
        string name = given.ToUpperInvariant();
        name = name.StartsWith("SIG", StringComparison.Ordinal) ? name[3..] : name;
        int? number = name switch
        {
            "HUP" => 1, "INT" => 2, "QUIT" => 3, "KILL" => 9, "USR1" => 10, "USR2" => 12, "TERM" => 15, "CONT" => 18, "STOP" => 19,
            _ => int.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n is >= 1 and <= 64 ? n : null,
        };
        return number ?? throw new BurrowException($"--signal {given}: not a signal", "give a name such as TERM, INT or KILL, or a number from 1 to 64", ExitCodes.Usage);
    }

    private static string ErrorLines(string log)
    {
        try
        {
            string[] errors = File.ReadAllLines(log).Where(l => l.StartsWith("ERROR:", StringComparison.Ordinal)).Select(l => l["ERROR:".Length..].Trim()).ToArray();
            return errors.Length > 0 ? string.Join("; ", errors) : "it exited without a message";
        }
        catch (IOException)
        {
            return "it exited without a message";
        }
    }
}

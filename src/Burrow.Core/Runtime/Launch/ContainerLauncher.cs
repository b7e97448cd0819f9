using Burrow.Core.Identity;
using System.Globalization;
using System.Text.Json;
using Burrow.Core.Diagnostics;
using Burrow.Core.Runtime.Serving;
using Burrow.Linux;
using Microsoft.Win32.SafeHandles;

namespace Burrow.Core.Runtime.Launch;

/// <summary>
/// The engine side of a launch: creates the session directory, spawns the starter with the plan on a
/// memfd, writes the uid/gid maps when the starter has its user namespace, relays signals, relays
/// failures from the starter and the stage as ERROR: lines, and returns the payload's exit status.
/// </summary>
public static class ContainerLauncher
{
    /// <summary>
    /// Runs the plan to completion and returns the exit status for burrow to exit with
    /// (payload status, 128+N for a signal). Throws BurrowException for set-up failures.
    /// </summary>
    /// <param name="server">Serves a squashfs root; null to make one from the plan (see <see cref="ImageServers"/>).</param>
    public static int Run(LaunchPlan plan, RuntimePaths paths, IImageServer? server = null) => Run(plan, paths, server, LaunchStdio.Inherited);

    /// <param name="stdio">Where the container's standard error goes (a build relays its %post's trace).</param>
    public static int Run(LaunchPlan plan, RuntimePaths paths, IImageServer? server, LaunchStdio stdio)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(paths);
        ArgumentNullException.ThrowIfNull(stdio);
        return Guarded(() =>
        {
            using IImageServer? serving = server ?? ImageServers.For(plan.Root);
            using SessionDirectory session = SessionDirectory.Create();
            Stage.StageRunner.Timing.Mark("engine: session directory");
            byte[] json = JsonSerializer.SerializeToUtf8Bytes(plan, LaunchPlanJsonContext.Default.LaunchPlan);
            Stage.StageRunner.Timing.Mark("engine: plan serialised");
            // A payload in burrow's own session gets the terminal's signals from the terminal itself.
            LaunchStdio launch = stdio with { PayloadSharesTerminal = !plan.Process.Session.New };
            return Launch(plan.Identity, plan.Namespaces, plan.Network, session.Path, paths, StageCommandName, json, [session.Path], serving, launch, []);
        });
    }

    /// <summary>
    /// Runs <c>burrow COMMAND SYNC_FD JOB_FD LOG_LEVEL</c> (a hidden command of the same binary) on the host's file
    /// system as root of a new user namespace with <paramref name="identity"/>'s maps and a mount namespace of its own,
    /// as <c>podman unshare</c> does: how a build unpacks, copies and packs files whose owners are the container's ids.
    /// <paramref name="job"/> reaches it on a sealed memfd. The command reports "P" before it works and may report
    /// failures ("F") as the stage does; returns its exit status.
    /// </summary>
    /// <param name="pass">Descriptors the command gets as they are (it reaches them as /proc/self/fd/N).</param>
    public static int RunInUserNamespace(IdentityPlan identity, NamespacePlan namespaces, string command, byte[] job, RuntimePaths paths,
        IReadOnlyList<SafeFileHandle>? pass = null)
    {
        ArgumentNullException.ThrowIfNull(identity);
        ArgumentNullException.ThrowIfNull(paths);
        return Guarded(() => Launch(identity, namespaces, null, "", paths, command, job, [], null, new LaunchStdio { InterruptKills = true }, pass ?? []));
    }

    /// <summary>
    /// Runs <paramref name="process"/> in the namespaces of a running instance's process (docs/ARCHITECTURE.md,
    /// "Joining an instance"): the starter joins them and execs the payload itself, with the ids, capabilities,
    /// no_new_privs and seccomp programs a new container's stage would give it; its parent stays as the monitor.
    /// </summary>
    /// <param name="target">A process of the instance whose memory belongs to the instance's user namespace (its payload).</param>
    /// <param name="fallbackCwd">The working directory when the process's own does not exist in the container (the instance's); null for none.</param>
    public static int Join(JoinTarget target, ProcessPlan process, IdentityPlan identity, string? fallbackCwd, RuntimePaths paths, LaunchStdio stdio)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(process);
        ArgumentNullException.ThrowIfNull(identity);
        ArgumentNullException.ThrowIfNull(paths);
        ArgumentNullException.ThrowIfNull(stdio);
        return Guarded(() =>
        {
            if (!File.Exists(paths.Starter))
            {
                throw new BurrowException($"the starter {paths.Starter} is missing", "reinstall burrow (scripts/build installs it under PREFIX/libexec/burrow)");
            }
            ProcessSecurity.SetDumpable(false);
            using SafeFileHandle procDir = target.Open();
            using SafeFileHandle specFd = FileDescriptors.MemoryFile("burrow-join", []);
            (SafeFileHandle engineEnd, SafeFileHandle starterEnd) = FileDescriptors.SeqPacketPair();
            using (engineEnd)
            using (SignalForwarder signals = StartSignalForwarder(!process.Session.New, stdio.InterruptKills))
            {
                int starterFd = (int)starterEnd.DangerousGetHandle();
                int procNumber = (int)procDir.DangerousGetHandle(), specNumber = (int)specFd.DangerousGetHandle();
                string[] argv = [paths.Starter, Num(starterFd), Num(Environment.ProcessId), JoinFlag, Num(procNumber), Num(specNumber)];
                int pid;
                using (starterEnd)
                {
                    pid = Processes.Spawn(paths.Starter, argv, [], [starterFd, procNumber, specNumber], stdio.Redirects);
                }
                signals.Target = pid;
                // Written once the starter has joined: the filter names the monitor, which is the starter itself.
                void WriteSpec()
                {
                    byte[]? filter = Stage.PayloadFilter.Compile(process.SyscallFilter ?? [], monitor: pid);
                    byte[]? profile = process.SeccompProfile is { } p ? Stage.PayloadFilter.CompileProfile(p) : null;
                    FileDescriptors.WriteAll(specFd, JoinSpec.Encode(process, identity, filter, profile, fallbackCwd));
                }
                return Supervise(pid, engineEnd, identity, null, null, null, "", stdio.PayloadStarted, WriteSpec);
            }
        });
    }

    private const string JoinFlag = "J";

    private const string StageCommandName = "__stage";

    private static int Guarded(Func<int> launch)
    {
        try
        {
            return launch();
        }
        catch (LinuxException e) when (e.Errno == Errno.EAGAIN && e.Operation == "posix_spawn")
        {
            throw ProcessLimit.Failure("cannot start the container's starter");
        }
        catch (Exception e) when (e is LinuxException or IOException or UnauthorizedAccessException)
        {
            // Whatever the host refused on our side of the launch, it is reported, never a stack trace.
            throw new BurrowException("cannot start the container: " + e.Message);
        }
    }

    /// <param name="network">The container's network helper (pasta, slirp4netns), started when the starter says its namespace is ready; null for none.</param>
    private static int Launch(IdentityPlan identity, NamespacePlan namespaces, NetworkPlan? network, string sessionPath, RuntimePaths paths, string command, byte[] job,
        IReadOnlyList<string> extraArgs, IImageServer? server, LaunchStdio stdio, IReadOnlyList<SafeFileHandle> pass)
    {
        Stage.StageRunner.Timing.Start();
        if (!File.Exists(paths.Starter))
        {
            throw new BurrowException($"the starter {paths.Starter} is missing", "reinstall burrow (scripts/build installs it under PREFIX/libexec/burrow)");
        }

        // Before anything starts: a subordinate map needs working newuidmap/newgidmap. Found and checked once,
        // here, and handed to the map writer, so the starter never waits on a second lookup.
        MapHelpers.Paths? helpers = MapHelpers.RequireFor(identity);

        // The payload runs as the same user in the host's PID namespace: keep it out of our /proc
        // entries (fds, memory, /proc/PID/exe — runc CVE-2019-5736 and CVE-2024-21626).
        ProcessSecurity.SetDumpable(false);

        using SafeFileHandle jobFd = FileDescriptors.MemoryFile("burrow-plan", job);
        (SafeFileHandle engineEnd, SafeFileHandle starterEnd) = FileDescriptors.SeqPacketPair();
        using (engineEnd)
        using (SignalForwarder signals = StartSignalForwarder(stdio.PayloadSharesTerminal, stdio.InterruptKills))
        {
            Stage.StageRunner.Timing.Mark("engine: signal handlers");
            int starterFd = (int)starterEnd.DangerousGetHandle();
            int jobNumber = (int)jobFd.DangerousGetHandle();
            string[] argv =
            [
                paths.Starter, Num(starterFd), Num(Environment.ProcessId), NamespaceFlags(namespaces) + (network is null ? "" : "h"),
                paths.Self, command, Num(starterFd), Num(jobNumber), .. extraArgs, Num((int)Log.Level),
            ];
            int pid;
            using (starterEnd)
            {
                pid = Processes.Spawn(paths.Starter, argv, [], [starterFd, jobNumber, .. pass.Select(h => (int)h.DangerousGetHandle())], stdio.Redirects);
            }
            signals.Target = pid;
            Stage.StageRunner.Timing.Mark("engine: starter spawned");
            return Supervise(pid, engineEnd, identity, network, helpers, server, sessionPath, stdio.PayloadStarted);
        }
    }

    /// <summary>The runtime's signal thread is the first thread burrow starts for a launch: it fails on the process limit.</summary>
    private static SignalForwarder StartSignalForwarder(bool payloadSharesTerminal, bool interruptKills)
    {
        try
        {
            return new SignalForwarder(payloadSharesTerminal, interruptKills);
        }
        catch (Exception e) when (e is TypeInitializationException or IOException)
        {
            Exception cause = e.InnerException ?? e;
            if (cause is IOException { HResult: Errno.EAGAIN })
            {
                throw ProcessLimit.Failure("cannot start burrow's signal-relay thread");
            }
            throw new BurrowException("cannot set up signal handling: " + cause.Message, ProcessLimit.MaybeHint());
        }
    }

    private static int Supervise(int pid, SafeFileHandle channel, IdentityPlan identity, NetworkPlan? networkPlan, MapHelpers.Paths? helpers, IImageServer? server, string sessionPath,
        Action<int>? payloadStarted, Action? joined = null)
    {
        Networking.INetworkHelper? network = null;
        try
        {
            return Supervise(pid, channel, identity, networkPlan, helpers, server, sessionPath, payloadStarted, joined, ref network);
        }
        finally
        {
            network?.Dispose();
        }
    }

    private static int Supervise(int pid, SafeFileHandle channel, IdentityPlan identity, NetworkPlan? networkPlan, MapHelpers.Paths? helpers, IImageServer? server, string sessionPath,
        Action<int>? payloadStarted, Action? joined, ref Networking.INetworkHelper? network)
    {
        BurrowException? failure = null;
        int? status = null;
        bool started = false;
        try
        {
            string? first = FileDescriptors.ReceivePacket(channel);
            if (first == StarterProtocol.UserNamespaceReady)
            {
                try
                {
                    IdMapWriting.Write(pid, identity, helpers);
                    FileDescriptors.SendPacket(channel, StarterProtocol.Go);
                    Stage.StageRunner.Timing.Mark("engine: maps written");
                }
                catch (BurrowException e)
                {
                    failure = e;
                    FileDescriptors.SendPacket(channel, StarterProtocol.Abort);
                }
                first = null;
            }
            for (Packet? packet = first is null ? FileDescriptors.ReceivePacketWithDescriptor(channel) : new Packet(first, null);
                 packet is { } p; packet = FileDescriptors.ReceivePacketWithDescriptor(channel))
            {
                string message = p.Text;
                if (message == StarterProtocol.NetworkNamespaceReady && p.Descriptor is null && networkPlan is { } net && network is null)
                {
                    try
                    {
                        network = Networking.NetworkHelpers.Start(net, pid, sessionPath);
                        FileDescriptors.SendPacket(channel, StarterProtocol.Go);
                        Stage.StageRunner.Timing.Mark("engine: network helper attached");
                    }
                    catch (Exception e) when (e is BurrowException or IOException or System.Net.Sockets.SocketException or UnauthorizedAccessException)
                    {
                        failure ??= e as BurrowException ?? new BurrowException($"cannot start the network helper {net.Helper.ToString().ToLowerInvariant()}: {e.Message}");
                        FileDescriptors.SendPacket(channel, StarterProtocol.Abort);
                    }
                    continue;
                }
                if (message == StarterProtocol.Joined && p.Descriptor is null && joined is not null)
                {
                    try
                    {
                        joined();
                        FileDescriptors.SendPacket(channel, StarterProtocol.Go);
                    }
                    catch (BurrowException e)
                    {
                        failure ??= e;
                        FileDescriptors.SendPacket(channel, StarterProtocol.Abort);
                    }
                    joined = null;
                    continue;
                }
                if (message == StarterProtocol.ImageDevice && p.Descriptor is { } device && server is not null)
                {
                    try
                    {
                        server.Serve(device);
                        Stage.StageRunner.Timing.Mark("engine: serving the image");
                    }
                    catch (BurrowException e)
                    {
                        // The stage is waiting on the mount: kill the container rather than let it hang.
                        failure ??= e;
                        ProcessSecurity.Kill(pid, 9);
                    }
                    continue;
                }
                if (p.Descriptor is { } unexpected)
                {
                    unexpected.Dispose();
                    failure ??= new BurrowException($"unexpected descriptor from the starter with \"{message}\"");
                    continue;
                }
                if (message.Length > 0 && message[0] == StarterProtocol.PayloadStatus && int.TryParse(message.AsSpan(1), CultureInfo.InvariantCulture, out int code))
                {
                    status = code;
                    break;
                }
                if (message == StarterProtocol.PayloadStarting)
                {
                    started = true;
                    payloadStarted?.Invoke(pid);
                    Stage.StageRunner.Timing.Mark("engine: payload started");
                    continue;
                }
                failure ??= Interpret(message);
            }
        }
        catch (Exception e) when (e is LinuxException or InvalidDataException)
        {
            failure ??= new BurrowException("lost contact with the starter: " + e.Message);
        }
        // With the status in hand there is no need to wait while the monitor's exit tears the mount
        // namespace down; it is reaped now if it is already gone, else by init when burrow exits.
        bool reported = status is not null;
        if (status is null)
        {
            status = Processes.Wait(pid).ShellCode;
        }
        else
        {
            Processes.TryReap(pid);
        }
        if (failure is not null)
        {
            throw failure;
        }
        if (!reported)
        {
            throw new BurrowException($"the container's monitor ended without the payload's status (burrow-starter exit status {status})",
                "it was killed from outside burrow, or the machine ran out of memory");
        }
        if (!started)
        {
            // The stage reports every failure it can see; dying silently means its runtime could not start.
            throw new BurrowException($"the container's set-up ended before the command started, without a message (status {status})",
                ProcessLimit.MaybeHint() ?? "rerun with --debug");
        }
        return status.Value;
    }

    private static BurrowException Interpret(string message)
    {
        if (message.Length == 0)
        {
            return new BurrowException("unexpected empty message from the starter");
        }
        string[] f = message[1..].Split('\t');
        if (message[0] == StarterProtocol.StageFailure && f.Length >= 2)
        {
            int code = int.TryParse(f[0], CultureInfo.InvariantCulture, out int c) ? c : ExitCodes.Failure;
            return new BurrowException(f[1], f.Length > 2 && f[2].Length > 0 ? f[2] : null, code);
        }
        if (message[0] == StarterProtocol.StarterError && f.Length >= 2 && int.TryParse(f[0], CultureInfo.InvariantCulture, out int errno))
        {
            return StarterFailure(errno, f[1]);
        }
        return new BurrowException("unexpected message from the starter: " + message);
    }

    private static BurrowException StarterFailure(int errno, string operation)
    {
        string reason = System.Runtime.InteropServices.Marshal.GetPInvokeErrorMessage(errno);
        if (errno == Errno.EAGAIN && operation.StartsWith("fork", StringComparison.Ordinal))
        {
            return ProcessLimit.Failure($"burrow-starter: {operation}");
        }
        if (operation.StartsWith("unshare(CLONE_NEWUSER)", StringComparison.Ordinal))
        {
            return new BurrowException($"cannot create a user namespace: {reason}",
                "unprivileged user namespaces are disabled or exhausted on this machine; ask the administrator to allow them "
                + "(sysctl user.max_user_namespaces > 0; on Debian kernels kernel.unprivileged_userns_clone=1; "
                + "on Ubuntu kernel.apparmor_restrict_unprivileged_userns=0)");
        }
        if (operation.StartsWith("unshare", StringComparison.Ordinal))
        {
            return new BurrowException($"cannot create the container's namespaces ({operation}): {reason}",
                "the kernel or its configuration refuses one of the requested namespaces; try without --pid, --ipc, --net or --hostname");
        }
        return new BurrowException($"burrow-starter: {operation}: {reason}");
    }

    private static string NamespaceFlags(NamespacePlan ns)
    {
        string flags = (ns.Pid ? "p" : "") + (ns.Ipc ? "i" : "") + (ns.Uts ? "u" : "") + (ns.Net ? "n" : "") + (ns.Pid && ns.Init ? "t" : "");
        return flags.Length == 0 ? "-" : flags;
    }

    private static string Num(int value) => value.ToString(CultureInfo.InvariantCulture);
}

/// <summary>
/// Where a launch's standard descriptors come from (burrow's own, or others put in their place), what a signal to
/// burrow does, and whom to tell when the payload starts.
/// </summary>
public sealed record LaunchStdio
{
    public static LaunchStdio Inherited { get; } = new();

    /// <summary>SIGINT, SIGTERM and SIGHUP kill the whole container (a build's steps) instead of being relayed to the payload.</summary>
    public bool InterruptKills { get; init; }

    /// <summary>A descriptor the container's standard error is written to instead of burrow's (a pipe the caller reads).</summary>
    public int? StandardError { get; init; }

    /// <summary>Called with the starter's pid once the payload is about to run (an instance records itself then).</summary>
    public Action<int>? PayloadStarted { get; init; }

    /// <summary>The payload keeps burrow's session and process group (it has a terminal); set from the plan.</summary>
    internal bool PayloadSharesTerminal { get; init; }

    internal IReadOnlyList<(int From, int To)> Redirects => StandardError is { } fd ? [(fd, 2)] : [];
}

using System.CommandLine;
using System.Text.Json;
using Burrow.Cli.Options;
using Burrow.Core.Diagnostics;
using Burrow.Core.Identity;
using Burrow.Core.Images;
using Burrow.Core.Instances;
using Burrow.Core.Runtime;
using Burrow.Core.Runtime.Launch;
using Burrow.Core.Runtime.Planning;
using Burrow.Core.Runtime.Planning.Facts;

namespace Burrow.Cli.Commands;

/// <summary>
/// exec, run and shell of instance://NAME: the command is planned against the instance's live root and run in its
/// namespaces, as its own payload runs (docs/ARCHITECTURE.md, "Joining an instance").
/// </summary>
internal static class InstanceJoinRunner
{
    public static int Run(ParseResult result, ActionKind action, ActionRequest request, InstanceImageSpec spec, Core.Config.BurrowConfig config, HostUser user)
    {
        if (action is not (ActionKind.Exec or ActionKind.Run or ActionKind.Shell))
        {
            throw new BurrowException($"{spec.Given}: only exec, run and shell can join a running instance", "give the instance's image instead", ExitCodes.Usage);
        }
        IReadOnlyList<string> inapplicable = InstanceJoinPlanner.InapplicableOptions(request, IdentityOptions.Read(result));
        if (inapplicable.Count > 0)
        {
            throw new BurrowException($"{string.Join(", ", inapplicable)}: the container of instance {spec.Name} is running already, and a command joining it gets its mounts, namespaces and identity",
                "give these options to burrow instance start", ExitCodes.Usage);
        }
        InstanceJoin join = RunningInstance(spec.Name);
        var target = new JoinTarget(join.Pid, join.StartTime);

        IdentityDecision identity = IdentityResolver.Resolve(IdentityRequest.Default, user, SubordinateIds.ReadFromHost(), config);
        identity = HomeSpec.Apply(identity, request, user, HostFactsReader.CurrentDirectory());
        HostFacts host = HostFactsReader.Read(request, user, identity, config);
        ImageFacts facts;
        using (OpenedImage root = ImageOpener.OpenRunning(spec, target.Pid))
        {
            facts = ImageFactsReader.Read(root, request, host, identity);
        }
        LaunchPlan asked = LaunchPlanner.Plan(new PlanInput(request, host, facts, identity));
        ProcessPlan process = InstanceJoinPlanner.Merge(asked.Process, join);
        string? fallbackCwd = request.Pwd is null ? join.Process.Cwd : null;
        if (result.GetValue(ActionOptions.Explain))
        {
            LaunchPlan shown = asked with { Process = process, Identity = join.Identity, Namespaces = join.Namespaces, Mounts = [], Files = [], Network = null };
            Console.Out.Write(result.GetValue(ActionOptions.Json)
                ? JsonSerializer.Serialize(shown, LaunchPlanJsonContext.Default.LaunchPlan) + "\n"
                : $"joins instance {spec.Name}: the namespaces of its process {target.Pid}; its root, mounts and identity as they are\n"
                  + TerminalText.EscapeMultiline(PlanExplainer.Render(shown)));
            return ExitCodes.Success;
        }
        if (result.GetValue(ActionOptions.Json))
        {
            throw new BurrowException("--json only goes with --explain", "burrow exec --explain --json IMAGE COMMAND", ExitCodes.Usage);
        }
        return ContainerLauncher.Join(target, process, join.Identity, fallbackCwd, RuntimePaths.FromProcess(), LaunchStdio.Inherited);
    }

    /// <summary>The caller's own instance (another user's state directory is out of reach), running, with a process to join.</summary>
    private static InstanceJoin RunningInstance(string name)
    {
        InstanceStore store = InstanceStore.Open();
        InstanceRecord record = store.Read(name)
            ?? throw new BurrowException($"no instance named {name}", "burrow instance list shows your instances; burrow instance start IMAGE NAME starts one");
        switch (InstanceStore.StateOf(record))
        {
            case InstanceState.Exited:
                throw new BurrowException($"instance {name} has exited (status {record.ExitStatus})", $"see its logs: {record.StdoutLog}, {record.StderrLog}");
            case InstanceState.Killed:
                throw new BurrowException($"instance {name} was killed", $"see its logs: {record.StdoutLog}, {record.StderrLog}");
        }
        if (record.Join is not { } join || JoinTarget.StartTimeOf(join.Pid) != join.StartTime)
        {
            throw new BurrowException($"instance {name} has no process left to join", $"stop it (burrow instance stop {name}) and start it again");
        }
        return join;
    }
}

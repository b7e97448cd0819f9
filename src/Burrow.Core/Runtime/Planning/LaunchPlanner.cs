using Burrow.Core.Diagnostics;

namespace Burrow.Core.Runtime.Planning;

/// <summary>
/// The pure planner: request + host facts + image facts + identity decision → <see cref="LaunchPlan"/>.
/// It reads nothing itself; the fact readers gather exactly the paths <see cref="FactQueries"/> lists.
/// A draft plan is built first, then the strict checks (any finding stops the launch with an ERROR)
/// and the warning checks (findings become the plan's warnings) look at input and draft together.
/// </summary>
public static class LaunchPlanner
{
    public static LaunchPlan Plan(PlanInput input)
    {
        (LaunchPlan draft, IReadOnlyList<CheckFinding> errors, IReadOnlyList<CheckFinding> warnings) = PlanAndCheck(input);
        if (errors.Count > 0)
        {
            CheckFinding first = errors[0];
            string more = errors.Count > 1 ? $" (and {errors.Count - 1} more: {string.Join("; ", errors.Skip(1).Select(e => e.Message))})" : "";
            throw new BurrowException(first.Message + more, first.Hint);
        }
        return draft with { Warnings = [.. draft.Warnings, .. warnings.Select(w => w.Message)] };
    }

    /// <summary>The draft and every finding, without throwing: for tests and tools that want all problems at once.</summary>
    public static (LaunchPlan Draft, IReadOnlyList<CheckFinding> Errors, IReadOnlyList<CheckFinding> Warnings) PlanAndCheck(PlanInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        ActionRequest request = input.Request;
        IReadOnlyList<BindSpec> binds = BindSpec.ParseAll(request.Binds, input.Host.Cwd);

        var namespaces = new NamespacePlan
        {
            Pid = request.Pid || request.ContainAll,
            Ipc = request.Ipc || request.ContainAll,
            Net = NetworkPlanner.WantsNamespace(request),
            Uts = request.Hostname is not null,
            Init = (request.Pid || request.ContainAll) && !request.NoInit,
        };
        NetworkPlan? network = NetworkPlanner.Plan(request);
        IReadOnlyList<MountStep> mounts = MountPlanner.Plan(input, binds, namespaces, network);
        RootFsPlan root = RootPlanner.Plan(input);

        PlannedEnvironment env = EnvironmentPlanner.Plan(request, input.Host, input.Identity.HomeDestination, input.Image.RootPath);
        IReadOnlyList<string> argv = ProcessPlanner.ActionArgv(request, input.Image);
        var envVars = env.Env;
        if (request.Action == ActionKind.Shell || (request.Action == ActionKind.Run && argv.Count > 0 && argv[0] != FactQueries.RunScript))
        {
            envVars = [.. envVars.Where(v => v.Name != "SHELL"), new EnvVar("SHELL", argv.Count > 0 ? argv[0] : FactQueries.Sh)];
        }
        int commandIndex = 0;
        if (ProcessPlanner.CanSourceEnvScripts(input.Image) && argv.Count > 0)
        {
            int actionCount = argv.Count;
            argv = ProcessPlanner.WithEnvScripts(argv, input.Image.EnvScripts, env.UserSet);
            commandIndex = argv.Count - actionCount;
        }

        var draft = new LaunchPlan
        {
            Namespaces = namespaces,
            Identity = input.Identity.Plan,
            Root = root,
            Mounts = mounts,
            Files = SynthesizedFiles(input, root, network),
            Network = network,
            Hostname = request.Hostname,
            Process = new ProcessPlan
            {
                Argv = argv,
                Env = envVars,
                Cwd = ContainerView.WorkingDirectory(input, mounts).Cwd,
                Uid = input.Identity.Uid,
                Gid = input.Identity.Gid,
                SupplementaryGroups = input.Identity.SupplementaryGroups,
                Capabilities = input.Identity.Capabilities,
                NoNewPrivileges = true,
                CommandIndex = commandIndex,
                Session = PayloadGuards.Session(input.Host),
                SyscallFilter = PayloadGuards.Filter(namespaces),
            },
            Warnings = input.Identity.Warnings,
        };

        var context = new PlanContext(input, binds, draft);
        return (draft,
            PlanChecks.Strict.SelectMany(c => c.Run(context)).ToArray(),
            PlanChecks.Warnings.SelectMany(c => c.Run(context)).ToArray());
    }

    private static IReadOnlyList<SynthesizedFile> SynthesizedFiles(PlanInput input, RootFsPlan root, NetworkPlan? network)
    {
        var files = new List<SynthesizedFile>();
        if (IdentityFiles.ShouldGenerate(input.Identity, RootPlanner.IsWritable(root)))
        {
            if (input.Image.Passwd is { } passwd)
            {
                files.Add(new SynthesizedFile("/etc/passwd", IdentityFiles.PasswdFor(passwd, input.Host.User, input.Identity), IdentityFiles.FileMode));
            }
            if (input.Image.Group is { } group)
            {
                files.Add(new SynthesizedFile("/etc/group", IdentityFiles.GroupFor(group, input.Image.Passwd, input.Host.User, input.Identity), IdentityFiles.FileMode));
            }
        }
        if (NetworkPlanner.Nameservers(input.Request, network) is { } nameservers)
        {
            files.Add(new SynthesizedFile("/etc/resolv.conf", string.Concat(nameservers.Select(n => $"nameserver {n}\n")), IdentityFiles.FileMode));
        }
        if (input.Request.Hostname is { } hostname)
        {
            files.Add(new SynthesizedFile("/etc/hostname", hostname + "\n", IdentityFiles.FileMode));
        }
        return files;
    }
}

using Burrow.Core.Diagnostics;
using Burrow.Core.Identity;
using Burrow.Core.Images;
using Burrow.Core.Runtime;
using Burrow.Core.Runtime.Launch;
using Burrow.Core.Runtime.Planning;
using Burrow.Core.Runtime.Planning.Facts;

namespace Burrow.Core.Build;

/// <summary>
/// A container of the image being built, through the ordinary runtime (planner, starter, stage), as Apptainer runs
/// <c>%post</c> with <c>exec --build-config --writable --cleanenv --pwd /</c>: the build's identity (root, with the
/// caller's range), the sandbox itself as a writable root, the host's network, resolv.conf and hosts, no home and no
/// working directory, and a /tmp and /var/tmp of the build's own (so nothing lands in the host's /tmp, and nothing of
/// a %post's scratch files lands in the image).
/// </summary>
internal sealed class BuildContainer(BuildNamespace ns, string tmp, string varTmp)
{
    private readonly HostUser _user = HostUserReader.Read();

    /// <summary>Runs <paramref name="argv"/> (exec) or the image's test (<paramref name="action"/> Test) and returns its status.</summary>
    public int Run(string rootfs, ActionKind action, IReadOnlyList<string> argv, IReadOnlyList<string> env, bool writable, LaunchStdio? stdio = null)
    {
        var request = new ActionRequest
        {
            Action = action,
            Arguments = argv,
            Writable = writable,
            NoHome = true,
            Pwd = "/",
            CleanEnv = true,
            Env = env,
            Binds = [tmp + ":/tmp", varTmp + ":/var/tmp"],
            BuildContainer = true,
        };
        IdentityDecision identity = ns.Identity;
        HostFacts host = HostFactsReader.Read(request, _user, identity);
        using OpenedImage image = ImageOpener.Open(new SandboxImageSpec(rootfs, rootfs), new ImageOpenOptions());
        ImageFacts facts = ImageFactsReader.Read(image, request, host, identity);
        if (action == ActionKind.Test && facts.KindOf(FactQueries.TestScript) != PathKind.File)
        {
            return 0;
        }
        LaunchPlan plan = LaunchPlanner.Plan(new PlanInput(request, host, facts, identity));
        if (Log.Level <= LogLevel.Debug)
        {
            Log.Debug("build container plan:\n" + PlanExplainer.Render(plan));
        }
        return BuildNamespace.Interruptible(() => ContainerLauncher.Run(plan, ns.Paths, image.CreateServer(), (stdio ?? LaunchStdio.Inherited) with { InterruptKills = true }));
    }
}

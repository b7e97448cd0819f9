using Burrow.Core.Runtime;
using Burrow.Core.Runtime.Launch;

namespace Burrow.Cli.Commands;

/// <summary>Hands a plan to the runtime.</summary>
internal static class Launch
{
    public static int Run(LaunchPlan plan, Core.Runtime.Serving.IImageServer? server, Action<int>? payloadStarted = null) =>
        ContainerLauncher.Run(plan, RuntimePaths.FromProcess(), server, LaunchStdio.Inherited with { PayloadStarted = payloadStarted });
}

using Burrow.Core.Diagnostics;
using Burrow.Core.Runtime;

namespace Burrow.Cli.Commands;

/// <summary>Hands a plan to the runtime. The runtime (ContainerLauncher) lands separately; until then this says so.</summary>
internal static class Launch
{
    public static int Run(LaunchPlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        throw new BurrowException("running containers is not available in this build yet", "--explain shows what would run");
    }
}

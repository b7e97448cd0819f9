using System.Text.Json;
using Burrow.Core.Runtime;

namespace Burrow.Tests;

public class PlanSerializationTests
{
    [Fact]
    public void LaunchPlanRoundTripsThroughSourceGeneratedJson()
    {
        var plan = new LaunchPlan
        {
            Namespaces = new NamespacePlan { Pid = true, Init = true },
            Identity = new IdentityPlan
            {
                Mode = "default",
                UidMap = [new IdMapEntry(1000, 1000, 1)],
                GidMap = [new IdMapEntry(1000, 1000, 1)],
                AllowSetgroups = false,
                Writer = IdMapWriter.Direct,
            },
            Root = new RootFsPlan("/images/busybox", RootFsKind.Directory, Writable: false),
            Mounts = [new MountStep { Kind = MountKind.Bind, Source = "/home/u", Target = "/home/u", Flags = MountFlags.NoSuid | MountFlags.NoDev | MountFlags.Recursive }],
            Files = [new SynthesizedFile("/etc/passwd", "u:x:1000:1000::/home/u:/bin/sh\n", 0x1a4)],
            Process = new ProcessPlan { Argv = ["/bin/true"], Env = [new EnvVar("PATH", "/bin")], Cwd = "/", Uid = 1000, Gid = 1000 },
        };

        string json = JsonSerializer.Serialize(plan, LaunchPlanJsonContext.Default.LaunchPlan);
        LaunchPlan back = JsonSerializer.Deserialize(json, LaunchPlanJsonContext.Default.LaunchPlan)!;

        Assert.Contains("\"NoSuid, NoDev, Recursive\"", json);
        Assert.Equal(plan.Mounts[0], back.Mounts[0]);
        Assert.Equal(plan.Process.Argv, back.Process.Argv);
        Assert.Equal(plan.Identity.UidMap, back.Identity.UidMap);
    }
}

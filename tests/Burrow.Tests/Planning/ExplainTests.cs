using System.Text.Json;
using Burrow.Core.Runtime;
using Burrow.Core.Runtime.Planning;

namespace Burrow.Tests.Planning;

public class ExplainTests
{
    private readonly PlanFixture _f = new();

    [Fact]
    public void TextNamesEveryMountInOrderWithFlagsAndReason()
    {
        LaunchPlan plan = _f.Plan(new ActionRequest { Action = ActionKind.Exec, Arguments = ["ls", "-la"], Pid = true });
        string text = PlanExplainer.Render(plan);
        int last = -1;
        for (int i = 0; i < plan.Mounts.Count; i++)
        {
            MountStep m = plan.Mounts[i];
            int at = text.IndexOf($"{i + 1,2}. ", StringComparison.Ordinal);
            Assert.True(at > last, $"mount {i + 1} out of order");
            last = at;
            string line = text[at..text.IndexOf('\n', at)];
            Assert.Contains(m.Target, line);
            Assert.Contains(PlanExplainer.Flags(m.Flags), line);
            Assert.Contains(m.Reason, text[at..]);
        }
        Assert.Contains("pid    new", text);
        Assert.Contains("net    host's", text);
        Assert.Contains("uid_map  container 1000 = host 1000, count 1", text);
        Assert.Contains("argv    ls -la", text);
        Assert.Contains("no_new_privs  yes", text);
        Assert.Contains("capabilities  none", text);
        Assert.Contains("| alice:x:1000:1000:Alice:/home/alice:/bin/bash", text);
    }

    [Theory]
    [InlineData(MountFlags.NoSuid | MountFlags.NoDev | MountFlags.Recursive, "nosuid,nodev,rec")]
    [InlineData(MountFlags.ReadOnly | MountFlags.NoSuid | MountFlags.NoExec, "ro,nosuid,noexec")]
    [InlineData(MountFlags.None, "-")]
    public void FlagsAreSpelledAsMountDoes(MountFlags flags, string text) => Assert.Equal(text, PlanExplainer.Flags(flags));

    [Fact]
    public void JsonRoundTripsThePlan()
    {
        LaunchPlan plan = _f.Plan(PlanFixture.Exec("id"));
        string json = JsonSerializer.Serialize(plan, LaunchPlanJsonContext.Default.LaunchPlan);
        LaunchPlan back = JsonSerializer.Deserialize(json, LaunchPlanJsonContext.Default.LaunchPlan)!;
        Assert.Equal(plan.Mounts, back.Mounts);
        Assert.Equal(plan.Process.Env, back.Process.Env);
    }
}

using Burrow.Core.Diagnostics;
using Burrow.Core.Runtime;
using Burrow.Core.Runtime.Planning;

namespace Burrow.Tests.Planning;

public class EnvironmentTests
{
    private readonly PlanFixture _f = new();

    private static string? Get(LaunchPlan plan, string name) => plan.Process.Env.SingleOrDefault(v => v.Name == name)?.Value;

    [Fact]
    public void HostVariablesPassExceptPathLdLibraryPathHomeAndBurrows()
    {
        LaunchPlan plan = _f.Plan(PlanFixture.Exec("env"));
        Assert.Equal("xterm", Get(plan, "TERM"));
        Assert.Equal("en_US.UTF-8", Get(plan, "LANG"));
        Assert.Equal(EnvironmentPlanner.DefaultPath, Get(plan, "PATH"));
        Assert.Equal("/home/alice", Get(plan, "HOME"));
        Assert.Null(Get(plan, "LD_LIBRARY_PATH"));
        Assert.Null(Get(plan, "BURROW_CACHEDIR"));
        Assert.Equal("/images/box", Get(plan, "BURROW_CONTAINER"));
        Assert.Equal(plan.Process.Env.Count, plan.Process.Env.Select(v => v.Name).Distinct().Count());
    }

    [Fact]
    public void BurrowEnvSetsAndEnvFileThenEnvWin()
    {
        _f.Env.Add(new("BURROWENV_FOO", "from-prefix"));
        _f.Env.Add(new("BURROWENV_BAR", "from-prefix"));
        _f.Env.Add(new("BURROWENV_PATH", "/opt/bin"));
        _f.EnvFiles["/e"] = "# comment\nexport BAR='from file'\nBAZ=\"z\"\n\n";
        LaunchPlan plan = _f.Plan(new ActionRequest { Action = ActionKind.Exec, Arguments = ["env"], EnvFiles = ["/e"], Env = ["BAZ=from-option", "EMPTY="] });
        Assert.Equal("from-prefix", Get(plan, "FOO"));
        Assert.Equal("from file", Get(plan, "BAR"));
        Assert.Equal("from-option", Get(plan, "BAZ"));
        Assert.Equal("", Get(plan, "EMPTY"));
        Assert.Equal("/opt/bin", Get(plan, "PATH"));
        Assert.Null(Get(plan, "BURROWENV_FOO"));
        Assert.Equal(["ignored BAZ from --env-file /e: --env sets it"], plan.Warnings);
    }

    [Fact]
    public void CleanEnvKeepsOnlyTermAndProxiesAndSetsLangC()
    {
        _f.Env.Add(new("BURROWENV_KEEP", "yes"));
        LaunchPlan plan = _f.Plan(new ActionRequest { Action = ActionKind.Exec, Arguments = ["env"], CleanEnv = true });
        Assert.Equal(["TERM", "http_proxy", "LANG", "PATH", "HOME", "PS1", "BURROW_CONTAINER", "BURROW_NAME", "KEEP"], plan.Process.Env.Select(v => v.Name));
        Assert.Equal("C", Get(plan, "LANG"));
    }

    [Theory]
    [InlineData("HOME=/x")]
    [InlineData("1X=y")]
    [InlineData("novalue")]
    public void BadEnvOptionsAreErrors(string given)
    {
        var e = Assert.Throws<BurrowException>(() => _f.Plan(new ActionRequest { Action = ActionKind.Exec, Arguments = ["env"], Env = [given] }));
        Assert.StartsWith("--env " + given, e.Message);
    }

    [Fact]
    public void BadEnvFileLineNamesFileAndLine()
    {
        _f.EnvFiles["/e"] = "A=1\nthis is not\n";
        var e = Assert.Throws<BurrowException>(() => _f.Plan(new ActionRequest { Action = ActionKind.Exec, Arguments = ["env"], EnvFiles = ["/e"] }));
        Assert.Contains("/e line 2", e.Message);
    }

    [Fact]
    public void EnvScriptsAreSourcedInOrderThenUserValuesWin()
    {
        _f.EnvScripts.AddRange(["/.singularity.d/env/01-base.sh", "/.singularity.d/env/90-environment.sh"]);
        LaunchPlan plan = _f.Plan(new ActionRequest { Action = ActionKind.Exec, Arguments = ["printenv", "X"], Env = ["X=it's"] });
        IReadOnlyList<string> argv = plan.Process.Argv;
        Assert.Equal(["/bin/sh", "-c"], argv.Take(2));
        Assert.Equal([ProcessPlanner.WrapperName, "printenv", "X"], argv.Skip(3));
        string script = argv[2];
        int a = script.IndexOf(". '/.singularity.d/env/01-base.sh'", StringComparison.Ordinal);
        int b = script.IndexOf(". '/.singularity.d/env/90-environment.sh'", StringComparison.Ordinal);
        int x = script.IndexOf("export X='it'\\''s'", StringComparison.Ordinal);
        Assert.True(a >= 0 && b > a && x > b, script);
    }

    [Fact]
    public void EnvScriptsWithoutShAreIgnoredWithAWarning()
    {
        _f.EnvScripts.Add("/.singularity.d/env/01-base.sh");
        _f.ImagePaths.Remove("/bin/sh");
        LaunchPlan plan = _f.Plan(PlanFixture.Exec("env"));
        Assert.Equal(["env"], plan.Process.Argv);
        Assert.Contains(plan.Warnings, w => w.Contains("no /bin/sh", StringComparison.Ordinal));
    }
}

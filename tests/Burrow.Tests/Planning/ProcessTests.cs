using Burrow.Core.Runtime;
using Burrow.Core.Runtime.Planning;

namespace Burrow.Tests.Planning;

public class ProcessTests
{
    private readonly PlanFixture _f = new();

    [Fact]
    public void RunUsesTheRunscriptWithArguments()
    {
        _f.ImagePaths[FactQueries.RunScript] = PathKind.File;
        LaunchPlan plan = _f.Plan(new ActionRequest { Action = ActionKind.Run, Arguments = ["a", "-b"] });
        Assert.Equal([FactQueries.RunScript, "a", "-b"], plan.Process.Argv);
    }

    [Fact]
    public void RunWithoutRunscriptRunsTheShellWithArguments()
    {
        LaunchPlan plan = _f.Plan(new ActionRequest { Action = ActionKind.Run, Arguments = ["-c", "echo hi"] });
        Assert.Equal(["/bin/sh", "-c", "echo hi"], plan.Process.Argv);
    }

    [Fact]
    public void ShellPrefersBashWithoutRcFilesThenSh()
    {
        Assert.Equal(["/bin/sh"], _f.Plan(new ActionRequest { Action = ActionKind.Shell }).Process.Argv);
        _f.ImagePaths[FactQueries.Bash] = PathKind.File;
        LaunchPlan plan = _f.Plan(new ActionRequest { Action = ActionKind.Shell });
        Assert.Equal(["/bin/bash", "--norc"], plan.Process.Argv);
        Assert.Equal("/bin/bash", plan.Process.Env.Single(v => v.Name == "SHELL").Value);
        Assert.Equal(EnvironmentPlanner.Prompt, plan.Process.Env.Single(v => v.Name == "PS1").Value);
    }

    [Fact]
    public void ShellOptionWins()
    {
        _f.ImagePaths[FactQueries.Bash] = PathKind.File;
        LaunchPlan plan = _f.Plan(new ActionRequest { Action = ActionKind.Shell, Shell = "/bin/ash" });
        Assert.Equal(["/bin/ash"], plan.Process.Argv);
        Assert.Equal("/bin/ash", plan.Process.Env.Single(v => v.Name == "SHELL").Value);
    }
}

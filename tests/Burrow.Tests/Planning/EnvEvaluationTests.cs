using Burrow.Core.Diagnostics;
using Burrow.Core.Runtime;
using Burrow.Core.Runtime.Planning;

namespace Burrow.Tests.Planning;

/// <summary>
/// --env, --env-file and BURROWENV_ values evaluated as Apptainer does (its e2e "env eval" and "environment option"
/// tables), by the planner itself when it can, by the image's /bin/sh when only a shell can.
/// </summary>
public class EnvEvaluationTests
{
    private readonly PlanFixture _f = new();

    private static string? Get(LaunchPlan plan, string name) => plan.Process.Env.SingleOrDefault(v => v.Name == name)?.Value;

    private static Func<string, string?> Vars(params (string Name, string Value)[] vars) =>
        n => vars.FirstOrDefault(v => v.Name == n).Value;

    [Theory]
    [InlineData("ME", "ME")]
    [InlineData("$UID", "1000")]
    [InlineData("${UID}", "1000")]
    [InlineData("\"$UID\"", "\"1000\"")]
    [InlineData("'$UID'", "'1000'")]
    [InlineData("\\$UID", "$UID")]
    [InlineData("$NOPE-x", "-x")]
    [InlineData("${NOPE:-fallback}", "fallback")]
    [InlineData("${EMPTY:-fallback}", "fallback")]
    [InlineData("${EMPTY-kept}", "")]
    [InlineData("${UID:+set}", "set")]
    [InlineData("${NOPE+set}", "")]
    [InlineData("${NOPE:-$UID/x}", "1000/x")]
    [InlineData("a\\nb", "a\\nb")]
    [InlineData("back\\\\slash", "back\\slash")]
    [InlineData("trailing\\", "trailing\\")]
    [InlineData("$", "$")]
    [InlineData("a$/b", "a$/b")]
    public void ExpandsAsTheShellDoesInDoubleQuotes(string value, string expected)
    {
        Assert.True(ShellExpansion.TryExpandDoubleQuoted(value, Vars(("UID", "1000"), ("EMPTY", "")), out string result, out string? construct), construct);
        Assert.Equal(expected, result);
    }

    [Theory]
    [InlineData("$(id -u)", "command substitution")]
    [InlineData("`id -u`", "command substitution")]
    [InlineData("$((1+2))", "arithmetic")]
    [InlineData("$$", "special parameter")]
    [InlineData("$1", "special parameter")]
    [InlineData("${#PATH}", "${#…}")]
    [InlineData("${PATH%:*}", "${PATH%…}")]
    [InlineData("${X:=y}", "${X:=…}")]
    [InlineData("${X:-\"y\"}", "quotes inside")]
    [InlineData("${UNCLOSED", "unterminated")]
    public void LeavesToAShellWhatOnlyAShellCanDo(string value, string construct)
    {
        Assert.False(ShellExpansion.TryExpandDoubleQuoted(value, Vars(), out string result, out string? said));
        Assert.Equal(value, result);
        Assert.Contains(construct, said);
    }

    [Theory]
    [InlineData("plain", "plain")]
    [InlineData("say \"hi\"", "say \\\"hi\\\"")]
    [InlineData("already \\\" escaped", "already \\\" escaped")]
    [InlineData("ends\\", "ends\\\\")]
    public void WritesValuesForTheShellSoThatItMeansTheSame(string value, string written)
    {
        Assert.Equal(written, ShellExpansion.ForDoubleQuotes(value));
    }

    [Fact]
    public void WithoutEnvScriptsThePlannerEvaluatesAndNoShellIsAdded()
    {
        _f.Env.Add(new("BURROWENV_WHO", "$UID"));
        LaunchPlan plan = _f.Plan(new ActionRequest
        {
            Action = ActionKind.Exec, Arguments = ["env"], Env = ["GREETING=hello ${USER_NAME:-$HOME}", "APPEND_PATH=/foo", "LITERAL=it's"],
        });
        Assert.Equal(["env"], plan.Process.Argv);
        Assert.Equal("1000", Get(plan, "WHO"));
        Assert.Equal("hello /home/alice", Get(plan, "GREETING"));
        Assert.Equal(EnvironmentPlanner.DefaultPath + ":/foo", Get(plan, "PATH"));
        Assert.Equal("it's", Get(plan, "LITERAL"));
        Assert.Null(Get(plan, "APPEND_PATH"));
    }

    [Theory]
    [InlineData("PATH=$PATH:/foo", EnvironmentPlanner.DefaultPath + ":/foo")]
    [InlineData("PATH=/foo:$PATH", "/foo:" + EnvironmentPlanner.DefaultPath)]
    [InlineData("PATH=/", "/")]
    [InlineData("PREPEND_PATH=/foo", "/foo:" + EnvironmentPlanner.DefaultPath)]
    [InlineData("APPEND_PATH=/foo", EnvironmentPlanner.DefaultPath + ":/foo")]
    [InlineData("PATH=", EnvironmentPlanner.DefaultPath)]
    public void PathEditsAsApptainersRuntimeVariables(string env, string path)
    {
        Assert.Equal(path, Get(_f.Plan(new ActionRequest { Action = ActionKind.Exec, Arguments = ["env"], Env = [env] }), "PATH"));
    }

    [Fact]
    public void AUserPathWinsOverPrependAndAppend()
    {
        LaunchPlan plan = _f.Plan(new ActionRequest { Action = ActionKind.Exec, Arguments = ["env"], Env = ["PREPEND_PATH=/p", "APPEND_PATH=/a", "PATH=/only"] });
        Assert.Equal("/only", Get(plan, "PATH"));
    }

    [Theory]
    [InlineData("LD_LIBRARY_PATH=/foo", "/foo:/.singularity.d/libs")]
    [InlineData("LD_LIBRARY_PATH=/foo,", "/foo,:/.singularity.d/libs")]
    [InlineData("LD_LIBRARY_PATH=", "")]
    public void LdLibraryPathKeepsTheImageLibraries(string env, string value)
    {
        Assert.Equal(value, Get(_f.Plan(new ActionRequest { Action = ActionKind.Exec, Arguments = ["env"], Env = [env] }), "LD_LIBRARY_PATH"));
    }

    [Fact]
    public void EnvTakesCommaListsAsApptainer()
    {
        LaunchPlan plan = _f.Plan(new ActionRequest { Action = ActionKind.Exec, Arguments = ["env"], Env = ["A=1,B=2,C=x,y", "D=3"] });
        Assert.Equal(("1", "2", "x,y", "3"), (Get(plan, "A"), Get(plan, "B"), Get(plan, "C"), Get(plan, "D")));
    }

    [Fact]
    public void NoEvalKeepsEveryValueAsWritten()
    {
        _f.Env.Add(new("BURROWENV_WHO", "$UID"));
        _f.EnvFiles["/e"] = "FROM_FILE='$(id -u)'\n";
        LaunchPlan plan = _f.Plan(new ActionRequest
        {
            Action = ActionKind.Exec, Arguments = ["env"], Env = ["PATH=$PATH:/foo", "X=\\$UID"], EnvFiles = ["/e"], NoEval = true,
        });
        Assert.Equal(["env"], plan.Process.Argv);
        Assert.Equal("$UID", Get(plan, "WHO"));
        Assert.Equal("\\$UID", Get(plan, "X"));
        Assert.Equal("$(id -u)", Get(plan, "FROM_FILE"));
        Assert.Equal("$PATH:/foo", Get(plan, "PATH"));
    }

    [Fact]
    public void AValueOnlyAShellCanEvaluateGetsTheImagesShell()
    {
        LaunchPlan plan = _f.Plan(new ActionRequest { Action = ActionKind.Exec, Arguments = ["printenv", "WHO"], Env = ["WHO=$(id -u)"] });
        Assert.Equal(["/bin/sh", "-c"], plan.Process.Argv.Take(2));
        Assert.Equal([ProcessPlanner.WrapperName, "printenv", "WHO"], plan.Process.Argv.Skip(3));
        Assert.Contains("export WHO=\"$(id -u)\"\n", plan.Process.Argv[2]);
        Assert.Equal(4, plan.Process.CommandIndex);
        Assert.Null(Get(plan, "WHO")); // set by the shell, not before it
    }

    [Fact]
    public void WithoutAShellSuchAValueStaysAsWrittenWithAWarning()
    {
        _f.ImagePaths.Remove("/bin/sh");
        LaunchPlan plan = _f.Plan(new ActionRequest { Action = ActionKind.Exec, Arguments = ["env"], Env = ["WHO=$(id -u)", "HOMEDIR=$HOME"] });
        Assert.Equal(["env"], plan.Process.Argv);
        Assert.Equal("$(id -u)", Get(plan, "WHO"));
        Assert.Equal("/home/alice", Get(plan, "HOMEDIR"));
        Assert.Contains(plan.Warnings, w => w.StartsWith("the value of WHO is kept as written", StringComparison.Ordinal));
    }

    [Fact]
    public void UnderEnvScriptsUserValuesAreEvaluatedAfterThem()
    {
        _f.EnvScripts.Add("/.singularity.d/env/90-environment.sh");
        _f.Env.Add(new("BURROWENV_WHO", "$UID"));
        LaunchPlan plan = _f.Plan(new ActionRequest { Action = ActionKind.Exec, Arguments = ["env"], Env = ["PATH=$PATH:/foo", "Q=say \"hi\""] });
        string script = plan.Process.Argv[2];
        int sourced = script.IndexOf(". '/.singularity.d/env/90-environment.sh'", StringComparison.Ordinal);
        Assert.True(sourced > 0, script);
        Assert.True(script.IndexOf("export WHO=\"$UID\"", StringComparison.Ordinal) > sourced, script);
        Assert.True(script.IndexOf("burrow_path=\"$PATH:/foo\"", StringComparison.Ordinal) > sourced, script);
        Assert.Contains("export Q='say \"hi\"'", script);
        Assert.StartsWith("[ -n \"${UID+x}\" ] || UID=1000; [ -n \"${GID+x}\" ] || GID=1000\n", script);
    }

    [Fact]
    public void NoEnvKeepsHostVariablesOutButBurrowEnvStillSetsThem()
    {
        _f.Env.AddRange([new("FOO", "bar"), new("BAR", "foo"), new("BURROWENV_BAR", "set")]);
        LaunchPlan plan = _f.Plan(new ActionRequest { Action = ActionKind.Exec, Arguments = ["env"], NoEnv = ["FOO,BAR"] });
        Assert.Null(Get(plan, "FOO"));
        Assert.Equal("set", Get(plan, "BAR"));
    }

    [Fact]
    public void AnAppGetsTheScifVariablesAndItsBinFirstInPath()
    {
        _f.ImagePaths["/scif/apps/foo"] = PathKind.Directory;
        _f.ImagePaths["/scif/apps/foo/bin"] = PathKind.Directory;
        LaunchPlan plan = _f.Plan(new ActionRequest { Action = ActionKind.Exec, Arguments = ["env"], App = "foo" });
        Assert.Equal("foo", Get(plan, "SCIF_APPNAME"));
        Assert.Equal("/scif/data/foo/input", Get(plan, "SCIF_APPINPUT"));
        Assert.Equal("/scif/data/foo/output", Get(plan, "SCIF_APPOUTPUT"));
        Assert.Equal("/scif/apps/foo/scif/runscript", Get(plan, "SCIF_APPRUN"));
        Assert.StartsWith("/scif/apps/foo/bin:/scif/apps/foo:", Get(plan, "PATH"));
    }

    [Fact]
    public void ApptainerAndSingularityPrefixesSetVariablesTooAndBurrowsWins()
    {
        _f.Env.AddRange([
            new("SINGULARITYENV_A", "singularity"), new("APPTAINERENV_A", "apptainer"), new("APPTAINERENV_B", "apptainer"),
            new("BURROWENV_B", "burrow"), new("SINGULARITYENV_C", "$UID"),
        ]);
        LaunchPlan plan = _f.Plan(new ActionRequest { Action = ActionKind.Exec, Arguments = ["env"] });
        Assert.Equal("apptainer", Get(plan, "A"));
        Assert.Equal("burrow", Get(plan, "B"));
        Assert.Equal("1000", Get(plan, "C"));
        Assert.DoesNotContain(plan.Process.Env, v => v.Name.Contains("ENV_", StringComparison.Ordinal));
    }

    [Fact]
    public void EnvFileLinesAreShellAssignmentsWithTheHostsVariables()
    {
        const string text = """
            # comment
            export A='single $HOME'
            B="double $HOME" C=plain\ word   # two on a line
            D="\$PATH:/opt/bin"
            E=${NOPE:-default}; F=$LANG
            G="multi
            line"
            export LANG
            """;
        IReadOnlyList<EnvVar> v = EnvFileParser.Parse("/e", text, [new("HOME", "/home/alice"), new("LANG", "C.UTF-8")]);
        Assert.Equal(
            [("A", "single $HOME"), ("B", "double /home/alice"), ("C", "plain word"), ("D", "$PATH:/opt/bin"), ("E", "default"), ("F", "C.UTF-8"), ("G", "multi\nline")],
            v.Select(x => (x.Name, x.Value)));
    }

    [Fact]
    public void EnvFileValuesAreEvaluatedAgainInTheContainer()
    {
        _f.EnvFiles["/e"] = "PATH=\"\\$PATH:/opt\"\nWHO='$UID'\nX=$EARLIER\n";
        _f.Env.Add(new("EARLIER", "from-host"));
        LaunchPlan plan = _f.Plan(new ActionRequest { Action = ActionKind.Exec, Arguments = ["env"], EnvFiles = ["/e"] });
        Assert.Equal(EnvironmentPlanner.DefaultPath + ":/opt", Get(plan, "PATH"));
        Assert.Equal("1000", Get(plan, "WHO"));
        Assert.Equal("from-host", Get(plan, "X"));
    }

    [Theory]
    [InlineData("A=$(id -u)\n", "line 1: $(…) (command substitution) is not supported")]
    [InlineData("\nA=`id`\n", "line 2: `…` (command substitution) is not supported")]
    [InlineData("A=1 | tee x\n", "line 1: '|' is shell syntax")]
    [InlineData("A=1|tee x\n", "line 1: '|' is shell syntax")]
    [InlineData("A='open\n", "line 1: a single quote is not closed")]
    [InlineData("A=\"open\n", "line 1: a double quote is not closed")]
    [InlineData("echo hi\n", "line 1: expected NAME=value")]
    [InlineData("export\n", "line 1: expected NAME=value after export")]
    [InlineData("1A=x\n", "line 1: expected NAME=value")]
    public void BadEnvFilesNameTheFileAndTheLine(string text, string says)
    {
        var e = Assert.Throws<BurrowException>(() => EnvFileParser.Parse("/e", text, []));
        Assert.StartsWith("--env-file /e ", e.Message);
        Assert.Contains(says, e.Message);
    }
}

using Burrow.E2E.Harness;

namespace Burrow.E2E.Actions;

/// <summary>
/// --env, --env-file and BURROWENV_ values evaluated in the container as Apptainer does (its e2e "env eval" cases),
/// with and without the image's env scripts, and --no-eval, --no-env, PREPEND_PATH/APPEND_PATH and LD_LIBRARY_PATH.
/// </summary>
public sealed class EnvEvaluationTests : IClassFixture<ActionImage>, IDisposable
{
    private const string DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    private readonly ActionImage _image;
    private readonly string _file = Path.Combine(Path.GetTempPath(), "burrow-e2e-eval-" + Guid.NewGuid().ToString("N")[..8]);

    public EnvEvaluationTests(ActionImage image)
    {
        _image = image;
    }

    public void Dispose() => File.Delete(_file);

    private static TestUser User => E2EEnvironment.UserWithoutRange;

    /// <summary>Prints each named variable on a line of its own, "unset" for an unset one.</summary>
    private static RunResult Print(string image, IReadOnlyDictionary<string, string>? host, string[] options, params string[] names) =>
        AsUser.Run(User, [E2EEnvironment.Burrow, "exec", .. options, image, "sh", "-c",
            string.Concat(names.Select(n => $"echo \"${{{n}-unset}}\"; "))], env: host, cwd: "/");

    private static string[] Lines(RunResult r)
    {
        Assert.True(r.ExitCode == 0, r.ToString());
        return r.Stdout.TrimEnd('\n').Split('\n');
    }

    [Fact]
    public void EnvValuesAreEvaluatedInTheContainer()
    {
        string[] v = Lines(Print(E2EEnvironment.BusyboxImage, null,
            ["--env", "PATH=$PATH:/foo", "--env", "WHO=$UID", "--env", "DEF=${NOPE:-fallback}", "--env", "ESC=\\$HOME"], "PATH", "WHO", "DEF", "ESC"));
        Assert.Equal([DefaultPath + ":/foo", User.Uid.ToString(), "fallback", "$HOME"], v);
    }

    [Fact]
    public void BurrowEnvAndApptainerEnvValuesAreEvaluatedToo()
    {
        string[] v = Lines(Print(E2EEnvironment.BusyboxImage,
            new Dictionary<string, string> { ["BURROWENV_WHO"] = "$UID", ["APPTAINERENV_HOMELESS"] = "${HOME}/x" }, [], "WHO", "HOMELESS", "BURROWENV_WHO"));
        Assert.Equal([User.Uid.ToString(), User.Home + "/x", "unset"], v);
    }

    [Fact]
    public void NoEvalKeepsValuesAsWritten()
    {
        string[] v = Lines(Print(E2EEnvironment.BusyboxImage, new Dictionary<string, string> { ["BURROWENV_WHO"] = "$UID" },
            ["--no-eval", "--env", "P=$PATH:/foo"], "WHO", "P"));
        Assert.Equal(["$UID", "$PATH:/foo"], v);
    }

    [Fact]
    public void UserValuesAreEvaluatedAfterTheImagesEnvScripts()
    {
        // 01-base.sh sets FROM_IMAGE=base, 90-environment.sh puts /opt/tool/bin first in PATH.
        string[] v = Lines(Print(_image.Root, null, ["--env", "SEEN=$FROM_IMAGE-x", "--env", "PATH=$PATH:/foo"], "SEEN", "PATH"));
        Assert.Equal(["base-x", "/opt/tool/bin:" + DefaultPath + ":/foo"], v);
    }

    [Fact]
    public void EnvFileIsReadWithTheHostsVariablesAndEvaluatedAgainInTheContainer()
    {
        File.WriteAllText(_file, "export FROM_HOST=\"$FOO\"\nPATH=\"\\$PATH:/opt/bin\"\nQUOTED='a b' # comment\n");
        ActionImage.Run("chmod", "0644", _file);
        string[] v = Lines(Print(E2EEnvironment.BusyboxImage, new Dictionary<string, string> { ["FOO"] = "host foo" },
            ["--env-file", _file], "FROM_HOST", "PATH", "QUOTED"));
        Assert.Equal(["host foo", DefaultPath + ":/opt/bin", "a b"], v);
    }

    [Fact]
    public void AnEnvFileThatRunsACommandIsRefusedNamingTheLine()
    {
        File.WriteAllText(_file, "A=1\nB=$(id -u)\n");
        ActionImage.Run("chmod", "0644", _file);
        RunResult r = Print(E2EEnvironment.BusyboxImage, null, ["--env-file", _file], "A");
        Assert.Equal(255, r.ExitCode);
        Assert.Contains($"ERROR:   --env-file {_file} line 2: $(…) (command substitution) is not supported", r.Stderr);
    }

    [Fact]
    public void PrependAndAppendPathExtendThePath()
    {
        string[] v = Lines(Print(E2EEnvironment.BusyboxImage,
            new Dictionary<string, string> { ["BURROWENV_PREPEND_PATH"] = "/pre", ["BURROWENV_APPEND_PATH"] = "/app" }, [], "PATH", "PREPEND_PATH"));
        Assert.Equal(["/pre:" + DefaultPath + ":/app", "unset"], v);
        string[] o = Lines(Print(E2EEnvironment.BusyboxImage, null, ["--env", "APPEND_PATH=/opt/x"], "PATH"));
        Assert.Equal([DefaultPath + ":/opt/x"], o);
    }

    [Fact]
    public void LdLibraryPathKeepsTheImageLibraries()
    {
        string[] v = Lines(Print(E2EEnvironment.BusyboxImage, null, ["--env", "LD_LIBRARY_PATH=/mine"], "LD_LIBRARY_PATH"));
        Assert.Equal(["/mine:/.singularity.d/libs"], v);
    }

    [Fact]
    public void NoEnvKeepsAHostVariableOut()
    {
        string[] v = Lines(Print(E2EEnvironment.BusyboxImage, new Dictionary<string, string> { ["FOO"] = "1", ["BAR"] = "2" }, ["--no-env", "FOO"], "FOO", "BAR"));
        Assert.Equal(["unset", "2"], v);
    }

    [Fact]
    public void CleanEnvStillTakesTheUsersValues()
    {
        string[] v = Lines(Print(E2EEnvironment.BusyboxImage, new Dictionary<string, string> { ["FOO"] = "1", ["BURROWENV_KEPT"] = "yes" },
            ["--cleanenv", "--env", "E=$LANG"], "FOO", "KEPT", "E"));
        Assert.Equal(["unset", "yes", "C"], v);
    }

    [Fact]
    public void OverridingHomeIsRefused()
    {
        RunResult r = Print(E2EEnvironment.BusyboxImage, null, ["--env", "HOME=/x"], "HOME");
        Assert.Equal(255, r.ExitCode);
        Assert.Contains("ERROR:   --env HOME=/x: overriding HOME is not permitted", r.Stderr);
    }
}

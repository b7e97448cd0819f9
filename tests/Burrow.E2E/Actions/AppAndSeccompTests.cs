using Burrow.E2E.Harness;

namespace Burrow.E2E.Actions;

/// <summary>SCIF apps (--app for run, exec and test) and --security seccomp:PROFILE, as the unprivileged test users.</summary>
[Trait("Category", "SandboxOnly")] // the images are directories made here
public sealed class AppAndSeccompTests : IDisposable
{
    private static TestUser User => E2EEnvironment.UserWithoutRange;

    private readonly string _dir = Path.Combine(Path.GetTempPath(), "burrow-e2e-scif-" + Guid.NewGuid().ToString("N")[..8]);

    private string Image => Path.Combine(_dir, "image");

    public AppAndSeccompTests()
    {
        Directory.CreateDirectory(_dir);
        ActionImage.Run("cp", "-a", E2EEnvironment.BusyboxTree, Image);
        // What Apptainer's %apprun foo, %appenv foo and %apptest foo make, and a tool in the app's bin.
        string app = Path.Combine(Image, "scif", "apps", "foo");
        Directory.CreateDirectory(Path.Combine(app, "bin"));
        Directory.CreateDirectory(Path.Combine(app, "scif", "env"));
        Directory.CreateDirectory(Path.Combine(Image, "scif", "data", "foo", "input"));
        File.WriteAllText(Path.Combine(app, "scif", "runscript"), "#!/bin/sh\necho \"foo runs: $* in $SCIF_APPROOT with $FOO_SETTING, data in $SCIF_APPINPUT\"\n");
        File.WriteAllText(Path.Combine(app, "scif", "test"), "#!/bin/sh\necho foo tested; exit 3\n");
        File.WriteAllText(Path.Combine(app, "scif", "env", "90-environment.sh"), "export FOO_SETTING=from-appenv\n");
        File.WriteAllText(Path.Combine(app, "bin", "foo-tool"), "#!/bin/sh\necho tool of $BURROW_APPNAME\n");
        File.WriteAllText(Path.Combine(app, "scif", "runscript.help"), "foo: give it two words\n");
        File.WriteAllText(Path.Combine(app, "scif", "labels.json"), "{\"FOO_LABEL\": \"yes\"}");
        Directory.CreateDirectory(Path.Combine(Image, ".singularity.d"));
        File.WriteAllText(Path.Combine(Image, ".singularity.d", "runscript.help"), "the image's help\n");
        File.WriteAllText(Path.Combine(Image, ".singularity.d", "test"), "#!/bin/sh\necho image test\n");
        Directory.CreateDirectory(Path.Combine(Image, "scif", "apps", "bare"));
        ActionImage.Run("chmod", "-R", "a+rX", _dir);
        ActionImage.Run("chmod", "0755", Path.Combine(app, "scif", "runscript"), Path.Combine(app, "scif", "test"), Path.Combine(app, "bin", "foo-tool"));
    }

    public void Dispose() => ActionImage.Run("rm", "-rf", _dir);

    private static RunResult Burrow(params string[] args) => AsUser.Run(User, [E2EEnvironment.Burrow, .. args], cwd: "/");

    [Fact]
    public void RunAppRunsItsRunscriptWithItsEnvironment()
    {
        RunResult r = Burrow("run", "--app", "foo", Image, "a", "b");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("foo runs: a b in /scif/apps/foo with from-appenv, data in /scif/data/foo/input\n", r.Stdout);
    }

    [Fact]
    public void ExecAppPutsTheAppsBinFirstInPath()
    {
        RunResult r = Burrow("exec", "--app", "foo", Image, "foo-tool");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("tool of foo\n", r.Stdout);
    }

    [Fact]
    public void TestAppRunsItsTestAndExitsWithItsStatus()
    {
        RunResult r = Burrow("test", "--app", "foo", Image);
        Assert.Equal(3, r.ExitCode);
        Assert.Equal("foo tested\n", r.Stdout);
    }

    [Fact]
    public void AnAppTheImageLacksOrWithoutARunscriptIsAnErrorWithStatusOne()
    {
        RunResult missing = Burrow("run", "--app", "nope", Image);
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("ERROR:   --app nope: the image has no SCIF app nope (/scif/apps/nope does not exist)", missing.Stderr);
        RunResult bare = Burrow("run", "--app", "bare", Image);
        Assert.Equal(1, bare.ExitCode);
        Assert.Contains("ERROR:   no runscript for the SCIF app bare", bare.Stderr);
    }

    [Fact]
    public void InspectListsAppsAndShowsAnAppsMetadata()
    {
        RunResult list = Burrow("inspect", "--list-apps", Image);
        Assert.True(list.ExitCode == 0, list.ToString());
        Assert.Equal("bare\nfoo\n", list.Stdout);
        RunResult labels = Burrow("inspect", "--app", "foo", Image);
        Assert.True(labels.ExitCode == 0, labels.ToString());
        Assert.Equal("FOO_LABEL: yes\n", labels.Stdout);
        RunResult runscript = Burrow("inspect", "--app", "foo", "--runscript", Image);
        Assert.StartsWith("#!/bin/sh\necho \"foo runs:", runscript.Stdout);
        RunResult missing = Burrow("inspect", "--app", "nope", Image);
        Assert.Equal(255, missing.ExitCode);
        Assert.Contains("ERROR:   image " + Image + " has no SCIF app nope", missing.Stderr);
    }

    [Fact]
    public void InspectShowsTheTestAndTheHelpAndRunHelpPrintsIt()
    {
        Assert.Equal("#!/bin/sh\necho image test\n", Burrow("inspect", "--test", Image).Stdout);
        Assert.Equal("the image's help\n", Burrow("inspect", "--helpfile", Image).Stdout);
        RunResult help = Burrow("run-help", Image);
        Assert.True(help.ExitCode == 0, help.ToString());
        Assert.Equal("the image's help\n", help.Stdout);
        Assert.Equal("foo: give it two words\n", Burrow("run-help", "--app", "foo", Image).Stdout);
        RunResult none = Burrow("run-help", E2EEnvironment.BusyboxTree);
        Assert.Equal(0, none.ExitCode);
        Assert.Contains("INFO:    No help sections were defined for this image", none.Stderr);
    }

    [Fact]
    public void ASeccompProfileDeniesWhatItNames()
    {
        string profile = Path.Combine(_dir, "profile.json");
        File.WriteAllText(profile, """
            {"defaultAction": "SCMP_ACT_ALLOW",
             "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}
            """);
        ActionImage.Run("chmod", "0644", profile);
        RunResult r = Burrow("exec", "--security", "seccomp:" + profile, E2EEnvironment.BusyboxTree, "sh", "-c", "mkdir /tmp/burrow-e2e-denied-$$ || echo denied; echo alive");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("denied\nalive\n", r.Stdout);
        Assert.Contains("Operation not permitted", r.Stderr);
    }

    [Theory]
    [InlineData("""{"defaultAction": "SCMP_ACT_BOGUS"}""", "defaultAction")]
    [InlineData("""{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 9, "value": 1, "op": "SCMP_CMP_EQ"}]}]}""", "syscalls[0]")]
    [InlineData("not json", "not valid JSON")]
    public void ABadProfileIsAnErrorNamingTheFileAndTheEntry(string json, string says)
    {
        string profile = Path.Combine(_dir, "bad.json");
        File.WriteAllText(profile, json);
        ActionImage.Run("chmod", "0644", profile);
        RunResult r = Burrow("exec", "--security", "seccomp:" + profile, E2EEnvironment.BusyboxTree, "true");
        Assert.Equal(255, r.ExitCode);
        string error = Assert.Single(r.Stderr.Split('\n'), l => l.StartsWith("ERROR:", StringComparison.Ordinal));
        Assert.Contains("--security seccomp:" + profile, error);
        Assert.Contains(says, error);
    }
}

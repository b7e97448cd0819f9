using Burrow.E2E.Harness;

namespace Burrow.E2E.Actions;

/// <summary>--explain and the planner's refusals, run as the unprivileged users against the real images (nothing is launched).</summary>
public class ExplainAndBadInputTests
{
    private static TestUser User => E2EEnvironment.UserWithoutRange;

    [Fact]
    public void ExplainShowsTheDefaultContainerAndRunsNothing()
    {
        RunResult r = AsUser.Burrow(User, "exec", "--explain", E2EEnvironment.BusyboxImage, "ls", "-la", "--explain");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains($"uid_map  container {User.Uid} = host {User.Uid}, count 1", r.Stdout);
        Assert.Contains($"bind   {User.Home} -> {User.Home}  [nosuid,nodev,rec]", r.Stdout);
        Assert.Contains($"| {User.Name}:x:{User.Uid}:{User.Gid}:", r.Stdout);
        Assert.Contains("argv    ls -la --explain", r.Stdout);
        Assert.Contains("no_new_privs  yes", r.Stdout);
    }

    [Fact]
    public void ExplainJsonIsThePlan()
    {
        RunResult r = AsUser.Burrow(User, "exec", "--explain", "--json", E2EEnvironment.BusyboxImage, "id");
        Assert.True(r.ExitCode == 0, r.ToString());
        using var doc = System.Text.Json.JsonDocument.Parse(r.Stdout);
        Assert.Equal("id", doc.RootElement.GetProperty("Process").GetProperty("Argv")[0].GetString());
        Assert.Equal(User.Uid, doc.RootElement.GetProperty("Process").GetProperty("Uid").GetUInt32());
    }

    public static IEnumerable<object[]> BadInputs() =>
    [
        [new[] { "/nonexistent/image", "true" }, "/nonexistent/image does not exist"],
        [new[] { "/var/cache/burrow-test/images", "true" }, "is not a root file system"],
        [new[] { "-B", "/nonexistent/src:/mnt", "IMAGE", "true" }, "the source /nonexistent/src does not exist"],
        [new[] { "-B", "/tmp:mnt", "IMAGE", "true" }, "the destination 'mnt' is not an absolute path"],
        [new[] { "--pwd", "/no/such/dir", "IMAGE", "true" }, "--pwd /no/such/dir: no such directory in the container"],
        [new[] { "--net", "--network", "bridge", "IMAGE", "true" }, "--network bridge"],
    ];

    [Theory]
    [MemberData(nameof(BadInputs))]
    public void BadInputIsAClearErrorWithNonZeroExit(string[] args, string message)
    {
        foreach (bool explain in new[] { true, false })
        {
            string[] argv = ["exec", .. explain ? new[] { "--explain" } : [], .. args.Select(a => a == "IMAGE" ? E2EEnvironment.BusyboxImage : a)];
            RunResult r = AsUser.Burrow(User, argv);
            Assert.True(r.ExitCode != 0, r.ToString());
            Assert.Contains("ERROR:", r.Stderr);
            Assert.Contains(message, r.Stderr);
            Assert.DoesNotContain("   at ", r.Stderr); // never a stack trace
            Assert.Equal("", r.Stdout);
        }
    }

    [Theory]
    [InlineData("exec", "--bogus", "IMAGE", "true")]
    [InlineData("exec", "IMAGE")]
    [InlineData("shell")]
    public void CommandLineMistakesAreUsageErrors(params string[] args)
    {
        RunResult r = AsUser.Burrow(User, args.Select(a => a == "IMAGE" ? E2EEnvironment.BusyboxImage : a).ToArray());
        Assert.Equal(1, r.ExitCode); // Apptainer's status for a command-line mistake
        Assert.StartsWith("ERROR:   ", r.Stderr);
        Assert.Contains($"see burrow {args[0]} --help", r.Stderr);
    }

    [Fact]
    public void AnUnusableHomeNeverEndsInAStackTrace()
    {
        // $HOME pointing somewhere the caller cannot write (here root's home) must give a working container
        // or an ERROR line, never an unhandled exception.
        RunResult r = AsUser.Run(User, [E2EEnvironment.Burrow, "exec", E2EEnvironment.BusyboxImage, "true"],
            env: new Dictionary<string, string> { ["HOME"] = "/root", ["XDG_RUNTIME_DIR"] = "/root/run" });
        Assert.DoesNotContain("   at ", r.Stderr);
        Assert.DoesNotContain("Unhandled exception", r.Stderr);
        Assert.True(r.ExitCode == 0 || r.Stderr.Contains("ERROR:", StringComparison.Ordinal), r.ToString());
    }
}

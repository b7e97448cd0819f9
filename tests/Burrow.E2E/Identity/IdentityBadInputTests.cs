using Burrow.E2E.Harness;

namespace Burrow.E2E.Identity;

/// <summary>Every refusal of the identity options: a clear ERROR:, a non-zero exit, nothing run and nothing left running.</summary>
public class IdentityBadInputTests
{
    private static TestUser WithRange => E2EEnvironment.UserWithRange;

    public static IEnumerable<object[]> BadOptions() =>
    [
        [new[] { "--security", "uid:abc" }, "--security uid:abc: 'abc' is not a valid uid"],
        [new[] { "--security", "uid:" }, "--security uid:: the uid is missing"],
        [new[] { "--security", "user:5" }, "--security user:5: unknown key 'user'"],
        [new[] { "--userns=bogus" }, "--userns=bogus: unknown mode 'bogus'"],
        [new[] { "--userns=keep-id:uid=x" }, "uid=x is not a valid number"],
        [new[] { "--fakeroot", "--security", "uid:0" }, "--fakeroot and --security uid:/gid: both choose who the payload is"],
        [new[] { "--fakeroot", "--userns=auto" }, "both choose the user namespace"],
        [new[] { "--drop-caps", "CAP_BOGUS" }, "--drop-caps: unknown capability 'CAP_BOGUS'"],
    ];

    [Theory]
    [MemberData(nameof(BadOptions))]
    public void MalformedOptionsAreClearErrors(string[] options, string message)
    {
        foreach (TestUser user in new[] { E2EEnvironment.UserWithRange, E2EEnvironment.UserWithoutRange })
        {
            AssertRefused(user, null, options, message);
        }
    }

    [Fact]
    public void AutoWithoutARangeIsRefused()
    {
        AssertRefused(E2EEnvironment.UserWithoutRange, null, ["--userns=auto"], "--userns=auto needs a range in /etc/subuid and /etc/subgid");
    }

    [Fact]
    public void SupplementaryGroupsWithoutASubgidRangeAreRefused()
    {
        AssertRefused(E2EEnvironment.UserWithoutRange, null, ["--security", "uid:3210,gid:3210:44"], "--security supplementary groups (44) need a range in /etc/subgid");
    }

    [Fact]
    public void AMissingHelperNamesThePackage()
    {
        var env = new Dictionary<string, string> { ["BURROW_NEWUIDMAP"] = "/nonexistent/newuidmap" };

        RunResult r = AssertRefused(WithRange, env, ["--fakeroot"], "BURROW_NEWUIDMAP=/nonexistent/newuidmap is not a regular file");
        Assert.Contains("apt-get install uidmap", r.Stderr);
    }

    [Theory]
    [InlineData("BURROW_NEWUIDMAP", "newuidmap", "cap_setuid")]
    [InlineData("BURROW_NEWGIDMAP", "newgidmap", "cap_setgid")]
    public void AHelperWithoutSetuidOrCapabilitiesIsRefusedWithWhatToCheck(string variable, string helper, string cap)
    {
        using Sandboxes.Scratch scratch = Sandboxes.NewScratch(WithRange);
        string copy = scratch.CopyOf("/usr/bin/" + helper, helper);
        var env = new Dictionary<string, string> { [variable] = copy };

        RunResult r = AssertRefused(WithRange, env, ["--fakeroot"], $"{copy} is neither setuid root nor has the {cap} file capability");
        Assert.Contains($"ls -l {copy}", r.Stderr);
        Assert.Contains($"getcap {copy}", r.Stderr);
        Assert.Contains("uidmap package", r.Stderr);
    }

    [Theory]
    [InlineData("{0}:1000:65536\n", "--fakeroot", "includes your own id {1}")]
    [InlineData("{0}:100000:65536\n{0}:150000:65536\n", "--userns=auto", "overlap")]
    [InlineData("{0}:abc:65536\n", "--fakeroot", "line 1 for user {0} is malformed")]
    [InlineData("other:1:2\n{0}:100000\n", "--userns=keep-id", "line 2 for user {0} is malformed")]
    [InlineData("!{0}:100000:65536\n", "--fakeroot", "has been disabled by the administrator")]
    [InlineData("{0}:100000:4096\n", "--fakeroot", "all with a range count lower than 65536")]
    public void UnusableSubordinateLinesAreRefused(string subuid, string option, string message)
    {
        using Sandboxes.Scratch scratch = Sandboxes.NewScratch(WithRange);
        string file = scratch.Write("subuid", string.Format(System.Globalization.CultureInfo.InvariantCulture, subuid, WithRange.Name, WithRange.Uid));
        var env = new Dictionary<string, string> { ["BURROW_SUBUID_FILE"] = file };

        AssertRefused(WithRange, env, [option], string.Format(System.Globalization.CultureInfo.InvariantCulture, message, WithRange.Name, WithRange.Uid));
    }

    private static RunResult AssertRefused(TestUser user, IReadOnlyDictionary<string, string>? env, string[] options, string message)
    {
        string token = "identity-refused-" + Guid.NewGuid().ToString("N");
        RunResult r = Sandboxes.Burrow(user, env, ["exec", .. options, E2EEnvironment.BusyboxImage, "echo", token]);

        Assert.True(r.ExitCode != 0, r.ToString());
        Assert.Contains("ERROR:", r.Stderr);
        Assert.Contains(message, r.Stderr);
        Assert.DoesNotContain("   at ", r.Stderr);
        Assert.DoesNotContain(token, r.Stdout);
        Sandboxes.AssertNothingLeftRunning(token);
        return r;
    }
}

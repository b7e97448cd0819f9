using Burrow.E2E.Harness;
using Burrow.E2E.Oci;
using static Burrow.E2E.Hardening.Hardened;

namespace Burrow.E2E.Hardening;

/// <summary>
/// Issue 13, item 5: under <c>umask 000</c> every directory Burrow creates on the way (~/.cache, ~/.cache/burrow and
/// what is in it, ~/.config/burrow, the session directories) is 0700 and its files are not writable by others; and a
/// directory on the way that another user owns (the attacker, the second test user) is refused, with the session
/// directory falling back to a private one and never being made under the attacker's directory.
/// </summary>
public sealed class PrivateDirectoryTests : IDisposable
{
    private static string SmallArchive => "docker-archive:" + Path.Combine(OciEnvironment.Fixtures, "archives", "small-docker.tar");

    private readonly List<string> _dirs = [];

    public void Dispose() => _dirs.ForEach(Remove);

    private string Scratch(TestUser user, string prefix)
    {
        string dir = NewDirectory(user, prefix);
        _dirs.Add(dir);
        return dir;
    }

    /// <summary>burrow as the user under umask 000 with HOME at <paramref name="home"/> and no cache or XDG overrides.</summary>
    private static RunResult Umask000(TestUser user, string home, string? stdin, params string[] args) =>
        AsUser.Run(user, ["/bin/sh", "-c", "umask 000; exec \"$@\"", "sh", E2EEnvironment.Burrow, .. args], stdin,
            new Dictionary<string, string> { ["HOME"] = home, ["BURROW_CACHEDIR"] = "", ["XDG_CACHE_HOME"] = "", ["XDG_CONFIG_HOME"] = "", ["TMPDIR"] = home },
            home, TimeSpan.FromSeconds(120));

    private static string Mode(string path) => Sh($"stat -c %a {Q(path)}").Trim();

    [Theory]
    [MemberData(nameof(E2EEnvironment.BothUsers), MemberType = typeof(E2EEnvironment))]
    public void UnderUmask000EveryDirectoryBurrowMakesIsPrivate(TestUser user)
    {
        string home = Scratch(user, "umask");
        RunResult pull = Umask000(user, home, null, "pull", Path.Combine(home, "out.sif"), SmallArchive);
        Assert.True(pull.ExitCode == 0, pull.ToString());
        RunResult exec = Umask000(user, home, null, "exec", E2EEnvironment.BusyboxImage, "true");
        Assert.True(exec.ExitCode == 0, exec.ToString());
        RunResult login = Umask000(user, home, OciEnvironment.BasicPassword + "\n",
            "registry", "login", "--username", OciEnvironment.BasicUser, "--password-stdin", OciEnvironment.Basic);
        Assert.True(login.ExitCode == 0, login.ToString());

        string cache = Path.Combine(home, ".cache", "burrow");
        foreach (string dir in new[] { ".cache", ".cache/burrow", ".cache/burrow/tmp", ".cache/burrow/blobs", ".cache/burrow/blobs/sha256",
            ".cache/burrow/sif", ".cache/burrow/sif/sha256", ".cache/burrow/sessions", ".config", ".config/burrow" })
        {
            Assert.True(Mode(Path.Combine(home, dir)) == "700", $"{dir} is {Mode(Path.Combine(home, dir))}");
        }
        string[] writable = Sh($"find {Q(cache)} {Q(Path.Combine(home, ".config"))} -perm /022").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(writable.Length == 0, "writable by group or others: " + string.Join(", ", writable));
        Assert.Equal("600", Mode(Sh($"find {Q(Path.Combine(home, ".config", "burrow"))} -type f").Split('\n')[0]));
        // The image the user asked for is theirs to share: 0644, but never 0666.
        Assert.Equal("644", Mode(Path.Combine(home, "out.sif")));
    }

    [Theory]
    [MemberData(nameof(E2EEnvironment.BothUsers), MemberType = typeof(E2EEnvironment))]
    public void InAUserNamespaceUnmappedOwnersAreJudgedByTheirMode(TestUser user)
    {
        // Under unshare -U the host's root shows as 65534 like every other unmapped owner: / must still do, and a
        // world-writable directory on the way must still be refused.
        string home = Scratch(user, "nested");
        Sh($"mkdir -m 0777 {Q(Path.Combine(home, "ww"))} && chmod 0777 {Q(Path.Combine(home, "ww"))}");
        string[] nested = ["unshare", "--user", "--map-root-user", E2EEnvironment.Burrow];
        RunResult ok = AsUser.Run(user, [.. nested, "pull", Path.Combine(home, "out.sif"), SmallArchive],
            env: new Dictionary<string, string> { ["BURROW_CACHEDIR"] = Path.Combine(home, "cache"), ["TMPDIR"] = home }, cwd: home, timeout: TimeSpan.FromSeconds(120));
        Assert.True(ok.ExitCode == 0, ok.ToString());
        RunResult refused = AsUser.Run(user, [.. nested, "pull", Path.Combine(home, "out2.sif"), SmallArchive],
            env: new Dictionary<string, string> { ["BURROW_CACHEDIR"] = Path.Combine(home, "ww", "cache"), ["TMPDIR"] = home }, cwd: home, timeout: TimeSpan.FromSeconds(120));
        AssertCleanFailure(refused, BadInputWorld.Failure, "is writable by everyone");
        Assert.Empty(Entries(Path.Combine(home, "ww")));
    }

    /// <summary>A directory of the attacker's, sticky and world-writable like /tmp, in which the victim is made to work.</summary>
    private string AttackersDirectory()
    {
        string dir = Scratch(E2EEnvironment.UserWithoutRange, "attacker");
        Sh($"chmod 1777 {Q(dir)}");
        return dir;
    }

    [Fact]
    public void ACacheUnderAnotherUsersDirectoryIsRefusedAndNothingIsMadeThere()
    {
        TestUser victim = E2EEnvironment.UserWithRange;
        if (victim == E2EEnvironment.UserWithoutRange)
        {
            return; // one user only (the suite is not root): there is no attacker
        }
        string attacker = AttackersDirectory();
        string home = Scratch(victim, "victim");
        RunResult r = AsUser.Run(victim, [E2EEnvironment.Burrow, "pull", Path.Combine(home, "out.sif"), SmallArchive],
            env: new Dictionary<string, string> { ["BURROW_CACHEDIR"] = Path.Combine(attacker, "cache"), ["TMPDIR"] = home }, cwd: home, timeout: TimeSpan.FromSeconds(120));
        AssertCleanFailure(r, BadInputWorld.Failure, $"{attacker} belongs to uid {E2EEnvironment.UserWithoutRange.Uid}, who could replace what is in it");
        Assert.Empty(Entries(attacker));
        Assert.Empty(Entries(home));
    }

    [Fact]
    public void TheSessionDirectoryFallsBackToAPrivateOneAndNeverUnderTheAttackers()
    {
        TestUser victim = E2EEnvironment.UserWithRange;
        if (victim == E2EEnvironment.UserWithoutRange)
        {
            return;
        }
        string attacker = AttackersDirectory();
        string home = Scratch(victim, "victim");
        RunResult r = AsUser.Run(victim, [E2EEnvironment.Burrow, "exec", E2EEnvironment.BusyboxImage, "true"],
            env: new Dictionary<string, string> { ["BURROW_CACHEDIR"] = Path.Combine(attacker, "cache"), ["TMPDIR"] = home }, cwd: home);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Empty(Entries(attacker));
        string sessions = Path.Combine(home, "burrow-" + victim.Uid, "sessions");
        Assert.Equal("700", Mode(Path.Combine(home, "burrow-" + victim.Uid)));
        Assert.Equal("700", Mode(sessions));
        Assert.Empty(Entries(sessions));
    }

    [Fact]
    public void AFallbackTheAttackerPreparedIsRefused()
    {
        TestUser victim = E2EEnvironment.UserWithRange;
        if (victim == E2EEnvironment.UserWithoutRange)
        {
            return;
        }
        // The attacker made $TMPDIR/burrow-UID of the victim first, hoping to receive the victim's session files.
        string shared = Path.Combine("/tmp", "burrow-e2e-sharedtmp-" + Guid.NewGuid().ToString("N")[..10]);
        _dirs.Add(shared);
        Sh($"mkdir -m 1777 {Q(shared)} && chmod 1777 {Q(shared)}");
        string planted = Path.Combine(shared, "burrow-" + victim.Uid);
        Assert.Equal(0, AsUser.Run(E2EEnvironment.UserWithoutRange, ["mkdir", "-m", "0777", "-p", Path.Combine(planted, "sessions")], cwd: "/").ExitCode);
        string attacker = AttackersDirectory();
        RunResult r = AsUser.Run(victim, [E2EEnvironment.Burrow, "exec", E2EEnvironment.BusyboxImage, "true"],
            env: new Dictionary<string, string> { ["BURROW_CACHEDIR"] = Path.Combine(attacker, "cache"), ["TMPDIR"] = shared }, cwd: "/");
        AssertCleanFailure(r, BadInputWorld.Failure, "belongs to uid " + E2EEnvironment.UserWithoutRange.Uid);
        Assert.Empty(Entries(Path.Combine(planted, "sessions")));
        Assert.Empty(Entries(attacker));
    }
}

using Burrow.E2E.Harness;
using Burrow.E2E.Oci;
using static Burrow.E2E.Hardening.Hardened;

namespace Burrow.E2E.Hardening;

/// <summary>
/// Issue 13, item 1: another local user (the attacker, the second test user) who may write the directory of the
/// victim's OUT plants symlinks there — at the name Burrow used to copy through (<c>.OUT.tmpPID</c>, the victim's
/// pid read the way a watching attacker would) and at OUT itself — pointing at the victim's
/// <c>authorized_keys</c>. The victim's file must stay as it was; OUT, when written, is a regular file of the victim's.
/// The shared directory is sticky (as /tmp) or a plain world-writable project directory.
/// </summary>
public sealed class OutputHijackTests : IDisposable
{
    private const string Precious = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPreciousKeyOfTheVictim victim@host\n";

    private static TestUser Victim => E2EEnvironment.UserWithRange;

    private static TestUser Attacker => E2EEnvironment.UserWithoutRange;

    private readonly string _victimDir = NewDirectory(Victim, "victim");
    private readonly string _shared = Path.Combine("/tmp", "burrow-e2e-shared-" + Guid.NewGuid().ToString("N")[..10]);

    public OutputHijackTests()
    {
        Sh($"printf '%s' {Q(Precious)} > {Q(Keys)} && chmod 0600 {Q(Keys)}" + (E2EEnvironment.IsRoot ? $" && chown {Victim.Uid}:{Victim.Gid} {Q(Keys)}" : ""));
    }

    private string Keys => Path.Combine(_victimDir, "authorized_keys");

    public void Dispose()
    {
        Remove(_victimDir);
        Remove(_shared);
    }

    /// <summary>What the victim runs, OUT written as {OUT}.</summary>
    public static TheoryData<string, string> Commands() => new()
    {
        { "1777", "pull {OUT} {DA}" },
        { "1777", "build {OUT} {DA}" },
        { "1777", "sif new {OUT}" },
        { "0777", "pull {OUT} {DA}" },
        { "0777", "build {OUT} {DA}" },
    };

    private string[] Args(string command, string output) => command.Split(' ')
        .Select(a => a.Replace("{OUT}", output, StringComparison.Ordinal)
            .Replace("{DA}", "docker-archive:" + Path.Combine(OciEnvironment.Fixtures, "archives", "small-docker.tar"), StringComparison.Ordinal))
        .ToArray();

    private Dictionary<string, string> Env => new() { ["BURROW_CACHEDIR"] = Path.Combine(_victimDir, "cache"), ["TMPDIR"] = _victimDir };

    private void MakeShared(string mode) => Sh($"mkdir -m {mode} {Q(_shared)} && chmod {mode} {Q(_shared)}");

    private void Plant(string name, string target)
    {
        RunResult ln = AsUser.Run(Attacker, ["ln", "-s", target, Path.Combine(_shared, name)], cwd: "/");
        Assert.True(ln.ExitCode == 0, ln.ToString());
    }

    [Theory]
    [MemberData(nameof(Commands))]
    public async Task SymlinksAtThePredictableTempNameCannotRedirectTheWrite(string mode, string command)
    {
        MakeShared(mode);
        string output = Path.Combine(_shared, "out.sif");
        string pidFile = Path.Combine(_victimDir, "pid"), go = Path.Combine(_victimDir, "go");
        // The victim's burrow waits until the attacker, who saw its pid, has planted the links.
        string shell = $"echo $$ > {Q(pidFile)}; while [ ! -e {Q(go)} ]; do sleep 0.05; done; exec \"$@\"";
        Task<RunResult> victim = Task.Run(() => BurrowInShell(Victim, shell, Args(command, output), Env, _victimDir, TimeSpan.FromSeconds(120)));
        string pid = await WaitForText(pidFile);
        string[] planted = [$".out.sif.tmp{pid}", $".out.sif.tmp{int.Parse(pid) + 1}", ".out.sif.tmp", ".out.sif.tmp0"];
        foreach (string name in planted)
        {
            Plant(name, Keys);
        }
        Sh($"touch {Q(go)}");
        RunResult r = await victim;

        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal(Precious, File.ReadAllText(Keys));
        Sh($"test -f {Q(output)} && test ! -L {Q(output)}");
        Assert.Equal(Victim.Uid.ToString(), Sh($"stat -c %u {Q(output)}").Trim());
        Assert.Equal("SIF_MAGIC", Sh($"dd if={Q(output)} bs=1 skip=32 count=9 2>/dev/null"));
        // Nothing of Burrow's is left beside OUT: only OUT and the attacker's own links.
        Assert.Equal([.. planted.Append("out.sif").Order(StringComparer.Ordinal)], Entries(_shared));
    }

    [Theory]
    [InlineData("pull {OUT} {DA}")]
    [InlineData("pull --force {OUT} {DA}")]
    [InlineData("build --force {OUT} {DA}")]
    [InlineData("sif new {OUT}")]
    public void ASymlinkAtOutIsRefusedAndNotFollowed(string command)
    {
        MakeShared("1777");
        string output = Path.Combine(_shared, "out.sif");
        Plant("out.sif", Keys);
        RunResult r = AsUser.Run(Victim, [E2EEnvironment.Burrow, .. Args(command, output)], env: Env, cwd: _victimDir, timeout: TimeSpan.FromSeconds(120));
        AssertCleanFailure(r, BadInputWorld.Failure, "it is a symbolic link, and Burrow does not write through one");
        Assert.Equal(Precious, File.ReadAllText(Keys));
        Assert.Equal(["out.sif"], Entries(_shared));
    }

    [Fact]
    public void ASymlinkAtTheSandboxTargetIsRefusedAndNotFollowed()
    {
        MakeShared("1777");
        Plant("sandbox", _victimDir);
        string before = string.Join(' ', Entries(_victimDir));
        RunResult r = AsUser.Run(Victim, [E2EEnvironment.Burrow, "build", "--sandbox", "--force", Path.Combine(_shared, "sandbox"),
            "docker-archive:" + Path.Combine(OciEnvironment.Fixtures, "archives", "small-docker.tar")], env: Env, cwd: _victimDir, timeout: TimeSpan.FromSeconds(120));
        AssertCleanFailure(r, BadInputWorld.Failure, "it is a symbolic link");
        Assert.Equal(before, string.Join(' ', Entries(_victimDir).Where(n => n != "cache")));
        Assert.Equal(Precious, File.ReadAllText(Keys));
        Assert.Equal(["sandbox"], Entries(_shared));
    }

    private static async Task<string> WaitForText(string file)
    {
        for (int i = 0; i < 600; i++)
        {
            if (File.Exists(file) && File.ReadAllText(file).Trim() is { Length: > 0 } text)
            {
                return text;
            }
            await Task.Delay(50);
        }
        throw new TimeoutException($"{file} never appeared");
    }
}

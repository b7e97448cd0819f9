using Burrow.E2E.Harness;
using static Burrow.E2E.Hardening.Hardened;

namespace Burrow.E2E.Hardening;

/// <summary>
/// The bad-input sweep (issue 13): every case in <see cref="BadInputCases"/>, as both unprivileged users. Each must
/// exit with its code, print exactly one ERROR: line and nothing on stdout, show no stack trace and no .NET resource
/// key, finish within the time-out, and leave nothing behind (the current directory, $TMPDIR, the cache's tmp/, the
/// scratch directory, the planted symlink's victim).
/// </summary>
public class BadInputSweepTests(BadInputWorlds worlds) : IClassFixture<BadInputWorlds>
{
    private static readonly TimeSpan CaseTimeout = TimeSpan.FromSeconds(45);

    public static IEnumerable<object[]> Cases() =>
        from user in new[] { E2EEnvironment.UserWithRange, E2EEnvironment.UserWithoutRange }.DistinctBy(u => u.Name)
        from c in BadInputCases.All
        select new object[] { user.Name, c.Name };

    [Fact]
    public void TheSweepHasAtLeast150DistinctCases()
    {
        Assert.True(BadInputCases.All.Count >= 150, $"{BadInputCases.All.Count} cases");
        Assert.Equal(BadInputCases.All.Count, BadInputCases.All.Select(c => c.Name).Distinct().Count());
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void FailsCleanly(string userName, string caseName)
    {
        TestUser user = new[] { E2EEnvironment.UserWithRange, E2EEnvironment.UserWithoutRange }.First(u => u.Name == userName);
        BadCase c = BadInputCases.All.Single(x => x.Name == caseName);
        BadInputWorld world = worlds.For(user);
        string before = world.Snapshot();
        Dictionary<string, string> env = world.Env();
        foreach ((string k, string v) in c.Env)
        {
            env[k] = world.Expand(v);
        }
        string[] args = c.Args.Select(world.Expand).ToArray();
        RunResult r = c.Shell is { } shell
            ? BurrowInShell(user, shell, args, env, world.Cwd, CaseTimeout)
            : AsUser.Run(user, [E2EEnvironment.Burrow, .. args], c.Stdin, env, world.Cwd, CaseTimeout);
        string context = $"case \"{c.Name}\" as {user.Name}: burrow {string.Join(' ', args.Select(a => a.Length > 80 ? a[..80] + "…" : a))}";
        AssertCleanFailure(r, c.Exit, c.Expect, context: context);
        Assert.True(r.Stdout.Length == 0, $"output on stdout: {context}\n{r}");
        Assert.Equal(before, world.Snapshot());
    }
}

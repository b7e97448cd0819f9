using System.Diagnostics;
using Burrow.E2E.Harness;
using Burrow.E2E.Oci;
using Burrow.E2E.Runtime;
using static Burrow.E2E.Hardening.Hardened;

namespace Burrow.E2E.Hardening;

/// <summary>
/// Issue 13, clean-up on every path: SIGINT, SIGTERM or SIGHUP while pull, pull --disable-cache or build --sandbox
/// waits on a registry that stopped answering ends burrow with 128+N, one ERROR: line, and nothing left in the cache's
/// tmp/, in $TMPDIR or beside the output. What a SIGKILL leaves (it cannot be caught) is swept by the next run, but only
/// once its process is gone: a live run's directory, another user's, or a young one is left alone.
/// </summary>
public sealed class InterruptionTests : IDisposable
{
    private readonly List<string> _dirs = [];

    public void Dispose() => _dirs.ForEach(Remove);

    public static TheoryData<TestUser, int, string> Cases()
    {
        var data = new TheoryData<TestUser, int, string>();
        foreach (TestUser user in new[] { E2EEnvironment.UserWithRange, E2EEnvironment.UserWithoutRange }.DistinctBy(u => u.Name))
        {
            foreach (int signal in new[] { 2, 15, 1 })
            {
                foreach (string command in new[] { "pull", "pull --disable-cache", "build --sandbox" })
                {
                    data.Add(user, signal, command);
                }
            }
        }
        return data;
    }

    private (string Dir, Dictionary<string, string> Env) Scratch(TestUser user)
    {
        string dir = NewDirectory(user, "signal");
        _dirs.Add(dir);
        Sh($"mkdir {Q(Path.Combine(dir, "tmp"))} {Q(Path.Combine(dir, "out"))}" + (E2EEnvironment.IsRoot ? $" && chown {user.Uid}:{user.Gid} {Q(Path.Combine(dir, "tmp"))} {Q(Path.Combine(dir, "out"))}" : ""));
        return (dir, new() { ["BURROW_CACHEDIR"] = Path.Combine(dir, "cache"), ["TMPDIR"] = Path.Combine(dir, "tmp") });
    }

    private static string[] Args(string command, string outDir, string reference) => command switch
    {
        "build --sandbox" => ["build", "--sandbox", Path.Combine(outDir, "sandbox"), reference],
        _ => [.. command.Split(' '), Path.Combine(outDir, "out.sif"), reference],
    };

    private static void WaitFor(Func<bool> condition, string what, BackgroundBurrow burrow)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > TimeSpan.FromSeconds(60))
            {
                Assert.Fail($"never {what}\n--- stderr\n{burrow.Stderr}");
            }
            Thread.Sleep(50);
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void ASignalDuringAPullCleansUpEverything(TestUser user, int signal, string command)
    {
        using var proxy = new FaultProxy(Fault.StallBlob);
        (string dir, Dictionary<string, string> env) = Scratch(user);
        using BackgroundBurrow burrow = BackgroundBurrow.StartWith(user, env, Args(command, Path.Combine(dir, "out"), $"docker://{proxy.Address}/small:latest"));
        WaitFor(() => proxy.BlobRequests > 0, "reached the blob download", burrow);
        Thread.Sleep(200);
        burrow.Signal(signal);
        int exit = burrow.WaitForExit(TimeSpan.FromSeconds(30));

        var r = new RunResult(exit, burrow.Stdout, burrow.Stderr, TimedOut: false);
        string name = signal switch { 1 => "SIGHUP", 2 => "SIGINT", _ => "SIGTERM" };
        AssertCleanFailure(r, 128 + signal, $"interrupted by {name}; temporary files were removed", context: $"{command} as {user.Name}");
        Assert.Empty(Entries(Path.Combine(dir, "out")));
        Assert.Empty(Entries(Path.Combine(dir, "tmp")));
        Assert.Empty(Entries(Path.Combine(dir, "cache", "tmp")));
    }

    [Theory]
    [MemberData(nameof(E2EEnvironment.BothUsers), MemberType = typeof(E2EEnvironment))]
    public void WhatAKilledPullLeftIsSweptOnceItsProcessIsGone(TestUser user)
    {
        using var proxy = new FaultProxy(Fault.StallBlob);
        (string dir, Dictionary<string, string> env) = Scratch(user);
        string tmp = Path.Combine(dir, "tmp");
        string stalled = $"docker://{proxy.Address}/small:latest";

        // One pull killed outright, one still running: both have a burrow-pull-* directory, made to look old.
        using (BackgroundBurrow killed = BackgroundBurrow.StartWith(user, env, "pull", "--disable-cache", Path.Combine(dir, "out", "killed.sif"), stalled))
        {
            WaitFor(() => proxy.BlobRequests > 0, "reached the blob download", killed);
            killed.Signal(9);
            killed.WaitForExit();
        }
        string dead = Assert.Single(Entries(tmp));
        using BackgroundBurrow live = BackgroundBurrow.StartWith(user, env, "pull", "--disable-cache", Path.Combine(dir, "out", "live.sif"), stalled);
        WaitFor(() => Entries(tmp).Length == 2, "made its temporary directory", live);
        string running = Entries(tmp).Single(n => n != dead);
        // Young directories are never swept (one may be between its mkdir and its lock); a stranger's never at all.
        Sh($"mkdir {Q(Path.Combine(tmp, "burrow-pull-1-0123456789ab"))} && touch -d '-2 hours' {Q(Path.Combine(tmp, dead))} {Q(Path.Combine(tmp, running))} {Q(Path.Combine(tmp, "burrow-pull-1-0123456789ab"))}");
        Sh($"mkdir {Q(Path.Combine(tmp, "burrow-pull-2-young0000000"))}" + (E2EEnvironment.IsRoot ? $" && chown {user.Uid}:{user.Gid} {Q(Path.Combine(tmp, "burrow-pull-2-young0000000"))}" : ""));

        RunResult next = AsUser.Run(user, [E2EEnvironment.Burrow, "pull", "--disable-cache", Path.Combine(dir, "out", "next.sif"),
            "docker-archive:" + Path.Combine(OciEnvironment.Fixtures, "archives", "small-docker.tar")], env: env, timeout: TimeSpan.FromSeconds(120));
        Assert.True(next.ExitCode == 0, next.ToString());
        string[] left = Entries(tmp);
        Assert.DoesNotContain(dead, left);
        Assert.Contains(running, left);
        Assert.Contains("burrow-pull-2-young0000000", left);
        Assert.Equal(E2EEnvironment.IsRoot, left.Contains("burrow-pull-1-0123456789ab")); // root's, when the suite is root

        live.Signal(2);
        Assert.Equal(130, live.WaitForExit());
        Assert.DoesNotContain(running, Entries(tmp));
    }

    [Theory]
    [MemberData(nameof(E2EEnvironment.BothUsers), MemberType = typeof(E2EEnvironment))]
    public void AStaleTemporarySandboxIsSweptByTheNextUnpack(TestUser user)
    {
        (string dir, Dictionary<string, string> env) = Scratch(user);
        string tmp = Path.Combine(dir, "tmp");
        string stale = Path.Combine(tmp, "burrow-sandbox-424242-0123456789ab");
        // What a killed exec of a SIF left: an unpacked tree with a read-only directory in it.
        Sh($"mkdir -p {Q(Path.Combine(stale, "root", "usr", "lib"))} && chmod 0555 {Q(Path.Combine(stale, "root", "usr"))}"
            + (E2EEnvironment.IsRoot ? $" && chown -R {user.Uid}:{user.Gid} {Q(stale)}" : "") + $" && touch -d '-2 hours' {Q(stale)}");
        RunResult r = AsUser.Run(user, [E2EEnvironment.Burrow, "exec", "--unsquash", E2EEnvironment.BusyboxTree + ".sif", "true"], env: env, timeout: TimeSpan.FromSeconds(120));
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Empty(Entries(tmp));
    }
}

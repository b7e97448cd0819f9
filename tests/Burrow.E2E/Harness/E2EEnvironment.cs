using System.Diagnostics;

namespace Burrow.E2E.Harness;

/// <summary>
/// What scripts/test set up: the installed build, the test image cache and the unprivileged users.
/// Run as root (CI), commands run as the test users; run as a user, they run as that user and the
/// "other user" cases use the same account, which the tests that need both say.
/// </summary>
public static class E2EEnvironment
{
    public static bool IsRoot { get; } = Environment.UserName == "root" || GetUid() == 0;

    public static string Prefix { get; } = Environment.GetEnvironmentVariable("BURROW_E2E_PREFIX")
        ?? Path.GetFullPath(Path.Combine(RepoRoot(), "out"));

    public static string Burrow => Path.Combine(Prefix, "bin", "burrow");

    public static string TestCache { get; } = Environment.GetEnvironmentVariable("BURROW_TEST_CACHE") ?? "/var/cache/burrow-test";

    /// <summary>
    /// The format the runnable images come in for this run: "sandbox" (directories) by default, "sif" when
    /// BURROW_E2E_IMAGE_FORMAT=sif — scripts/test runs the default-container, identity and runtime tests once in
    /// each, because what users run is mostly SIF files.
    /// </summary>
    public static string ImageFormat { get; } = Environment.GetEnvironmentVariable("BURROW_E2E_IMAGE_FORMAT") is "sif" ? "sif" : "sandbox";

    public static bool IsSifRun => ImageFormat == "sif";

    /// <summary>The busybox image to run, in this run's format.</summary>
    public static string BusyboxImage => IsSifRun ? BusyboxTree + ".sif" : BusyboxTree;

    /// <summary>The Debian minbase + sudo image to run, in this run's format.</summary>
    public static string DebianImage => IsSifRun ? DebianTree + ".sif" : DebianTree;

    /// <summary>The busybox root file system directory (to copy, or to read a file of on the host).</summary>
    public static string BusyboxTree => Path.Combine(TestCache, "images", "busybox");

    public static string DebianTree => Path.Combine(TestCache, "images", "debian-sudo");

    /// <summary>The user with a 65536-id range in /etc/subuid and /etc/subgid.</summary>
    public static TestUser UserWithRange { get; } = TestUser.Resolve(
        IsRoot ? Environment.GetEnvironmentVariable("BURROW_TEST_USER_SUB") ?? "burrowsub" : Environment.UserName);

    /// <summary>The user without any subordinate range.</summary>
    public static TestUser UserWithoutRange { get; } = TestUser.Resolve(
        IsRoot ? Environment.GetEnvironmentVariable("BURROW_TEST_USER_NOSUB") ?? "burrownosub" : Environment.UserName);

    public static IEnumerable<object[]> BothUsers() =>
    [
        [UserWithRange],
        [UserWithoutRange],
    ];

    /// <summary>The checkout the tests were built from (scripts/ is read from it).</summary>
    public static string RepoRoot()
    {
        string? dir = AppContext.BaseDirectory;
        while (dir is not null && !File.Exists(Path.Combine(dir, "Burrow.slnx")))
        {
            dir = Path.GetDirectoryName(dir);
        }
        return dir ?? throw new InvalidOperationException("cannot find the repository root above " + AppContext.BaseDirectory);
    }

    private static uint GetUid()
    {
        var psi = new ProcessStartInfo("id", "-u") { RedirectStandardOutput = true };
        using Process p = Process.Start(psi)!;
        string text = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return uint.Parse(text.Trim());
    }
}

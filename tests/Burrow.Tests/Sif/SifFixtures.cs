namespace Burrow.Tests.Sif;

/// <summary>
/// The reference implementation's golden data: ../shared/fixtures/sif beside the checkout (as CI lays it
/// out), else /work/shared/fixtures/sif.
/// </summary>
internal static class SifFixtures
{
    public static string Root { get; } = Locate();

    /// <summary>Apptainer's sif (the newer reference, with the OCI types).</summary>
    public static string Apptainer => Path.Combine(Root, "apptainer-sif");

    /// <summary>Sylabs sif v2.8.3, what Debian's siftool is built from.</summary>
    public static string Sylabs => Path.Combine(Root, "sylabs-sif-v2.8.3");

    public static string Image(string name) => Path.Combine(Apptainer, "test", "images", name);

    public static string SifGolden(string test, string name) => Path.Combine(Apptainer, "pkg", "sif", "testdata", test, name + ".golden");

    public static IEnumerable<string> AllImages() =>
        new[] { Apptainer, Sylabs }.SelectMany(r => Directory.GetFiles(Path.Combine(r, "test", "images"), "*.sif")).Order(StringComparer.Ordinal);

    public static string RepoRoot()
    {
        string? dir = AppContext.BaseDirectory;
        while (dir is not null && !File.Exists(Path.Combine(dir, "Burrow.slnx")))
        {
            dir = Path.GetDirectoryName(dir);
        }
        return dir ?? throw new InvalidOperationException("cannot find the repository root above " + AppContext.BaseDirectory);
    }

    private static string Locate()
    {
        string beside = Path.GetFullPath(Path.Combine(RepoRoot(), "..", "shared", "fixtures", "sif"));
        if (Directory.Exists(beside))
        {
            return beside;
        }
        const string fallback = "/work/shared/fixtures/sif";
        return Directory.Exists(fallback) ? fallback
            : throw new InvalidOperationException($"SIF fixtures not found at {beside} or {fallback}: check out shared/ beside the repository");
    }
}

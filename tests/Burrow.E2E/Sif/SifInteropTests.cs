using Burrow.E2E.Harness;

namespace Burrow.E2E.Sif;

/// <summary>
/// Interoperability with Debian's siftool 2.8.3, both ways, as an unprivileged user: images Burrow writes
/// read the same in siftool, and images siftool writes read the same in Burrow (header, list, info, dump).
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class SifInteropTests : IDisposable
{
    private static readonly TestUser User = E2EEnvironment.UserWithRange;
    private readonly string _dir;

    public SifInteropTests()
    {
        // A directory the test user can write, whoever runs the suite.
        _dir = Path.Combine("/tmp", "burrow-sif-e2e-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(_dir);
        File.SetUnixFileMode(_dir, (UnixFileMode)0x1FF);
        Input("def", "Bootstrap: docker\nFrom: busybox\n");
        Input("json", "{\"labels\":{}}");
        Input("squash", new string('s', 10000));
        Input("ext3", new string('e', 5000));
        Input("sig", "-----BEGIN PGP SIGNED MESSAGE-----\n");
        Input("sbom", "{\"bomFormat\":\"CycloneDX\"}");
        Input("msg", "-----BEGIN MESSAGE-----\n");
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string P(string name) => Path.Combine(_dir, name);

    private void Input(string name, string content)
    {
        File.WriteAllText(P(name), content);
        File.SetUnixFileMode(P(name), (UnixFileMode)0x1B6);
    }

    private static RunResult Ok(RunResult r, string what)
    {
        Assert.True(r.ExitCode == 0, what + ": " + r);
        return r;
    }

    private static RunResult Tool(params string[] args) => Ok(AsUser.Run(User, ["siftool", .. args]), "siftool " + string.Join(' ', args));

    private static RunResult Burrow(params string[] args) => Ok(AsUser.Burrow(User, ["sif", .. args]), "burrow sif " + string.Join(' ', args));

    /// <summary>header, list, every info, and every dump (as files, bytes compared) agree between the two tools.</summary>
    private void AssertToolsAgree(string image)
    {
        Assert.Equal(Tool("header", image).Stdout, Burrow("header", image).Stdout);
        string list = Tool("list", image).Stdout;
        Assert.Equal(list, Burrow("list", image).Stdout);
        foreach (string id in list.Split('\n').Skip(3).Where(l => l.Length > 4).Select(l => l[..4].Trim()))
        {
            Assert.Equal(Tool("info", id, image).Stdout, Burrow("info", id, image).Stdout);
            string a = P($"dump-siftool-{id}"), b = P($"dump-burrow-{id}");
            Ok(AsUser.Run(User, ["sh", "-c", $"siftool dump {id} '{image}' > '{a}' && '{E2EEnvironment.Burrow}' sif dump {id} '{image}' > '{b}'"]), "dump " + id);
            Assert.Equal(File.ReadAllBytes(a), File.ReadAllBytes(b));
        }
    }

    [Fact]
    public void ImagesBurrowWritesReadTheSameInSiftool()
    {
        string image = P("burrow.sif");
        Burrow("new", image);
        Burrow("add", image, P("def"), "--datatype", "1", "--groupid", "1");
        Burrow("add", image, P("json"), "--datatype", "6", "--groupid", "1", "--filename", "inspect-metadata.json");
        Burrow("add", image, P("squash"), "--datatype", "4", "--parttype", "2", "--partfs", "1", "--partarch", "2", "--groupid", "1");
        Burrow("add", image, P("ext3"), "--datatype", "4", "--parttype", "1", "--partfs", "2", "--partarch", "arm64", "--groupid", "2");
        Burrow("add", image, P("sig"), "--datatype", "5", "--signhash", "2", "--signentity", "12045C8C0B1004D058DE4BEDA20C27EE7FF7BA84", "--link", "3");
        Burrow("add", image, P("sbom"), "--datatype", "9", "--sbomformat", "spdx-json", "--alignment", "512");
        Burrow("add", image, P("msg"), "--datatype", "7", "--link", "4", "--groupid", "3");
        AssertToolsAgree(image);
        string list = Tool("list", image).Stdout;
        Assert.Contains("|FS (Squashfs/*System/amd64)", list, StringComparison.Ordinal);
        Assert.Contains("|FS (Ext3/System/arm64)", list, StringComparison.Ordinal);
        Assert.Contains("|Signature (SHA-384)", list, StringComparison.Ordinal);
        Assert.Contains("Primary Architecture: amd64", Tool("header", image).Stdout, StringComparison.Ordinal);

        // The data siftool dumps is the data Burrow was given.
        string dumped = P("dumped-squash");
        Ok(AsUser.Run(User, ["sh", "-c", $"siftool dump 3 '{image}' > '{dumped}'"]), "dump 3");
        Assert.Equal(File.ReadAllBytes(P("squash")), File.ReadAllBytes(dumped));

        // Edits by Burrow: delete and move the primary partition, then siftool still agrees.
        Burrow("del", "7", image);
        Burrow("setprim", "4", image);
        AssertToolsAgree(image);
        Assert.Contains("|FS (Squashfs/System/amd64)", Tool("list", image).Stdout, StringComparison.Ordinal);
        Assert.Contains("|FS (Ext3/*System/arm64)", Tool("list", image).Stdout, StringComparison.Ordinal);
        Assert.Contains("Primary Architecture: arm64", Tool("header", image).Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void ImagesSiftoolWritesReadTheSameInBurrow()
    {
        string image = P("siftool.sif");
        Tool("new", image);
        Tool("add", image, P("def"), "--datatype", "1", "--groupid", "1");
        Tool("add", image, P("squash"), "--datatype", "4", "--parttype", "1", "--partfs", "1", "--partarch", "2", "--groupid", "1");
        Tool("add", image, P("ext3"), "--datatype", "4", "--parttype", "2", "--partfs", "2", "--partarch", "4", "--groupid", "2");
        Tool("add", image, P("sig"), "--datatype", "5", "--signhash", "1", "--signentity", "12045C8C0B1004D058DE4BEDA20C27EE7FF7BA84", "--link", "2");
        Tool("add", image, P("sbom"), "--datatype", "9", "--sbomformat", "cyclonedx-json", "--filename", "sbom.json");
        Tool("add", image, P("msg"), "--datatype", "8", "--link", "3");
        AssertToolsAgree(image);
        Tool("del", "6", image);
        Tool("setprim", "2", image);
        // siftool 2.8.3's setprim stores "amd" as the arch code; both tools then show "unknown" for it.
        AssertToolsAgree(image);
        Assert.Contains("|FS (Squashfs/*System/unknown)", Burrow("list", image).Stdout, StringComparison.Ordinal);
    }

    /// <summary>The reference's fixture images (../shared beside the checkout, as CI lays it out, else /work/shared).</summary>
    private static string FixtureImages(string root)
    {
        string? dir = AppContext.BaseDirectory;
        while (dir is not null && !File.Exists(Path.Combine(dir, "Burrow.slnx")))
        {
            dir = Path.GetDirectoryName(dir);
        }
        string beside = Path.GetFullPath(Path.Combine(dir ?? "/", "..", "shared", "fixtures", "sif", root, "test", "images"));
        return Directory.Exists(beside) ? beside : Path.Combine("/work/shared/fixtures/sif", root, "test", "images");
    }

    [Theory]
    [InlineData("apptainer-sif")]
    [InlineData("sylabs-sif-v2.8.3")]
    public void EveryFixtureImageReadsTheSameInBothTools(string root)
    {
        string[] images = Directory.GetFiles(FixtureImages(root), "*.sif").Order(StringComparer.Ordinal).ToArray();
        Assert.NotEmpty(images);
        foreach (string source in images)
        {
            // Copied where the test user can read it, whatever directory the checkout sits in.
            string image = P(Path.GetFileName(source));
            File.Copy(source, image);
            File.SetUnixFileMode(image, (UnixFileMode)0x1A4);
            if (Path.GetFileName(image).StartsWith("one-object-oci-", StringComparison.Ordinal))
            {
                // siftool 2.8.3 predates the OCI types: it prints "Unknown" and no digest; Burrow follows the newer reference.
                Assert.Contains("|OCI.", Burrow("list", image).Stdout, StringComparison.Ordinal);
                Assert.Contains("|Unknown", Tool("list", image).Stdout, StringComparison.Ordinal);
                Assert.Equal(Tool("header", image).Stdout, Burrow("header", image).Stdout);
                continue;
            }
            AssertToolsAgree(image);
        }
    }

    [Fact]
    public void BadImagesGiveOneClearErrorAndNoStackTrace()
    {
        File.WriteAllText(P("not.sif"), "hello, not a SIF image at all, but long enough to hold a header........................................................................");
        File.SetUnixFileMode(P("not.sif"), (UnixFileMode)0x1B6);
        foreach (string[] args in new[] { new[] { "list", P("not.sif") }, new[] { "header", _dir }, new[] { "info", "1", P("missing.sif") } })
        {
            RunResult r = AsUser.Burrow(User, ["sif", .. args]);
            Assert.True(r.ExitCode != 0, r.ToString());
            Assert.StartsWith("ERROR:", r.Stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", r.Stderr, StringComparison.Ordinal);
            Assert.Equal("", r.Stdout);
        }
        Assert.Contains("wrong magic", AsUser.Burrow(User, "sif", "list", P("not.sif")).Stderr, StringComparison.Ordinal);
    }
}

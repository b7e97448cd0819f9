using Burrow.Core.Diagnostics;
using Burrow.Core.Images;

namespace Burrow.Tests.Planning;

public sealed class ImageResolverTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("burrow-images-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void SandboxDirectoryResolvesToItsRealPath()
    {
        Directory.CreateDirectory(Path.Combine(_dir, "root", "bin"));
        File.CreateSymbolicLink(Path.Combine(_dir, "link"), Path.Combine(_dir, "root"));
        ResolvedImage image = ImageResolver.Default.Resolve("link", _dir);
        Assert.Equal(Path.Combine(_dir, "root"), image.RootPath);
    }

    [Fact]
    public void MissingPathIsNamed()
    {
        var e = Assert.Throws<BurrowException>(() => ImageResolver.Default.Resolve("nothere", _dir));
        Assert.Contains(Path.Combine(_dir, "nothere") + " does not exist", e.Message);
    }

    [Fact]
    public void DirectoryWithoutARootFileSystemIsRefused()
    {
        Directory.CreateDirectory(Path.Combine(_dir, "empty"));
        var e = Assert.Throws<BurrowException>(() => ImageResolver.Default.Resolve("empty", _dir));
        Assert.Contains("is not a root file system", e.Message);
    }

    [Fact]
    public void OciBundleGetsAHintAtItsRootfs()
    {
        Directory.CreateDirectory(Path.Combine(_dir, "bundle", "rootfs", "etc"));
        var e = Assert.Throws<BurrowException>(() => ImageResolver.Default.Resolve("bundle", _dir));
        Assert.Contains(Path.Combine(_dir, "bundle", "rootfs"), e.Hint);
    }

    [Fact]
    public void FileAndUnknownTransportAreRefusedClearly()
    {
        File.WriteAllText(Path.Combine(_dir, "x.img"), "");
        Assert.Contains("is a file", Assert.Throws<BurrowException>(() => ImageResolver.Default.Resolve("x.img", _dir)).Message);
        // A .sif name is claimed by the SIF source, which checks the magic before anything runs.
        File.WriteAllText(Path.Combine(_dir, "x.sif"), "");
        Assert.Contains("is not a SIF file", Assert.Throws<BurrowException>(() => ImageResolver.Default.Resolve("x.sif", _dir)).Message);
        Assert.Contains("not supported", Assert.Throws<BurrowException>(() => ImageResolver.Default.Resolve("foo://bar", _dir)).Message);
    }

    [Fact]
    public void HostRootIsRefused()
    {
        Assert.Contains("host's /", Assert.Throws<BurrowException>(() => ImageResolver.Default.Resolve("/", _dir)).Message);
    }
}

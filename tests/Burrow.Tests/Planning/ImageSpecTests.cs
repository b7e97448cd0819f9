using System.Diagnostics;
using Burrow.Core.Diagnostics;
using Burrow.Core.Images;

namespace Burrow.Tests.Planning;

/// <summary>What IMAGE is, decided once and said clearly when it is nothing runnable.</summary>
public sealed class ImageSpecTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("burrow-images-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private BurrowException Refused(string given) => Assert.Throws<BurrowException>(() => ImageSpec.Parse(given, _dir));

    [Fact]
    public void SandboxDirectoryResolvesToItsRealPath()
    {
        Directory.CreateDirectory(Path.Combine(_dir, "root", "bin"));
        File.CreateSymbolicLink(Path.Combine(_dir, "link"), Path.Combine(_dir, "root"));
        var spec = Assert.IsType<SandboxImageSpec>(ImageSpec.Parse("link", _dir));
        Assert.Equal(Path.Combine(_dir, "root"), spec.Directory);
        Assert.Equal("link", spec.Given);
    }

    [Fact]
    public void ARegularFileIsTakenForASifAndOciSourcesForOci()
    {
        File.WriteAllText(Path.Combine(_dir, "x.img"), "");
        Assert.Equal(Path.Combine(_dir, "x.img"), Assert.IsType<SifImageSpec>(ImageSpec.Parse("x.img", _dir)).File);
        var oci = Assert.IsType<OciImageSpec>(ImageSpec.Parse("docker://alpine", _dir));
        Assert.Equal("docker://alpine", oci.Source.Text);
        var archive = Assert.IsType<OciImageSpec>(ImageSpec.Parse("oci-archive:img.tar", _dir));
        Assert.Equal(Path.Combine(_dir, "img.tar"), Assert.IsType<Burrow.Core.Oci.OciArchiveSource>(archive.Source).Path);
    }

    [Fact]
    public void MissingPathIsNamed()
    {
        Assert.Contains(Path.Combine(_dir, "nothere") + " does not exist", Refused("nothere").Message);
        Assert.Contains("no image given", Refused("").Message);
    }

    [Fact]
    public void DanglingLinksAndLoopsAreSaidForWhatTheyAre()
    {
        File.CreateSymbolicLink(Path.Combine(_dir, "dangling"), Path.Combine(_dir, "gone"));
        Assert.Contains("is a symbolic link to " + Path.Combine(_dir, "gone") + ", which does not exist", Refused("dangling").Message);
        File.CreateSymbolicLink(Path.Combine(_dir, "loop1"), Path.Combine(_dir, "loop2"));
        File.CreateSymbolicLink(Path.Combine(_dir, "loop2"), Path.Combine(_dir, "loop1"));
        Assert.Contains("loop of symbolic links", Refused("loop1").Message);
    }

    [Fact]
    public void AFifoOrADeviceIsNeverOpened()
    {
        string fifo = Path.Combine(_dir, "pipe");
        using (Process mkfifo = Process.Start("mkfifo", fifo))
        {
            mkfifo.WaitForExit();
        }
        Assert.Contains("is a FIFO (named pipe), not an image", Refused("pipe").Message);
        Assert.Contains("is a device, not an image", Refused("/dev/zero").Message);
    }

    [Fact]
    public void DirectoryWithoutARootFileSystemIsRefused()
    {
        Directory.CreateDirectory(Path.Combine(_dir, "empty"));
        Assert.Contains("is not a root file system", Refused("empty").Message);
    }

    [Fact]
    public void OciBundleGetsAHintAtItsRootfs()
    {
        Directory.CreateDirectory(Path.Combine(_dir, "bundle", "rootfs", "etc"));
        Assert.Contains(Path.Combine(_dir, "bundle", "rootfs"), Refused("bundle").Hint);
    }

    [Fact]
    public void UnknownTransportIsRefusedClearly()
    {
        Assert.Contains("not supported", Refused("foo://bar").Message);
        Assert.Contains("not supported", Refused("library://alpine").Message);
    }

    [Fact]
    public void HostRootIsRefused()
    {
        Assert.Contains("host's /", Refused("/").Message);
    }
}

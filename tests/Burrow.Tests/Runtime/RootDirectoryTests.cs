using Burrow.Linux;

namespace Burrow.Tests.Runtime;

/// <summary>In-root path resolution: symlinks mean container paths, and nothing resolves or is created outside.</summary>
public sealed class RootDirectoryTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("burrow-root-").FullName;

    public RootDirectoryTests()
    {
        Directory.CreateDirectory(Path.Combine(_dir, "root", "etc"));
        Directory.CreateDirectory(Path.Combine(_dir, "outside"));
        File.WriteAllText(Path.Combine(_dir, "root", "etc", "passwd"), "inside\n");
        File.WriteAllText(Path.Combine(_dir, "outside", "passwd"), "outside\n");
    }

    private string Root => Path.Combine(_dir, "root");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void AbsoluteSymlinkIsResolvedInsideTheRoot()
    {
        File.CreateSymbolicLink(Path.Combine(Root, "link"), "/etc/passwd");
        using RootDirectory root = RootDirectory.Open(Root);
        Assert.Equal("inside\n", root.ReadText("/link"));
    }

    [Fact]
    public void DotDotSymlinkStopsAtTheRootWhenReading()
    {
        File.CreateSymbolicLink(Path.Combine(Root, "up"), "../../../outside/passwd");
        using RootDirectory root = RootDirectory.Open(Root);
        Assert.Null(root.ReadText("/up")); // would be <dir>/outside/passwd as a host path
    }

    [Fact]
    public void ReadingAFifoIsRefusedWithoutBlocking()
    {
        using (var mkfifo = System.Diagnostics.Process.Start("mkfifo", Path.Combine(Root, "etc", "group")))
        {
            mkfifo.WaitForExit();
            Assert.Equal(0, mkfifo.ExitCode);
        }
        using RootDirectory root = RootDirectory.Open(Root);
        Assert.Throws<LinuxException>(() => root.ReadText("/etc/group"));
    }

    [Fact]
    public void MountTargetThroughAClimbingSymlinkIsRefusedAndNothingIsCreated()
    {
        File.CreateSymbolicLink(Path.Combine(Root, "escape"), "../outside");
        using RootDirectory root = RootDirectory.Open(Root);
        var e = Assert.Throws<LinuxException>(() => root.OpenMountTarget("/escape/sub", CreateKind.Directory));
        Assert.Equal(Errno.EXDEV, e.Errno);
        Assert.False(Directory.Exists(Path.Combine(_dir, "outside", "sub")));
    }

    [Fact]
    public void MountTargetIsCreatedAtTheInRootMeaningOfAnAbsoluteSymlink()
    {
        File.CreateSymbolicLink(Path.Combine(Root, "abs"), Path.Combine(_dir, "outside"));
        using RootDirectory root = RootDirectory.Open(Root);
        using (root.OpenMountTarget("/abs/sub/file", CreateKind.File)) { }
        Assert.True(File.Exists(Root + Path.Combine(_dir, "outside", "sub", "file")));
        Assert.False(Directory.Exists(Path.Combine(_dir, "outside", "sub")));
    }

    [Fact]
    public void ResolveExistingReportsTheMissingTail()
    {
        File.CreateSymbolicLink(Path.Combine(Root, "e"), "etc");
        using RootDirectory root = RootDirectory.Open(Root);
        (string existing, IReadOnlyList<string> missing) = root.ResolveExisting("/e/new/deeper");
        Assert.Equal("/etc", existing);
        Assert.Equal(["new", "deeper"], missing);
    }
}

using Burrow.Core.Runtime.Planning;
using Burrow.Core.Runtime.Planning.Facts;

namespace Burrow.Tests.Planning;

public sealed class RootDirectoryReaderTests : IDisposable
{
    private readonly string _outside = Directory.CreateTempSubdirectory("burrow-outside-").FullName;
    private readonly string _root = Directory.CreateTempSubdirectory("burrow-root-").FullName;

    public RootDirectoryReaderTests()
    {
        Directory.CreateDirectory(Path.Combine(_root, "etc"));
        Directory.CreateDirectory(Path.Combine(_root, "usr", "lib"));
        File.WriteAllText(Path.Combine(_root, "etc", "passwd"), "inside\n");
        File.WriteAllText(Path.Combine(_outside, "secret"), "host file\n");
    }

    public void Dispose()
    {
        Directory.Delete(_root, recursive: true);
        Directory.Delete(_outside, recursive: true);
    }

    [Fact]
    public void AbsoluteSymlinksResolveInsideTheRoot()
    {
        // In the container, /etc/group -> /etc/passwd; on the host the same link would reach the host's /etc/passwd.
        File.CreateSymbolicLink(Path.Combine(_root, "etc", "group"), "/etc/passwd");
        Assert.Equal("inside\n", new RootDirectoryReader(_root).ReadText("/etc/group", 1000));
    }

    [Fact]
    public void DotDotAndLinksCannotLeaveTheRoot()
    {
        string escape = Path.Combine(_outside, "secret");
        File.CreateSymbolicLink(Path.Combine(_root, "etc", "abs"), escape);
        File.CreateSymbolicLink(Path.Combine(_root, "etc", "rel"), "../../../../../../.." + escape);
        using var reader = new RootDirectoryReader(_root);
        Assert.Null(reader.ReadText("/etc/abs", 1000));
        Assert.Null(reader.ReadText("/etc/rel", 1000));
        Assert.Null(reader.ReadText("/../../../../.." + escape, 1000));
        Assert.Equal(PathKind.Missing, reader.KindOf("/etc/abs"));
    }

    [Fact]
    public void KindsAndListing()
    {
        Directory.CreateDirectory(Path.Combine(_root, ".singularity.d", "env"));
        File.WriteAllText(Path.Combine(_root, ".singularity.d", "env", "90-b.sh"), "");
        File.WriteAllText(Path.Combine(_root, ".singularity.d", "env", "01-a.sh"), "");
        File.CreateSymbolicLink(Path.Combine(_root, "lib"), "usr/lib");
        using var reader = new RootDirectoryReader(_root);
        Assert.Equal(PathKind.Directory, reader.KindOf("/lib"));
        Assert.Equal(PathKind.File, reader.KindOf("/etc/passwd"));
        Assert.Equal(PathKind.Missing, reader.KindOf("/etc/passwd/x"));
        Assert.Equal(["01-a.sh", "90-b.sh"], reader.ListFiles("/.singularity.d/env"));
    }

    [Fact]
    public void FifoIsNeitherFileNorDirectoryAndIsNeverOpened()
    {
        using (var p = System.Diagnostics.Process.Start("mkfifo", Path.Combine(_root, "etc", "fifo")))
        {
            p.WaitForExit();
        }
        using var reader = new RootDirectoryReader(_root);
        Assert.Equal(PathKind.Other, reader.KindOf("/etc/fifo"));
        Assert.Null(reader.ReadText("/etc/fifo", 1000)); // opening it to read would block
    }

    [Fact]
    public void SymlinkLoopsAreMissing()
    {
        File.CreateSymbolicLink(Path.Combine(_root, "a"), "/b");
        File.CreateSymbolicLink(Path.Combine(_root, "b"), "/a");
        Assert.Equal(PathKind.Missing, new RootDirectoryReader(_root).KindOf("/a"));
    }
}

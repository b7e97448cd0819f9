using Burrow.Core.Diagnostics;
using Burrow.Core.Runtime.Planning;
using Burrow.Core.Runtime.Planning.Facts;
using Burrow.Core.Squashfs;

namespace Burrow.Tests.Squashfs;

/// <summary>The planner's reads inside a squashfs: symlinks resolve inside the image, as RESOLVE_IN_ROOT would.</summary>
public sealed class SquashfsRootReaderTests : IDisposable
{
    private readonly SquashfsImage _image = SquashfsImage.Open(SquashfsFixtures.Mksquashfs("-comp zstd"));
    private readonly SquashfsRootReader _reader;

    public SquashfsRootReaderTests()
    {
        _reader = new SquashfsRootReader(_image);
    }

    public void Dispose() => _image.Dispose();

    [Fact]
    public void ReadsFilesAndFollowsSymlinksInsideTheImage()
    {
        string passwd = File.ReadAllText(Path.Combine(SquashfsFixtures.Tree, "etc/passwd"));
        Assert.Equal(passwd, _reader.ReadText("/etc/passwd", 4096));
        // Absolute targets and ".." past the root both stay in the image: the host's /etc/passwd is never read.
        Assert.Equal(passwd, _reader.ReadText("/links/absolute", 4096));
        Assert.Equal(passwd, _reader.ReadText("/links/escape", 4096));
        Assert.Equal(passwd, _reader.ReadText("/../../etc/./passwd", 4096));
        Assert.Equal("hard linked\n", _reader.ReadText("/links/relative", 4096));
        Assert.Equal(File.ReadAllText(Path.Combine(SquashfsFixtures.Tree, "small/f002")), _reader.ReadText("/links/dir/f002", 10000));
        Assert.Null(_reader.ReadText("/etc", 4096));
        Assert.Null(_reader.ReadText("/dev/null", 4096));
        Assert.Null(_reader.ReadText("/links/dangling", 4096));
        Assert.Null(_reader.ReadText("/etc/passwd/x", 4096));
    }

    [Fact]
    public void KindsOfPaths()
    {
        Assert.Equal(PathKind.Directory, _reader.KindOf("/"));
        Assert.Equal(PathKind.Directory, _reader.KindOf("/links/dir"));
        Assert.Equal(PathKind.File, _reader.KindOf("/bin/setuid"));
        Assert.Equal(PathKind.Other, _reader.KindOf("/dev/null"));
        Assert.Equal(PathKind.Other, _reader.KindOf("/dev/fifo"));
        Assert.Equal(PathKind.Other, _reader.KindOf("/dev/sock"));
        Assert.Equal(PathKind.Missing, _reader.KindOf("/links/dangling"));
        Assert.Equal(PathKind.Missing, _reader.KindOf("/no/such"));
        Assert.Equal(PathKind.File, _reader.KindOf("/many/entry-02999"));
        Assert.Equal(PathKind.Missing, _reader.KindOf("/many/entry-03000"));
    }

    [Fact]
    public void ListsTheRegularFilesOfADirectory()
    {
        Assert.Equal(["01-base.sh", "50-link.sh", "90-environment.sh"], _reader.ListFiles("/.singularity.d/env"));
        Assert.Equal(["01-base.sh", "50-link.sh", "90-environment.sh"], _reader.ListFiles("/.singularity.d/env/"));
        Assert.Empty(_reader.ListFiles("/.singularity.d/missing"));
        Assert.Empty(_reader.ListFiles("/etc/passwd"));
    }

    [Fact]
    public void LoopsAndOversizedFilesAreClearErrors()
    {
        var loop = Assert.Throws<BurrowException>(() => _reader.KindOf("/links/loop1"));
        Assert.Contains("too many levels of symbolic links", loop.Message);
        Assert.Contains(_image.DisplayName, loop.Message);
        Assert.Throws<BurrowException>(() => _reader.ReadText("/links/self", 10));
        var big = Assert.Throws<BurrowException>(() => _reader.ReadText("/etc/passwd", 10));
        Assert.Contains("/etc/passwd", big.Message);
    }

    [Fact]
    public void DamageIsABurrowExceptionNamingImageAndPath()
    {
        string path = SquashfsFixtures.Mksquashfs("-comp gzip");
        byte[] bytes = File.ReadAllBytes(path);
        // Keep the superblock and tables but wreck the directory table's first block.
        using SquashfsImage good = SquashfsImage.Open(bytes, "good");
        long dirTable = good.Superblock.DirectoryTable;
        for (int i = 2; i < 200; i++)
        {
            bytes[dirTable + i] ^= 0x5A;
        }
        using SquashfsImage damaged = SquashfsImage.Open(bytes, "damaged.sif");
        var e = Assert.Throws<BurrowException>(() => new SquashfsRootReader(damaged).ReadText("/etc/passwd", 4096));
        Assert.StartsWith("cannot read /etc/passwd in the image damaged.sif: squashfs image damaged.sif: directory table at byte", e.Message);
    }
}

using Burrow.Core.Fuse;
using Burrow.Core.Squashfs;
using Burrow.Linux;

namespace Burrow.Tests.Squashfs;

/// <summary>
/// Images made by mksquashfs and tar2sqfs, read back through <see cref="SquashfsImage"/> and compared with the
/// source tree and with what unsquashfs says: every node's mode, owner, size or device, link target, and every
/// file's bytes.
/// </summary>
public sealed class SquashfsReadTests
{
    public static TheoryData<string> MksquashfsVariants => new()
    {
        "-comp gzip",
        "-comp zstd",
        "-comp lz4",
        "-comp lz4 -Xhc",
        "-comp xz",
        "-comp xz -Xbcj x86",
        "-comp lzo",
        "-comp zstd -no-fragments",
        "-comp gzip -always-use-fragments",
        "-comp zstd -b 4096",
        "-comp gzip -noI -noD -noF -noX",
        "-comp lz4 -b 4096 -always-use-fragments -no-duplicates",
    };

    public static TheoryData<string> Tar2sqfsVariants => new() { "gzip", "xz", "zstd", "lz4", "lzo" };

    [Theory]
    [MemberData(nameof(MksquashfsVariants))]
    public void MksquashfsImagesListAsUnsquashfsListsThem(string options)
    {
        string path = SquashfsFixtures.Mksquashfs(options);
        using SquashfsImage image = SquashfsImage.Open(path);
        Assert.Equal(SquashfsListing.FromUnsquashfs(path), SquashfsListing.FromReader(image));
    }

    [Theory]
    [MemberData(nameof(MksquashfsVariants))]
    public void EveryFileReadsAsInTheTree(string options)
    {
        using SquashfsImage image = SquashfsImage.Open(SquashfsFixtures.Mksquashfs(options));
        int files = 0;
        foreach (string file in TreeFiles())
        {
            string rel = Path.GetRelativePath(SquashfsFixtures.Tree, file);
            SquashfsInode inode = Find(image, rel);
            byte[] expected = File.ReadAllBytes(file);
            Assert.Equal(expected.Length, inode.Size);
            byte[] actual = new byte[expected.Length + 10];
            Assert.Equal(expected.Length, image.ReadFile(inode, 0, actual));
            Assert.True(expected.AsSpan().SequenceEqual(actual.AsSpan(0, expected.Length)), rel + " differs");
            files++;
        }
        Assert.True(files > 150, $"only {files} files compared");
    }

    /// <summary>The tree's regular files, with one in 25 of the thousands of look-alikes in many/ (the listing tests cover them all).</summary>
    private static IEnumerable<string> TreeFiles() =>
        Directory.EnumerateFiles(SquashfsFixtures.Tree, "*", SearchOption.AllDirectories)
            .Where(f => new FileInfo(f).LinkTarget is null)
            .Where(f => !f.Contains("/many/", StringComparison.Ordinal) || f.EndsWith('0') && f[^2] is '0' or '5')
            .Order(StringComparer.Ordinal);

    [Fact]
    public void ReadsAtAnyOffsetAndLengthCrossBlocksAndFragments()
    {
        foreach (string options in new[] { "-comp zstd -b 4096", "-comp gzip -no-fragments" })
        {
            using SquashfsImage image = SquashfsImage.Open(SquashfsFixtures.Mksquashfs(options));
            foreach (string rel in new[] { "big/five-blocks-and-a-tail", "big/sparse", "sizes/4096-12305-noise", "sizes/131072-131073-text" })
            {
                byte[] expected = File.ReadAllBytes(Path.Combine(SquashfsFixtures.Tree, rel));
                SquashfsInode inode = Find(image, rel);
                var random = new Random(rel.Length);
                for (int k = 0; k < 40; k++)
                {
                    int offset = random.Next(expected.Length + 100);
                    var buffer = new byte[random.Next(1, 20000)];
                    int n = image.ReadFile(inode, offset, buffer);
                    int want = Math.Clamp(expected.Length - offset, 0, buffer.Length);
                    Assert.Equal(want, n);
                    Assert.True(expected.AsSpan(Math.Min(offset, expected.Length), want).SequenceEqual(buffer.AsSpan(0, n)), $"{rel} at {offset}");
                }
            }
        }
    }

    [Fact]
    public void SparseAndZeroBlocksAreCountedAsSparse()
    {
        using SquashfsImage image = SquashfsImage.Open(SquashfsFixtures.Mksquashfs("-comp zstd"));
        SquashfsInode sparse = Find(image, "big/sparse");
        NodeAttributes a = SquashfsFileSystem.Attributes(sparse);
        Assert.True(a.Blocks * 512 < (ulong)sparse.Size, $"{a.Blocks} blocks for a file of {sparse.Size} bytes, mostly a hole");
    }

    [Theory]
    [MemberData(nameof(Tar2sqfsVariants))]
    public void Tar2sqfsImagesKeepOwnersDevicesSetuidAndXattrs(string compressor)
    {
        string path = SquashfsFixtures.Tar2sqfs(compressor);
        using SquashfsImage image = SquashfsImage.Open(path);
        // unsquashfs 4.5.1 cannot read the id table of tar2sqfs's lz4 images (rdsquashfs can); the gzip image of the
        // same tar lists the same.
        Assert.Equal(SquashfsListing.FromUnsquashfs(SquashfsFixtures.Tar2sqfs(compressor == "lz4" ? "gzip" : compressor)), SquashfsListing.FromReader(image));

        SquashfsInode sudo = Find(image, "usr/sudo");
        Assert.Equal(0x8000u | Convert.ToUInt32("4755", 8), sudo.Mode);
        byte[] content = new byte[sudo.Size];
        image.ReadFile(sudo, 0, content);
        Assert.Equal(SquashfsFixtures.Content(99, 70_000, compressible: true), content);
        Assert.Equal(["security.capability", "user.comment"], image.ReadXattrs(sudo).Select(x => x.NameString).Order(StringComparer.Ordinal));
        Assert.Equal("\u0001\u0002"u8.ToArray(), image.GetXattr(sudo, "security.capability"u8));
        Assert.Null(image.GetXattr(sudo, "user.missing"u8));

        SquashfsInode theirs = Find(image, "usr/theirs");
        SquashfsInode hard = Find(image, "usr/hardlink");
        Assert.Equal((4242u, 4343u, 2u), (theirs.Uid, theirs.Gid, theirs.LinkCount));
        Assert.Equal(theirs.Reference, hard.Reference);
        Assert.Equal(new string('v', 3000), System.Text.Encoding.ASCII.GetString(image.GetXattr(theirs, "trusted.big"u8)!));
        Assert.Equal("a comment"u8.ToArray(), image.GetXattr(theirs, "user.comment"u8));

        SquashfsInode nul = Find(image, "dev/null");
        Assert.Equal((SquashfsInodeType.CharacterDevice, 1u, 3u), (nul.BasicType, SquashfsListing.Major(nul.Device), SquashfsListing.Minor(nul.Device)));
        Assert.Equal(SquashfsInodeType.BlockDevice, Find(image, "dev/sda").BasicType);
        Assert.Equal(SquashfsInodeType.Fifo, Find(image, "dev/initctl").BasicType);
        SquashfsInode stdin = Find(image, "dev/stdin");
        Assert.Equal("/proc/self/fd/0"u8.ToArray(), image.ReadSymlink(stdin));
        Assert.Equal("yes"u8.ToArray(), image.GetXattr(stdin, "user.onlink"u8));
        Assert.Equal("on a directory"u8.ToArray(), image.GetXattr(Find(image, "xdir"), "user.dir"u8));
        Assert.Equal(new DateTimeOffset(2024, 5, 6, 7, 8, 9, TimeSpan.Zero).ToUnixTimeSeconds(), theirs.ModificationTime);
    }

    [Fact]
    public void HardLinksShareTheirInodeAndPseudoNodesHaveTheirOwners()
    {
        using SquashfsImage image = SquashfsImage.Open(SquashfsFixtures.Mksquashfs("-comp gzip"));
        SquashfsInode target = Find(image, "links/target"), hard = Find(image, "links/hard");
        Assert.Equal(target.Reference, hard.Reference);
        Assert.Equal(2u, target.LinkCount);
        SquashfsInode owned = Find(image, "owned");
        Assert.Equal((1234u, 5678u, Convert.ToUInt32("4750", 8)), (owned.Uid, owned.Gid, owned.Permissions));
        Assert.Equal(SquashfsInodeType.Socket, Find(image, "dev/sock").BasicType);
        SquashfsInode big = Find(image, "dev/big");
        Assert.Equal((300u, 70000u), (SquashfsListing.Major(big.Device), SquashfsListing.Minor(big.Device)));
        Assert.Equal(new string('x', 4000), System.Text.Encoding.ASCII.GetString(image.ReadSymlink(Find(image, "links/long"))));
        Assert.NotNull(Find(image, new string('n', 255)));
    }

    [Theory]
    [InlineData("-comp gzip")]
    [InlineData("-comp zstd -b 4096")]
    public void TheLargeDirectoryIsIndexedAndEveryNameIsFound(string options)
    {
        using SquashfsImage image = SquashfsImage.Open(SquashfsFixtures.Mksquashfs(options));
        SquashfsInode many = Find(image, "many");
        Assert.Equal(SquashfsInodeType.ExtendedDirectory, many.Type);
        IReadOnlyList<SquashfsDirectoryEntry> all = image.ReadDirectory(many);
        Assert.Equal(Enumerable.Range(0, SquashfsFixtures.ManyEntries).Select(i => $"entry-{i:D5}"), all.Select(e => e.NameString));
        foreach (SquashfsDirectoryEntry e in all)
        {
            Assert.True(image.TryLookup(many, e.Name, out ulong found), e.NameString);
            Assert.Equal(e.InodeReference, found);
        }
        foreach (string missing in new[] { "a", "entry-", "entry-00000x", "entry-03000", "entry-99999", "zzz", "entry-01499a" })
        {
            Assert.False(image.TryLookup(many, System.Text.Encoding.ASCII.GetBytes(missing), out _), missing);
        }
    }

    [Fact]
    public void PagedListingsResumeWhereTheyStoppedEvenWithoutTheSavedPosition()
    {
        string path = SquashfsFixtures.Mksquashfs("-comp gzip");
        using var fs = new SquashfsFileSystem(SquashfsImage.Open(path));
        Assert.True(fs.TryLookup(fs.RootNode, "many"u8, out ulong many, out NodeAttributes attributes));
        Assert.Equal(0x4000u, attributes.Mode & 0xF000);
        foreach (int page in new[] { 1, 7, 100, 1000 })
        {
            var names = new List<string>();
            long offset = 0;
            int rounds = 0;
            while (true)
            {
                int taken = 0;
                long next = offset;
                // A fresh file system for odd rounds: no saved position, so the resume walks from the index.
                using var other = new SquashfsFileSystem(SquashfsImage.Open(path));
                IReadOnlyFileSystem target = rounds++ % 2 == 0 ? fs : other;
                target.ReadDirectory(many, offset, (in DirectoryEntry e) =>
                {
                    if (taken == page)
                    {
                        return false;
                    }
                    taken++;
                    names.Add(System.Text.Encoding.ASCII.GetString(e.Name));
                    Assert.True(e.NextOffset > next);
                    next = e.NextOffset;
                    return true;
                });
                if (taken == 0)
                {
                    break;
                }
                offset = next;
                if (rounds > 10 && page == 1)
                {
                    break;
                }
            }
            int expected = page == 1 ? names.Count : SquashfsFixtures.ManyEntries;
            Assert.Equal(Enumerable.Range(0, expected).Select(i => $"entry-{i:D5}"), names);
        }
    }

    [Fact]
    public void TheFileSystemViewAnswersWithErrnoForRequestsThatDoNotFit()
    {
        using var fs = new SquashfsFileSystem(SquashfsImage.Open(SquashfsFixtures.Tar2sqfs("zstd")));
        Assert.Equal(1UL, fs.RootNode);
        Assert.Equal(0x4000u, fs.GetAttributes(fs.RootNode).Mode & 0xF000);
        Assert.True(fs.TryLookup(fs.RootNode, "usr"u8, out ulong usr, out _));
        Assert.False(fs.TryLookup(usr, "nothing"u8, out _, out _));
        Assert.True(fs.TryLookup(usr, "sudo"u8, out ulong sudo, out NodeAttributes a));
        Assert.True(sudo > 1 && sudo < 1UL << 62);
        Assert.Equal(a, fs.GetAttributes(sudo));
        Assert.Equal(70_000UL, a.Size);
        Assert.Equal(Errno.ENOTDIR, Assert.Throws<FileSystemError>(() => fs.TryLookup(sudo, "x"u8, out _, out _)).Errno);
        Assert.Equal(Errno.EISDIR, Assert.Throws<FileSystemError>(() => fs.Read(usr, 0, new byte[10])).Errno);
        Assert.Equal(Errno.EINVAL, Assert.Throws<FileSystemError>(() => fs.ReadLink(sudo)).Errno);
        Assert.Equal(Errno.ENOTDIR, Assert.Throws<FileSystemError>(() => fs.ReadDirectory(sudo, 0, (in DirectoryEntry _) => true)).Errno);
        Assert.Equal(116, Assert.Throws<FileSystemError>(() => fs.GetAttributes(0)).Errno);
        Assert.Equal(["security.capability", "user.comment"], fs.ListExtendedAttributes(sudo).Select(n => System.Text.Encoding.ASCII.GetString(n)).Order(StringComparer.Ordinal));
        Assert.Null(fs.GetExtendedAttribute(usr, "user.comment"u8));
        byte[] head = new byte[100];
        Assert.Equal(100, fs.Read(sudo, 69_900, head));
        Assert.Equal(0, fs.Read(sudo, 70_000, head));
        Assert.True(fs.TryLookup(fs.RootNode, "dev"u8, out ulong dev, out _));
        Assert.True(fs.TryLookup(dev, "stdin"u8, out ulong stdin, out _));
        Assert.Equal("/proc/self/fd/0"u8.ToArray(), fs.ReadLink(stdin));
        Assert.True(fs.TryLookup(dev, "null"u8, out _, out NodeAttributes nul));
        Assert.Equal((1u << 8) | 3u, nul.Device);
        var entries = new List<(string, ulong, uint)>();
        fs.ReadDirectory(dev, 0, (in DirectoryEntry e) =>
        {
            entries.Add((System.Text.Encoding.ASCII.GetString(e.Name), e.Node, e.Mode));
            return true;
        });
        Assert.Equal(["initctl", "null", "sda", "stdin"], entries.Select(e => e.Item1));
        Assert.Equal([0x1000u, 0x2000u, 0x6000u, 0xA000u], entries.Select(e => e.Item3));
        Assert.Equal(fs.GetAttributes(entries[1].Item2), nul);
        FileSystemStatistics st = fs.GetStatistics();
        Assert.Equal((131072u, 256u), (st.BlockSize, st.MaxNameLength));
    }

    [Fact]
    public void AnImageAtAnOffsetInsideAnotherFileIsReadThroughItsRange()
    {
        byte[] squashfs = File.ReadAllBytes(SquashfsFixtures.Tar2sqfs("gzip"));
        string container = Path.Combine(SquashfsFixtures.Work, "embedded.bin");
        using (FileStream f = File.Create(container))
        {
            f.Write(new byte[12345]);
            f.Write(squashfs);
            f.Write(SquashfsFixtures.Content(3, 5000, compressible: false));
        }
        using var handle = File.OpenHandle(container);
        using SquashfsImage image = SquashfsImage.Open(handle, 12345, squashfs.Length, "embedded.sif");
        Assert.Equal("root:x:0:0::/root:/bin/sh\n", System.Text.Encoding.ASCII.GetString(ReadAll(image, Find(image, "etc/passwd"))));
        Assert.Equal("embedded.sif", image.DisplayName);
    }

    [Fact]
    public void ManyThreadsReadTheSameImageThroughASmallCache()
    {
        using SquashfsImage image = SquashfsImage.Open(SquashfsFixtures.Mksquashfs("-comp zstd -b 4096"), new SquashfsReaderOptions { CacheBytes = 256 << 10 });
        string[] files = TreeFiles().ToArray();
        Parallel.For(0, 4, new ParallelOptions { MaxDegreeOfParallelism = 4 }, t =>
        {
            foreach (string file in files.Skip(t * 37).Concat(files.Take(t * 37)).Where((_, i) => i % 3 != t % 3))
            {
                string rel = Path.GetRelativePath(SquashfsFixtures.Tree, file);
                Assert.True(File.ReadAllBytes(file).AsSpan().SequenceEqual(ReadAll(image, Find(image, rel))), rel);
            }
        });
        Assert.True(image.CacheStatistics.BytesHeld <= 256 << 10);
    }

    [Fact]
    public void AFragmentBlockSharedBySmallFilesIsDecompressedOnce()
    {
        using SquashfsImage image = SquashfsImage.Open(SquashfsFixtures.Mksquashfs("-comp gzip"));
        SquashfsInode small = Find(image, "small");
        var inodes = image.ReadDirectory(small).Select(e => image.ReadInode(e.InodeReference)).ToArray();
        long before = image.CacheStatistics.Misses;
        foreach (SquashfsInode f in inodes)
        {
            ReadAll(image, f);
        }
        long firstPass = image.CacheStatistics.Misses - before;
        foreach (SquashfsInode f in inodes)
        {
            ReadAll(image, f);
        }
        Assert.Equal(firstPass, image.CacheStatistics.Misses - before);
        // 60 files of up to 6 KB: their tails share a handful of fragment blocks, so far fewer misses than files.
        Assert.True(firstPass < 10, $"{firstPass} blocks decompressed for {inodes.Length} small files");
    }

    [Fact]
    public void LegacyLzmaIsRefusedAsUnsupportedNotAsDamage()
    {
        var e = Assert.Throws<UnsupportedSquashfsCompressorException>(() => SquashfsImage.Open(SquashfsFixtures.Mksquashfs("-comp lzma")));
        Assert.Equal(SquashfsCompressor.Lzma, e.Compressor);
        Assert.Contains("lzma", e.Message);
        Assert.NotNull(e.Hint);
    }

    [Fact]
    public void DamageNamesTheImageAndWhere()
    {
        byte[] good = File.ReadAllBytes(SquashfsFixtures.Tar2sqfs("gzip"));
        var e = Assert.Throws<InvalidDataException>(() => SquashfsImage.Open(good.AsMemory(0, 50), "short.sif"));
        Assert.StartsWith("squashfs image short.sif: superblock at byte 0:", e.Message);
        byte[] bad = (byte[])good.Clone();
        bad[0] = (byte)'x';
        Assert.Contains("magic", Assert.Throws<InvalidDataException>(() => SquashfsImage.Open(bad, "bad.sif")).Message);
        e = Assert.Throws<InvalidDataException>(() => SquashfsImage.Open(good.AsMemory(0, good.Length / 2), "half.sif"));
        Assert.StartsWith("squashfs image half.sif: superblock at byte 40: bytes used", e.Message);
    }

    internal static SquashfsInode Find(SquashfsImage image, string path)
    {
        SquashfsInode node = image.Root;
        foreach (string part in path.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            node = image.Lookup(node, part) ?? throw new Xunit.Sdk.XunitException($"{path}: {part} not found");
        }
        return node;
    }

    internal static byte[] ReadAll(SquashfsImage image, SquashfsInode file)
    {
        byte[] b = new byte[file.Size];
        Assert.Equal(b.Length, image.ReadFile(file, 0, b));
        return b;
    }
}

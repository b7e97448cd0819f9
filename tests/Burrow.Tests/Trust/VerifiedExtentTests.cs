using Burrow.Core.Sif;
using Burrow.Core.Squashfs;
using Burrow.Core.Trust;
using Burrow.Tests.Squashfs;
using Microsoft.Win32.SafeHandles;

namespace Burrow.Tests.Trust;

/// <summary>
/// Time of check to time of use: after verification, only bytes that still match what was verified are served. A
/// SIF rewritten in place after it was verified fails the read of the changed chunk, naming the image and where.
/// </summary>
public sealed class VerifiedExtentTests
{
    private static (string Path, SifDescriptor Partition) SignedSquashfsSif()
    {
        string dir = Directory.CreateTempSubdirectory("burrow-toctou-").FullName;
        string sif = Path.Combine(dir, "image.sif");
        using (FileStream squashfs = File.OpenRead(SquashfsFixtures.Mksquashfs("-comp gzip")))
        {
            SifBuilder.Create(sif, [new SifObjectSpec(SifDataType.Partition, squashfs)
            {
                FsType = SifFsType.Squash, PartitionType = SifPartitionType.PrimarySystem, Arch = "amd64",
            }], new SifCreateOptions());
        }
        TrustFixtures.SignPgp(sif, TrustFixtures.Key1);
        using SifImage image = SifImage.Open(sif);
        return (sif, image.PrimarySystemPartition!);
    }

    private static VerifiedExtent VerifyAndRecord(SifImage sif)
    {
        SifVerification v = SifVerifier.Verify(sif, new VerifySelection(), TrustFixtures.Pgp(TrustFixtures.Key1), record: sif.PrimarySystemPartition);
        Assert.True(v.Succeeded, v.Error?.Message);
        return v.Extent!;
    }

    private static void Overwrite(string path, long offset, byte[] data)
    {
        // Another writer, as an attacker's would be: no lock of .NET's is taken (it would be advisory anyway).
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite);
        fs.Position = offset;
        fs.Write(data);
    }

    [Fact]
    public void TheVerifiedPartitionReadsAsTheFileDoesWhileNothingChanges()
    {
        (string path, SifDescriptor p) = SignedSquashfsSif();
        using SifImage sif = SifImage.Open(path);
        VerifiedExtent extent = VerifyAndRecord(sif);
        byte[] direct = new byte[p.Size];
        RandomAccess.Read(sif.FileHandle!, direct, p.Offset);
        byte[] checkedBytes = new byte[p.Size];
        Assert.Equal((int)p.Size, extent.Read(sif.FileHandle!, 0, checkedBytes));
        Assert.Equal(direct, checkedBytes);
        // Reads that start and end anywhere, across chunk boundaries.
        var random = new Random(7);
        for (int i = 0; i < 200; i++)
        {
            long at = random.NextInt64(p.Size);
            byte[] part = new byte[Math.Min(random.Next(1, 200_000), (int)(p.Size - at))];
            extent.Read(sif.FileHandle!, at, part);
            Assert.Equal(direct.AsSpan((int)at, part.Length).ToArray(), part);
        }
    }

    [Fact]
    public void ABlockRewrittenAfterVerificationIsRefusedNamingTheImageAndTheBlock()
    {
        (string path, SifDescriptor p) = SignedSquashfsSif();
        using SifImage sif = SifImage.Open(path);
        VerifiedExtent extent = VerifyAndRecord(sif);
        using SquashfsImage squashfs = SquashfsImage.Open(extent.Over(sif.FileHandle!), path);
        // The attacker rewrites the image in place, after verification, through another descriptor.
        long target = p.Offset + VerifiedExtent.ChunkSize + 100;
        Overwrite(path, target, new byte[4096]);
        long chunk = (target - p.Offset) / VerifiedExtent.ChunkSize;
        // Walk and read every file: the changed chunk holds some of their data or metadata.
        InvalidDataException e = Assert.ThrowsAny<InvalidDataException>(() => ReadEverything(squashfs, squashfs.Root));
        Assert.Contains($"squashfs image {path}: ", e.Message);
        Assert.Contains($"the image changed after it was verified: bytes {p.Offset + chunk * VerifiedExtent.ChunkSize}..", e.Message);
        Assert.Contains($"(chunk {chunk} of the verified partition)", e.Message);
    }

    private static void ReadEverything(SquashfsImage image, SquashfsInode node)
    {
        if (node.IsDirectory)
        {
            foreach (SquashfsDirectoryEntry e in image.ReadDirectory(node))
            {
                ReadEverything(image, image.ReadInode(e.InodeReference));
            }
            return;
        }
        if (node.IsRegularFile)
        {
            byte[] buffer = new byte[1 << 17];
            for (long at = 0; at < node.Size;)
            {
                int n = image.ReadFile(node, at, buffer);
                if (n == 0)
                {
                    break;
                }
                at += n;
            }
        }
    }

    [Fact]
    public void ATruncatedImageIsRefusedToo()
    {
        (string path, SifDescriptor p) = SignedSquashfsSif();
        using SifImage sif = SifImage.Open(path);
        VerifiedExtent extent = VerifyAndRecord(sif);
        using (var f = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite))
        {
            f.SetLength(p.Offset + 10);
        }
        byte[] buffer = new byte[100];
        InvalidDataException e = Assert.Throws<InvalidDataException>(() => extent.Read(sif.FileHandle!, 0, buffer));
        Assert.Contains("the file is shorter than when it was verified", e.Message);
    }

    [Fact]
    public void AnUnverifiedImageIsReadWithoutAnyCheck()
    {
        // The ordinary path pays nothing: a plain file range, no digests, no chunk reads.
        (string path, SifDescriptor p) = SignedSquashfsSif();
        using SifImage sif = SifImage.Open(path);
        using SquashfsImage squashfs = SquashfsImage.Open(sif.FileHandle!, p.Offset, p.Size, path);
        Overwrite(path, p.Offset + p.Size - 10, new byte[10]);
        Assert.NotNull(squashfs.Root);
    }

    [Fact]
    public void NeighbouringSmallReadsHashEachChunkOnce()
    {
        (string path, SifDescriptor p) = SignedSquashfsSif();
        using SifImage sif = SifImage.Open(path);
        VerifiedExtent extent = VerifyAndRecord(sif);
        byte[] small = new byte[100];
        for (long at = 0; at + 100 <= Math.Min(p.Size, 4 * VerifiedExtent.ChunkSize); at += 100)
        {
            extent.Read(sif.FileHandle!, at, small.AsSpan(0, (int)Math.Min(100, p.Size - at)));
        }
        Assert.Equal(Math.Min(4, VerifiedExtent.ChunkCount(p.Size)), extent.ChunksChecked);
    }
}

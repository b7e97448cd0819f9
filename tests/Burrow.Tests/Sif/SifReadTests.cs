using System.Text;
using Burrow.Core.Sif;

namespace Burrow.Tests.Sif;

public sealed class SifReadTests
{
    public static TheoryData<string> Images()
    {
        var data = new TheoryData<string>();
        foreach (string path in SifFixtures.AllImages())
        {
            data.Add(Path.GetRelativePath(SifFixtures.Root, path));
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Images))]
    public void EveryReferenceImageOpensAndItsObjectsReadBack(string relative)
    {
        string path = Path.Combine(SifFixtures.Root, relative);
        byte[] file = File.ReadAllBytes(path);
        using SifImage image = SifImage.Open(path);
        Assert.Equal("01", image.Header.Version);
        Assert.Equal(image.Header.DescriptorsTotal - image.Header.DescriptorsFree, image.Descriptors.Count);
        foreach (SifDescriptor d in image.Descriptors)
        {
            byte[] data = image.ReadObject(d);
            Assert.Equal(file.AsSpan((int)d.Offset, (int)d.Size).ToArray(), data);
        }
    }

    [Fact]
    public void OneGroupHasTheExpectedDescriptors()
    {
        using SifImage image = SifImage.Open(SifFixtures.Image("one-group.sif"));
        Assert.Equal("386", image.Header.PrimaryArch);
        Assert.Collection(image.Descriptors,
            d =>
            {
                Assert.Equal((1u, SifDataType.Partition, 32768L, 4L, 1u), (d.Id, d.Type, d.Offset, d.Size, d.GroupId));
                Assert.Equal((SifFsType.Raw, SifPartitionType.System, "386"), (d.FsType, d.PartitionType, d.Arch));
            },
            d =>
            {
                Assert.Equal((2u, 36864L, 4096L), (d.Id, d.Offset, d.Size));
                Assert.Equal((SifFsType.Squash, SifPartitionType.PrimarySystem), (d.FsType, d.PartitionType));
            });
        Assert.Equal(2u, image.PrimarySystemPartition!.Id);
        using Stream s = image.OpenObject(image.PrimarySystemPartition);
        byte[] magic = new byte[4];
        s.ReadExactly(magic);
        Assert.Equal("hsqs", Encoding.ASCII.GetString(magic));
        Assert.Equal(4096, s.Length);
    }

    [Fact]
    public void SelectionByTypeGroupLinkAndName()
    {
        using SifImage signed = SifImage.Open(SifFixtures.Image("two-groups-signed-pgp.sif"));
        Assert.Equal([1u, 2u, 3u], signed.ByType(SifDataType.Partition).Select(d => d.Id));
        Assert.Equal([1u, 2u], signed.ByGroup(1).Select(d => d.Id));
        Assert.Equal([5u], signed.LinkedTo(2, isGroup: true).Select(d => d.Id));
        Assert.Equal(SifHashType.Sha256, signed.GetById(4).HashType);
        Assert.Equal("12045C8C0B1004D058DE4BEDA20C27EE7FF7BA84", Convert.ToHexString(signed.GetById(4).Entity));
        using SifImage json = SifImage.Open(SifFixtures.Image("one-object-time.sif"));
        SifDescriptor named = Assert.Single(json.ByName("data.json"));
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1593475316), named.CreatedAt);
    }

    [Fact]
    public void OciObjectsCarryTheirDigest()
    {
        using SifImage image = SifImage.Open(SifFixtures.Image("one-object-oci-blob.sif"));
        SifDescriptor d = Assert.Single(image.Descriptors);
        Assert.Equal("sha256:a88b15e95042f7d5a1327c03c57e10bdc1cf5f5efc2968fc73c12b6f5b00c731", d.OciDigest);
        Assert.Equal("sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(image.ReadObject(d))), d.OciDigest);
    }

    [Fact]
    public void BuilderWritesAFileThatReadsBackWithPartitionAndJson()
    {
        string dir = Directory.CreateTempSubdirectory("burrow-sif-").FullName;
        try
        {
            string path = Path.Combine(dir, "image.sif");
            byte[] squash = new byte[10000];
            new Random(1).NextBytes(squash);
            SifBuilder.Create(path,
            [
                new SifObjectSpec(SifDataType.GenericJson, new MemoryStream("{\"a\":1}"u8.ToArray())) { Name = "oci-config.json" },
                new SifObjectSpec(SifDataType.Partition, new MemoryStream(squash)) { FsType = SifFsType.Squash, PartitionType = SifPartitionType.PrimarySystem, Arch = "amd64" },
            ], new SifCreateOptions { LaunchScript = "#!/usr/bin/env run-singularity\n" });
            Assert.Equal([Path.Combine(dir, "image.sif")], Directory.GetFiles(dir));
            using SifImage image = SifImage.Open(path);
            SifDescriptor prim = image.PrimarySystemPartition!;
            Assert.Equal(("amd64", 0L), (prim.Arch, prim.Offset % 4096));
            Assert.Equal("amd64", image.Header.PrimaryArch);
            Assert.Equal(squash, image.ReadObject(prim));
            Assert.Equal("{\"a\":1}", Encoding.UTF8.GetString(image.ReadObject(Assert.Single(image.ByName("oci-config.json")))));
            Assert.NotEqual(Guid.Empty, image.Header.Id);
            Assert.Equal(new FileInfo(path).Length, prim.Offset + prim.Size);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void OpeningAndListingASparse8GiBImageReadsOnlyHeaderAndTable()
    {
        string dir = Directory.CreateTempSubdirectory("burrow-sif-").FullName;
        try
        {
            string path = Path.Combine(dir, "big.sif");
            SifBuilder.Create(path, [new SifObjectSpec(SifDataType.Partition, new MemoryStream([1, 2, 3, 4]))
            {
                FsType = SifFsType.Squash, PartitionType = SifPartitionType.PrimarySystem, Arch = "amd64",
            }], new SifCreateOptions { Deterministic = true });
            // Grow the partition to 8 GiB of hole: patch its size and the data size, then extend the file sparsely.
            const long size = 8L << 30;
            using (var f = new FileStream(path, FileMode.Open, FileAccess.ReadWrite))
            {
                byte[] b = new byte[8];
                System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(b, size);
                f.Position = 4096 + 25;
                f.Write(b);
                System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(b, 32768 - 32176 + size);
                f.Position = 4096 + 33;
                f.Write(b);
                System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(b, 32768 + size - 32176);
                f.Position = 0x78;
                f.Write(b);
                f.SetLength(32768 + size);
            }
            using SifImage image = SifImage.Open(path);
            Assert.Equal(size, image.PrimarySystemPartition!.Size);
            Assert.NotEmpty(SifText.List(image));
            Assert.Equal(128 + 48 * 585, image.BytesRead);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}

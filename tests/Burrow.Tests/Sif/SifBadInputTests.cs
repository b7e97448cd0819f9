using System.Buffers.Binary;
using Burrow.Core.Diagnostics;
using Burrow.Core.Sif;

namespace Burrow.Tests.Sif;

/// <summary>Every kind of broken image gives a clear error naming the defect, never a crash, a hang or a huge allocation.</summary>
public sealed class SifBadInputTests
{
    // one-group.sif: object 1 (Raw, 4 bytes at 32768) and object 2 (Squashfs, 4096 bytes at 36864); file 40960 bytes.
    private static byte[] OneGroup() => File.ReadAllBytes(SifFixtures.Image("one-group.sif"));

    private const int Table = 4096;
    private const int Slot2 = Table + 585;

    private static string ErrorOf(byte[] bytes)
    {
        var e = Assert.Throws<SifFormatException>(() => SifImage.Open(new MemoryStream(bytes), name: "bad.sif").Dispose());
        Assert.StartsWith("invalid SIF image bad.sif: ", e.Message, StringComparison.Ordinal);
        Assert.False(string.IsNullOrEmpty(e.Hint));
        return e.Message;
    }

    private static byte[] With(Action<byte[]> change)
    {
        byte[] b = OneGroup();
        change(b);
        return b;
    }

    private static void I64(byte[] b, int at, long v) => BinaryPrimitives.WriteInt64LittleEndian(b.AsSpan(at), v);

    private static void U32(byte[] b, int at, uint v) => BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(at), v);

    [Fact]
    public void TruncatedHeader() => Assert.Contains("truncated header: the file has 100 bytes", ErrorOf(OneGroup()[..100]), StringComparison.Ordinal);

    [Fact]
    public void WrongMagic() => Assert.Contains("wrong magic", ErrorOf(With(b => b[0x20] = (byte)'X')), StringComparison.Ordinal);

    [Fact]
    public void WrongVersion() => Assert.Contains("unsupported SIF version \"02\"", ErrorOf(With(b => b[0x2B] = (byte)'2')), StringComparison.Ordinal);

    [Fact]
    public void DescriptorTableRunsPastTheEnd() =>
        Assert.Contains("descriptor table (48 descriptors at offset 4096) runs past the end of the file (20000 bytes)", ErrorOf(OneGroup()[..20000]), StringComparison.Ordinal);

    [Fact]
    public void NegativeDescriptorCount() => Assert.Contains("negative descriptor count -1", ErrorOf(With(b => I64(b, 0x58, -1))), StringComparison.Ordinal);

    [Fact]
    public void AbsurdDescriptorCount()
    {
        Assert.Contains("absurd descriptor count 1000000000000", ErrorOf(With(b => I64(b, 0x58, 1_000_000_000_000))), StringComparison.Ordinal);
        // Within the cap but far beyond the file: refused before anything is allocated for it.
        Assert.Contains("runs past the end", ErrorOf(With(b => { I64(b, 0x58, 90_000); I64(b, 0x50, 0); I64(b, 0x68, 90_000L * 585); })), StringComparison.Ordinal);
    }

    [Fact]
    public void ObjectRunsPastTheEnd()
    {
        Assert.Contains("object 2 (descriptor slot 2): 4096 bytes at offset 40000 run past the end of the file (40960 bytes)",
            ErrorOf(With(b => I64(b, Slot2 + 17, 40000))), StringComparison.Ordinal);
        Assert.Contains("object 2 (descriptor slot 2): 9223372036854775807 bytes at offset 36864 run past the end",
            ErrorOf(With(b => I64(b, Slot2 + 25, long.MaxValue))), StringComparison.Ordinal);
        Assert.Contains("negative size", ErrorOf(With(b => I64(b, Slot2 + 25, -5))), StringComparison.Ordinal);
        Assert.Contains("lies before the data section", ErrorOf(With(b => I64(b, Slot2 + 17, 100))), StringComparison.Ordinal);
    }

    [Fact]
    public void OverlappingObjects() =>
        Assert.Contains("object 2 (bytes 32770..36866) overlaps object 1 (bytes 32768..32772)", ErrorOf(With(b => I64(b, Slot2 + 17, 32770))), StringComparison.Ordinal);

    [Fact]
    public void DuplicateIds() => Assert.Contains("duplicate object id 1 (descriptor slot 2)", ErrorOf(With(b => U32(b, Slot2 + 5, 1))), StringComparison.Ordinal);

    [Fact]
    public void LinkToAMissingObjectOrGroup()
    {
        Assert.Contains("object 2 links to object 7, which does not exist", ErrorOf(With(b => U32(b, Slot2 + 13, 7))), StringComparison.Ordinal);
        Assert.Contains("object 2 links to group 9, which does not exist", ErrorOf(With(b => U32(b, Slot2 + 13, 0xF0000009))), StringComparison.Ordinal);
    }

    [Fact]
    public void NameWithoutNulOrNotUtf8()
    {
        Assert.Contains("the name is not NUL-terminated within 128 bytes", ErrorOf(With(b => b.AsSpan(Slot2 + 73, 128).Fill((byte)'a'))), StringComparison.Ordinal);
        Assert.Contains("the name is not valid UTF-8", ErrorOf(With(b => { b[Slot2 + 73] = 0xC3; b[Slot2 + 74] = 0x28; })), StringComparison.Ordinal);
    }

    [Fact]
    public void TwoPrimaryPartitions() =>
        Assert.Contains("objects 1 and 2 are both primary system partitions", ErrorOf(With(b => b[Table + 201 + 4] = 2)), StringComparison.Ordinal);

    [Fact]
    public void BadUsedFlagAndIdZero()
    {
        Assert.Contains("used flag is 7", ErrorOf(With(b => b[Slot2 + 4] = 7)), StringComparison.Ordinal);
        Assert.Contains("descriptor slot 2 is used but has object id 0", ErrorOf(With(b => U32(b, Slot2 + 5, 0))), StringComparison.Ordinal);
    }

    [Fact]
    public void ZeroLengthFileAndDirectory()
    {
        string dir = Directory.CreateTempSubdirectory("burrow-sif-").FullName;
        try
        {
            string empty = Path.Combine(dir, "empty.sif");
            File.WriteAllBytes(empty, []);
            var e = Assert.Throws<SifFormatException>(() => SifImage.Open(empty));
            Assert.Equal($"invalid SIF image {empty}: the file is empty (0 bytes)", e.Message);
            var d = Assert.ThrowsAny<BurrowException>(() => SifImage.Open(dir));
            Assert.Equal($"cannot open SIF image {dir}: it is a directory", d.Message);
            var m = Assert.ThrowsAny<BurrowException>(() => SifImage.Open(Path.Combine(dir, "missing.sif")));
            Assert.StartsWith($"cannot open SIF image {Path.Combine(dir, "missing.sif")}: ", m.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void ObjectStreamsCannotReadPastTheirObject()
    {
        using SifImage image = SifImage.Open(SifFixtures.Image("one-group.sif"));
        using Stream s = image.OpenObject(image.GetById(1));
        s.Position = 2;
        byte[] buffer = new byte[100];
        Assert.Equal(2, s.Read(buffer));
        Assert.Equal(0, s.Read(buffer));
        s.Position = 1000;
        Assert.Equal(0, s.Read(buffer));
        Assert.Throws<NotSupportedException>(() => s.Write(buffer));
    }
}

using System.Buffers.Binary;

namespace Burrow.Core.Squashfs;

/// <summary>
/// The compressor options block that follows the superblock when its flag is set. Decoders need none of it
/// (each stream carries its own parameters), but a block that contradicts the format is damage, and lz4's
/// version must be the one squashfs-tools writes.
/// </summary>
public sealed record SquashfsCompressorOptions(SquashfsCompressor Compressor, byte[] Raw)
{
    internal static SquashfsCompressorOptions Read(SquashfsBlocks blocks, SquashfsSuperblock s, string image)
    {
        var region = new TableRegion("compressor options", SquashfsLayout.SuperblockSize, s.InodeTable);
        CachedBlock b = blocks.ReadMetadataBlock(SquashfsLayout.SuperblockSize, region);
        ReadOnlySpan<byte> o = b.Span;
        int need = s.Compressor == SquashfsCompressor.Zstd ? 4 : 8;
        if (s.Compressor == SquashfsCompressor.Lzma || o.Length < need)
        {
            throw blocks.Damage("compressor options", SquashfsLayout.SuperblockSize,
                $"{o.Length} bytes of options do not suit the {SquashfsCompressors.Name(s.Compressor)} compressor");
        }
        uint a = BinaryPrimitives.ReadUInt32LittleEndian(o);
        uint second = o.Length >= 8 ? BinaryPrimitives.ReadUInt32LittleEndian(o[4..]) : 0;
        string? defect = s.Compressor switch
        {
            SquashfsCompressor.Gzip when a is < 1 or > 9 => $"gzip level {a} is not 1 to 9",
            SquashfsCompressor.Gzip when (second & 0xFFFF) is < 8 or > 15 => $"gzip window {second & 0xFFFF} is not 8 to 15",
            SquashfsCompressor.Xz when a < 8192 || !IsXzDictionarySize(a) => $"xz dictionary size {a} is not a power of two (or the sum of two) of at least 8 KiB",
            SquashfsCompressor.Lz4 when a != 1 => $"lz4 version {a} is not 1 (the only one squashfs-tools writes)",
            SquashfsCompressor.Zstd when a is < 1 or > 22 => $"zstd level {a} is not 1 to 22",
            SquashfsCompressor.Lzo when a > 4 => $"lzo algorithm {a} is unknown",
            _ => null,
        };
        if (defect is not null)
        {
            throw blocks.Damage("compressor options", SquashfsLayout.SuperblockSize, defect);
        }
        return new SquashfsCompressorOptions(s.Compressor, o.ToArray());
    }

    private static bool IsXzDictionarySize(uint size)
    {
        uint low = size & (uint)-(int)size;
        uint rest = size - low;
        return rest == 0 || (rest & (rest - 1)) == 0 && rest == low << 1;
    }
}

using System.IO.Compression;
using Burrow.Linux;
using K4os.Compression.LZ4;
using ZstdSharp;

namespace Burrow.Core.Squashfs;

/// <summary>
/// Decodes one squashfs block into a caller's buffer, never past it: a data block is at most the block size,
/// a metadata block at most 8 KiB. A block that would decode to more, or does not decode, is refused with a
/// reason the caller turns into a <see cref="InvalidDataException"/> naming the block.
/// </summary>
internal abstract class BlockDecompressor
{
    /// <summary>Decodes source[..length]; returns null and the bytes written on success, else why the block is bad.</summary>
    public abstract string? TryDecompress(byte[] source, int length, Span<byte> destination, out int written);

    protected static string Describe(DecodeStatus status, string library) => status switch
    {
        DecodeStatus.OutputTooLarge => "it decompresses to more than the block can hold",
        DecodeStatus.MemoryLimit => $"its {library} stream asks for more decoder memory than a block of this image needs",
        _ => $"it is not a valid {library} stream",
    };
}

public static class SquashfsCompressors
{
    public static string Name(SquashfsCompressor compressor) => compressor switch
    {
        SquashfsCompressor.Gzip => "gzip",
        SquashfsCompressor.Lzma => "lzma",
        SquashfsCompressor.Lzo => "lzo",
        SquashfsCompressor.Xz => "xz",
        SquashfsCompressor.Lz4 => "lz4",
        SquashfsCompressor.Zstd => "zstd",
        _ => "unknown (" + ((int)compressor).ToString(System.Globalization.CultureInfo.InvariantCulture) + ")",
    };

    /// <summary>Whether this process can read images of the compressor (lzo and xz need Debian's libraries).</summary>
    public static bool IsSupported(SquashfsCompressor compressor) => compressor switch
    {
        SquashfsCompressor.Gzip or SquashfsCompressor.Lz4 or SquashfsCompressor.Zstd => true,
        SquashfsCompressor.Xz => Xz.IsAvailable,
        SquashfsCompressor.Lzo => Lzo.IsAvailable,
        _ => false,
    };

    internal static BlockDecompressor Create(SquashfsCompressor compressor, uint blockSize, string image) => compressor switch
    {
        SquashfsCompressor.Gzip => new ZlibDecompressor(),
        SquashfsCompressor.Zstd => new ZstdDecompressor(),
        SquashfsCompressor.Lz4 => new Lz4Decompressor(),
        SquashfsCompressor.Xz when Xz.IsAvailable => new XzDecompressor(blockSize),
        SquashfsCompressor.Xz => throw new UnsupportedSquashfsCompressorException(image, compressor,
            "liblzma.so.5 cannot be loaded", "install Debian's liblzma5 package"),
        SquashfsCompressor.Lzo when Lzo.IsAvailable => new LzoDecompressor(),
        SquashfsCompressor.Lzo => throw new UnsupportedSquashfsCompressorException(image, compressor,
            "liblzo2.so.2 cannot be loaded", "install Debian's liblzo2-2 package, or rebuild the image with another compressor (mksquashfs -comp zstd)"),
        SquashfsCompressor.Lzma => throw new UnsupportedSquashfsCompressorException(image, compressor,
            "legacy lzma (squashfs-tools' -comp lzma) is deprecated and not supported", "rebuild the image with -comp xz or -comp zstd"),
        _ => throw new UnsupportedSquashfsCompressorException(image, compressor, "the id is unknown", "rebuild the image with mksquashfs or tar2sqfs"),
    };
}

/// <summary>gzip in squashfs is a bare zlib stream (RFC 1950), decoded by System.IO.Compression.</summary>
internal sealed class ZlibDecompressor : BlockDecompressor
{
    public override string? TryDecompress(byte[] source, int length, Span<byte> destination, out int written)
    {
        written = 0;
        using var zlib = new ZLibStream(new MemoryStream(source, 0, length, writable: false), CompressionMode.Decompress);
        try
        {
            while (written < destination.Length)
            {
                int n = zlib.Read(destination[written..]);
                if (n == 0)
                {
                    return null;
                }
                written += n;
            }
            Span<byte> probe = stackalloc byte[1];
            return zlib.Read(probe) == 0 ? null : "it decompresses to more than the block can hold";
        }
        catch (InvalidDataException e)
        {
            return "it is not a valid zlib stream (" + e.Message + ")";
        }
    }
}

/// <summary>zstd frames, decoded by ZstdSharp with one decoder context per thread.</summary>
internal sealed class ZstdDecompressor : BlockDecompressor
{
    [ThreadStatic]
    private static Decompressor? t_decompressor;

    public override string? TryDecompress(byte[] source, int length, Span<byte> destination, out int written)
    {
        written = 0;
        Decompressor d = t_decompressor ??= new Decompressor();
        try
        {
            written = d.Unwrap(source.AsSpan(0, length), destination);
            return null;
        }
        catch (ZstdException e)
        {
            return e.Code == ZstdSharp.Unsafe.ZSTD_ErrorCode.ZSTD_error_dstSize_tooSmall
                ? "it decompresses to more than the block can hold"
                : "it is not a valid zstd frame (" + e.Message + ")";
        }
    }
}

/// <summary>
/// Raw LZ4 blocks (squashfs stores no LZ4 frame), decoded by K4os.Compression.LZ4: managed, bounds-checked,
/// and no native library to be missing at run time.
/// </summary>
internal sealed class Lz4Decompressor : BlockDecompressor
{
    public override string? TryDecompress(byte[] source, int length, Span<byte> destination, out int written)
    {
        written = LZ4Codec.Decode(source.AsSpan(0, length), destination);
        if (written < 0)
        {
            written = 0;
            return "it is not a valid lz4 block, or decompresses to more than the block can hold";
        }
        return null;
    }
}

/// <summary>xz streams (LZMA2, optionally behind BCJ filters), decoded by Debian's liblzma.</summary>
internal sealed class XzDecompressor(uint blockSize) : BlockDecompressor
{
    // A squashfs xz dictionary is at most the block size; the rest covers the decoder's own state and filters.
    private readonly ulong _memoryLimit = blockSize + (16UL << 20);

    public override string? TryDecompress(byte[] source, int length, Span<byte> destination, out int written)
    {
        DecodeStatus status = Xz.Decode(source.AsSpan(0, length), destination, _memoryLimit, out written);
        return status == DecodeStatus.Ok ? null : Describe(status, "xz");
    }
}

/// <summary>LZO1X blocks, decoded by Debian's liblzo2 (lzo1x_decompress_safe).</summary>
internal sealed class LzoDecompressor : BlockDecompressor
{
    public override string? TryDecompress(byte[] source, int length, Span<byte> destination, out int written)
    {
        DecodeStatus status = Lzo.Decode(source.AsSpan(0, length), destination, out written);
        return status == DecodeStatus.Ok ? null : Describe(status, "lzo");
    }
}

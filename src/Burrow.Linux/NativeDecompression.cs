using System.Runtime.InteropServices;
using Burrow.Linux.Interop;

namespace Burrow.Linux;

/// <summary>Why a native decoder refused a buffer.</summary>
public enum DecodeStatus
{
    Ok,

    /// <summary>The decoded bytes would not fit the output buffer.</summary>
    OutputTooLarge,

    /// <summary>The input is not a valid stream (damaged, truncated, trailing bytes, unknown options).</summary>
    Corrupt,

    /// <summary>The stream asks for more decoder memory than the caller allowed.</summary>
    MemoryLimit,
}

/// <summary>
/// Bounded one-shot decoders of Debian's compression libraries, loaded on first use. Each decodes one whole
/// buffer into a caller's buffer and never writes past it; <see cref="IsAvailable"/> says whether the library
/// can be loaded, so a caller can fall back before it needs the decoder.
/// </summary>
public static class Xz
{
    private static readonly Lazy<bool> s_available = new(() => NativeLibraryProbe.CanLoad(Sys.LibLzma));

    public static bool IsAvailable => s_available.Value;

    /// <summary>Decodes one complete .xz stream (any check, BCJ filters included).</summary>
    public static unsafe DecodeStatus Decode(ReadOnlySpan<byte> input, Span<byte> output, ulong memoryLimit, out int written)
    {
        nuint inPos = 0, outPos = 0;
        ulong limit = memoryLimit;
        int ret;
        fixed (byte* i = input)
        fixed (byte* o = output)
        {
            ret = Sys.LzmaStreamBufferDecode(&limit, 0, null, i, &inPos, (nuint)input.Length, o, &outPos, (nuint)output.Length);
        }
        written = (int)outPos;
        return ret switch
        {
            Sys.LZMA_OK or Sys.LZMA_STREAM_END => inPos == (nuint)input.Length ? DecodeStatus.Ok : DecodeStatus.Corrupt,
            // The one-shot decoder says BUF_ERROR both for a full output and for a truncated input.
            Sys.LZMA_BUF_ERROR => outPos == (nuint)output.Length ? DecodeStatus.OutputTooLarge : DecodeStatus.Corrupt,
            Sys.LZMA_MEMLIMIT_ERROR or Sys.LZMA_MEM_ERROR => DecodeStatus.MemoryLimit,
            _ => DecodeStatus.Corrupt,
        };
    }
}

/// <summary>The LZO1X decoder of liblzo2, bounds-checked on input and output.</summary>
public static class Lzo
{
    private static readonly Lazy<bool> s_available = new(() => NativeLibraryProbe.CanLoad(Sys.LibLzo));

    public static bool IsAvailable => s_available.Value;

    public static unsafe DecodeStatus Decode(ReadOnlySpan<byte> input, Span<byte> output, out int written)
    {
        // The decoder uses no work memory (LZO1X_MEM_DECOMPRESS is 0), so none is passed.
        nuint length = (nuint)output.Length;
        int ret;
        fixed (byte* i = input)
        fixed (byte* o = output)
        {
            ret = Sys.Lzo1xDecompressSafe(i, (nuint)input.Length, o, &length, null);
        }
        written = (int)Math.Min(length, (nuint)output.Length);
        return ret switch
        {
            Sys.LZO_E_OK => DecodeStatus.Ok,
            Sys.LZO_E_OUTPUT_OVERRUN => DecodeStatus.OutputTooLarge,
            _ => DecodeStatus.Corrupt,
        };
    }
}

internal static class NativeLibraryProbe
{
    internal static bool CanLoad(string soname)
    {
        if (!NativeLibrary.TryLoad(soname, out nint handle))
        {
            return false;
        }
        NativeLibrary.Free(handle);
        return true;
    }
}

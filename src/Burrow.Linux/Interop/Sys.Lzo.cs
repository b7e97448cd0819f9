using System.Runtime.InteropServices;

namespace Burrow.Linux.Interop;

// liblzo2 (Debian's liblzo2-2): the bounds-checking LZO1X decoder, the variant squashfs's lzo blocks use.
internal static partial class Sys
{
    internal const string LibLzo = "liblzo2.so.2";

    internal const int LZO_E_OK = 0, LZO_E_INPUT_OVERRUN = -4, LZO_E_OUTPUT_OVERRUN = -5, LZO_E_INPUT_NOT_CONSUMED = -8;

    [LibraryImport(LibLzo, EntryPoint = "lzo1x_decompress_safe")]
    internal static unsafe partial int Lzo1xDecompressSafe(byte* src, nuint srcLength, byte* dst, nuint* dstLength, void* workMemory);
}

using System.Runtime.InteropServices;

namespace Burrow.Linux.Interop;

// liblzma (xz-utils, Debian's liblzma5): the one-shot .xz stream decoder, which bounds its output by the
// buffer it is given and handles the BCJ filters squashfs's xz blocks may carry.
internal static partial class Sys
{
    internal const string LibLzma = "liblzma.so.5";

    internal const int LZMA_OK = 0, LZMA_STREAM_END = 1, LZMA_MEM_ERROR = 5, LZMA_MEMLIMIT_ERROR = 6, LZMA_FORMAT_ERROR = 7,
        LZMA_OPTIONS_ERROR = 8, LZMA_DATA_ERROR = 9, LZMA_BUF_ERROR = 10;

    [LibraryImport(LibLzma, EntryPoint = "lzma_stream_buffer_decode")]
    internal static unsafe partial int LzmaStreamBufferDecode(
        ulong* memlimit, uint flags, void* allocator, byte* input, nuint* inPos, nuint inSize, byte* output, nuint* outPos, nuint outSize);
}

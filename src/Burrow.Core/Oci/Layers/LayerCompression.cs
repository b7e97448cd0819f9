using System.IO.Compression;

namespace Burrow.Core.Oci.Layers;

/// <summary>
/// Opens a layer blob as its uncompressed tar. The format is taken from the magic bytes rather than the media
/// type, because <c>docker save</c> archives store uncompressed layers under gzip-less names and registries
/// sometimes mislabel: the diff_id check afterwards is what proves the content right.
/// </summary>
internal static class LayerCompression
{
    public static string Sniff(Stream seekable)
    {
        Span<byte> magic = stackalloc byte[4];
        long start = seekable.Position;
        int n = seekable.ReadAtLeast(magic, 4, throwOnEndOfStream: false);
        seekable.Position = start;
        if (n >= 2 && magic[0] == 0x1f && magic[1] == 0x8b)
        {
            return "gzip";
        }
        if (n >= 4 && magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd)
        {
            return "zstd";
        }
        return "none";
    }

    public static Stream Decompress(Stream compressed, string compression, bool leaveOpen) => compression switch
    {
        "gzip" => new GZipStream(compressed, CompressionMode.Decompress, leaveOpen),
        "zstd" => new ZstdSharp.DecompressionStream(compressed, leaveOpen: leaveOpen),
        _ => leaveOpen ? new KeepOpen(compressed) : compressed,
    };

    /// <summary>An uncompressed layer read through a wrapper whose disposal must not close the caller's stream.</summary>
    private sealed class KeepOpen(Stream inner) : Stream
    {
        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);
        public override int Read(Span<byte> buffer) => inner.Read(buffer);
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    /// <summary>Opens a local layer file for sequential reading with a large buffer.</summary>
    public static FileStream OpenFile(string path) =>
        new(path, new FileStreamOptions { Mode = FileMode.Open, Access = FileAccess.Read, BufferSize = 1 << 20, Options = FileOptions.SequentialScan });
}

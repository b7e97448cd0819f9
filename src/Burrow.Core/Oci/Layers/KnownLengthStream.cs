namespace Burrow.Core.Oci.Layers;

/// <summary>
/// A forward-only view of a tar entry's data that reports its length. TarWriter refuses a data stream that
/// cannot tell its length when the output (a pipe to tar2sqfs) cannot seek either; the length is known from the
/// layer's header, so say it rather than buffering the file.
/// </summary>
internal sealed class KnownLengthStream(Stream inner, long length) : Stream
{
    private long _position;

    public override bool CanRead => true;
    public override bool CanSeek => true;
    public override bool CanWrite => false;
    public override long Length => length;

    public override long Position
    {
        get => _position;
        set
        {
            if (value != _position)
            {
                throw new NotSupportedException("a layer entry's data can only be read forward");
            }
        }
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        int n = inner.Read(buffer[..(int)Math.Min(buffer.Length, length - _position)]);
        _position += n;
        return n;
    }

    public override long Seek(long offset, SeekOrigin origin)
    {
        long target = origin switch { SeekOrigin.Begin => offset, SeekOrigin.Current => _position + offset, _ => length + offset };
        Position = target;
        return _position;
    }

    public override void Flush() { }
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}

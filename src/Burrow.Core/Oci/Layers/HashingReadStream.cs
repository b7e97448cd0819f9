using System.Security.Cryptography;

namespace Burrow.Core.Oci.Layers;

/// <summary>A read-only pass-through that hashes and counts every byte read, so a digest is computed while the data streams.</summary>
internal sealed class HashingReadStream(Stream inner, Digest expectedForAlgorithm, bool leaveOpen = false) : Stream
{
    private readonly IncrementalHash _hash = expectedForAlgorithm.CreateHash();

    public long BytesRead { get; private set; }

    /// <summary>Counts without hashing when false (the digest is already known good).</summary>
    public bool Enabled { get; init; } = true;

    public Digest Finish() => new(expectedForAlgorithm.Algorithm, Convert.ToHexStringLower(_hash.GetHashAndReset()));

    /// <summary>Reads the rest of the stream (a tar's zero padding after its end marker still counts towards the digest).</summary>
    public void Drain()
    {
        byte[] buffer = new byte[81920];
        while (Read(buffer, 0, buffer.Length) > 0)
        {
        }
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        int n = inner.Read(buffer);
        if (Enabled)
        {
            _hash.AppendData(buffer[..n]);
        }
        BytesRead += n;
        return n;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        int n = await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        if (Enabled)
        {
            _hash.AppendData(buffer.Span[..n]);
        }
        BytesRead += n;
        return n;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => BytesRead; set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _hash.Dispose();
            if (!leaveOpen)
            {
                inner.Dispose();
            }
        }
        base.Dispose(disposing);
    }
}

using Microsoft.Win32.SafeHandles;

namespace Burrow.Core.Sif;

/// <summary>
/// Positional access to the bytes of an image, so that object streams never share a file position and
/// every read is counted (the benchmark and a test show that listing reads only header and table).
/// </summary>
internal abstract class SifStorage : IDisposable
{
    public long BytesRead { get; protected set; }

    public abstract long Length { get; }

    public abstract bool CanWrite { get; }

    /// <summary>Reads up to buffer.Length bytes at offset; returns fewer only at the end of the file.</summary>
    public abstract int ReadAt(long offset, Span<byte> buffer);

    public abstract void WriteAt(long offset, ReadOnlySpan<byte> data);

    public abstract void SetLength(long length);

    /// <summary>Makes everything written so far durable before the next, dependent write (data before descriptors before header).</summary>
    public abstract void Barrier();

    public abstract void Dispose();

    public void ReadExactly(long offset, Span<byte> buffer)
    {
        int n = 0;
        while (n < buffer.Length)
        {
            int r = ReadAt(offset + n, buffer[n..]);
            if (r == 0)
            {
                throw new EndOfStreamException();
            }
            n += r;
        }
    }
}

/// <summary>A file opened through a SafeFileHandle with RandomAccess (pread/pwrite, fsync for barriers).</summary>
internal sealed class FileSifStorage(SafeFileHandle handle, bool writable) : SifStorage
{
    public SafeFileHandle Handle => handle;

    public override long Length => RandomAccess.GetLength(handle);

    public override bool CanWrite => writable;

    public override int ReadAt(long offset, Span<byte> buffer)
    {
        int n = RandomAccess.Read(handle, buffer, offset);
        BytesRead += n;
        return n;
    }

    public override void WriteAt(long offset, ReadOnlySpan<byte> data) => RandomAccess.Write(handle, data, offset);

    public override void SetLength(long length) => RandomAccess.SetLength(handle, length);

    public override void Barrier() => RandomAccess.FlushToDisk(handle);

    public override void Dispose() => handle.Dispose();
}

/// <summary>Any seekable stream (memory images in tests, fault-injecting streams); access is serialised.</summary>
internal sealed class StreamSifStorage(Stream stream, bool leaveOpen) : SifStorage
{
    private readonly Lock _lock = new();

    public override long Length => stream.Length;

    public override bool CanWrite => stream.CanWrite;

    public override int ReadAt(long offset, Span<byte> buffer)
    {
        lock (_lock)
        {
            if (offset >= stream.Length)
            {
                return 0;
            }
            stream.Position = offset;
            int n = stream.Read(buffer);
            BytesRead += n;
            return n;
        }
    }

    public override void WriteAt(long offset, ReadOnlySpan<byte> data)
    {
        lock (_lock)
        {
            stream.Position = offset;
            stream.Write(data);
        }
    }

    public override void SetLength(long length)
    {
        lock (_lock)
        {
            stream.SetLength(length);
        }
    }

    public override void Barrier()
    {
        lock (_lock)
        {
            if (stream is FileStream fs)
            {
                fs.Flush(flushToDisk: true);
            }
            else
            {
                stream.Flush();
            }
        }
    }

    public override void Dispose()
    {
        if (!leaveOpen)
        {
            stream.Dispose();
        }
    }
}

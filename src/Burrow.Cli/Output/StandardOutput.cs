using System.Text;
using Burrow.Core.Diagnostics;
using Burrow.Linux;

namespace Burrow.Cli.Output;

/// <summary>
/// Standard output as Burrow writes it: straight to descriptor 1 through <see cref="FileDescriptors.WriteAll(int, ReadOnlySpan{byte})"/>,
/// so that every failure to write is seen — ENOSPC on /dev/full, EBADF, and EPIPE, which .NET's console stream
/// silently drops — and reported as one ERROR: line instead of a stack trace or a truncated listing that looks whole.
/// </summary>
public sealed class StandardOutput : Stream
{
    private readonly int _fd;
    private readonly bool _closedAtStart;

    private StandardOutput(int fd, bool closedAtStart)
    {
        _fd = fd;
        _closedAtStart = closedAtStart;
    }

    /// <summary>The process's standard output stream (set by <see cref="Install"/>).</summary>
    public static Stream Stream { get; private set; } = new StandardOutput(1, closedAtStart: false);

    /// <summary>
    /// Routes Console.Out here, and Console.Error and <see cref="Log"/> to descriptor 2 the same way: .NET's console
    /// duplicates descriptor 2 first, which fails under <c>ulimit -n 6</c>, and then not even the ERROR line would
    /// be seen. <paramref name="closed"/>: which of 0-2 were closed when burrow started.
    /// </summary>
    public static void Install(bool[] closed)
    {
        ArgumentNullException.ThrowIfNull(closed);
        var utf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false);
        Stream = new StandardOutput(1, closed[1]);
        Console.SetOut(new StreamWriter(Stream, utf8, 1 << 14) { AutoFlush = true });
        var error = TextWriter.Synchronized(new StreamWriter(new StandardError(), utf8, 1 << 12) { AutoFlush = true });
        Console.SetError(error);
        Log.Error = error;
    }

    /// <summary>Descriptor 2: a failure to write there has nowhere to be reported, so it is dropped.</summary>
    private sealed class StandardError : Stream
    {
        public override void Write(ReadOnlySpan<byte> buffer)
        {
            try
            {
                FileDescriptors.WriteAll(2, buffer);
            }
            catch (LinuxException)
            {
            }
        }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));
        public override void Flush() { }
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        if (buffer.IsEmpty)
        {
            return;
        }
        if (_closedAtStart)
        {
            throw new BurrowException("cannot write to standard output: it was closed when burrow started",
                "run burrow with its standard output open (not with >&-)");
        }
        try
        {
            FileDescriptors.WriteAll(_fd, buffer);
        }
        catch (LinuxException e)
        {
            string hint = e.Errno switch
            {
                Errno.ENOSPC => "the file system the output goes to is full",
                Errno.EPIPE => "the program reading the output ended first",
                Errno.EBADF => "standard output is not open for writing",
                _ => FailureText.ErrnoHint(e.Errno, null) ?? "check where the output goes",
            };
            throw new BurrowException("cannot write to standard output: " + e.Reason, hint, ExitCodes.Failure, e);
        }
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Flush()
    {
    }

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}

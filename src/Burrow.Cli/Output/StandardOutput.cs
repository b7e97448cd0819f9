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
    private readonly bool _closedAtStart;

    private StandardOutput(bool closedAtStart) => _closedAtStart = closedAtStart;

    /// <summary>The process's standard output stream (set by <see cref="Install"/>).</summary>
    public static Stream Stream { get; private set; } = new StandardOutput(closedAtStart: false);

    /// <summary>Routes Console.Out here. <paramref name="closedAtStart"/>: descriptor 1 was closed and now holds /dev/null.</summary>
    public static void Install(bool closedAtStart)
    {
        Stream = new StandardOutput(closedAtStart);
        Console.SetOut(new StreamWriter(Stream, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), 1 << 14) { AutoFlush = true });
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
            FileDescriptors.WriteAll(1, buffer);
        }
        catch (LinuxException e)
        {
            throw new BurrowException("cannot write to standard output: " + e.Reason,
                FailureText.ErrnoHint(e.Errno, null) ?? "check where the output goes", ExitCodes.Failure, e);
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

using Microsoft.Win32.SafeHandles;

namespace Burrow.Core.Squashfs;

/// <summary>
/// The bytes of one squashfs: a read-only range of a file (a SIF's partition sits at an offset) or of memory.
/// Reads are positional, so any number of threads read at once without a shared position.
/// </summary>
internal abstract class SquashfsSource : IDisposable
{
    protected SquashfsSource(long length, string displayName)
    {
        Length = length;
        DisplayName = displayName;
    }

    public long Length { get; }

    public string DisplayName { get; }

    /// <summary>Fills <paramref name="destination"/> from <paramref name="position"/>; any shortfall is damage.</summary>
    public void Read(long position, Span<byte> destination, string where)
    {
        if (position < 0 || position > Length || destination.Length > Length - position)
        {
            throw SquashfsDamage.Create(DisplayName, where, position,
                $"{destination.Length} bytes from here run past the end of the image ({Length} bytes)");
        }
        int done = 0;
        while (done < destination.Length)
        {
            int n;
            try
            {
                n = ReadAt(position + done, destination[done..]);
            }
            catch (IOException e)
            {
                // A disk error is not bad bytes, but the file system's answer is the same (EIO), with the reason.
                throw SquashfsDamage.Create(DisplayName, where, position, "cannot read the image: " + e.Message, e);
            }
            if (n <= 0)
            {
                throw SquashfsDamage.Create(DisplayName, where, position + done, "the image file ends here (truncated)");
            }
            done += n;
        }
    }

    protected abstract int ReadAt(long position, Span<byte> destination);

    public virtual void Dispose()
    {
    }
}

/// <summary>A byte range of a file, read with pread.</summary>
internal sealed class FileRangeSource(SafeFileHandle file, long offset, long length, string displayName, bool ownsHandle)
    : SquashfsSource(length, displayName)
{
    protected override int ReadAt(long position, Span<byte> destination) => RandomAccess.Read(file, destination, offset + position);

    public override void Dispose()
    {
        if (ownsHandle)
        {
            file.Dispose();
        }
    }
}

/// <summary>An image held in memory (tests and the fuzzer).</summary>
internal sealed class MemorySource(ReadOnlyMemory<byte> bytes, string displayName) : SquashfsSource(bytes.Length, displayName)
{
    protected override int ReadAt(long position, Span<byte> destination)
    {
        ReadOnlySpan<byte> from = bytes.Span[(int)position..];
        int n = Math.Min(from.Length, destination.Length);
        from[..n].CopyTo(destination);
        return n;
    }
}

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
            catch (InvalidDataException e)
            {
                // Bytes that changed since the image was verified: the source says which, this says what was being read.
                throw SquashfsDamage.Create(DisplayName, where, position, e.Message, e);
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

/// <summary>
/// Bytes of a squashfs that come from somewhere other than a plain file range: a verified SIF partition whose every
/// read is checked against the digests recorded when it was verified (docs/ARCHITECTURE.md, "Verified images").
/// </summary>
public interface ISquashfsBytes
{
    long Length { get; }

    /// <summary>Reads at <paramref name="position"/>; fewer bytes only at the end. Bytes that fail a check are an InvalidDataException.</summary>
    int ReadAt(long position, Span<byte> destination);
}

/// <summary>An <see cref="ISquashfsBytes"/> as a source; its InvalidDataException keeps its words and gains the table and position.</summary>
internal sealed class ExternalSource(ISquashfsBytes bytes, string displayName) : SquashfsSource(bytes.Length, displayName)
{
    protected override int ReadAt(long position, Span<byte> destination) => bytes.ReadAt(position, destination);
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

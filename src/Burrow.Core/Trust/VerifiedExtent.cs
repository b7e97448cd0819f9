using System.Security.Cryptography;
using Microsoft.Win32.SafeHandles;

namespace Burrow.Core.Trust;

/// <summary>
/// What an image's bytes were when they were verified: the SHA-256 of each 64 KiB chunk of one extent of the file
/// (the primary partition), recorded in the same pass that computed the digests the signature was checked against.
/// Reads through <see cref="Read"/> fetch whole chunks from the descriptor that was verified and hand out only
/// bytes whose chunk still has its recorded digest, so an image rewritten in place after verification can never
/// have its new bytes served (the time-of-check/time-of-use hole Apptainer and Podman leave open). A chunk that no
/// longer matches is an <see cref="InvalidDataException"/> naming the image and the chunk; the FUSE server turns
/// it into EIO and one WARNING (docs/ARCHITECTURE.md, "Verified images").
/// A few recently checked chunks are kept, so that neighbouring small reads (a metadata block's header, then its
/// body) do not read and hash the same chunk twice. Thread-safe.
/// </summary>
public sealed class VerifiedExtent
{
    public const int ChunkSize = 64 << 10;
    private const int DigestSize = 32;
    private const int CachedChunks = 16;

    private readonly byte[] _digests;
    private readonly Lock _lock = new();
    private readonly long[] _cacheIndex = new long[CachedChunks];
    private readonly byte[]?[] _cacheData = new byte[CachedChunks][];
    private int _cacheNext;

    internal VerifiedExtent(string imageName, long offset, long length, byte[] digests)
    {
        if (digests.Length != ChunkCount(length) * DigestSize)
        {
            throw new ArgumentException("one digest per chunk is needed", nameof(digests));
        }
        ImageName = imageName;
        Offset = offset;
        Length = length;
        _digests = digests;
        Array.Fill(_cacheIndex, -1);
    }

    public string ImageName { get; }

    /// <summary>Where the extent starts in the file.</summary>
    public long Offset { get; }

    public long Length { get; }

    /// <summary>Chunks read and hashed since verification (for tests and benchmarks).</summary>
    public long ChunksChecked { get; private set; }

    public static long ChunkCount(long length) => (length + ChunkSize - 1) / ChunkSize;

    /// <summary>Records chunk digests while the extent's bytes stream past once, in order.</summary>
    internal sealed class Recorder(string imageName, long offset, long length)
    {
        private readonly byte[] _digests = new byte[ChunkCount(length) * DigestSize];
        private readonly byte[] _pending = new byte[ChunkSize];
        private int _pendingLength;
        private long _chunk;
        private long _seen;

        public void Append(ReadOnlySpan<byte> data)
        {
            _seen += data.Length;
            while (data.Length > 0)
            {
                int n = Math.Min(ChunkSize - _pendingLength, data.Length);
                if (_pendingLength == 0 && n == ChunkSize)
                {
                    SHA256.HashData(data[..n], _digests.AsSpan((int)(_chunk++ * DigestSize), DigestSize));
                }
                else
                {
                    data[..n].CopyTo(_pending.AsSpan(_pendingLength));
                    _pendingLength += n;
                    if (_pendingLength == ChunkSize)
                    {
                        Flush();
                    }
                }
                data = data[n..];
            }
        }

        public VerifiedExtent Finish()
        {
            if (_pendingLength > 0)
            {
                Flush();
            }
            if (_seen != length)
            {
                throw new InvalidOperationException($"recorded {_seen} bytes of an extent of {length}");
            }
            return new VerifiedExtent(imageName, offset, length, _digests);
        }

        private void Flush()
        {
            SHA256.HashData(_pending.AsSpan(0, _pendingLength), _digests.AsSpan((int)(_chunk++ * DigestSize), DigestSize));
            _pendingLength = 0;
        }
    }

    /// <summary>
    /// Fills <paramref name="destination"/> from <paramref name="position"/> (relative to the extent's start) with
    /// bytes that still match what was verified; returns fewer bytes only at the extent's end.
    /// </summary>
    /// <exception cref="InvalidDataException">A chunk no longer has the bytes that were verified.</exception>
    public int Read(SafeFileHandle file, long position, Span<byte> destination)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(position);
        int done = 0;
        while (done < destination.Length && position + done < Length)
        {
            long at = position + done;
            long chunk = at / ChunkSize;
            int within = (int)(at - chunk * ChunkSize);
            int n = Math.Min(destination.Length - done, ChunkLength(chunk) - within);
            CopyChunk(file, chunk, within, destination.Slice(done, n));
            done += n;
        }
        return done;
    }

    /// <summary>The extent's bytes as a squashfs reader reads them, every read checked.</summary>
    public Squashfs.ISquashfsBytes Over(SafeFileHandle file) => new CheckedBytes(this, file);

    private sealed class CheckedBytes(VerifiedExtent extent, SafeFileHandle file) : Squashfs.ISquashfsBytes
    {
        public long Length => extent.Length;

        public int ReadAt(long position, Span<byte> destination) => extent.Read(file, position, destination);
    }

    private int ChunkLength(long chunk) => (int)Math.Min(ChunkSize, Length - chunk * ChunkSize);

    private void CopyChunk(SafeFileHandle file, long chunk, int within, Span<byte> destination)
    {
        lock (_lock)
        {
            for (int i = 0; i < CachedChunks; i++)
            {
                if (_cacheIndex[i] == chunk)
                {
                    _cacheData[i].AsSpan(within, destination.Length).CopyTo(destination);
                    return;
                }
            }
        }
        int length = ChunkLength(chunk);
        byte[] data = new byte[ChunkSize];
        int got = 0;
        while (got < length)
        {
            int r = RandomAccess.Read(file, data.AsSpan(got, length - got), Offset + chunk * ChunkSize + got);
            if (r <= 0)
            {
                throw Changed(chunk, "the file is shorter than when it was verified");
            }
            got += r;
        }
        Span<byte> digest = stackalloc byte[DigestSize];
        SHA256.HashData(data.AsSpan(0, length), digest);
        if (!digest.SequenceEqual(_digests.AsSpan((int)(chunk * DigestSize), DigestSize)))
        {
            throw Changed(chunk, "its bytes are not the ones that were verified");
        }
        data.AsSpan(within, destination.Length).CopyTo(destination);
        lock (_lock)
        {
            ChunksChecked++;
            int slot = _cacheNext;
            _cacheNext = (_cacheNext + 1) % CachedChunks;
            _cacheIndex[slot] = chunk;
            _cacheData[slot] = data;
        }
    }

    private InvalidDataException Changed(long chunk, string why)
    {
        long start = Offset + chunk * ChunkSize;
        return new InvalidDataException(
            $"the image changed after it was verified: bytes {start}..{start + ChunkLength(chunk) - 1} of the file (chunk {chunk} of the verified partition): {why}");
    }
}

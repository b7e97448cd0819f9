using System.Buffers;
using System.Buffers.Binary;

namespace Burrow.Core.Squashfs;

/// <summary>A table's byte range: every metadata block read for it must start inside.</summary>
internal readonly record struct TableRegion(string Name, long Start, long End)
{
    public long Size => End - Start;
}

/// <summary>A position in a metadata stream: the block's byte position and an offset into its decompressed bytes.</summary>
internal struct MetadataCursor(long block, int offset)
{
    public long Block = block;
    public int Offset = offset;
}

/// <summary>
/// Reads and decompresses blocks through the shared cache: 8 KiB metadata blocks (with their 16-bit header) and
/// data or fragment blocks (with their 32-bit size word). Every size is checked before anything is allocated
/// from it, and nothing decodes past the block's limit.
/// </summary>
internal sealed class SquashfsBlocks
{
    private readonly SquashfsSource _source;
    private readonly BlockDecompressor _decompressor;
    private readonly BlockCache _cache;
    private readonly int _blockSize;
    private readonly long _bytesUsed;

    public SquashfsBlocks(SquashfsSource source, BlockDecompressor decompressor, BlockCache cache, uint blockSize, long bytesUsed)
    {
        _source = source;
        _decompressor = decompressor;
        _cache = cache;
        _blockSize = (int)blockSize;
        _bytesUsed = bytesUsed;
    }

    public string Image => _source.DisplayName;

    public BlockCache Cache => _cache;

    public InvalidDataException Damage(string where, long position, string defect) => SquashfsDamage.Create(Image, where, position, defect);

    public CachedBlock ReadMetadataBlock(long position, in TableRegion region)
    {
        if (position < region.Start || position >= region.End)
        {
            throw Damage(region.Name, position, $"a metadata block is referenced outside the table ({region.Start}..{region.End})");
        }
        return _cache.GetOrAdd(new BlockKey(position, BlockKey.MetadataTag), (this, position, region.Name),
            static s => s.Item1.LoadMetadataBlock(s.position, s.Name));
    }

    private CachedBlock LoadMetadataBlock(long position, string where)
    {
        Span<byte> header = stackalloc byte[2];
        _source.Read(position, header, where);
        ushort h = BinaryPrimitives.ReadUInt16LittleEndian(header);
        int size = h & 0x7FFF;
        if (size == 0 || size > SquashfsLayout.MetadataSize)
        {
            throw Damage(where, position, $"metadata block size {size} is not between 1 and {SquashfsLayout.MetadataSize}");
        }
        if (position + 2 + size > _bytesUsed)
        {
            throw Damage(where, position, $"the {size}-byte metadata block runs past the bytes used ({_bytesUsed})");
        }
        byte[] raw = ArrayPool<byte>.Shared.Rent(size);
        try
        {
            _source.Read(position + 2, raw.AsSpan(0, size), where);
            if ((h & SquashfsLayout.MetadataUncompressed) != 0)
            {
                return new CachedBlock(raw.AsSpan(0, size).ToArray(), size, size + 2);
            }
            byte[] output = new byte[SquashfsLayout.MetadataSize];
            string? failure = _decompressor.TryDecompress(raw, size, output, out int n);
            if (failure is not null)
            {
                throw Damage(where, position, "metadata block: " + failure);
            }
            if (n == 0)
            {
                throw Damage(where, position, "the metadata block decompresses to nothing");
            }
            return new CachedBlock(n == output.Length ? output : output.AsSpan(0, n).ToArray(), n, size + 2);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(raw);
        }
    }

    /// <summary>Reads <paramref name="destination"/>.Length bytes of a metadata stream, crossing blocks as needed.</summary>
    public void Read(ref MetadataCursor cursor, in TableRegion region, Span<byte> destination)
    {
        while (destination.Length > 0)
        {
            CachedBlock block = ReadMetadataBlock(cursor.Block, region);
            int n = Available(ref cursor, block, region);
            if (n == 0)
            {
                continue;
            }
            n = Math.Min(n, destination.Length);
            block.Span.Slice(cursor.Offset, n).CopyTo(destination);
            cursor.Offset += n;
            destination = destination[n..];
        }
    }

    /// <summary>Moves the cursor <paramref name="count"/> bytes on without copying them.</summary>
    public void Skip(ref MetadataCursor cursor, in TableRegion region, long count)
    {
        while (count > 0)
        {
            CachedBlock block = ReadMetadataBlock(cursor.Block, region);
            int n = Available(ref cursor, block, region);
            if (n == 0)
            {
                continue;
            }
            n = (int)Math.Min(n, count);
            cursor.Offset += n;
            count -= n;
        }
    }

    // Bytes left in the cursor's block; at the end of a block, steps to the next one (each step moves at least
    // three bytes forward, and the region bounds the walk) and returns 0.
    private int Available(ref MetadataCursor cursor, CachedBlock block, in TableRegion region)
    {
        if (cursor.Offset < 0 || cursor.Offset > block.Length)
        {
            throw Damage(region.Name, cursor.Block, $"offset {cursor.Offset} is past the end of the {block.Length}-byte metadata block");
        }
        if (cursor.Offset == block.Length)
        {
            cursor.Block += block.StoredSize;
            cursor.Offset = 0;
            return 0;
        }
        return block.Length - cursor.Offset;
    }

    public ushort ReadUInt16(ref MetadataCursor c, in TableRegion r)
    {
        Span<byte> b = stackalloc byte[2];
        Read(ref c, r, b);
        return BinaryPrimitives.ReadUInt16LittleEndian(b);
    }

    public uint ReadUInt32(ref MetadataCursor c, in TableRegion r)
    {
        Span<byte> b = stackalloc byte[4];
        Read(ref c, r, b);
        return BinaryPrimitives.ReadUInt32LittleEndian(b);
    }

    public ulong ReadUInt64(ref MetadataCursor c, in TableRegion r)
    {
        Span<byte> b = stackalloc byte[8];
        Read(ref c, r, b);
        return BinaryPrimitives.ReadUInt64LittleEndian(b);
    }

    /// <summary>A data or fragment block, decompressed (or copied when stored uncompressed) and cached.</summary>
    public CachedBlock ReadDataBlock(long position, uint sizeWord, string where)
    {
        int size = CheckDataBlock(position, sizeWord, where);
        if (size == 0)
        {
            throw Damage(where, position, "a fragment block cannot be sparse (size 0)");
        }
        return _cache.GetOrAdd(new BlockKey(position, sizeWord & (SquashfsLayout.DataUncompressed | SquashfsLayout.DataSizeMask)),
            (this, position, sizeWord, where), static s => s.Item1.LoadDataBlock(s.position, s.sizeWord, s.where));
    }

    /// <summary>Checks a block's size word against the block size and the image; returns its on-disk size.</summary>
    public int CheckDataBlock(long position, uint sizeWord, string where)
    {
        if ((sizeWord & ~(SquashfsLayout.DataUncompressed | SquashfsLayout.DataSizeMask)) != 0)
        {
            throw Damage(where, position, $"size word 0x{sizeWord:x8} has unknown bits set");
        }
        int size = (int)(sizeWord & SquashfsLayout.DataSizeMask);
        if (size > _blockSize)
        {
            throw Damage(where, position, $"the block's stored size {size} is larger than the block size {_blockSize}");
        }
        if (position < SquashfsLayout.SuperblockSize || position > _bytesUsed - size)
        {
            throw Damage(where, position, $"the {size}-byte block lies outside the image's data ({_bytesUsed} bytes used)");
        }
        return size;
    }

    /// <summary>Reads part of a block stored uncompressed straight into the caller's buffer (no cache: no work to save).</summary>
    public void ReadRaw(long position, Span<byte> destination, string where) => _source.Read(position, destination, where);

    private CachedBlock LoadDataBlock(long position, uint sizeWord, string where)
    {
        int size = (int)(sizeWord & SquashfsLayout.DataSizeMask);
        if ((sizeWord & SquashfsLayout.DataUncompressed) != 0)
        {
            byte[] copy = new byte[size];
            _source.Read(position, copy, where);
            return new CachedBlock(copy, size, size);
        }
        byte[] raw = ArrayPool<byte>.Shared.Rent(size);
        try
        {
            _source.Read(position, raw.AsSpan(0, size), where);
            byte[] output = new byte[_blockSize];
            string? failure = _decompressor.TryDecompress(raw, size, output, out int n);
            if (failure is not null)
            {
                throw Damage(where, position, failure);
            }
            // A short block (a file's tail, a small fragment block) should not hold a whole block's memory.
            return n < output.Length / 2 ? new CachedBlock(output.AsSpan(0, n).ToArray(), n, size) : new CachedBlock(output, n, size);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(raw);
        }
    }
}

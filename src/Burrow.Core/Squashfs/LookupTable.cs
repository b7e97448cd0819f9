using System.Buffers.Binary;

namespace Burrow.Core.Squashfs;

/// <summary>
/// A squashfs lookup table (fragment, id, export, xattr id): fixed-size entries in metadata blocks whose
/// positions an uncompressed list gives. The list is read once and checked; entries are read on demand.
/// </summary>
internal sealed class LookupTable
{
    private readonly SquashfsBlocks _blocks;
    private readonly long[] _locations;
    private readonly TableRegion _region;
    private readonly int _entrySize;

    private LookupTable(SquashfsBlocks blocks, long[] locations, TableRegion region, int entrySize, long count)
    {
        _blocks = blocks;
        _locations = locations;
        _region = region;
        _entrySize = entrySize;
        Count = count;
    }

    public long Count { get; }

    /// <summary>
    /// Reads the location list at <paramref name="listAt"/> for <paramref name="count"/> entries. The blocks must lie
    /// after <paramref name="blocksFrom"/> and before the list itself (the order every writer and the kernel use).
    /// </summary>
    public static LookupTable Read(SquashfsBlocks blocks, SquashfsSource source, string name, long listAt, long count, int entrySize,
        long blocksFrom, long bytesUsed)
    {
        long blockCount = (count * entrySize + SquashfsLayout.MetadataSize - 1) / SquashfsLayout.MetadataSize;
        if (blockCount > (bytesUsed - listAt) / 8)
        {
            throw blocks.Damage(name, listAt, $"the list of {blockCount} block positions for {count} entries runs past the bytes used ({bytesUsed})");
        }
        byte[] list = new byte[blockCount * 8];
        source.Read(listAt, list, name);
        long[] locations = new long[blockCount];
        for (int i = 0; i < blockCount; i++)
        {
            ulong at = BinaryPrimitives.ReadUInt64LittleEndian(list.AsSpan(i * 8));
            if (at < (ulong)blocksFrom || at >= (ulong)listAt)
            {
                throw blocks.Damage(name, listAt + i * 8, $"block {i} is said to be at {at}, outside {blocksFrom}..{listAt}");
            }
            locations[i] = (long)at;
        }
        return new LookupTable(blocks, locations, new TableRegion(name, blocksFrom, listAt), entrySize, count);
    }

    /// <summary>Copies entry <paramref name="index"/> (which the caller has checked is below <see cref="Count"/>).</summary>
    public void ReadEntry(long index, Span<byte> entry)
    {
        long at = index * _entrySize;
        long block = _locations[at / SquashfsLayout.MetadataSize];
        int offset = (int)(at % SquashfsLayout.MetadataSize);
        CachedBlock b = _blocks.ReadMetadataBlock(block, _region);
        if (offset + _entrySize > b.Length)
        {
            throw _blocks.Damage(_region.Name, block, $"entry {index} lies past the end of the {b.Length}-byte block");
        }
        b.Span.Slice(offset, _entrySize).CopyTo(entry);
    }
}

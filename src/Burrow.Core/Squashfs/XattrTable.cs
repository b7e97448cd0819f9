using System.Buffers.Binary;
using System.Text;

namespace Burrow.Core.Squashfs;

/// <summary>One extended attribute: the full name (namespace prefix included) and its value.</summary>
public sealed record SquashfsXattr(byte[] Name, byte[] Value)
{
    public string NameString => Encoding.UTF8.GetString(Name);
}

/// <summary>
/// The xattr table: a header (where the key/value blocks start, how many sets), a lookup table of sets
/// (reference, count, size) and the key/value stream, whose values may be stored out of line.
/// </summary>
internal sealed class XattrTable
{
    private static readonly byte[][] s_prefixes = [Encoding.ASCII.GetBytes("user."), Encoding.ASCII.GetBytes("trusted."), Encoding.ASCII.GetBytes("security.")];
    private const ushort OutOfLine = 0x0100;

    // What one inode's xattrs may amount to when read: Linux's listxattr and getxattr limits are 64 KiB each.
    private const int MaxPairs = 65536;
    private const long MaxSetBytes = 16L << 20;

    private readonly SquashfsBlocks _blocks;
    private readonly LookupTable _ids;
    private readonly TableRegion _kv;
    private readonly long _kvStart;

    private XattrTable(SquashfsBlocks blocks, LookupTable ids, long kvStart, long headerAt)
    {
        _blocks = blocks;
        _ids = ids;
        _kvStart = kvStart;
        _kv = new TableRegion("xattr table", kvStart, headerAt);
    }

    public long Count => _ids.Count;

    public static XattrTable Read(SquashfsBlocks blocks, SquashfsSource source, SquashfsSuperblock s)
    {
        Span<byte> header = stackalloc byte[16];
        if (s.XattrTable > s.BytesUsed - 16)
        {
            throw blocks.Damage("xattr table", s.XattrTable, "the xattr table header runs past the bytes used");
        }
        source.Read(s.XattrTable, header, "xattr table");
        ulong kvStart = BinaryPrimitives.ReadUInt64LittleEndian(header);
        uint count = BinaryPrimitives.ReadUInt32LittleEndian(header[8..]);
        if (kvStart <= (ulong)s.DirectoryTable || kvStart >= (ulong)s.XattrTable)
        {
            throw blocks.Damage("xattr table", s.XattrTable, $"the key/value blocks are said to start at {kvStart}, outside {s.DirectoryTable}..{s.XattrTable}");
        }
        LookupTable ids = LookupTable.Read(blocks, source, "xattr id table", s.XattrTable + 16, count, 16, (long)kvStart, s.BytesUsed);
        return new XattrTable(blocks, ids, (long)kvStart, s.XattrTable);
    }

    /// <summary>
    /// Walks set <paramref name="index"/>: every name, and the value of those <paramref name="wantValue"/> accepts.
    /// <paramref name="visit"/> returns false to stop.
    /// </summary>
    public void Walk(uint index, Func<byte[], bool> wantValue, Func<byte[], byte[]?, bool> visit)
    {
        Span<byte> e = stackalloc byte[16];
        _ids.ReadEntry(index, e);
        ulong reference = BinaryPrimitives.ReadUInt64LittleEndian(e);
        uint count = BinaryPrimitives.ReadUInt32LittleEndian(e[8..]);
        uint size = BinaryPrimitives.ReadUInt32LittleEndian(e[12..]);
        long at = _kvStart + (long)(reference >> 16);
        if (count > MaxPairs || size > MaxSetBytes || count > size / 8)
        {
            throw _blocks.Damage("xattr id table", at, $"xattr set {index} claims {count} pairs in {size} bytes");
        }
        MetadataCursor c = Cursor(reference, "xattr id table");
        long consumed = 0, materialised = 0;
        Span<byte> key = stackalloc byte[4];
        for (uint i = 0; i < count; i++)
        {
            _blocks.Read(ref c, _kv, key);
            ushort type = BinaryPrimitives.ReadUInt16LittleEndian(key);
            ushort nameLength = BinaryPrimitives.ReadUInt16LittleEndian(key[2..]);
            int prefix = type & 0xFF;
            if (prefix >= s_prefixes.Length || (type & ~(OutOfLine | 0xFF)) != 0)
            {
                throw _blocks.Damage("xattr table", c.Block, $"xattr set {index} has a key of unknown type 0x{type:x}");
            }
            byte[] p = s_prefixes[prefix];
            if (nameLength == 0 || p.Length + nameLength > SquashfsLayout.MaxXattrNameLength || nameLength > size)
            {
                throw _blocks.Damage("xattr table", c.Block, $"xattr set {index} has a key of {nameLength} bytes");
            }
            byte[] name = new byte[p.Length + nameLength];
            p.CopyTo(name, 0);
            _blocks.Read(ref c, _kv, name.AsSpan(p.Length));
            if (name.AsSpan(p.Length).IndexOf((byte)0) >= 0)
            {
                throw _blocks.Damage("xattr table", c.Block, $"xattr set {index} has a key with a NUL byte");
            }
            uint valueLength = _blocks.ReadUInt32(ref c, _kv);
            consumed += 4 + nameLength + 4;
            byte[]? value = null;
            bool want = wantValue(name);
            if ((type & OutOfLine) != 0)
            {
                if (valueLength != 8)
                {
                    throw _blocks.Damage("xattr table", c.Block, $"xattr set {index}: an out-of-line value reference is {valueLength} bytes, not 8");
                }
                ulong valueReference = _blocks.ReadUInt64(ref c, _kv);
                consumed += 8;
                if (want)
                {
                    MetadataCursor v = Cursor(valueReference, "xattr table");
                    uint outOfLineLength = _blocks.ReadUInt32(ref v, _kv);
                    value = ReadValue(ref v, outOfLineLength, index);
                }
            }
            else
            {
                if (want)
                {
                    value = ReadValue(ref c, valueLength, index);
                }
                else
                {
                    CheckValueLength(valueLength, c.Block, index);
                    _blocks.Skip(ref c, _kv, valueLength);
                }
                consumed += valueLength;
            }
            if (consumed > size)
            {
                throw _blocks.Damage("xattr table", at, $"xattr set {index} runs past its {size} bytes");
            }
            // Out-of-line values cost nothing in the set's size: bound what one walk reads, names and values together.
            materialised += name.Length + (value?.Length ?? 0);
            if (materialised > MaxSetBytes)
            {
                throw _blocks.Damage("xattr table", at, $"xattr set {index} amounts to more than {MaxSetBytes >> 20} MiB of names and values");
            }
            if (!visit(name, value))
            {
                return;
            }
        }
    }

    private byte[] ReadValue(ref MetadataCursor c, uint length, uint index)
    {
        CheckValueLength(length, c.Block, index);
        byte[] value = new byte[length];
        _blocks.Read(ref c, _kv, value);
        return value;
    }

    private void CheckValueLength(uint length, long at, uint index)
    {
        if (length > SquashfsLayout.MaxXattrValueLength)
        {
            throw _blocks.Damage("xattr table", at, $"xattr set {index} has a value of {length} bytes (at most {SquashfsLayout.MaxXattrValueLength})");
        }
    }

    private MetadataCursor Cursor(ulong reference, string where)
    {
        long block = (long)(reference >> 16);
        int offset = (int)(reference & 0xFFFF);
        if (offset >= SquashfsLayout.MetadataSize || block >= _kv.Size)
        {
            throw _blocks.Damage(where, _kv.Start, $"xattr reference 0x{reference:x} points outside the key/value blocks");
        }
        return new MetadataCursor(_kvStart + block, offset);
    }
}

using System.Runtime.CompilerServices;
using Burrow.Linux;

namespace Burrow.Core.Fuse;

// Requests about one node: its name, attributes, link target, extended attributes, and the file system's statistics.
internal sealed partial class FuseSession
{
    private int Lookup(ulong unique, ulong nodeid, ReadOnlySpan<byte> body, Span<byte> reply)
    {
        ReadOnlySpan<byte> name = NameAt(body);
        ref FuseEntryOut entry = ref Payload<FuseEntryOut>(reply);
        if (_fs.TryLookup(FromFuse(nodeid), name, out ulong child, out NodeAttributes attributes))
        {
            FillEntry(ref entry, child, attributes);
        }
        else
        {
            // A negative entry (node id 0) with the same long timeout: the kernel remembers that the name is absent,
            // so PATH searches, ld.so's library probing and Python's import scans ask once, not on every start.
            entry = default;
            entry.EntryValid = _timeoutSeconds;
            entry.EntryValidNsec = _timeoutNanoseconds;
        }
        return Ok(reply, unique, EntryOutSize);
    }

    private int Getattr(ulong unique, ulong nodeid, Span<byte> reply)
    {
        NodeAttributes attributes = _fs.GetAttributes(FromFuse(nodeid));
        ref FuseAttrOut output = ref Payload<FuseAttrOut>(reply);
        output.AttrValid = _timeoutSeconds;
        output.AttrValidNsec = _timeoutNanoseconds;
        output.Dummy = 0;
        FillAttributes(ref output.Attr, attributes);
        return Ok(reply, unique, AttrOutSize);
    }

    private int Readlink(ulong unique, ulong nodeid, Span<byte> reply)
    {
        byte[] target = _fs.ReadLink(FromFuse(nodeid));
        // The kernel reads a link into one page and needs room for its NUL.
        if (target.Length >= PageSize)
        {
            return Error(reply, unique, Errno.ENAMETOOLONG);
        }
        target.CopyTo(reply[OutHeaderSize..]);
        return Ok(reply, unique, target.Length);
    }

    private int Statfs(ulong unique, Span<byte> reply)
    {
        FileSystemStatistics s = _fs.GetStatistics();
        ref FuseKstatfs st = ref Payload<FuseKstatfs>(reply);
        st = default;
        st.Blocks = s.Blocks;
        st.Files = s.Files;
        st.Bsize = s.BlockSize;
        st.Frsize = s.BlockSize;
        st.Namelen = s.MaxNameLength;
        // bfree, bavail and ffree stay 0: nothing can be written.
        return Ok(reply, unique, _minor < 4 ? FuseConstants.CompatStatfsSize : Unsafe.SizeOf<FuseKstatfs>());
    }

    private int Getxattr(ulong unique, ulong nodeid, ReadOnlySpan<byte> body, Span<byte> reply)
    {
        FuseGetxattrIn input = Read<FuseGetxattrIn>(body, Unsafe.SizeOf<FuseGetxattrIn>());
        ReadOnlySpan<byte> name = NameAt(body[Unsafe.SizeOf<FuseGetxattrIn>()..]);
        byte[]? value = _fs.GetExtendedAttribute(FromFuse(nodeid), name);
        if (value is null)
        {
            return Error(reply, unique, Errno.ENODATA);
        }
        return SizedAnswer(unique, input.Size, value.Length, reply, out Span<byte> destination) is int done
            ? done
            : CopyOut(unique, value, destination, reply);
    }

    private int Listxattr(ulong unique, ulong nodeid, ReadOnlySpan<byte> body, Span<byte> reply)
    {
        FuseGetxattrIn input = Read<FuseGetxattrIn>(body, Unsafe.SizeOf<FuseGetxattrIn>());
        IReadOnlyList<byte[]> names = _fs.ListExtendedAttributes(FromFuse(nodeid));
        long total = 0;
        foreach (byte[] n in names)
        {
            total += n.Length + 1;
        }
        if (total > int.MaxValue)
        {
            return Error(reply, unique, Errno.E2BIG);
        }
        if (SizedAnswer(unique, input.Size, (int)total, reply, out Span<byte> destination) is int done)
        {
            return done;
        }
        int at = 0;
        foreach (byte[] n in names)
        {
            n.CopyTo(destination[at..]);
            destination[at + n.Length] = 0;
            at += n.Length + 1;
        }
        return Ok(reply, unique, at);
    }

    /// <summary>
    /// The getxattr/listxattr size protocol: a size-0 request asks only for the length (fuse_getxattr_out); a buffer too
    /// small is ERANGE, which sends the caller back to ask for the length again. Null means "write the value".
    /// </summary>
    private static int? SizedAnswer(ulong unique, uint requested, int length, Span<byte> reply, out Span<byte> destination)
    {
        destination = default;
        if (requested == 0)
        {
            ref FuseGetxattrOut output = ref Payload<FuseGetxattrOut>(reply);
            output.Size = (uint)length;
            output.Padding = 0;
            return Ok(reply, unique, Unsafe.SizeOf<FuseGetxattrOut>());
        }
        if ((uint)length > requested)
        {
            return Error(reply, unique, Errno.ERANGE);
        }
        if (length > reply.Length - OutHeaderSize)
        {
            return Error(reply, unique, Errno.E2BIG);
        }
        destination = reply.Slice(OutHeaderSize, length);
        return null;
    }

    private static int CopyOut(ulong unique, byte[] value, Span<byte> destination, Span<byte> reply)
    {
        value.CopyTo(destination);
        return Ok(reply, unique, value.Length);
    }

    /// <summary>
    /// ACCESS only comes without default_permissions, which <see cref="FuseMount"/> always sets; should it come, the
    /// answer is the mode bits' (and EROFS for writing), never a blanket yes.
    /// </summary>
    private int Access(in FuseInHeader header, ReadOnlySpan<byte> body, Span<byte> reply)
    {
        const uint R = 4, W = 2, X = 1;
        uint mask = Read<FuseAccessIn>(body, 4).Mask;
        if ((mask & W) != 0)
        {
            return Error(reply, header.Unique, Errno.EROFS);
        }
        NodeAttributes a = _fs.GetAttributes(FromFuse(header.Nodeid));
        uint granted;
        if (header.Uid == 0)
        {
            bool anyExecute = (a.Mode & 0b001_001_001) != 0 || (a.Mode & FuseConstants.SIfmt) == FuseConstants.SIfdir;
            granted = R | (anyExecute ? X : 0);
        }
        else
        {
            int shift = header.Uid == a.Uid ? 6 : header.Gid == a.Gid ? 3 : 0;
            granted = (a.Mode >> shift) & 7;
        }
        return (mask & (R | X) & ~granted) == 0 ? Ok(reply, header.Unique, 0) : Error(reply, header.Unique, Errno.EACCES);
    }
}

using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Burrow.Linux;

namespace Burrow.Core.Fuse;

/// <summary>
/// The protocol half of the server: turns one request's bytes into one reply's bytes (docs/ARCHITECTURE.md, "Serving
/// images"). It keeps no per-node or per-open state — the file system's ids are self-describing and the image never
/// changes — so any worker may answer any request, and the only shared state is what INIT negotiated.
/// </summary>
internal sealed partial class FuseSession
{
    internal const int InHeaderSize = 40;
    internal const int OutHeaderSize = 16;

    /// <summary>FUSE_MAX_PAGES: 256 pages, 1 MiB reads with 4 KiB pages (the kernel's own ceiling by default).</summary>
    internal const int MaxPages = 256;

    /// <summary>Nothing is ever written; the kernel raises anything smaller to 4096 anyway.</summary>
    internal const int MaxWrite = 4096;

    private readonly IReadOnlyFileSystem _fs;
    private readonly ulong _root;
    private readonly FuseServerOptions _options;
    private readonly ulong _timeoutSeconds;
    private readonly uint _timeoutNanoseconds;
    private readonly uint _blockSize;

    // Negotiated by INIT. Written once by the worker that answers INIT before its reply goes out; the kernel sends
    // nothing else until it has that reply, so every later request is read after these stores.
    private volatile bool _initialized;
    private uint _minor;
    private bool _zeroMessageOpen;
    private bool _zeroMessageOpendir;
    private bool _noFlushOnClose;

    public FuseSession(IReadOnlyFileSystem fileSystem, FuseServerOptions options, FailureReporter failures)
    {
        _fs = fileSystem;
        _root = fileSystem.RootNode;
        _options = options;
        Failures = failures;
        double seconds = Math.Clamp(options.CacheTimeout.TotalSeconds, 0, int.MaxValue);
        _timeoutSeconds = (ulong)Math.Floor(seconds);
        _timeoutNanoseconds = (uint)((seconds - Math.Floor(seconds)) * 1e9);
        _blockSize = ChooseBlockSize(fileSystem, failures);
    }

    public FailureReporter Failures { get; }

    public static int PageSize { get; } = Environment.SystemPageSize;

    /// <summary>The largest READ the kernel can send once max_pages is agreed.</summary>
    public static int MaxRead => MaxPages * PageSize;

    /// <summary>
    /// The kernel refuses a read(2) into a buffer smaller than max(8192, header + fuse_write_in + max_write), and
    /// answers EIO to the caller of any request larger than the buffer. Nothing but writes and setxattr (both refused
    /// on a read-only mount) come near 8 KiB: the largest are a 255-byte name or a PATH_MAX symlink target.
    /// </summary>
    public static int RequestBufferSize => Math.Max(FuseConstants.MinReadBuffer, InHeaderSize + 40 + MaxWrite);

    /// <summary>A READ of <see cref="MaxRead"/> bytes behind the out header; every other reply is smaller.</summary>
    public static int ReplyBufferSize => OutHeaderSize + MaxRead;

    public bool Initialized => _initialized;

    public uint NegotiatedMinor => _minor;

    /// <summary>Answers one request read from the device. Returns the reply's length in <c>worker.Reply</c>; 0 for none.</summary>
    public int Handle(ReadOnlySpan<byte> request, FuseWorkerState worker)
    {
        Span<byte> reply = worker.Reply;
        if (request.Length < InHeaderSize)
        {
            // Without a whole header there is no unique to answer to; the kernel never sends this.
            Failures.Channel($"ignored a FUSE request of {request.Length} bytes, shorter than its header");
            return 0;
        }
        FuseInHeader header = MemoryMarshal.Read<FuseInHeader>(request);
        var opcode = (FuseOpcode)header.Opcode;
        worker.Count(opcode);
        if (header.Len != (uint)request.Length || header.TotalExtlen * 8 > request.Length - InHeaderSize)
        {
            return Error(reply, header.Unique, Errno.EINVAL);
        }
        ReadOnlySpan<byte> body = request[InHeaderSize..(request.Length - header.TotalExtlen * 8)];

        // Requests the kernel expects no answer to, whatever state the session is in.
        switch (opcode)
        {
            case FuseOpcode.Forget:
            case FuseOpcode.BatchForget:
                return 0; // the server keeps no table of nodes: nothing to forget
            case FuseOpcode.Interrupt:
                // Every request is answered from memory or the image without waiting on anything, so the reply to the
                // interrupted request follows at once; the kernel accepts it, or drops it (ENOENT on the write).
                return 0;
            case FuseOpcode.NotifyReply:
                return 0; // answers a retrieve notification, which this server never sends
        }

        if (opcode == FuseOpcode.Init)
        {
            return Init(header, body, reply);
        }
        if (!_initialized)
        {
            return Error(reply, header.Unique, Errno.EIO);
        }

        try
        {
            return Dispatch(opcode, header, body, worker);
        }
        catch (FileSystemError e)
        {
            return Error(reply, header.Unique, e.Errno is > 0 and < 1000 ? e.Errno : Errno.EIO);
        }
        catch (InvalidDataException e)
        {
            Failures.Damaged(e);
            return Error(reply, header.Unique, Errno.EIO);
        }
        catch (Exception e)
        {
            Failures.Unexpected(opcode, e);
            return Error(reply, header.Unique, Errno.EIO);
        }
    }

    private int Dispatch(FuseOpcode opcode, in FuseInHeader header, ReadOnlySpan<byte> body, FuseWorkerState worker)
    {
        Span<byte> reply = worker.Reply;
        ulong unique = header.Unique;
        switch (opcode)
        {
            case FuseOpcode.Lookup:
                return Lookup(unique, header.Nodeid, body, reply);
            case FuseOpcode.Getattr:
                return Getattr(unique, header.Nodeid, reply);
            case FuseOpcode.Readlink:
                return Readlink(unique, header.Nodeid, reply);
            case FuseOpcode.Open:
                return Open(unique, body, reply, directory: false);
            case FuseOpcode.Opendir:
                return Open(unique, body, reply, directory: true);
            case FuseOpcode.Read:
                return Read(unique, header.Nodeid, body, worker);
            case FuseOpcode.Readdir:
                return ReadDirectory(unique, header.Nodeid, body, worker, plus: false);
            case FuseOpcode.Readdirplus:
                return ReadDirectory(unique, header.Nodeid, body, worker, plus: true);
            case FuseOpcode.Release:
            case FuseOpcode.Releasedir:
                return Ok(reply, unique, 0); // nothing was allocated at open
            case FuseOpcode.Statfs:
                return Statfs(unique, reply);
            case FuseOpcode.Getxattr:
                return Getxattr(unique, header.Nodeid, body, reply);
            case FuseOpcode.Listxattr:
                return Listxattr(unique, header.Nodeid, body, reply);
            case FuseOpcode.Access:
                return Access(header, body, reply);
            case FuseOpcode.Flush:
                // Nothing is buffered. ENOSYS (rather than 0) makes the kernel stop sending FLUSH on every close.
                return Error(reply, unique, Errno.ENOSYS);
            case FuseOpcode.Destroy:
                return Ok(reply, unique, 0); // the connection ends next: the workers see ENODEV
            case FuseOpcode.Setattr:
            case FuseOpcode.Symlink:
            case FuseOpcode.Mknod:
            case FuseOpcode.Mkdir:
            case FuseOpcode.Unlink:
            case FuseOpcode.Rmdir:
            case FuseOpcode.Rename:
            case FuseOpcode.Rename2:
            case FuseOpcode.Link:
            case FuseOpcode.Write:
            case FuseOpcode.Create:
            case FuseOpcode.Tmpfile:
            case FuseOpcode.Setxattr:
            case FuseOpcode.Removexattr:
            case FuseOpcode.Fallocate:
            case FuseOpcode.CopyFileRange:
                return Error(reply, unique, Errno.EROFS);
            default:
                // FSYNC, locks, IOCTL, POLL, LSEEK, BMAP, SYNCFS, DAX mappings, opcodes of later protocols: the kernel
                // treats ENOSYS as "not implemented" and, for most, stops asking (fsync then succeeds locally).
                return Error(reply, unique, Errno.ENOSYS);
        }
    }

    // ---- Replies -----------------------------------------------------------------------------------------------

    internal static int Error(Span<byte> reply, ulong unique, int errno)
    {
        var header = new FuseOutHeader { Len = OutHeaderSize, Error = -errno, Unique = unique };
        MemoryMarshal.Write(reply, in header);
        return OutHeaderSize;
    }

    internal static int Ok(Span<byte> reply, ulong unique, int payloadLength)
    {
        var header = new FuseOutHeader { Len = (uint)(OutHeaderSize + payloadLength), Error = 0, Unique = unique };
        MemoryMarshal.Write(reply, in header);
        return OutHeaderSize + payloadLength;
    }

    internal static ref T Payload<T>(Span<byte> reply, int offset = 0) where T : unmanaged =>
        ref MemoryMarshal.AsRef<T>(reply.Slice(OutHeaderSize + offset, Unsafe.SizeOf<T>()));

    // ---- Node ids: the file system's root is FUSE's node 1; every other id moves up by 2, so none is 0 or 1. ----

    internal ulong ToFuse(ulong node) => node == _root ? FuseConstants.RootId : node + 2;

    internal ulong FromFuse(ulong nodeid) => nodeid switch
    {
        FuseConstants.RootId => _root,
        0 => throw new FileSystemError(Errno.EINVAL, "node id 0"),
        _ => nodeid - 2,
    };

    internal void FillAttributes(ref FuseAttr attr, in NodeAttributes node)
    {
        attr.Ino = node.Inode;
        attr.Size = node.Size;
        attr.Blocks = node.Blocks;
        attr.Atime = attr.Mtime = attr.Ctime = unchecked((ulong)node.ModificationTime);
        attr.Atimensec = attr.Mtimensec = attr.Ctimensec = 0;
        attr.Mode = node.Mode;
        attr.Nlink = node.LinkCount;
        attr.Uid = node.Uid;
        attr.Gid = node.Gid;
        attr.Rdev = node.Device;
        attr.Blksize = _blockSize;
        attr.Flags = 0;
    }

    internal void FillEntry(ref FuseEntryOut entry, ulong node, in NodeAttributes attributes)
    {
        entry.Nodeid = ToFuse(node);
        entry.Generation = 0;
        entry.EntryValid = entry.AttrValid = _timeoutSeconds;
        entry.EntryValidNsec = entry.AttrValidNsec = _timeoutNanoseconds;
        FillAttributes(ref entry.Attr, attributes);
    }

    /// <summary>Before 7.9 fuse_attr lacked blksize and flags, and the replies that carry one were 8 bytes shorter.</summary>
    private int EntryOutSize => _minor < 9 ? FuseConstants.CompatEntryOutSize : Unsafe.SizeOf<FuseEntryOut>();

    private int AttrOutSize => _minor < 9 ? FuseConstants.CompatAttrOutSize : Unsafe.SizeOf<FuseAttrOut>();

    /// <summary>st_blksize: the image's block size when it is a sane power of two, so that cp and stdio read in big chunks.</summary>
    private static uint ChooseBlockSize(IReadOnlyFileSystem fs, FailureReporter failures)
    {
        try
        {
            uint b = fs.GetStatistics().BlockSize;
            return b is >= 512 and <= 1 << 20 && (b & (b - 1)) == 0 ? b : 4096;
        }
        catch (InvalidDataException e)
        {
            failures.Damaged(e);
            return 4096;
        }
        catch (FileSystemError)
        {
            return 4096;
        }
    }

    /// <summary>The NUL-terminated name at the start of <paramref name="body"/>, without its NUL.</summary>
    private static ReadOnlySpan<byte> NameAt(ReadOnlySpan<byte> body)
    {
        int end = body.IndexOf((byte)0);
        if (end < 0)
        {
            throw new FileSystemError(Errno.EINVAL, "name without its NUL");
        }
        return body[..end];
    }

    private static T Read<T>(ReadOnlySpan<byte> body, int minimum) where T : unmanaged
    {
        if (body.Length < minimum)
        {
            throw new FileSystemError(Errno.EINVAL, "request body too short");
        }
        if (body.Length >= Unsafe.SizeOf<T>())
        {
            return MemoryMarshal.Read<T>(body);
        }
        // Older protocols send shorter structures (fuse_read_in before 7.9): the missing tail reads as zeros.
        Span<byte> padded = stackalloc byte[Unsafe.SizeOf<T>()];
        padded.Clear();
        body.CopyTo(padded);
        return MemoryMarshal.Read<T>(padded);
    }

    internal static uint ReadUInt32(ReadOnlySpan<byte> b) => BinaryPrimitives.ReadUInt32LittleEndian(b);
}

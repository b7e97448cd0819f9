using System.Runtime.CompilerServices;
using Burrow.Linux;

namespace Burrow.Core.Fuse;

// Opening and reading files and directories.
internal sealed partial class FuseSession
{
    private int Open(ulong unique, ReadOnlySpan<byte> body, Span<byte> reply, bool directory)
    {
        uint flags = Read<FuseOpenIn>(body, 4).Flags;
        if ((flags & FuseConstants.OAccmode) != FuseConstants.ORdonly || (flags & FuseConstants.OTrunc) != 0)
        {
            return Error(reply, unique, Errno.EROFS);
        }
        if (directory ? _zeroMessageOpendir : _zeroMessageOpen)
        {
            // From now on the kernel opens without asking (see Init): this answer is given once per mount.
            return Error(reply, unique, Errno.ENOSYS);
        }
        ref FuseOpenOut output = ref Payload<FuseOpenOut>(reply);
        output.Fh = 0; // nothing to remember per open file: the node id says it all
        output.OpenFlags = (uint)(directory
            // Keep the listing the kernel cached (FOPEN_CACHE_DIR) across opens (FOPEN_KEEP_CACHE).
            ? FuseOpenFlags.CacheDir | FuseOpenFlags.KeepCache
            // Keep the file's page cache across opens: the image never changes, so what was read once stays valid.
            : FuseOpenFlags.KeepCache | (_noFlushOnClose ? FuseOpenFlags.Noflush : 0));
        output.Padding = 0;
        return Ok(reply, unique, Unsafe.SizeOf<FuseOpenOut>());
    }

    private int Read(ulong unique, ulong nodeid, ReadOnlySpan<byte> body, FuseWorkerState worker)
    {
        FuseReadIn input = Read<FuseReadIn>(body, 20);
        Span<byte> reply = worker.Reply;
        int size = (int)Math.Min(input.Size, (uint)(reply.Length - OutHeaderSize));
        worker.NoteRead(size);
        if (input.Offset > long.MaxValue)
        {
            return Ok(reply, unique, 0);
        }
        ulong node = FromFuse(nodeid);
        long offset = (long)input.Offset;
        Span<byte> destination = reply.Slice(OutHeaderSize, size);
        // A short READ reply means end of file to the kernel, so fill the request unless the file really ends.
        int done = 0;
        while (done < size)
        {
            int n = _fs.Read(node, offset + done, destination[done..]);
            if (n <= 0)
            {
                break;
            }
            done += n;
        }
        return Ok(reply, unique, done);
    }

    /// <summary>
    /// READDIR and READDIRPLUS. The server's offsets: 0 is the start, 1 follows ".", 2 follows "..", and the file
    /// system's offset k (which is never 0) is k + 2. "." and ".." are the server's to emit: the listing has neither.
    /// </summary>
    private int ReadDirectory(ulong unique, ulong nodeid, ReadOnlySpan<byte> body, FuseWorkerState worker, bool plus)
    {
        FuseReadIn input = Read<FuseReadIn>(body, 20);
        Span<byte> reply = worker.Reply;
        if (input.Offset > long.MaxValue)
        {
            return Error(reply, unique, Errno.EINVAL);
        }
        ulong node = FromFuse(nodeid);
        long offset = (long)input.Offset;
        int end = OutHeaderSize + (int)Math.Min(input.Size, (uint)(reply.Length - OutHeaderSize));
        DirectoryFiller filler = worker.Directory;
        filler.Begin(worker.Reply, OutHeaderSize, end, plus);
        if (offset < 2)
        {
            ulong self = _fs.GetAttributes(node).Inode;
            if (offset == 0 && !filler.AddDot(".", self, nextOffset: 1))
            {
                return Ok(reply, unique, 0);
            }
            // The interface does not say who a directory's parent is; the root's parent is itself.
            ulong parent = node == _root ? self : FuseConstants.UnknownIno;
            if (!filler.AddDot("..", parent, nextOffset: 2))
            {
                return Ok(reply, unique, filler.Position - OutHeaderSize);
            }
            offset = 2;
        }
        _fs.ReadDirectory(node, offset - 2, filler.Sink);
        return Ok(reply, unique, filler.Position - OutHeaderSize);
    }
}

/// <summary>
/// Writes fuse_dirent / fuse_direntplus records into a worker's reply buffer. One per worker, reused for every
/// listing, so that the sink delegate handed to the file system is allocated once, not per request.
/// </summary>
internal sealed class DirectoryFiller
{
    private readonly FuseSession _session;
    private readonly IReadOnlyFileSystem _fs;
    private byte[] _buffer = [];
    private int _end;
    private bool _plus;

    public DirectoryFiller(FuseSession session, IReadOnlyFileSystem fs)
    {
        _session = session;
        _fs = fs;
        Sink = Add;
    }

    public DirectoryEntrySink Sink { get; }

    public int Position { get; private set; }

    public void Begin(byte[] buffer, int start, int end, bool plus)
    {
        _buffer = buffer;
        Position = start;
        _end = end;
        _plus = plus;
    }

    public bool AddDot(string name, ulong ino, long nextOffset)
    {
        Span<byte> bytes = stackalloc byte[2] { (byte)'.', (byte)'.' };
        // The kernel ignores the entry part of "." and "..": node id 0 says "no entry" (fuse_direntplus_link).
        return Write(bytes[..name.Length], ino, FuseConstants.SIfdir >> 12, nextOffset, entryNode: null, default);
    }

    private bool Add(in DirectoryEntry entry)
    {
        long next = entry.NextOffset > 0 && entry.NextOffset <= long.MaxValue - 2
            ? entry.NextOffset + 2
            : throw new InvalidDataException($"a directory listing gave the offset {entry.NextOffset}");
        uint type = (entry.Mode & FuseConstants.SIfmt) >> 12;
        NodeAttributes attributes = default;
        bool known = true;
        try
        {
            // Plain READDIR needs st_ino too (d_ino must match stat's st_ino for find, rm -r and ls -i).
            attributes = _fs.GetAttributes(entry.Node);
        }
        catch (FileSystemError)
        {
            known = false;
        }
        catch (InvalidDataException e)
        {
            // One bad inode must not hide its siblings: list it without attributes, and the LOOKUP that follows fails.
            _session.Failures.Damaged(e);
            known = false;
        }
        ulong ino = known ? attributes.Inode : FuseConstants.UnknownIno;
        return Write(entry.Name, ino, type, next, known ? entry.Node : null, attributes);
    }

    private bool Write(ReadOnlySpan<byte> name, ulong ino, uint type, long nextOffset, ulong? entryNode, in NodeAttributes attributes)
    {
        int header = _plus ? FuseConstants.NameOffsetDirentplus : FuseConstants.NameOffset;
        int size = (header + name.Length + 7) & ~7;
        if (Position + size > _end)
        {
            return false;
        }
        Span<byte> record = _buffer.AsSpan(Position, size);
        record.Clear();
        int direntAt = 0;
        if (_plus)
        {
            ref FuseDirentplus plus = ref System.Runtime.InteropServices.MemoryMarshal.AsRef<FuseDirentplus>(record[..Unsafe.SizeOf<FuseDirentplus>()]);
            if (entryNode is ulong node)
            {
                _session.FillEntry(ref plus.EntryOut, node, attributes);
            }
            direntAt = Unsafe.SizeOf<FuseEntryOut>();
        }
        ref FuseDirent dirent = ref System.Runtime.InteropServices.MemoryMarshal.AsRef<FuseDirent>(record.Slice(direntAt, Unsafe.SizeOf<FuseDirent>()));
        dirent.Ino = ino;
        dirent.Off = (ulong)nextOffset;
        dirent.Namelen = (uint)name.Length;
        dirent.Type = type;
        name.CopyTo(record[header..]);
        Position += size;
        return true;
    }
}

/// <summary>One worker's buffers and counters: nothing here is shared, so the hot paths neither lock nor allocate.</summary>
internal sealed class FuseWorkerState
{
    private readonly long[] _counts = new long[64];

    public FuseWorkerState(FuseSession session, IReadOnlyFileSystem fs)
    {
        Request = GC.AllocateUninitializedArray<byte>(FuseSession.RequestBufferSize, pinned: true);
        Reply = GC.AllocateUninitializedArray<byte>(FuseSession.ReplyBufferSize, pinned: true);
        Directory = new DirectoryFiller(session, fs);
    }

    public byte[] Request { get; }

    public byte[] Reply { get; }

    public DirectoryFiller Directory { get; }

    /// <summary>The largest READ the kernel asked this worker for (tests check that max_pages took).</summary>
    public int LargestRead { get; private set; }

    public void Count(FuseOpcode opcode) => _counts[(uint)opcode < 64 ? (int)opcode : 0]++;

    public long CountOf(FuseOpcode opcode) => Volatile.Read(ref _counts[(uint)opcode < 64 ? (int)opcode : 0]);

    public void NoteRead(int size)
    {
        if (size > LargestRead)
        {
            LargestRead = size;
        }
    }
}

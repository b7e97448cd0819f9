using System.Buffers.Binary;
using System.Text;
using Burrow.Core.Fuse;

namespace Burrow.Tests.Fuse;

/// <summary>
/// Builds request bytes as the kernel lays them out and reads reply bytes back, by explicit offsets written from
/// linux/fuse.h (not from the server's structs), so these tests check the server's framing independently.
/// </summary>
internal sealed class FuseWire
{
    private readonly FuseSession _session;
    private readonly FuseWorkerState _worker;
    private ulong _unique = 100;

    public FuseWire(IReadOnlyFileSystem fs, FuseServerOptions? options = null, Action<string>? warnings = null)
    {
        Failures = new FailureReporter("test.sif");
        _session = new FuseSession(fs, options ?? new FuseServerOptions(), Failures);
        _worker = new FuseWorkerState(_session, fs);
    }

    public FailureReporter Failures { get; }

    public FuseSession Session => _session;

    public FuseWorkerState Worker => _worker;

    public static byte[] Request(uint opcode, ulong unique, ulong nodeid, ReadOnlySpan<byte> body, uint uid = 1000, uint gid = 1000)
    {
        var r = new byte[40 + body.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(r, (uint)r.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(r.AsSpan(4), opcode);
        BinaryPrimitives.WriteUInt64LittleEndian(r.AsSpan(8), unique);
        BinaryPrimitives.WriteUInt64LittleEndian(r.AsSpan(16), nodeid);
        BinaryPrimitives.WriteUInt32LittleEndian(r.AsSpan(24), uid);
        BinaryPrimitives.WriteUInt32LittleEndian(r.AsSpan(28), gid);
        BinaryPrimitives.WriteUInt32LittleEndian(r.AsSpan(32), 4242); // pid
        body.CopyTo(r.AsSpan(40));
        return r;
    }

    /// <summary>Sends a request; returns the reply (null when the server gives none), checking the out header's framing.</summary>
    public Reply? Send(uint opcode, ulong nodeid, ReadOnlySpan<byte> body, uint uid = 1000, uint gid = 1000) =>
        SendRaw(Request(opcode, ++_unique, nodeid, body, uid, gid), _unique);

    public Reply? SendRaw(byte[] request, ulong expectedUnique)
    {
        int n = _session.Handle(request, _worker);
        if (n == 0)
        {
            return null;
        }
        byte[] reply = _worker.Reply.AsSpan(0, n).ToArray();
        Assert.Equal((uint)n, BinaryPrimitives.ReadUInt32LittleEndian(reply));
        Assert.Equal(expectedUnique, BinaryPrimitives.ReadUInt64LittleEndian(reply.AsSpan(8)));
        int error = BinaryPrimitives.ReadInt32LittleEndian(reply.AsSpan(4));
        if (error != 0)
        {
            Assert.Equal(16, n); // an error reply carries nothing else
        }
        return new Reply(-error, reply[16..]);
    }

    public Reply Ok(uint opcode, ulong nodeid, ReadOnlySpan<byte> body)
    {
        Reply r = Send(opcode, nodeid, body) ?? throw new Xunit.Sdk.XunitException("no reply");
        Assert.True(r.Errno == 0, $"opcode {opcode} failed with errno {r.Errno}");
        return r;
    }

    /// <summary>A 7.45 kernel's INIT offering every flag of protocol 7.38 and more (flags2 included).</summary>
    public Reply Init(uint minor = 45, uint flags = 0xFFFFFFFF, uint flags2 = 0xFFFFFFFF, uint maxReadahead = 131072)
    {
        var body = new byte[64];
        BinaryPrimitives.WriteUInt32LittleEndian(body, 7);
        BinaryPrimitives.WriteUInt32LittleEndian(body.AsSpan(4), minor);
        BinaryPrimitives.WriteUInt32LittleEndian(body.AsSpan(8), maxReadahead);
        BinaryPrimitives.WriteUInt32LittleEndian(body.AsSpan(12), flags);
        BinaryPrimitives.WriteUInt32LittleEndian(body.AsSpan(16), flags2);
        return Ok(26, 0, body);
    }

    public static byte[] Name(string name) => Encoding.UTF8.GetBytes(name + "\0");

    public static byte[] ReadIn(ulong offset, uint size)
    {
        var b = new byte[40];
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(8), offset);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(16), size);
        return b;
    }

    public static byte[] U32Pair(uint a, uint b = 0)
    {
        var r = new byte[8];
        BinaryPrimitives.WriteUInt32LittleEndian(r, a);
        BinaryPrimitives.WriteUInt32LittleEndian(r.AsSpan(4), b);
        return r;
    }

    public static byte[] Xattr(uint size, string? name) => [.. U32Pair(size), .. name is null ? [] : Name(name)];
}

internal sealed record Reply(int Errno, byte[] Payload)
{
    public uint U32(int at) => BinaryPrimitives.ReadUInt32LittleEndian(Payload.AsSpan(at));
    public ulong U64(int at) => BinaryPrimitives.ReadUInt64LittleEndian(Payload.AsSpan(at));
    public ushort U16(int at) => BinaryPrimitives.ReadUInt16LittleEndian(Payload.AsSpan(at));
}

/// <summary>struct fuse_attr read at an offset of a reply (offsets from linux/fuse.h).</summary>
internal readonly record struct Attr(ulong Ino, ulong Size, ulong Blocks, ulong Mtime, uint Mode, uint Nlink, uint Uid, uint Gid, uint Blksize)
{
    public static Attr At(Reply r, int at) => new(r.U64(at), r.U64(at + 8), r.U64(at + 16), r.U64(at + 32),
        r.U32(at + 60), r.U32(at + 64), r.U32(at + 68), r.U32(at + 72), r.U32(at + 80));
}

/// <summary>One fuse_dirent or fuse_direntplus record of a READDIR(PLUS) reply.</summary>
internal sealed record DirentRecord(string Name, ulong Ino, ulong Off, uint Type, ulong Nodeid, Attr? Attributes)
{
    public static List<DirentRecord> Parse(Reply r, bool plus)
    {
        var list = new List<DirentRecord>();
        int at = 0;
        while (at < r.Payload.Length)
        {
            int d = plus ? at + 128 : at;
            uint namelen = r.U32(d + 16);
            string name = Encoding.UTF8.GetString(r.Payload, d + 24, (int)namelen);
            ulong nodeid = plus ? r.U64(at) : 0;
            list.Add(new DirentRecord(name, r.U64(d), r.U64(d + 8), r.U32(d + 20), nodeid, plus && nodeid != 0 ? Attr.At(r, at + 40) : null));
            int size = ((plus ? 152 : 24) + (int)namelen + 7) & ~7;
            at += size;
        }
        Assert.Equal(r.Payload.Length, at);
        return list;
    }
}

using System.Runtime.InteropServices;

namespace Burrow.Core.Fuse;

// The kernel's FUSE protocol (linux/fuse.h), only the parts Burrow's server speaks. Every layout and constant here is
// compared with the real header by FuseHeaderTests (a C file of _Static_asserts), so a mistake fails the build's tests
// rather than a container. Field names are the header's in PascalCase, which that test relies on.

/// <summary>Request opcodes (enum fuse_opcode).</summary>
internal enum FuseOpcode : uint
{
    Lookup = 1,
    Forget = 2,
    Getattr = 3,
    Setattr = 4,
    Readlink = 5,
    Symlink = 6,
    Mknod = 8,
    Mkdir = 9,
    Unlink = 10,
    Rmdir = 11,
    Rename = 12,
    Link = 13,
    Open = 14,
    Read = 15,
    Write = 16,
    Statfs = 17,
    Release = 18,
    Fsync = 20,
    Setxattr = 21,
    Getxattr = 22,
    Listxattr = 23,
    Removexattr = 24,
    Flush = 25,
    Init = 26,
    Opendir = 27,
    Readdir = 28,
    Releasedir = 29,
    Fsyncdir = 30,
    Getlk = 31,
    Setlk = 32,
    Setlkw = 33,
    Access = 34,
    Create = 35,
    Interrupt = 36,
    Bmap = 37,
    Destroy = 38,
    Ioctl = 39,
    Poll = 40,
    NotifyReply = 41,
    BatchForget = 42,
    Fallocate = 43,
    Readdirplus = 44,
    Rename2 = 45,
    Lseek = 46,
    CopyFileRange = 47,
    Setupmapping = 48,
    Removemapping = 49,
    Syncfs = 50,
    Tmpfile = 51,
}

/// <summary>INIT flags (fuse_init_in/out flags, with flags2 as the upper 32 bits).</summary>
[Flags]
internal enum FuseInitFlags : ulong
{
    AsyncRead = 1 << 0,
    ExportSupport = 1 << 4,
    BigWrites = 1 << 5,
    AutoInvalData = 1 << 12,
    DoReaddirplus = 1 << 13,
    ReaddirplusAuto = 1 << 14,
    NoOpenSupport = 1 << 17,
    ParallelDirops = 1 << 18,
    PosixAcl = 1 << 20,
    AbortError = 1 << 21,
    MaxPages = 1 << 22,
    CacheSymlinks = 1 << 23,
    NoOpendirSupport = 1 << 24,
    ExplicitInvalData = 1 << 25,
    InitExt = 1 << 30,
}

/// <summary>fuse_open_out.open_flags (FOPEN_*).</summary>
[Flags]
internal enum FuseOpenFlags : uint
{
    None = 0,
    DirectIo = 1 << 0,
    KeepCache = 1 << 1,
    CacheDir = 1 << 3,
    Noflush = 1 << 5,
}

internal static class FuseConstants
{
    public const uint KernelVersion = 7;

    /// <summary>The newest minor version this server speaks (the header it is checked against).</summary>
    public const uint KernelMinorVersion = 38;

    public const ulong RootId = 1;
    public const int MinReadBuffer = 8192;
    public const int CompatEntryOutSize = 120;
    public const int CompatAttrOutSize = 96;
    public const int CompatInitOutSize = 8;
    public const int Compat22InitOutSize = 24;
    public const int CompatStatfsSize = 48;

    /// <summary>offsetof(struct fuse_dirent, name) and offsetof(struct fuse_direntplus, dirent.name).</summary>
    public const int NameOffset = 24;
    public const int NameOffsetDirentplus = 152;

    /// <summary>The d_ino libfuse reports when it does not know an entry's inode number.</summary>
    public const ulong UnknownIno = 0xffffffff;

    public const int OAccmode = 3, ORdonly = 0, OTrunc = 0x200;
    public const uint SIfmt = 0xF000, SIfdir = 0x4000;
    public const uint RootMode = SIfdir; // "rootmode=40000"
}

[StructLayout(LayoutKind.Sequential)]
internal struct FuseInHeader
{
    public uint Len;
    public uint Opcode;
    public ulong Unique;
    public ulong Nodeid;
    public uint Uid;
    public uint Gid;
    public uint Pid;
    public ushort TotalExtlen;
    public ushort Padding;
}

[StructLayout(LayoutKind.Sequential)]
internal struct FuseOutHeader
{
    public uint Len;
    public int Error;
    public ulong Unique;
}

[StructLayout(LayoutKind.Sequential)]
internal struct FuseAttr
{
    public ulong Ino;
    public ulong Size;
    public ulong Blocks;
    public ulong Atime;
    public ulong Mtime;
    public ulong Ctime;
    public uint Atimensec;
    public uint Mtimensec;
    public uint Ctimensec;
    public uint Mode;
    public uint Nlink;
    public uint Uid;
    public uint Gid;
    public uint Rdev;
    public uint Blksize;
    public uint Flags;
}

[StructLayout(LayoutKind.Sequential)]
internal struct FuseEntryOut
{
    public ulong Nodeid;
    public ulong Generation;
    public ulong EntryValid;
    public ulong AttrValid;
    public uint EntryValidNsec;
    public uint AttrValidNsec;
    public FuseAttr Attr;
}

[StructLayout(LayoutKind.Sequential)]
internal struct FuseAttrOut
{
    public ulong AttrValid;
    public uint AttrValidNsec;
    public uint Dummy;
    public FuseAttr Attr;
}

[StructLayout(LayoutKind.Sequential)]
internal struct FuseForgetIn
{
    public ulong Nlookup;
}

[StructLayout(LayoutKind.Sequential)]
internal struct FuseBatchForgetIn
{
    public uint Count;
    public uint Dummy;
}

[StructLayout(LayoutKind.Sequential)]
internal struct FuseGetattrIn
{
    public uint GetattrFlags;
    public uint Dummy;
    public ulong Fh;
}

[StructLayout(LayoutKind.Sequential)]
internal struct FuseOpenIn
{
    public uint Flags;
    public uint OpenFlags;
}

[StructLayout(LayoutKind.Sequential)]
internal struct FuseOpenOut
{
    public ulong Fh;
    public uint OpenFlags;
    public uint Padding;
}

[StructLayout(LayoutKind.Sequential)]
internal struct FuseReadIn
{
    public ulong Fh;
    public ulong Offset;
    public uint Size;
    public uint ReadFlags;
    public ulong LockOwner;
    public uint Flags;
    public uint Padding;
}

/// <summary>struct fuse_kstatfs, which is all of fuse_statfs_out (spare[6] is the trailing 24 bytes).</summary>
[StructLayout(LayoutKind.Sequential, Size = 80)]
internal struct FuseKstatfs
{
    public ulong Blocks;
    public ulong Bfree;
    public ulong Bavail;
    public ulong Files;
    public ulong Ffree;
    public uint Bsize;
    public uint Namelen;
    public uint Frsize;
    public uint Padding;
}

[StructLayout(LayoutKind.Sequential)]
internal struct FuseGetxattrIn
{
    public uint Size;
    public uint Padding;
}

[StructLayout(LayoutKind.Sequential)]
internal struct FuseGetxattrOut
{
    public uint Size;
    public uint Padding;
}

[StructLayout(LayoutKind.Sequential)]
internal struct FuseAccessIn
{
    public uint Mask;
    public uint Padding;
}

/// <summary>struct fuse_init_in (unused[11] is the trailing 44 bytes).</summary>
[StructLayout(LayoutKind.Sequential, Size = 64)]
internal struct FuseInitIn
{
    public uint Major;
    public uint Minor;
    public uint MaxReadahead;
    public uint Flags;
    public uint Flags2;
}

/// <summary>struct fuse_init_out (unused[7] is the trailing 28 bytes).</summary>
[StructLayout(LayoutKind.Sequential, Size = 64)]
internal struct FuseInitOut
{
    public uint Major;
    public uint Minor;
    public uint MaxReadahead;
    public uint Flags;
    public ushort MaxBackground;
    public ushort CongestionThreshold;
    public uint MaxWrite;
    public uint TimeGran;
    public ushort MaxPages;
    public ushort MapAlignment;
    public uint Flags2;
}

[StructLayout(LayoutKind.Sequential)]
internal struct FuseInterruptIn
{
    public ulong Unique;
}

/// <summary>struct fuse_dirent without its flexible name[] (which starts at <see cref="FuseConstants.NameOffset"/>).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct FuseDirent
{
    public ulong Ino;
    public ulong Off;
    public uint Namelen;
    public uint Type;
}

[StructLayout(LayoutKind.Sequential)]
internal struct FuseDirentplus
{
    public FuseEntryOut EntryOut;
    public FuseDirent Dirent;
}

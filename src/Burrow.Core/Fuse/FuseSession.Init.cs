using System.Runtime.InteropServices;
using Burrow.Linux;

namespace Burrow.Core.Fuse;

internal sealed partial class FuseSession
{
    /// <summary>
    /// What the server asks of the kernel, each only if the kernel offers it. The image never changes, so everything
    /// that lets the kernel cache, batch or parallelise is welcome and nothing that invalidates is wanted.
    /// </summary>
    internal FuseInitFlags WantedFlags =>
        // Several READs of one file in flight at once (readahead does not wait for the previous page run).
        FuseInitFlags.AsyncRead
        // READDIRPLUS: a listing carries every entry's attributes, so `ls -l`, find and tar need no LOOKUP per name.
        | FuseInitFlags.DoReaddirplus
        // Adaptive readdirplus (plain READDIR unless the directory is being looked up); off by default: on the
        // 20,000-file walk it gained nothing with 1 reader and cost more with 2 (bench/README.md, "FUSE server").
        | (_options.ReaddirplusAuto ? FuseInitFlags.ReaddirplusAuto : 0)
        // Lookups and listings of one directory run concurrently instead of under its inode lock.
        | FuseInitFlags.ParallelDirops
        // max_pages below: 1 MiB per READ instead of 128 KiB, an eighth of the round trips for big files.
        | FuseInitFlags.MaxPages
        // READLINK answers go into the page cache: each symlink is read from the image once.
        | FuseInitFlags.CacheSymlinks;
    // Not asked for: AUTO_INVAL_DATA / EXPLICIT_INVAL_DATA (nothing changes, so there is nothing to invalidate);
    // EXPORT_SUPPORT (no NFS export: "." and ".." lookups never come); POSIX_ACL (ACL xattrs are served as xattrs
    // but not enforced by the kernel, which can only deny more); WRITEBACK_CACHE, locks, splice (nothing to write,
    // and the server copies through its own buffers); ABORT_ERROR (ENODEV and ECONNABORTED both end a worker).

    private int Init(in FuseInHeader header, ReadOnlySpan<byte> body, Span<byte> reply)
    {
        if (body.Length < 8)
        {
            return Error(reply, header.Unique, Errno.EINVAL);
        }
        uint major = ReadUInt32(body);
        uint minor = ReadUInt32(body[4..]);
        ref FuseInitOut output = ref Payload<FuseInitOut>(reply);
        output = default;
        output.Major = FuseConstants.KernelVersion;
        output.Minor = FuseConstants.KernelMinorVersion;
        if (major < FuseConstants.KernelVersion)
        {
            return Error(reply, header.Unique, Errno.EPROTO);
        }
        if (major > FuseConstants.KernelVersion)
        {
            // The kernel speaks a newer major version: say which one we speak and wait for its INIT of that version.
            return Ok(reply, header.Unique, MarshalSize<FuseInitOut>());
        }

        FuseInitIn input = minor >= 6 ? Read<FuseInitIn>(body, 16) : default;
        ulong offered = minor >= 6 ? input.Flags : 0;
        if ((offered & (ulong)FuseInitFlags.InitExt) != 0 && body.Length >= 20)
        {
            offered |= (ulong)input.Flags2 << 32;
        }
        var agreed = (FuseInitFlags)(offered & (ulong)WantedFlags);

        // Answer with the older of the two minor versions, and only in the shapes that version knows.
        _minor = Math.Min(minor, FuseConstants.KernelMinorVersion);
        // FUSE_NO_OPEN(DIR)_SUPPORT: the kernel can skip OPEN/RELEASE and OPENDIR/RELEASEDIR entirely once told ENOSYS,
        // and then treats every open as FOPEN_KEEP_CACHE (and directories as FOPEN_CACHE_DIR), which is what this
        // server would answer anyway: two round trips fewer per file opened.
        _zeroMessageOpen = _options.ZeroMessageOpen && (offered & (ulong)FuseInitFlags.NoOpenSupport) != 0;
        _zeroMessageOpendir = _options.ZeroMessageOpen && (offered & (ulong)FuseInitFlags.NoOpendirSupport) != 0;
        // FOPEN_NOFLUSH (7.35): no FLUSH on close at all, not even the first one that the ENOSYS answer would stop.
        _noFlushOnClose = _minor >= 35;

        output.Minor = _minor;
        output.Flags = (uint)agreed;
        if ((offered & (ulong)FuseInitFlags.InitExt) != 0)
        {
            output.Flags |= (uint)FuseInitFlags.InitExt;
            output.Flags2 = (uint)((ulong)agreed >> 32);
        }
        // Take all the readahead the kernel offers (its bdi default, 128 KiB unless an administrator raised it):
        // the reply can only lower it.
        output.MaxReadahead = input.MaxReadahead;
        output.MaxWrite = MaxWrite;
        // max_background and congestion_threshold stay 0: the kernel's default of 12 background requests keeps
        // more than the workers busy.
        output.TimeGran = 1;
        if ((agreed & FuseInitFlags.MaxPages) != 0)
        {
            output.MaxPages = MaxPages;
        }
        int size = minor < 5 ? FuseConstants.CompatInitOutSize
            : minor < 23 ? FuseConstants.Compat22InitOutSize
            : MarshalSize<FuseInitOut>();
        _initialized = true;
        return Ok(reply, header.Unique, size);
    }

    private static int MarshalSize<T>() where T : unmanaged => System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
}

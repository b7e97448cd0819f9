using System.Text;
using Burrow.Core.Diagnostics;
using Burrow.Core.Fuse;

namespace Burrow.Tests.Fuse;

/// <summary>The server's answers to request bytes, against an in-memory file system (no kernel, no device).</summary>
public sealed class FuseProtocolTests
{
    // Opcodes and flags as linux/fuse.h numbers them (FuseHeaderTests checks the server's own copies).
    private const uint LOOKUP = 1, FORGET = 2, GETATTR = 3, SETATTR = 4, READLINK = 5, MKDIR = 9, UNLINK = 10, OPEN = 14,
        READ = 15, WRITE = 16, STATFS = 17, RELEASE = 18, FSYNC = 20, SETXATTR = 21, GETXATTR = 22, LISTXATTR = 23, FLUSH = 25,
        INIT = 26, OPENDIR = 27, READDIR = 28, RELEASEDIR = 29, ACCESS = 34, CREATE = 35, INTERRUPT = 36, DESTROY = 38,
        BATCH_FORGET = 42, READDIRPLUS = 44, RENAME2 = 45, LSEEK = 46, COPY_FILE_RANGE = 47, TMPFILE = 51;
    private const uint ASYNC_READ = 1, DO_READDIRPLUS = 1 << 13, READDIRPLUS_AUTO = 1 << 14, PARALLEL_DIROPS = 1 << 18,
        MAX_PAGES = 1 << 22, CACHE_SYMLINKS = 1 << 23, INIT_EXT = 1 << 30, NO_OPEN_SUPPORT = 1 << 17, NO_OPENDIR_SUPPORT = 1 << 24;
    private const uint FOPEN_KEEP_CACHE = 2, FOPEN_CACHE_DIR = 8, FOPEN_NOFLUSH = 32;
    private const int ENOENT = 2, EIO = 5, E_ACCES = 13, EINVAL = 22, ERANGE = 34, EROFS = 30, ENOSYS = 38, ENODATA = 61, EPROTO = 71;
    private const ulong Year = 365 * 24 * 3600;

    private static (MemoryFileSystem Fs, FuseWire Wire) Serve(FuseServerOptions? options = null, bool init = true)
    {
        var fs = new MemoryFileSystem();
        fs.AddDirectory("etc", 0b111_101_101);
        fs.AddFile("etc/passwd", Encoding.ASCII.GetBytes("root:x:0:0::/root:/bin/sh\n"), 0b110_100_100);
        fs.AddFile("etc/shadow", [1, 2, 3], 0b110_100_000, uid: 0, gid: 42);
        fs.AddSymlink("etc/localtime", "/usr/share/zoneinfo/UTC");
        fs.AddFile("big", MemoryFileSystem.Pattern(7, 3 << 20), 0b111_101_101, uid: 1000, gid: 1000);
        fs.AddDirectory("many");
        for (int i = 0; i < 300; i++)
        {
            fs.AddFile($"many/file-{i:D3}-with-a-longish-name", MemoryFileSystem.Pattern(i, i));
        }
        fs.SetXattr("etc/passwd", "user.comment", Encoding.ASCII.GetBytes("hello"));
        fs.SetXattr("etc/passwd", "security.selinux", Encoding.ASCII.GetBytes("system_u:object_r:etc_t:s0"));
        var wire = new FuseWire(fs, options);
        if (init)
        {
            wire.Init();
        }
        return (fs, wire);
    }

    private static ulong LookupNode(FuseWire wire, ulong parent, string name) => wire.Ok(LOOKUP, parent, FuseWire.Name(name)).U64(0);

    [Fact]
    public void InitAsksForTheCachingFlagsTheKernelOffersAndSpeaksProtocol738()
    {
        (_, FuseWire wire) = Serve(init: false);
        Reply r = wire.Init(minor: 45);
        Assert.Equal(64, r.Payload.Length);
        Assert.Equal(7u, r.U32(0));
        Assert.Equal(38u, r.U32(4));
        Assert.Equal(131072u, r.U32(8)); // all the readahead the kernel offered
        Assert.Equal(ASYNC_READ | DO_READDIRPLUS | PARALLEL_DIROPS | MAX_PAGES | CACHE_SYMLINKS | INIT_EXT, r.U32(12));
        Assert.Equal(4096u, r.U32(20)); // max_write
        Assert.Equal(1u, r.U32(24)); // time_gran
        Assert.Equal((ushort)256, r.U16(28)); // max_pages: 1 MiB reads
        Assert.Equal(0u, r.U32(32)); // flags2: nothing above bit 31 is wanted
        Assert.Equal(38u, wire.Session.NegotiatedMinor);
        Assert.True(FuseSession.RequestBufferSize >= 8192);
        Assert.True(FuseSession.ReplyBufferSize >= 16 + 256 * Environment.SystemPageSize);
    }

    [Fact]
    public void ReaddirplusAutoIsAskedForOnlyWhenConfigured()
    {
        (_, FuseWire wire) = Serve(new FuseServerOptions { ReaddirplusAuto = true }, init: false);
        Assert.Equal(READDIRPLUS_AUTO, wire.Init().U32(12) & READDIRPLUS_AUTO);
    }

    [Fact]
    public void AnOlderKernelGetsItsOwnMinorVersionOnlyTheFlagsItOffersAndTheReplySizeItKnows()
    {
        // Linux 4.18 (7.27): the first kernel that mounts FUSE in a user namespace; no MAX_PAGES, no CACHE_SYMLINKS.
        (MemoryFileSystem fs, FuseWire wire) = Serve(init: false);
        uint offered = ASYNC_READ | DO_READDIRPLUS | READDIRPLUS_AUTO | PARALLEL_DIROPS | NO_OPEN_SUPPORT;
        Reply r = wire.Init(minor: 27, flags: offered, flags2: 0);
        Assert.Equal(27u, r.U32(4));
        Assert.Equal(ASYNC_READ | DO_READDIRPLUS | PARALLEL_DIROPS, r.U32(12));
        Assert.Equal((ushort)0, r.U16(28));
        Assert.Equal(64, r.Payload.Length);
        // Before 7.35 there is no FOPEN_NOFLUSH; OPENDIR is still asked (no NO_OPENDIR_SUPPORT offered).
        Assert.Equal(FOPEN_CACHE_DIR | FOPEN_KEEP_CACHE, wire.Ok(OPENDIR, 1, FuseWire.U32Pair(0)).U32(8));

        (_, FuseWire old) = Serve(init: false);
        Assert.Equal(24, old.Init(minor: 22, flags: ASYNC_READ, flags2: 0).Payload.Length);

        (_, FuseWire ancient) = Serve(init: false);
        ancient.Init(minor: 8, flags: ASYNC_READ, flags2: 0);
        Reply entry = ancient.Ok(LOOKUP, 1, FuseWire.Name("etc"));
        Assert.Equal(120, entry.Payload.Length); // FUSE_COMPAT_ENTRY_OUT_SIZE
        Assert.Equal(96, ancient.Ok(GETATTR, 1, []).Payload.Length); // FUSE_COMPAT_ATTR_OUT_SIZE
        Assert.Equal(fs["etc"] + 1000, entry.U64(40)); // attr.ino
    }

    [Fact]
    public void ANewerMajorVersionIsAnsweredWithOursAndNothingIsServedUntilARealInit()
    {
        (_, FuseWire wire) = Serve(init: false);
        var body = new byte[64];
        body[0] = 8;
        Reply r = wire.Ok(INIT, 0, body);
        Assert.Equal(7u, r.U32(0));
        Assert.Equal(38u, r.U32(4));
        Assert.Equal(EIO, wire.Send(GETATTR, 1, [])!.Errno);
        body[0] = 6;
        Assert.Equal(EPROTO, wire.Send(INIT, 0, body)!.Errno);
        wire.Init();
        Assert.Equal(0, wire.Send(GETATTR, 1, [])!.Errno);
    }

    [Fact]
    public void TheRootIsNodeOneAndNoOtherNodeIsZeroOrOne()
    {
        (MemoryFileSystem fs, FuseWire wire) = Serve();
        Attr root = Attr.At(wire.Ok(GETATTR, 1, new byte[16]), 16);
        Assert.Equal(fs.RootNode + 1000, root.Ino);
        Assert.Equal(MemoryFileSystem.Dir | 0b111_101_101u, root.Mode);
        // The file system's ids 0 and 1 exist ("etc" and "etc/passwd"): the kernel sees neither as 0 or 1.
        Assert.Equal(0ul, fs["etc"]);
        Assert.Equal(1ul, fs["etc/passwd"]);
        ulong etc = LookupNode(wire, 1, "etc");
        ulong passwd = LookupNode(wire, etc, "passwd");
        Assert.DoesNotContain(etc, new ulong[] { 0, 1 });
        Assert.DoesNotContain(passwd, new ulong[] { 0, 1, etc });
        Assert.Equal(fs["etc/passwd"] + 1000, Attr.At(wire.Ok(GETATTR, passwd, new byte[16]), 16).Ino);
    }

    [Fact]
    public void LookupAnswersTheEntryWithLongTimeoutsAndAbsentNamesWithACachedNegativeEntry()
    {
        (MemoryFileSystem fs, FuseWire wire) = Serve();
        Reply r = wire.Ok(LOOKUP, 1, FuseWire.Name("big"));
        Assert.Equal(128, r.Payload.Length);
        Assert.Equal(0ul, r.U64(8)); // generation
        Assert.Equal(Year, r.U64(16)); // entry_valid
        Assert.Equal(Year, r.U64(24)); // attr_valid
        Attr a = Attr.At(r, 40);
        Assert.Equal((ulong)(3 << 20), a.Size);
        Assert.Equal(MemoryFileSystem.File | 0b111_101_101u, a.Mode);
        Assert.Equal((1000u, 1000u, 1u), (a.Uid, a.Gid, a.Nlink));
        Assert.Equal((ulong)fs.Time, a.Mtime);
        Assert.Equal(131072u, a.Blksize); // the image's block size

        Reply missing = wire.Ok(LOOKUP, 1, FuseWire.Name("nonexistent"));
        Assert.Equal(0ul, missing.U64(0)); // node id 0: "no such name", remembered for entry_valid
        Assert.Equal(Year, missing.U64(16));

        ulong etc = LookupNode(wire, 1, "etc");
        ulong passwd = LookupNode(wire, etc, "passwd");
        Assert.Equal(20, wire.Send(LOOKUP, passwd, FuseWire.Name("x"))!.Errno); // ENOTDIR from the file system
        Assert.Equal(ENOENT, wire.Send(GETATTR, 999_999, [])!.Errno);
    }

    [Fact]
    public void ReadReturnsFileBytesWholeAtOffsetsAndNothingPastTheEnd()
    {
        (MemoryFileSystem fs, FuseWire wire) = Serve();
        ulong big = LookupNode(wire, 1, "big");
        byte[] expected = MemoryFileSystem.Pattern(7, 3 << 20);
        // 1 MiB at once, although the file system hands out 64 KiB per call: a short reply would mean end of file.
        Reply whole = wire.Ok(READ, big, FuseWire.ReadIn(0, 1 << 20));
        Assert.Equal(expected.AsSpan(0, 1 << 20).ToArray(), whole.Payload);
        Assert.Equal(1 << 20, wire.Worker.LargestRead);
        Assert.Equal(expected.AsSpan(12345, 4096).ToArray(), wire.Ok(READ, big, FuseWire.ReadIn(12345, 4096)).Payload);
        Assert.Equal(expected.AsSpan((3 << 20) - 100).ToArray(), wire.Ok(READ, big, FuseWire.ReadIn((3 << 20) - 100, 4096)).Payload);
        Assert.Empty(wire.Ok(READ, big, FuseWire.ReadIn(3 << 20, 4096)).Payload);
        Assert.Empty(wire.Ok(READ, big, FuseWire.ReadIn(ulong.MaxValue, 4096)).Payload);
        // Larger than the buffer (never asked by a kernel that agreed on max_pages): clamped, not overrun.
        Assert.Equal(FuseSession.MaxRead, wire.Ok(READ, big, FuseWire.ReadIn(0, uint.MaxValue)).Payload.Length);
    }

    [Fact]
    public void OpenIsZeroMessageWhenTheKernelSupportsItAndWritingIsRefused()
    {
        (_, FuseWire wire) = Serve();
        ulong big = LookupNode(wire, 1, "big");
        Assert.Equal(ENOSYS, wire.Send(OPEN, big, FuseWire.U32Pair(0 /* O_RDONLY */))!.Errno);
        Assert.Equal(ENOSYS, wire.Send(OPENDIR, 1, FuseWire.U32Pair(0x10000 /* O_DIRECTORY */))!.Errno);
        Assert.Equal(EROFS, wire.Send(OPEN, big, FuseWire.U32Pair(1 /* O_WRONLY */))!.Errno);
        Assert.Equal(EROFS, wire.Send(OPEN, big, FuseWire.U32Pair(2 /* O_RDWR */))!.Errno);
        Assert.Equal(EROFS, wire.Send(OPEN, big, FuseWire.U32Pair(0x200 /* O_TRUNC */))!.Errno);
    }

    [Fact]
    public void OpenKeepsTheCacheAndOpendirCachesTheListingWhenOpensAreAnswered()
    {
        (_, FuseWire wire) = Serve(new FuseServerOptions { ZeroMessageOpen = false });
        ulong big = LookupNode(wire, 1, "big");
        Reply open = wire.Ok(OPEN, big, FuseWire.U32Pair(0x8000 /* O_LARGEFILE */));
        Assert.Equal(16, open.Payload.Length);
        Assert.Equal(FOPEN_KEEP_CACHE | FOPEN_NOFLUSH, open.U32(8));
        Assert.Equal(FOPEN_KEEP_CACHE | FOPEN_CACHE_DIR, wire.Ok(OPENDIR, 1, FuseWire.U32Pair(0)).U32(8));
        Assert.Empty(wire.Ok(RELEASE, big, new byte[24]).Payload);
        Assert.Empty(wire.Ok(RELEASEDIR, 1, new byte[24]).Payload);
        Assert.Equal(ENOSYS, wire.Send(FLUSH, big, new byte[24])!.Errno); // so the kernel stops sending FLUSH
    }

    [Fact]
    public void ReaddirplusListsDotAndDotDotFirstThenEveryEntryWithItsAttributesAcrossRequests()
    {
        (MemoryFileSystem fs, FuseWire wire) = Serve();
        ulong many = LookupNode(wire, 1, "many");
        var all = new List<DirentRecord>();
        ulong offset = 0;
        int requests = 0;
        while (true)
        {
            List<DirentRecord> page = DirentRecord.Parse(wire.Ok(READDIRPLUS, many, FuseWire.ReadIn(offset, 4096)), plus: true);
            if (page.Count == 0)
            {
                break;
            }
            requests++;
            all.AddRange(page);
            offset = page[^1].Off;
        }
        Assert.True(requests > 5, "a 4 KiB buffer holds few direntplus records: the listing must span requests");
        Assert.Equal(302, all.Count);
        Assert.Equal([".", ".."], all.Take(2).Select(d => d.Name));
        Assert.All(all.Take(2), d => Assert.Equal(0ul, d.Nodeid)); // no entry for the dots: the kernel ignores them
        Assert.Equal(fs["many"] + 1000, all[0].Ino);
        Assert.Equal(4u, all[0].Type); // DT_DIR
        Assert.Equal(Enumerable.Range(0, 300).Select(i => $"file-{i:D3}-with-a-longish-name"), all.Skip(2).Select(d => d.Name));
        Assert.Equal(all.Count, all.Select(d => d.Off).Distinct().Count());
        DirentRecord f7 = all[2 + 7];
        Assert.Equal(8u, f7.Type); // DT_REG
        Assert.Equal(7ul, f7.Attributes!.Value.Size);
        Assert.Equal(f7.Ino, f7.Attributes.Value.Ino);
        Assert.Equal(f7.Nodeid, LookupNode(wire, many, f7.Name));

        // Resuming right after "." gives ".." and the rest.
        Assert.Equal("..", DirentRecord.Parse(wire.Ok(READDIRPLUS, many, FuseWire.ReadIn(1, 4096)), true)[0].Name);
    }

    [Fact]
    public void ReaddirListsTheSameNamesWithInodeNumbersAndTypes()
    {
        (MemoryFileSystem fs, FuseWire wire) = Serve();
        ulong etc = LookupNode(wire, 1, "etc");
        List<DirentRecord> list = DirentRecord.Parse(wire.Ok(READDIR, etc, FuseWire.ReadIn(0, 4096)), plus: false);
        Assert.Equal([".", "..", "passwd", "shadow", "localtime"], list.Select(d => d.Name));
        Assert.Equal(fs["etc/localtime"] + 1000, list[4].Ino);
        Assert.Equal(10u, list[4].Type); // DT_LNK
        Assert.Empty(wire.Ok(READDIR, etc, FuseWire.ReadIn(list[^1].Off, 4096)).Payload);
        // The root's ".." is the root itself.
        List<DirentRecord> root = DirentRecord.Parse(wire.Ok(READDIR, 1, FuseWire.ReadIn(0, 4096)), plus: false);
        Assert.Equal(root[0].Ino, root[1].Ino);
    }

    [Fact]
    public void ReadlinkStatfsAndAccess()
    {
        (MemoryFileSystem fs, FuseWire wire) = Serve();
        ulong etc = LookupNode(wire, 1, "etc");
        Assert.Equal("/usr/share/zoneinfo/UTC", Encoding.UTF8.GetString(wire.Ok(READLINK, LookupNode(wire, etc, "localtime"), []).Payload));

        Reply st = wire.Ok(STATFS, 1, []);
        Assert.Equal(80, st.Payload.Length);
        Assert.Equal((1000ul, 0ul, 0ul), (st.U64(0), st.U64(8), st.U64(16)));
        Assert.Equal((131072u, 256u, 131072u), (st.U32(40), st.U32(44), st.U32(48)));

        ulong shadow = LookupNode(wire, etc, "shadow"); // 0640 root:42
        Assert.Equal(E_ACCES, wire.Send(ACCESS, shadow, FuseWire.U32Pair(4), uid: 1000, gid: 1000)!.Errno);
        Assert.Equal(0, wire.Send(ACCESS, shadow, FuseWire.U32Pair(4), uid: 1000, gid: 42)!.Errno);
        Assert.Equal(E_ACCES, wire.Send(ACCESS, shadow, FuseWire.U32Pair(1), uid: 0, gid: 0)!.Errno);
        Assert.Equal(EROFS, wire.Send(ACCESS, shadow, FuseWire.U32Pair(2), uid: 0, gid: 0)!.Errno);
    }

    [Fact]
    public void XattrsFollowTheSizeProbeProtocol()
    {
        (_, FuseWire wire) = Serve();
        ulong passwd = LookupNode(wire, LookupNode(wire, 1, "etc"), "passwd");

        Reply probe = wire.Ok(GETXATTR, passwd, FuseWire.Xattr(0, "user.comment"));
        Assert.Equal(8, probe.Payload.Length);
        Assert.Equal(5u, probe.U32(0));
        Assert.Equal(ERANGE, wire.Send(GETXATTR, passwd, FuseWire.Xattr(4, "user.comment"))!.Errno);
        Assert.Equal("hello", Encoding.ASCII.GetString(wire.Ok(GETXATTR, passwd, FuseWire.Xattr(5, "user.comment")).Payload));
        Assert.Equal(ENODATA, wire.Send(GETXATTR, passwd, FuseWire.Xattr(100, "user.none"))!.Errno);
        Assert.Equal(ENODATA, wire.Send(GETXATTR, passwd, FuseWire.Xattr(0, "user.none"))!.Errno);

        const string names = "user.comment\0security.selinux\0";
        Assert.Equal((uint)names.Length, wire.Ok(LISTXATTR, passwd, FuseWire.Xattr(0, null)).U32(0));
        Assert.Equal(ERANGE, wire.Send(LISTXATTR, passwd, FuseWire.Xattr(10, null))!.Errno);
        Assert.Equal(names, Encoding.ASCII.GetString(wire.Ok(LISTXATTR, passwd, FuseWire.Xattr(4096, null)).Payload));
        Assert.Equal(0u, wire.Ok(LISTXATTR, 1, FuseWire.Xattr(0, null)).U32(0));
    }

    [Fact]
    public void EverythingThatWouldModifyIsReadOnlyTheRestIsNotImplementedAndForgetsGetNoReply()
    {
        (_, FuseWire wire) = Serve();
        foreach (uint op in new[] { SETATTR, MKDIR, UNLINK, WRITE, SETXATTR, CREATE, RENAME2, COPY_FILE_RANGE, TMPFILE, 6u, 8u, 11u, 12u, 13u, 24u, 43u })
        {
            Assert.Equal(EROFS, wire.Send(op, 1, new byte[64])!.Errno);
        }
        foreach (uint op in new[] { FSYNC, LSEEK, 31u, 32u, 39u, 40u, 50u, 52u, 999u, 4096u })
        {
            Assert.Equal(ENOSYS, wire.Send(op, 1, new byte[64])!.Errno);
        }
        Assert.Null(wire.Send(FORGET, 3, new byte[8]));
        Assert.Null(wire.Send(BATCH_FORGET, 0, new byte[8 + 16]));
        Assert.Null(wire.Send(INTERRUPT, 0, new byte[8]));
        Assert.Empty(wire.Ok(DESTROY, 0, []).Payload);
    }

    [Fact]
    public void MalformedRequestsAreRefusedNeverFatal()
    {
        (_, FuseWire wire) = Serve();
        Assert.Equal(EINVAL, wire.Send(LOOKUP, 1, "noterminator"u8)!.Errno);
        Assert.Equal(EINVAL, wire.Send(READ, 1, new byte[8])!.Errno);
        Assert.Equal(EINVAL, wire.Send(GETXATTR, 1, new byte[4])!.Errno);
        Assert.Equal(EINVAL, wire.Send(GETATTR, 0, [])!.Errno); // node id 0 is nobody's
        byte[] lying = FuseWire.Request(GETATTR, 7, 1, new byte[16]);
        lying[0] = 200; // a length that is not what was read
        Assert.Equal(EINVAL, wire.SendRaw(lying, 7)!.Errno);
        byte[] extensions = FuseWire.Request(GETATTR, 8, 1, new byte[16]);
        extensions[36] = 200; // total_extlen beyond the request
        Assert.Equal(EINVAL, wire.SendRaw(extensions, 8)!.Errno);
        Assert.Equal(0, wire.Session.Handle(new byte[20], wire.Worker)); // not even a header: nothing to answer
        Assert.Equal(0, wire.Send(GETATTR, 1, [])!.Errno); // and the session goes on
    }

    [Fact]
    public void TheHotPathsAllocateNothing()
    {
        (_, FuseWire wire) = Serve();
        ulong many = LookupNode(wire, 1, "many");
        ulong big = LookupNode(wire, 1, "big");
        byte[] lookup = FuseWire.Request(LOOKUP, 1, many, FuseWire.Name("file-150-with-a-longish-name"));
        byte[] getattr = FuseWire.Request(GETATTR, 2, big, new byte[16]);
        byte[] read = FuseWire.Request(READ, 3, big, FuseWire.ReadIn(4096, 1 << 20));
        byte[] readdirplus = FuseWire.Request(READDIRPLUS, 4, many, FuseWire.ReadIn(0, 4096));
        byte[] negative = FuseWire.Request(LOOKUP, 5, many, FuseWire.Name("absent"));
        byte[][] requests = [lookup, getattr, read, readdirplus, negative];
        void Round()
        {
            foreach (byte[] r in requests)
            {
                Assert.True(wire.Session.Handle(r, wire.Worker) > 16);
            }
        }
        Round();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 200; i++)
        {
            Round();
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}

/// <summary>Tests that capture the process-wide log; they must not run beside each other.</summary>
[CollectionDefinition("Log", DisableParallelization = true)]
public sealed class LogCollection;

[Collection("Log")]
public sealed class FuseFailureTests
{
    private const uint LOOKUP = 1, READ = 15;

    [Fact]
    public void ADamagedImageIsEioWithOneWarningPerDistinctMessageThenOnlyACount()
    {
        var fs = new MemoryFileSystem();
        var damaged = new List<ulong>();
        for (int i = 0; i < FailureReporter.MaxDistinct + 5; i++)
        {
            damaged.Add(fs.AddFile($"f{i}", new byte[10]));
        }
        fs.Damaged.UnionWith(damaged);
        var wire = new FuseWire(fs);
        wire.Init();
        string log = CaptureLog(() =>
        {
            for (int round = 0; round < 3; round++)
            {
                foreach (ulong node in damaged)
                {
                    Reply r = wire.Send(READ, wire.Session.ToFuse(node), FuseWire.ReadIn(0, 4096))!;
                    Assert.Equal(5, r.Errno);
                }
            }
            wire.Failures.Flush();
        });
        string[] lines = log.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.All(lines, l => Assert.StartsWith("WARNING: test.sif: ", l));
        Assert.Equal(FailureReporter.MaxDistinct, lines.Count(l => l.Contains("does not decompress (answered with an I/O error)")));
        Assert.Single(lines, l => l.Contains("further ones are counted, not shown"));
        Assert.Single(lines, l => l.EndsWith("5 more failure(s) of the image were not shown"));
        Assert.Equal(3 * damaged.Count, wire.Failures.Count);
    }

    [Fact]
    public void AnUnexpectedExceptionIsEioAndAWarningNamingTheRequest()
    {
        var fs = new MemoryFileSystem();
        fs.Broken.Add(fs.AddFile("x", new byte[10]));
        var wire = new FuseWire(fs);
        wire.Init();
        ulong x = wire.Ok(LOOKUP, 1, FuseWire.Name("x")).U64(0);
        string log = CaptureLog(() => Assert.Equal(5, wire.Send(READ, x, FuseWire.ReadIn(0, 10))!.Errno));
        Assert.Equal("WARNING: test.sif: NullReferenceException while answering FUSE Read: a defect (answered with an I/O error)\n", log);
    }

    internal static string CaptureLog(Action action)
    {
        TextWriter saved = Log.Error;
        var writer = new StringWriter { NewLine = "\n" };
        Log.Error = writer;
        try
        {
            action();
        }
        finally
        {
            Log.Error = saved;
        }
        return writer.ToString();
    }
}

using System.Buffers.Binary;
using Burrow.E2E.Harness;
using Burrow.E2E.Actions;
using Burrow.E2E.Runtime;

namespace Burrow.E2E.Sif;

/// <summary>
/// SIF images are mounted, not unpacked: served over FUSE by burrow itself, with the image's owners as the user
/// namespace maps them, shared by concurrent containers, gone without trace at exit, and every fallback and every
/// damaged image said clearly. The default-container, identity and runtime suites also run on SIF files in full
/// (scripts/test, BURROW_E2E_IMAGE_FORMAT=sif); these are what only a SIF has.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class SifRunTests : IDisposable
{
    private static readonly string Debian = E2EEnvironment.DebianTree + ".sif";
    private static readonly string Busybox = E2EEnvironment.BusyboxTree + ".sif";
    private readonly string _dir;

    public SifRunTests()
    {
        _dir = Path.Combine("/tmp", "burrow-sif-run-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(_dir);
        File.SetUnixFileMode(_dir, (UnixFileMode)0x1FF);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    public static IEnumerable<object[]> BothUsers() => E2EEnvironment.BothUsers();

    private static RunResult Ok(RunResult r)
    {
        Assert.True(r.ExitCode == 0, r.ToString());
        return r;
    }

    [Theory]
    [MemberData(nameof(BothUsers))]
    public void TheReadmeWalkthroughHoldsOnASif(TestUser user)
    {
        RunResult r = AsUser.Burrow(user, "exec", Debian, "sh", "-c", "tail -n 1 /etc/passwd; stat -c %u /etc/sudo.conf; sudo whoami");
        Assert.StartsWith($"{user.Name}:x:{user.Uid}:{user.Gid}:", r.Stdout);
        Assert.Contains("\n65534\n", r.Stdout);
        Assert.Contains("sudo: /etc/sudo.conf is owned by uid 65534, should be 0", r.Stderr);
        Assert.Contains("\"no new privileges\" flag is set", r.Stderr);
        Assert.NotEqual(0, r.ExitCode);
    }

    [Fact]
    public void UnderFakerootTheImagesRootOwnedFilesAreRootsAndSetuidBitsAreKept()
    {
        RunResult r = Ok(AsUser.Burrow(E2EEnvironment.UserWithRange, "exec", "--fakeroot", Debian, "stat", "-c", "%U %a", "/etc/sudo.conf", "/usr/bin/sudo"));
        Assert.Equal("root 644\nroot 4755\n", r.Stdout);
    }

    [Fact]
    public void TheRootIsServedByBurrowOverFuseNotUnpacked()
    {
        TestUser user = E2EEnvironment.UserWithoutRange;
        RunResult explain = Ok(AsUser.Burrow(user, "exec", "--explain", Busybox, "true"));
        Assert.Contains("mounted over FUSE and served by burrow itself", explain.Stdout);
        RunResult r = Ok(AsUser.Burrow(user, "exec", Busybox, "true"));
        Assert.DoesNotContain("temporary sandbox", r.Stderr);
    }

    [Fact]
    public async Task TwentyConcurrentContainersOfOneSifAllSucceedAndSeeTheSameFiles()
    {
        TestUser user = E2EEnvironment.UserWithoutRange;
        string expected = Md5(Path.Combine(E2EEnvironment.BusyboxTree, "bin", "busybox"));
        Task<RunResult>[] runs = Enumerable.Range(0, 20)
            .Select(_ => Task.Run(() => AsUser.Burrow(user, "exec", Busybox, "md5sum", "/bin/busybox"))).ToArray();
        foreach (RunResult r in await Task.WhenAll(runs))
        {
            Ok(r);
            Assert.StartsWith(expected + " ", r.Stdout);
        }
    }

    [Fact]
    public void NothingIsLeftAfterANormalExitAKilledPayloadOrAKilledBurrow()
    {
        TestUser user = E2EEnvironment.UserWithoutRange;
        string a = Random.Shared.Next(100000, 999999).ToString(), b = Random.Shared.Next(100000, 999999).ToString();
        // A normal exit with a daemon left running, then a payload that dies of a signal.
        Ok(AsUser.Burrow(user, "exec", Busybox, "sh", "-c", $"setsid sleep {a} & true"));
        Assert.Equal(128 + 9, AsUser.Burrow(user, "exec", Busybox, "sh", "-c", "kill -KILL $$").ExitCode);
        Assert.True(HostProcesses.WaitUntilGone("sleep " + a, TimeSpan.FromSeconds(10)), "stray after a normal exit: sleep " + a);
        // burrow itself killed while serving.
        using (BackgroundBurrow burrow = BackgroundBurrow.Start(user, "exec", Busybox, "sh", "-c", $"sleep {b} & echo started; wait"))
        {
            burrow.WaitForOutput("started");
            burrow.Signal(9);
            burrow.WaitForExit();
        }
        Assert.True(HostProcesses.WaitUntilGone("sleep " + b, TimeSpan.FromSeconds(10)), "stray after SIGKILL: sleep " + b);
        Assert.Empty(HostProcesses.Matching("squashfuse"));
    }

    [Fact]
    public void UnsquashAndAMachineWithoutFuseGiveTheSameContainer()
    {
        TestUser user = E2EEnvironment.UserWithoutRange;
        const string look = "id; ls -ln /etc | md5sum; md5sum /bin/busybox; cat /etc/group | wc -l";
        RunResult mounted = Ok(AsUser.Burrow(user, "exec", Debian, "sh", "-c", look));
        RunResult unsquashed = Ok(AsUser.Burrow(user, "exec", "--unsquash", Debian, "sh", "-c", look));
        Assert.Contains("INFO:    Converting SIF file to temporary sandbox...", unsquashed.Stderr);
        // Unpacked without privilege the files become the caller's: listings differ in owners only, contents not.
        Assert.Equal(Lines(mounted.Stdout)[0], Lines(unsquashed.Stdout)[0]);
        Assert.Equal(Lines(mounted.Stdout)[2..], Lines(unsquashed.Stdout)[2..]);

        // No usable /dev/fuse: an unreadable file bound over it, in a mount namespace of the caller's own; burrow runs one
        // user namespace further in, as the caller again, where nothing gives it the right to open that file.
        string blocker = Path.Combine(_dir, "no-fuse-" + user.Name);
        RunResult noFuse = AsUser.Run(user, ["sh", "-c",
            $"touch {blocker} && chmod 000 {blocker} && exec unshare --user --map-root-user --mount sh -c " +
            $"\"mount --bind {blocker} /dev/fuse && exec unshare --user --map-user={user.Uid} --map-group={user.Gid} {E2EEnvironment.Burrow} exec {Debian} sh -c '{look}'\""]);
        Ok(noFuse);
        Assert.Contains("INFO:    cannot use /dev/fuse (Permission denied): unpacking the image instead of mounting it", noFuse.Stderr);
        Assert.Equal(Lines(mounted.Stdout)[2..], Lines(noFuse.Stdout)[2..]);
    }

    [Fact]
    public void WritableIsRefusedOnASifAndTheTmpfsAndOverlaysTakeTheChangesInstead()
    {
        TestUser user = E2EEnvironment.UserWithRange;
        RunResult refused = AsUser.Burrow(user, "exec", "--writable", Busybox, "true");
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains($"ERROR:   --writable: the SIF image {Busybox} cannot be changed in place", refused.Stderr);
        Assert.Contains("--writable-tmpfs", refused.Stderr);

        Assert.Equal("changed\n", Ok(AsUser.Burrow(user, "exec", "--fakeroot", "--writable-tmpfs", Busybox, "sh", "-c", "echo changed > /etc/motd && cat /etc/motd")).Stdout);
        Assert.NotEqual(0, AsUser.Burrow(user, "exec", Busybox, "cat", "/etc/motd").ExitCode);

        string overlay = Path.Combine(_dir, "overlay-" + user.Name);
        Ok(AsUser.Run(user, ["mkdir", overlay]));
        Ok(AsUser.Burrow(user, "exec", "--fakeroot", "--overlay", overlay, Busybox, "sh", "-c", "echo kept > /etc/motd && rm /etc/group"));
        RunResult again = Ok(AsUser.Burrow(user, "exec", "--fakeroot", "--overlay", overlay + ":ro", Busybox, "sh", "-c", "cat /etc/motd; test -e /etc/group || echo gone"));
        Assert.Equal("kept\ngone\n", again.Stdout);
        Assert.True(File.Exists(Path.Combine(overlay, "upper", "etc", "motd")));
    }

    [Fact]
    public void TheTestScriptOfAnImageRuns()
    {
        TestUser user = E2EEnvironment.UserWithoutRange;
        string tree = Path.Combine(_dir, "with-test");
        ActionImage.Run("cp", "-a", E2EEnvironment.BusyboxTree, tree);
        Directory.CreateDirectory(Path.Combine(tree, ".singularity.d"));
        File.WriteAllText(Path.Combine(tree, ".singularity.d", "test"), "#!/bin/sh\necho \"testing $*\"\nexit 3\n");
        ActionImage.Run("chmod", "0755", Path.Combine(tree, ".singularity.d", "test"));
        string sif = MakeSif(tree, "with-test.sif");
        RunResult r = AsUser.Burrow(user, "test", sif, "a", "b");
        Assert.Equal(3, r.ExitCode);
        Assert.Equal("testing a b\n", r.Stdout);
        RunResult none = Ok(AsUser.Burrow(user, "test", Busybox));
        Assert.Contains("INFO:    No test script found in container, exiting", none.Stderr);
    }

    [Fact]
    public void ASifWithNothingRunnableIsAClearError()
    {
        TestUser user = E2EEnvironment.UserWithoutRange;
        string empty = Path.Combine(_dir, "empty.sif");
        Ok(AsUser.Burrow(user, "sif", "new", empty));
        Expect(AsUser.Burrow(user, "exec", empty, "true"), "the SIF has no primary system partition");

        string ext3 = Path.Combine(_dir, "ext3.sif");
        string data = Path.Combine(_dir, "blob");
        File.WriteAllText(data, new string('e', 5000));
        File.SetUnixFileMode(data, (UnixFileMode)0x1B6);
        Ok(AsUser.Burrow(user, "sif", "new", ext3));
        Ok(AsUser.Burrow(user, "sif", "add", ext3, data, "--datatype", "4", "--partfs", "2", "--parttype", "2", "--partarch", "2"));
        Expect(AsUser.Burrow(user, "exec", ext3, "true"), "not squashfs; only squashfs can be run");

        string text = Path.Combine(_dir, "notes.txt");
        File.WriteAllText(text, "not an image\n");
        File.SetUnixFileMode(text, (UnixFileMode)0x1B6);
        Expect(AsUser.Burrow(user, "exec", text, "true"), "is neither a SIF file nor a directory");
    }

    [Theory]
    [InlineData("superblock")]
    [InlineData("inode table")]
    [InlineData("fragment table")]
    [InlineData("data block")]
    public void ADamagedSquashfsIsSaidNeverACrashOrAHang(string where)
    {
        TestUser user = E2EEnvironment.UserWithoutRange;
        string sif = Path.Combine(_dir, "damaged.sif");
        File.Copy(Debian, sif);
        File.SetUnixFileMode(sif, (UnixFileMode)0x1B6);
        Damage(sif, where);
        RunResult r = AsUser.Burrow(user, "exec", sif, "sh", "-c", "cat /etc/passwd /etc/os-release /usr/bin/* >/dev/null && ls -R /usr/share/doc > /dev/null");
        Assert.False(r.TimedOut, r.ToString());
        Assert.NotEqual(0, r.ExitCode);
        Assert.DoesNotContain("   at ", r.Stderr);
        Assert.DoesNotContain("Unhandled exception", r.Stderr);
        // Found before the launch: one ERROR line naming the image; found while serving: a WARNING naming it (the
        // payload sees EIO and fails its own way).
        Assert.True(r.Stderr.Contains("ERROR:   ") || r.Stderr.Contains("WARNING: "), r.ToString());
        Assert.Contains(sif, r.Stderr);
        Assert.True(HostProcesses.WaitUntilGone(sif, TimeSpan.FromSeconds(10)), "a process of the damaged image was left");
    }

    private static void Expect(RunResult r, string message)
    {
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains(message, r.Stderr);
        Assert.Single(r.Stderr.Split('\n'), l => l.StartsWith("ERROR:   ", StringComparison.Ordinal) && l.Contains(message, StringComparison.Ordinal));
        Assert.DoesNotContain("   at ", r.Stderr);
    }

    /// <summary>Flips bytes where the squashfs superblock says a part lies (the partition's offset read from the SIF).</summary>
    private static void Damage(string sif, string where)
    {
        using var f = new FileStream(sif, FileMode.Open, FileAccess.ReadWrite);
        long partition = SquashfsOffset(f);
        byte[] sb = new byte[96];
        f.Position = partition;
        f.ReadExactly(sb);
        long at = where switch
        {
            "superblock" => partition + 28, // compressor id and block log
            "inode table" => partition + (long)BinaryPrimitives.ReadUInt64LittleEndian(sb.AsSpan(64)) + 2,
            "fragment table" => partition + (long)BinaryPrimitives.ReadUInt64LittleEndian(sb.AsSpan(80)),
            _ => partition + 96,
        };
        if (where == "data block")
        {
            // One byte in every 16 KiB of the data area, so that the files the payload reads are hit.
            long end = partition + (long)BinaryPrimitives.ReadUInt64LittleEndian(sb.AsSpan(64));
            for (long p = at + 100; p < end; p += 16384)
            {
                f.Position = p;
                int b = f.ReadByte();
                f.Position = p;
                f.WriteByte((byte)(b ^ 0xff));
            }
            return;
        }
        int count = where == "fragment table" ? 8 : 64;
        byte[] bytes = new byte[count];
        f.Position = at;
        f.ReadExactly(bytes);
        for (int i = 0; i < count; i++)
        {
            bytes[i] ^= 0x5a;
        }
        if (where == "fragment table")
        {
            // The fragment table's first entry pointer: aim it past the end of the image.
            BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)f.Length * 4);
        }
        f.Position = at;
        f.Write(bytes);
    }

    /// <summary>The offset of the first descriptor's object, the primary partition in these images (SIF layout: the
    /// descriptor table's offset is at 0x60 of the header, an object's offset at byte 17 of its descriptor).</summary>
    private static long SquashfsOffset(FileStream f)
    {
        byte[] header = new byte[128];
        f.Position = 0;
        f.ReadExactly(header);
        long descriptors = BinaryPrimitives.ReadInt64LittleEndian(header.AsSpan(0x60));
        byte[] d = new byte[40];
        f.Position = descriptors;
        f.ReadExactly(d);
        return BinaryPrimitives.ReadInt64LittleEndian(d.AsSpan(17));
    }

    private string MakeSif(string tree, string name)
    {
        string squash = Path.Combine(_dir, name + ".sqfs");
        string sif = Path.Combine(_dir, name);
        ActionImage.Run("mksquashfs", tree, squash, "-comp", "zstd", "-noappend", "-quiet");
        ActionImage.Run("siftool", "new", sif);
        ActionImage.Run("siftool", "add", "--datatype", "4", "--partfs", "1", "--parttype", "2", "--partarch", "2", "--groupid", "1", sif, squash);
        ActionImage.Run("chmod", "0644", sif);
        return sif;
    }

    private static string Md5(string path) =>
        Convert.ToHexString(System.Security.Cryptography.MD5.HashData(File.ReadAllBytes(path))).ToLowerInvariant();

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
}

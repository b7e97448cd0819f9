using System.Diagnostics;
using System.Formats.Tar;
using System.Text;

namespace Burrow.Tests.Squashfs;

/// <summary>
/// Images made at test time by Debian's mksquashfs and tar2sqfs from one source tree (and one tar), built once
/// per test run under a temporary directory. The tree holds what a reader must get right: block-boundary sizes,
/// sparse and multi-block files, a directory of thousands of entries (an indexed directory), long names, hard
/// links, symlinks of every kind, setuid bits; pseudo definitions add devices, a fifo, a socket and foreign owners.
/// </summary>
internal static class SquashfsFixtures
{
    public const int ManyEntries = 3000;
    private static readonly object s_lock = new();
    private static readonly Dictionary<string, string> s_images = [];
    private static readonly Lazy<string> s_work = new(() => Directory.CreateTempSubdirectory("burrow-sqfs-").FullName);
    private static readonly Lazy<string> s_tree = new(BuildTree);

    public static string Work => s_work.Value;

    /// <summary>The source tree of the mksquashfs images.</summary>
    public static string Tree => s_tree.Value;

    /// <summary>What the pseudo definitions add: path, unsquashfs -lln mode string, owner, and device or size.</summary>
    public static readonly string[] Pseudo =
    [
        "dev d 755 0 0",
        "dev/null c 666 0 0 1 3",
        "dev/sda1 b 660 0 6 8 1",
        "dev/big c 600 0 0 300 70000",
        "dev/fifo i 644 0 0 f",
        "dev/sock i 755 0 0 s",
        "owned m 4750 1234 5678",
    ];

    /// <summary>An image of <see cref="Tree"/> made by mksquashfs with these options (cached per option set).</summary>
    public static string Mksquashfs(string optionLine)
    {
        string[] options = optionLine.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        string key = "mk " + optionLine;
        lock (s_lock)
        {
            if (s_images.TryGetValue(key, out string? done))
            {
                return done;
            }
            string image = Path.Combine(Work, $"mk{s_images.Count}.sqfs");
            var args = new List<string> { Tree, image, "-noappend", "-quiet", "-no-progress", "-processors", "1" };
            args.AddRange(options);
            foreach (string p in Pseudo)
            {
                args.Add("-p");
                args.Add(p);
            }
            Run("mksquashfs", args);
            s_images[key] = image;
            return image;
        }
    }

    /// <summary>An image made by tar2sqfs from <see cref="TarEntries"/>: owners, devices, setuid bits and xattrs without root.</summary>
    public static string Tar2sqfs(string compressor, params string[] options)
    {
        string key = "tar " + compressor + " " + string.Join(' ', options);
        lock (s_lock)
        {
            if (s_images.TryGetValue(key, out string? done))
            {
                return done;
            }
            string tar = Path.Combine(Work, "input.tar");
            if (!File.Exists(tar))
            {
                WriteTar(tar);
            }
            string image = Path.Combine(Work, $"tar{s_images.Count}.sqfs");
            var args = new List<string> { "--quiet", "--force", "--compressor", compressor };
            args.AddRange(options);
            args.Add(image);
            Run("tar2sqfs", args, stdinFile: tar);
            s_images[key] = image;
            return image;
        }
    }

    public static string Run(string tool, IEnumerable<string> args, string? stdinFile = null)
    {
        var psi = new ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = stdinFile is not null };
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }
        psi.Environment["TZ"] = "UTC";
        using Process p = Process.Start(psi)!;
        Task<string> stdout = p.StandardOutput.ReadToEndAsync();
        Task<string> stderr = p.StandardError.ReadToEndAsync();
        if (stdinFile is not null)
        {
            using (FileStream f = File.OpenRead(stdinFile))
            {
                f.CopyTo(p.StandardInput.BaseStream);
            }
            p.StandardInput.Close();
        }
        p.WaitForExit();
        if (p.ExitCode != 0)
        {
            throw new InvalidOperationException($"{tool} {string.Join(' ', args)} failed ({p.ExitCode}): {stderr.Result}");
        }
        return stdout.Result;
    }

    /// <summary>Deterministic bytes: compressible text when <paramref name="compressible"/>, else noise (stored uncompressed).</summary>
    public static byte[] Content(int seed, int length, bool compressible)
    {
        var b = new byte[length];
        var r = new Random(seed);
        if (compressible)
        {
            byte[] words = Encoding.ASCII.GetBytes("squashfs burrow fragment block inode directory ");
            for (int i = 0; i < length; i++)
            {
                b[i] = words[(i + r.Next(3)) % words.Length];
            }
        }
        else
        {
            r.NextBytes(b);
        }
        return b;
    }

    private static string BuildTree()
    {
        string root = Path.Combine(Work, "tree");
        Directory.CreateDirectory(root);
        void Write(string rel, byte[] bytes)
        {
            string path = Path.Combine(root, rel);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllBytes(path, bytes);
        }
        Write("etc/passwd", "root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000::/home/user:/bin/sh\n"u8.ToArray());
        Write("etc/group", "root:x:0:\n"u8.ToArray());
        Write(".singularity.d/env/01-base.sh", "export A=1\n"u8.ToArray());
        Write(".singularity.d/env/90-environment.sh", "export B=2\n"u8.ToArray());
        Directory.CreateDirectory(Path.Combine(root, ".singularity.d/env/not-a-file.sh"));
        File.CreateSymbolicLink(Path.Combine(root, ".singularity.d/env/50-link.sh"), "01-base.sh");
        File.CreateSymbolicLink(Path.Combine(root, ".singularity.d/env/60-dangling.sh"), "missing.sh");
        Write("owned", "owned by someone else\n"u8.ToArray());
        Write("empty-file", []);
        Directory.CreateDirectory(Path.Combine(root, "empty-dir"));
        for (int i = 0; i < 60; i++)
        {
            Write($"small/f{i:D3}", Content(i, (i * 977) % 6000, compressible: i % 2 == 0));
        }
        int seed = 1000;
        foreach (int bs in new[] { 4096, 131072 })
        {
            foreach (int size in new[] { bs - 1, bs, bs + 1, 3 * bs, 3 * bs + 17 })
            {
                Write($"sizes/{bs}-{size}-text", Content(seed++, size, compressible: true));
                Write($"sizes/{bs}-{size}-noise", Content(seed++, size, compressible: false));
            }
        }
        Write("big/five-blocks-and-a-tail", Content(7, 5 * 131072 + 12345, compressible: true));
        using (FileStream f = File.Create(Path.Combine(root, "big/sparse")))
        {
            // A hole of whole blocks, then data: mksquashfs stores the hole as size-0 (sparse) blocks.
            f.Seek(3 * 131072 + 100, SeekOrigin.Begin);
            f.Write(Content(8, 5000, compressible: true));
        }
        Write("big/zeros", new byte[2 * 131072]);
        for (int i = 0; i < ManyEntries; i++)
        {
            Write($"many/entry-{i:D5}", Encoding.ASCII.GetBytes($"entry {i}\n"));
        }
        Write(new string('n', 255), "long name\n"u8.ToArray());
        Write("links/target", "hard linked\n"u8.ToArray());
        Run("ln", [Path.Combine(root, "links/target"), Path.Combine(root, "links/hard")]);
        File.CreateSymbolicLink(Path.Combine(root, "links/relative"), "target");
        File.CreateSymbolicLink(Path.Combine(root, "links/absolute"), "/etc/passwd");
        File.CreateSymbolicLink(Path.Combine(root, "links/escape"), "../../../../../../etc/passwd");
        File.CreateSymbolicLink(Path.Combine(root, "links/loop1"), "loop2");
        File.CreateSymbolicLink(Path.Combine(root, "links/loop2"), "loop1");
        File.CreateSymbolicLink(Path.Combine(root, "links/dir"), "/small");
        File.CreateSymbolicLink(Path.Combine(root, "links/dangling"), "/nowhere/at/all");
        File.CreateSymbolicLink(Path.Combine(root, "links/self"), "self");
        File.CreateSymbolicLink(Path.Combine(root, "links/long"), new string('x', 4000));
        string setuid = Path.Combine(root, "bin/setuid");
        Write("bin/setuid", "#!/bin/sh\n"u8.ToArray());
        Run("chmod", ["6755", setuid]);
        Run("chmod", ["1604", Path.Combine(root, "small/f001")]);
        return root;
    }

    /// <summary>The tar that tar2sqfs images are made from.</summary>
    public static IReadOnlyList<TarEntry> TarEntries()
    {
        var entries = new List<TarEntry>();
        PaxTarEntry Entry(TarEntryType type, string name, int mode, int uid, int gid, Dictionary<string, string>? pax = null)
        {
            var e = pax is null ? new PaxTarEntry(type, name) : new PaxTarEntry(type, name, pax);
            e.Mode = (UnixFileMode)mode;
            e.Uid = uid;
            e.Gid = gid;
            e.ModificationTime = new DateTimeOffset(2024, 5, 6, 7, 8, 9, TimeSpan.Zero);
            return e;
        }
        entries.Add(Entry(TarEntryType.Directory, "etc/", 0x1ED, 0, 0));
        PaxTarEntry passwd = Entry(TarEntryType.RegularFile, "etc/passwd", 0x1A4, 0, 0);
        passwd.DataStream = new MemoryStream("root:x:0:0::/root:/bin/sh\n"u8.ToArray());
        entries.Add(passwd);
        entries.Add(Entry(TarEntryType.Directory, "usr/", 0x1ED, 0, 0));
        PaxTarEntry sudo = Entry(TarEntryType.RegularFile, "usr/sudo", Convert.ToInt32("4755", 8), 0, 0,
            new Dictionary<string, string> { ["SCHILY.xattr.security.capability"] = "\u0001\u0002", ["SCHILY.xattr.user.comment"] = "a comment" });
        sudo.DataStream = new MemoryStream(Content(99, 70_000, compressible: true));
        entries.Add(sudo);
        PaxTarEntry mine = Entry(TarEntryType.RegularFile, "usr/theirs", 0x1A0, 4242, 4343,
            new Dictionary<string, string> { ["SCHILY.xattr.user.comment"] = "a comment", ["SCHILY.xattr.trusted.big"] = new string('v', 3000) });
        mine.DataStream = new MemoryStream("theirs\n"u8.ToArray());
        entries.Add(mine);
        PaxTarEntry hard = Entry(TarEntryType.HardLink, "usr/hardlink", 0x1A0, 4242, 4343);
        hard.LinkName = "usr/theirs";
        entries.Add(hard);
        entries.Add(Entry(TarEntryType.Directory, "dev/", 0x1ED, 0, 0));
        PaxTarEntry nul = Entry(TarEntryType.CharacterDevice, "dev/null", 0x1B6, 0, 0);
        nul.DeviceMajor = 1;
        nul.DeviceMinor = 3;
        entries.Add(nul);
        PaxTarEntry sda = Entry(TarEntryType.BlockDevice, "dev/sda", 0x1B0, 0, 6);
        sda.DeviceMajor = 8;
        sda.DeviceMinor = 0;
        entries.Add(sda);
        entries.Add(Entry(TarEntryType.Fifo, "dev/initctl", 0x180, 0, 0));
        PaxTarEntry link = Entry(TarEntryType.SymbolicLink, "dev/stdin", 0x1FF, 0, 0,
            new Dictionary<string, string> { ["SCHILY.xattr.user.onlink"] = "yes" });
        link.LinkName = "/proc/self/fd/0";
        entries.Add(link);
        entries.Add(Entry(TarEntryType.Directory, "xdir/", 0x1ED, 7, 8, new Dictionary<string, string> { ["SCHILY.xattr.user.dir"] = "on a directory" }));
        return entries;
    }

    private static void WriteTar(string path)
    {
        using FileStream f = File.Create(path);
        using var writer = new TarWriter(f, TarEntryFormat.Pax);
        foreach (TarEntry e in TarEntries())
        {
            writer.WriteEntry(e);
        }
    }
}

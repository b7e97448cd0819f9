using System.Buffers.Binary;
using System.Formats.Tar;
using System.Text;
using Burrow.Core.Squashfs;

namespace Burrow.Tests.Squashfs;

/// <summary>
/// Mutates small images made by mksquashfs and tar2sqfs (several compressors, and uncompressed tables so that
/// damage reaches the parsers rather than the decoders) and feeds them to <see cref="SquashfsFuzzTarget"/>:
/// only clean errors are allowed, and each case must end within a time limit. scripts/test runs a bounded
/// number of cases; scripts/fuzz-squashfs runs 100,000 or more (BURROW_SQUASHFS_FUZZ_CASES, BURROW_SQUASHFS_FUZZ_SEED).
/// </summary>
public sealed class SquashfsFuzzTests
{
    private static readonly TimeSpan s_caseLimit = TimeSpan.FromSeconds(
        int.TryParse(Environment.GetEnvironmentVariable("BURROW_SQUASHFS_FUZZ_CASE_SECONDS"), out int limit) ? limit : 20);

    private static readonly ulong[] s_interesting =
    [
        0, 1, 2, 3, 4, 7, 8, 12, 16, 0x7F, 0x80, 0xFF, 0x100, 0x1FF, 0x3FF, 0x7FFF, 0x8000, 0x8001, 0xFFFF, 0x1_0000, 8191, 8192, 8193,
        4095, 4096, 4097, 131071, 131072, 131073, 1 << 20, 0x00FF_FFFF, 0x0100_0000, 0x0100_0001, 0x7FFF_FFFF, 0x8000_0000,
        0xFFFF_FFFE, 0xFFFF_FFFF, 0x1_0000_0000, long.MaxValue, ulong.MaxValue, ulong.MaxValue - 1,
    ];

    [Fact]
    public void MutatedImagesGiveOnlyCleanErrors()
    {
        int cases = int.TryParse(Environment.GetEnvironmentVariable("BURROW_SQUASHFS_FUZZ_CASES"), out int n) ? n : 2000;
        int seed = int.TryParse(Environment.GetEnvironmentVariable("BURROW_SQUASHFS_FUZZ_SEED"), out int s) ? s : 20261201;
        (string Name, byte[] Bytes, Region[] Regions)[] corpus = Corpus().Select(p => (Path.GetFileName(p), File.ReadAllBytes(p), Regions(File.ReadAllBytes(p)))).ToArray();
        foreach (var (name, bytes, _) in corpus)
        {
            Assert.True(SquashfsFuzzTarget.Exercise(bytes), $"the unmutated {name} must open");
        }
        var random = new Random(seed);
        int opened = 0;
        TimeSpan slowest = TimeSpan.Zero;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (int i = 0; i < cases; i++)
        {
            var (name, original, regions) = corpus[random.Next(corpus.Length)];
            byte[] input = Mutate(original, regions, random);
            var started = System.Diagnostics.Stopwatch.StartNew();
            bool result = false;
            Exception? escaped = null;
            // Each case on its own thread, so that a hang is caught (and reported) rather than waited for.
            var worker = new Thread(() =>
            {
                try
                {
                    result = SquashfsFuzzTarget.Exercise(input);
                }
                catch (Exception e)
                {
                    escaped = e;
                }
            }, 16 << 20) { IsBackground = true };
            worker.Start();
            if (!worker.Join(s_caseLimit))
            {
                Assert.Fail($"case {i} (seed {seed}, from {name}) did not finish within {s_caseLimit.TotalSeconds} s (a hang)\ninput saved to {Save(seed, i, input)}");
            }
            if (escaped is not null)
            {
                Assert.Fail($"case {i} (seed {seed}, from {name}) escaped with {escaped.GetType().Name}: {escaped.Message}\n" +
                    $"input saved to {Save(seed, i, input)}\n{escaped}");
            }
            slowest = started.Elapsed > slowest ? started.Elapsed : slowest;
            if (result)
            {
                opened++;
            }
        }
        Console.WriteLine($"Squashfs fuzz: {cases} cases, seed {seed}, {corpus.Length} images: {opened} opened, {cases - opened} rejected at open, " +
            $"0 crashes, 0 hangs; slowest case {slowest.TotalMilliseconds:F0} ms, {clock.Elapsed.TotalSeconds:F0} s in all");
        Assert.True(opened > cases / 5, $"only {opened} of {cases} mutated images opened: the mutator is too destructive to test the readers");
    }

    private static string Save(int seed, int i, byte[] input)
    {
        string saved = Path.Combine(Path.GetTempPath(), $"squashfs-fuzz-{seed}-{i}.sqfs");
        File.WriteAllBytes(saved, input);
        return saved;
    }

    /// <summary>A part of the image the mutations aim at: superblock, data, and each table.</summary>
    private readonly record struct Region(string Name, int Start, int End);

    private static Region[] Regions(byte[] image)
    {
        long Field(int at) => BinaryPrimitives.ReadInt64LittleEndian(image.AsSpan(at));
        int used = (int)Field(40);
        var starts = new List<(string, long)>
        {
            ("superblock", 0), ("data", 96), ("inode table", Field(64)), ("directory table", Field(72)),
            ("fragment table", Field(80)), ("export table", Field(88)), ("id table", Field(48)), ("xattr table", Field(56)),
        };
        var valid = starts.Where(t => t.Item2 >= 0 && t.Item2 < used).OrderBy(t => t.Item2).ToList();
        var regions = new List<Region>();
        for (int k = 0; k < valid.Count; k++)
        {
            // The lookup tables' blocks lie before the list the superblock points at: start their region a little earlier.
            int start = (int)valid[k].Item2;
            int end = k + 1 < valid.Count ? (int)valid[k + 1].Item2 : used;
            if (k > 3)
            {
                start = Math.Max((int)valid[k - 1].Item2, start - 64);
            }
            if (end > start)
            {
                regions.Add(new Region(valid[k].Item1, start, end));
            }
        }
        return regions.ToArray();
    }

    private static byte[] Mutate(byte[] original, Region[] regions, Random r)
    {
        byte[] b = (byte[])original.Clone();
        int rounds = 1 + r.Next(3);
        for (int k = 0; k < rounds; k++)
        {
            Region region = regions[r.Next(regions.Length)];
            int End() => Math.Min(region.End, b.Length);
            if (End() <= region.Start)
            {
                continue;
            }
            int At() => r.Next(region.Start, End());
            int op = r.Next(10);
            // Superblock-field writes only when aiming at the superblock; truncation seldom: both mostly stop the open.
            op = op == 4 && region.Name != "superblock" ? 3 : op == 5 && r.Next(3) != 0 ? 0 : op;
            switch (op)
            {
                case 0:
                case 1:
                case 9:
                    for (int j = r.Next(1, 6); j > 0; j--)
                    {
                        b[At()] ^= (byte)(1 << r.Next(8));
                    }
                    break;
                case 2:
                    b[At()] = (byte)r.Next(256);
                    break;
                case 3:
                {
                    int width = 1 << r.Next(1, 4);
                    int at = At();
                    if (at + width <= b.Length)
                    {
                        ulong v = r.Next(3) == 0 ? (ulong)r.NextInt64() : s_interesting[r.Next(s_interesting.Length)];
                        Span<byte> field = b.AsSpan(at, width);
                        if (width == 2) BinaryPrimitives.WriteUInt16LittleEndian(field, (ushort)v);
                        else if (width == 4) BinaryPrimitives.WriteUInt32LittleEndian(field, (uint)v);
                        else BinaryPrimitives.WriteUInt64LittleEndian(field, v);
                    }
                    break;
                }
                case 4:
                {
                    // A superblock field, at its own width.
                    if (b.Length < 96)
                    {
                        break;
                    }
                    int[] at16 = [20, 22, 24, 26, 28, 30], at32 = [4, 8, 12, 16], at64 = [32, 40, 48, 56, 64, 72, 80, 88];
                    ulong v = s_interesting[r.Next(s_interesting.Length)];
                    switch (r.Next(3))
                    {
                        case 0: BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(at16[r.Next(at16.Length)]), (ushort)v); break;
                        case 1: BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(at32[r.Next(at32.Length)]), (uint)v); break;
                        default:
                        {
                            int at = at64[r.Next(at64.Length)];
                            ulong old = BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(at));
                            BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(at), r.Next(2) == 0 ? v : old + (ulong)r.Next(-300, 300));
                            break;
                        }
                    }
                    break;
                }
                case 5:
                    Array.Resize(ref b, r.Next(2) == 0 ? r.Next(region.Start, End() + 1) : r.Next(b.Length + 1));
                    break;
                case 6:
                {
                    // Copy a run from elsewhere: well-formed structures in the wrong place (references pointing back).
                    int length = r.Next(1, 48);
                    int from = r.Next(Math.Max(1, b.Length - length)), to = At();
                    if (from + length <= b.Length && to + length <= b.Length)
                    {
                        b.AsSpan(from, length).CopyTo(b.AsSpan(to));
                    }
                    break;
                }
                case 7:
                {
                    // A 16-bit word nudged: sizes, offsets and counts off by a little.
                    int at = At();
                    if (at + 2 <= b.Length)
                    {
                        ushort old = BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(at));
                        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(at), (ushort)(old + r.Next(-3, 4)));
                    }
                    break;
                }
                default:
                {
                    int at = At();
                    b.AsSpan(at, Math.Min(r.Next(1, 16), b.Length - at)).Fill((byte)(r.Next(2) == 0 ? 0 : 0xFF));
                    break;
                }
            }
        }
        return b;
    }

    private static readonly Lazy<string[]> s_corpus = new(BuildCorpus);

    private static string[] Corpus() => s_corpus.Value;

    /// <summary>Small images of a small tree: every inode type, an indexed directory, fragments, multi-block files, xattrs.</summary>
    private static string[] BuildCorpus()
    {
        string dir = Path.Combine(SquashfsFixtures.Work, "fuzz");
        string tree = Path.Combine(dir, "tree");
        Directory.CreateDirectory(Path.Combine(tree, "etc"));
        File.WriteAllText(Path.Combine(tree, "etc/passwd"), "root:x:0:0::/root:/bin/sh\n");
        Directory.CreateDirectory(Path.Combine(tree, ".singularity.d/env"));
        File.WriteAllText(Path.Combine(tree, ".singularity.d/env/01-base.sh"), "export A=1\n");
        Directory.CreateDirectory(Path.Combine(tree, "links"));
        File.CreateSymbolicLink(Path.Combine(tree, "links/absolute"), "/etc/passwd");
        File.CreateSymbolicLink(Path.Combine(tree, "links/loop"), "loop");
        File.CreateSymbolicLink(Path.Combine(tree, "links/up"), "../../etc");
        Directory.CreateDirectory(Path.Combine(tree, "many"));
        for (int i = 0; i < 450; i++)
        {
            File.WriteAllText(Path.Combine(tree, "many", $"a-rather-long-entry-name-{i:D4}"), i % 3 == 0 ? $"{i}\n" : "");
        }
        File.WriteAllBytes(Path.Combine(tree, "blocks"), SquashfsFixtures.Content(1, 3 * 4096 + 1000, compressible: true));
        File.WriteAllBytes(Path.Combine(tree, "noise"), SquashfsFixtures.Content(2, 4096 + 10, compressible: false));
        using (FileStream f = File.Create(Path.Combine(tree, "sparse")))
        {
            f.Seek(3 * 4096, SeekOrigin.Begin);
            f.Write("end"u8);
        }
        SquashfsFixtures.Run("ln", [Path.Combine(tree, "blocks"), Path.Combine(tree, "hardlink")]);
        string[] pseudo = ["-p", "dev d 755 0 0", "-p", "dev/null c 666 0 0 1 3", "-p", "dev/sda b 660 0 6 8 0", "-p", "dev/fifo i 644 0 0 f",
            "-p", "dev/sock i 755 0 0 s", "-p", "etc/passwd m 4755 1000 2000"];
        var images = new List<string>();
        string Mk(string name, params string[] options)
        {
            string image = Path.Combine(dir, name + ".sqfs");
            SquashfsFixtures.Run("mksquashfs", [tree, image, "-noappend", "-quiet", "-no-progress", "-processors", "1", "-b", "4096", .. options, .. pseudo]);
            images.Add(image);
            return image;
        }
        Mk("raw", "-noI", "-noD", "-noF", "-noX");
        Mk("raw-fragments", "-noI", "-noD", "-noF", "-noX", "-always-use-fragments");
        Mk("raw-no-exports", "-noI", "-noD", "-noF", "-noX", "-no-exports", "-no-xattrs");
        Mk("raw-nofrag", "-noI", "-noD", "-noX", "-no-fragments");
        Mk("gzip", "-comp", "gzip");
        Mk("zstd", "-comp", "zstd");
        Mk("lz4", "-comp", "lz4");
        Mk("xz", "-comp", "xz");
        Mk("lzo", "-comp", "lzo");

        string tar = Path.Combine(dir, "input.tar");
        using (FileStream f = File.Create(tar))
        using (var w = new TarWriter(f, TarEntryFormat.Pax))
        {
            foreach (TarEntry e in SquashfsFixtures.TarEntries())
            {
                w.WriteEntry(e);
            }
            var many = new PaxTarEntry(TarEntryType.RegularFile, "usr/more", new Dictionary<string, string>
            {
                ["SCHILY.xattr.user.a"] = "1", ["SCHILY.xattr.user.b"] = new string('b', 300), ["SCHILY.xattr.security.selinux"] = "system_u:object_r:bin_t:s0",
            }) { DataStream = new MemoryStream(Encoding.ASCII.GetBytes("more\n")) };
            w.WriteEntry(many);
        }
        foreach (string compressor in new[] { "gzip", "zstd", "lz4", "xz" })
        {
            string image = Path.Combine(dir, "tar-" + compressor + ".sqfs");
            SquashfsFixtures.Run("tar2sqfs", ["--quiet", "--force", "--compressor", compressor, "--block-size", "4096", "--exportable", image], stdinFile: tar);
            images.Add(image);
        }
        return images.ToArray();
    }
}

using System.Formats.Tar;
using System.Text;
using Burrow.Core.Oci;
using Burrow.Core.Oci.Layers;

namespace Burrow.Tests.Oci;

/// <summary>
/// The OCI layer rules and the extraction attack classes of user-needs.md §e, on in-memory layers: nothing is
/// extracted, so "outside the root" means refused with the layer digest and the entry name.
/// </summary>
public class LayerFlattenTests
{
    private sealed class Layer
    {
        private readonly MemoryStream _ms = new();
        private readonly TarWriter _w;

        public Layer() => _w = new TarWriter(_ms, TarEntryFormat.Pax, leaveOpen: true);

        public Layer File(string name, string content = "x", int mode = 0b110_100_100, int uid = 0, int gid = 0)
        {
            var e = new PaxTarEntry(TarEntryType.RegularFile, name) { Mode = (UnixFileMode)mode, Uid = uid, Gid = gid, DataStream = new MemoryStream(Encoding.UTF8.GetBytes(content)) };
            _w.WriteEntry(e);
            return this;
        }

        public Layer Dir(string name, int mode = 0b111_101_101)
        {
            _w.WriteEntry(new PaxTarEntry(TarEntryType.Directory, name) { Mode = (UnixFileMode)mode });
            return this;
        }

        public Layer Symlink(string name, string target)
        {
            _w.WriteEntry(new PaxTarEntry(TarEntryType.SymbolicLink, name) { LinkName = target });
            return this;
        }

        public Layer HardLink(string name, string target)
        {
            _w.WriteEntry(new PaxTarEntry(TarEntryType.HardLink, name) { LinkName = target });
            return this;
        }

        public Layer Device(string name, int major, int minor)
        {
            _w.WriteEntry(new PaxTarEntry(TarEntryType.CharacterDevice, name) { DeviceMajor = major, DeviceMinor = minor, Mode = (UnixFileMode)0b110_110_110 });
            return this;
        }

        public byte[] Bytes()
        {
            _w.Dispose();
            return _ms.ToArray();
        }

        public TarReader Reader()
        {
            _w.Dispose();
            _ms.Position = 0;
            return new TarReader(_ms);
        }
    }

    private static FsTree Apply(params Layer[] layers)
    {
        var tree = new FsTree();
        for (int i = 0; i < layers.Length; i++)
        {
            new LayerApplier(tree, i, "sha256:layer" + i).ApplyAll(layers[i].Reader());
        }
        return tree;
    }

    private static FsNode? Find(FsTree t, string path) => t.Find(path.Split('/'));

    [Fact]
    public void BinaryXattrValueIsLeftOutNotCorrupted()
    {
        // TarWriter takes only string values: write a placeholder, then patch in bytes that are not UTF-8
        // (PAX data blocks carry no checksum), as a real layer with security.capability would have them.
        var ms = new MemoryStream();
        using (var w = new TarWriter(ms, TarEntryFormat.Pax, leaveOpen: true))
        {
            var attrs = new Dictionary<string, string> { ["SCHILY.xattr.user.note"] = "hello", ["SCHILY.xattr.security.capability"] = "ZZZZ" };
            w.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "ping", attrs) { DataStream = new MemoryStream([1]) });
        }
        byte[] bytes = ms.ToArray();
        byte[] placeholder = Encoding.ASCII.GetBytes("capability=ZZZZ");
        int at = bytes.AsSpan().IndexOf(placeholder) + "capability=".Length;
        Assert.True(at > "capability=".Length);
        bytes[at] = 0xff; bytes[at + 1] = 0xfe; bytes[at + 2] = 0x80; bytes[at + 3] = 0x81;

        var tree = new FsTree();
        new LayerApplier(tree, 0, "sha256:layer0").ApplyAll(new TarReader(new MemoryStream(bytes)));

        Dictionary<string, string>? xattrs = Find(tree, "ping")!.Inode.Xattrs;
        Assert.NotNull(xattrs);
        Assert.Equal("hello", xattrs["user.note"]);
        Assert.False(xattrs.ContainsKey("security.capability"));
    }

    [Fact]
    public void WhiteoutRemovesLowerFileAndDirectory()
    {
        FsTree t = Apply(
            new Layer().File("a/x").File("a/y").Dir("d").File("d/inner"),
            new Layer().File("a/.wh.x").File(".wh.d"));
        Assert.Null(Find(t, "a/x"));
        Assert.NotNull(Find(t, "a/y"));
        Assert.Null(Find(t, "d"));
    }

    [Fact]
    public void WhiteoutDoesNotHideWhatTheSameLayerWrites()
    {
        FsTree t = Apply(new Layer().File("a/x", "old"), new Layer().File("a/x", "new").File("a/.wh.x"));
        FsNode x = Find(t, "a/x")!;
        Assert.Equal(1, x.Inode.DataLayer);
    }

    [Fact]
    public void OpaqueDirectoryHidesOnlyLowerContent()
    {
        FsTree t = Apply(
            new Layer().File("o/old").File("o/sub/deep"),
            new Layer().File("o/sub/new").File("o/.wh..wh..opq").File("o/fresh"));
        Assert.Null(Find(t, "o/old"));
        Assert.Null(Find(t, "o/sub/deep"));
        Assert.NotNull(Find(t, "o/sub/new"));
        Assert.NotNull(Find(t, "o/fresh"));
    }

    [Fact]
    public void FileReplacesDirectoryAndBack()
    {
        FsTree t = Apply(
            new Layer().File("p/child"),
            new Layer().File("p", "now a file"),
            new Layer().Dir("p").File("p/again"));
        Assert.True(Find(t, "p")!.IsDirectory);
        Assert.Null(Find(t, "p/child"));
        Assert.NotNull(Find(t, "p/again"));
    }

    [Fact]
    public void HardLinkToEarlierLayerKeepsDataWhenOriginalIsRemoved()
    {
        FsTree t = Apply(
            new Layer().File("hl/orig", "shared", uid: 7),
            new Layer().HardLink("hl/link", "hl/orig"),
            new Layer().File("hl/.wh.orig"));
        FsNode link = Find(t, "hl/link")!;
        Assert.Equal(0, link.Inode.DataLayer);
        Assert.Equal(7, link.Inode.Uid);
        Assert.Null(Find(t, "hl/orig"));
    }

    [Fact]
    public void KeepsSetuidOwnersAndDevices()
    {
        FsTree t = Apply(new Layer().File("bin/su", mode: 0b100_111_101_101, uid: 0).File("f", uid: 1234, gid: 5678).Device("dev/zero", 1, 5));
        Assert.True(Find(t, "bin/su")!.Inode.Mode.HasFlag(UnixFileMode.SetUser));
        Assert.Equal(1234, Find(t, "f")!.Inode.Uid);
        Assert.Equal(5678, Find(t, "f")!.Inode.Gid);
        FsInode dev = Find(t, "dev/zero")!.Inode;
        Assert.Equal((NodeKind.CharDevice, 1, 5), (dev.Kind, dev.DevMajor, dev.DevMinor));
    }

    [Fact]
    public void LongNamesSurvive()
    {
        string longName = string.Join('/', Enumerable.Repeat("segment-of-a-long-path", 12)) + "/file";
        FsTree t = Apply(new Layer().File(longName));
        Assert.NotNull(Find(t, longName));
    }

    // --- the attack classes: each must be refused, naming the layer and the entry ---

    [Fact]
    public void RefusesWritingThroughASymlinkPlantedByAnEarlierLayer()
    {
        // Charliecloud 0.18: layer 1 plants link -> /etc, layer 2 writes link/passwd.
        var e = Assert.Throws<ImageFormatException>(() => Apply(new Layer().Symlink("link", "/etc"), new Layer().File("link/passwd", "pwned")));
        Assert.Contains("sha256:layer1", e.Message);
        Assert.Contains("link/passwd", e.Message);
        Assert.Contains("symbolic link", e.Message);
    }

    [Theory]
    [InlineData(".")]
    [InlineData("/")]
    [InlineData("./")]
    public void RefusesARootEntryThatIsASymlink(string name)
    {
        // umoci CVE-2021-29136: a layer whose root entry is a symlink.
        var e = Assert.Throws<ImageFormatException>(() => Apply(new Layer().Symlink(name, "/")));
        Assert.Contains("sha256:layer0", e.Message);
    }

    [Theory]
    [InlineData("../escape")]
    [InlineData("a/../../escape")]
    [InlineData("/etc/passwd")]
    public void RefusesDotDotAndAbsoluteNames(string name)
    {
        var e = Assert.Throws<ImageFormatException>(() => Apply(new Layer().File(name)));
        Assert.Contains(name, e.Message);
        Assert.Contains("sha256:layer0", e.Message);
    }

    [Theory]
    [InlineData("../../etc/passwd")]
    [InlineData("/etc/passwd")]
    [InlineData("missing")]
    public void RefusesHardLinksToOutside(string target)
    {
        var e = Assert.Throws<ImageFormatException>(() => Apply(new Layer().File("present").HardLink("evil", target)));
        Assert.Contains("evil", e.Message);
    }

    [Fact]
    public void RefusesHardLinkThroughASymlink()
    {
        Assert.Throws<ImageFormatException>(() => Apply(new Layer().Symlink("etc", "/etc").HardLink("evil", "etc/passwd")));
    }

    [Fact]
    public void EmitsOneTarWithDataHardLinksAndNoDuplicates()
    {
        string dir = Directory.CreateTempSubdirectory("burrow-flatten-").FullName;
        try
        {
            var layers = new List<LocalLayer>();
            var built = new[]
            {
                new Layer().File("hl/orig", "shared").File("gone", "x").File("keep", "lower"),
                new Layer().HardLink("hl/link", "hl/orig").File(".wh.gone").File("keep", "upper"),
            };
            for (int i = 0; i < built.Length; i++)
            {
                byte[] bytes = built[i].Bytes();
                string path = Path.Combine(dir, "l" + i);
                File.WriteAllBytes(path, bytes);
                layers.Add(new LocalLayer(path, Digest.Sha256(bytes), Digest.Sha256(bytes)));
            }
            FsTree tree = LayerFlattener.Merge(layers);
            using var output = new MemoryStream();
            LayerFlattener.Emit(tree, layers, output);
            output.Position = 0;
            var entries = new List<(string, TarEntryType, string)>();
            using var reader = new TarReader(output);
            while (reader.GetNextEntry() is { } e)
            {
                string data = e.DataStream is null ? "" : new StreamReader(e.DataStream).ReadToEnd();
                entries.Add((e.Name, e.EntryType, e.EntryType == TarEntryType.HardLink ? e.LinkName : data));
            }
            Assert.Contains(("hl/link", TarEntryType.RegularFile, "shared"), entries);
            Assert.Contains(("hl/orig", TarEntryType.HardLink, "hl/link"), entries);
            Assert.Contains(("keep", TarEntryType.RegularFile, "upper"), entries);
            Assert.DoesNotContain(entries, e => e.Item1 == "gone");
            Assert.Single(entries, e => e.Item1 == "keep");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void RefusesALayerWhoseDiffIdDoesNotMatch()
    {
        string dir = Directory.CreateTempSubdirectory("burrow-flatten-").FullName;
        try
        {
            string path = Path.Combine(dir, "l0");
            var w = new MemoryStream();
            using (var tw = new TarWriter(w, leaveOpen: true))
            {
                tw.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "f") { DataStream = new MemoryStream([1, 2, 3]) });
            }
            File.WriteAllBytes(path, w.ToArray());
            var layer = new LocalLayer(path, Digest.Sha256(w.ToArray()), Digest.Sha256([9]));
            var e = Assert.Throws<ImageFormatException>(() => LayerFlattener.Merge([layer]));
            Assert.Contains("diff_id", e.Message);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}

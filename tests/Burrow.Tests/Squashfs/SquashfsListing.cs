using System.Globalization;
using System.Text;
using Burrow.Core.Squashfs;

namespace Burrow.Tests.Squashfs;

/// <summary>
/// The image as `unsquashfs -lln` describes it (mode string, uid/gid, size or device, path, link target), from
/// unsquashfs and from our reader, normalised to one line per node so that the two can be compared.
/// </summary>
internal static class SquashfsListing
{
    /// <summary>unsquashfs 4.5.1 decodes minors above 255 its own way; the kernel's is the one tested, separately.</summary>
    public const string BigMinorDevice = "/dev/big";

    public static string[] FromUnsquashfs(string image) =>
        SquashfsFixtures.Run("unsquashfs", ["-lln", "-d", "", image])
            .Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(Normalise)
            .Where(line => !line.EndsWith(" " + BigMinorDevice, StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .ToArray();

    public static string[] FromReader(SquashfsImage image)
    {
        var lines = new List<string>();
        Walk(image, image.Root, "", lines);
        return lines.Order(StringComparer.Ordinal).ToArray();
    }

    private static void Walk(SquashfsImage image, SquashfsInode node, string path, List<string> lines)
    {
        if (path != BigMinorDevice)
        {
            lines.Add(Line(image, node, path));
        }
        if (!node.IsDirectory)
        {
            return;
        }
        foreach (SquashfsDirectoryEntry e in image.ReadDirectory(node))
        {
            SquashfsInode child = image.ReadInode(e.InodeReference);
            Assert.Equal(child.BasicType, e.Type);
            Walk(image, child, path + "/" + e.NameString, lines);
        }
    }

    private static string Line(SquashfsImage image, SquashfsInode n, string path)
    {
        string size = n.BasicType is SquashfsInodeType.CharacterDevice or SquashfsInodeType.BlockDevice
            ? $"{Major(n.Device)},{Minor(n.Device)}"
            : n.Size.ToString(CultureInfo.InvariantCulture);
        string target = n.IsSymlink ? " -> " + Encoding.UTF8.GetString(image.ReadSymlink(n)) : "";
        return $"{ModeString(n.Mode)} {n.Uid}/{n.Gid} {size} {path}{target}";
    }

    public static uint Major(uint dev) => (dev & 0xFFF00) >> 8;

    public static uint Minor(uint dev) => (dev & 0xFF) | ((dev >> 12) & 0xFFF00);

    // "crw-rw-rw- 0/0   1,  3 2026-12-01 10:32 /dev/null" -> "crw-rw-rw- 0/0 1,3 /dev/null"
    private static string Normalise(string line)
    {
        string[] f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        int i = 2;
        string size = f[i++];
        if (size.EndsWith(','))
        {
            size += f[i++];
        }
        i += 2; // date and time
        string rest = string.Join(' ', f.Skip(i));
        return $"{f[0]} {f[1]} {size} {rest}";
    }

    public static string ModeString(uint mode)
    {
        char type = (mode & 0xF000) switch
        {
            0x4000 => 'd', 0x8000 => '-', 0xA000 => 'l', 0x2000 => 'c', 0x6000 => 'b', 0x1000 => 'p', 0xC000 => 's', _ => '?',
        };
        var s = new StringBuilder().Append(type);
        for (int shift = 6; shift >= 0; shift -= 3)
        {
            uint bits = (mode >> shift) & 7;
            s.Append((bits & 4) != 0 ? 'r' : '-').Append((bits & 2) != 0 ? 'w' : '-');
            bool special = shift switch { 6 => (mode & 0x800) != 0, 3 => (mode & 0x400) != 0, _ => (mode & 0x200) != 0 };
            char x = (bits & 1) != 0 ? 'x' : '-';
            s.Append(special ? (shift == 0 ? (x == 'x' ? 't' : 'T') : (x == 'x' ? 's' : 'S')) : x);
        }
        return s.ToString();
    }
}

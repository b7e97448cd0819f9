using System.Formats.Tar;
using Burrow.Core.Diagnostics;
using Burrow.Core.Images;
using Burrow.Linux;

namespace Burrow.Core.Build.Tasks;

/// <summary>
/// Streams a built root file system as one PAX tar into tar2sqfs (<see cref="SquashfsBuilder"/>), inside the build's
/// user namespace: there every file's owner reads as the container's id (a file %post made as root is 0, not the
/// caller's uid; one of the subordinate range is 1…65536), and root of the namespace may read every file whatever its
/// mode. Modes keep setuid, setgid and sticky bits; hard links stay links; device nodes the unpack could not make are
/// added from <paramref name="extra"/>. The walk holds each directory by descriptor and never follows a symlink.
/// </summary>
internal static class RootfsPacker
{
    public static void Pack(string root, string output, string compression, IReadOnlyList<TreeEntry> extra)
    {
        int sockets = 0;
        SquashfsBuilder.Build(output, compression, stream =>
        {
            using var writer = new TarWriter(stream, TarEntryFormat.Pax, leaveOpen: true);
            using DirectoryHandle top = DirectoryHandle.Open(root);
            var emitted = new HashSet<string>(StringComparer.Ordinal) { "" };
            var links = new Dictionary<(uint, uint, ulong), string>();
            writer.WriteEntry(Entry(TarEntryType.Directory, "./", top.Status()));
            Walk(writer, top, "", emitted, links, ref sockets);
            foreach (TreeEntry device in extra)
            {
                string path = device.Path.Trim('/');
                string parent = Path.GetDirectoryName(path) ?? "";
                if (path.Length == 0 || emitted.Contains(path) || !emitted.Contains(parent))
                {
                    continue; // %post put something else there, or removed the directory
                }
                var e = new PaxTarEntry(device.Type == 'b' ? TarEntryType.BlockDevice : TarEntryType.CharacterDevice, path)
                {
                    Mode = (UnixFileMode)(device.Mode & 0xfff),
                    Uid = (int)device.Uid,
                    Gid = (int)device.Gid,
                    DeviceMajor = (int)device.Major,
                    DeviceMinor = (int)device.Minor,
                    ModificationTime = DateTimeOffset.UnixEpoch,
                };
                writer.WriteEntry(e);
            }
        });
        if (sockets > 0)
        {
            Log.Warning($"{sockets} socket(s) in the image were left out: a squashfs made from a tar stream cannot hold them");
        }
    }

    private static void Walk(TarWriter writer, DirectoryHandle dir, string prefix, HashSet<string> emitted,
        Dictionary<(uint, uint, ulong), string> links, ref int sockets)
    {
        foreach (string name in dir.List().Order(StringComparer.Ordinal))
        {
            Interruption.ThrowIfRequested();
            FileStatus? st = dir.StatEntry(name);
            if (st is null)
            {
                continue;
            }
            string path = prefix + name;
            switch (st.Kind)
            {
                case FileKind.Directory:
                    writer.WriteEntry(Entry(TarEntryType.Directory, path + "/", st));
                    emitted.Add(path);
                    using (DirectoryHandle sub = dir.OpenDirectory(name))
                    {
                        Walk(writer, sub, path + "/", emitted, links, ref sockets);
                    }
                    break;
                case FileKind.Regular:
                    emitted.Add(path);
                    if (st.LinkCount > 1)
                    {
                        var key = (st.DeviceMajor, st.DeviceMinor, st.Inode);
                        if (links.TryGetValue(key, out string? first))
                        {
                            writer.WriteEntry(new PaxTarEntry(TarEntryType.HardLink, path) { LinkName = first });
                            break;
                        }
                        links[key] = path;
                    }
                    PaxTarEntry file = Entry(TarEntryType.RegularFile, path, st);
                    using (var data = new FileStream(dir.OpenFile(name), FileAccess.Read, 1 << 16))
                    {
                        file.DataStream = data;
                        writer.WriteEntry(file);
                    }
                    break;
                case FileKind.Symlink:
                    emitted.Add(path);
                    PaxTarEntry link = Entry(TarEntryType.SymbolicLink, path, st);
                    link.LinkName = dir.ReadLink(name);
                    writer.WriteEntry(link);
                    break;
                case FileKind.CharDevice or FileKind.BlockDevice:
                    emitted.Add(path);
                    PaxTarEntry device = Entry(st.Kind == FileKind.CharDevice ? TarEntryType.CharacterDevice : TarEntryType.BlockDevice, path, st);
                    device.DeviceMajor = (int)st.SpecialMajor;
                    device.DeviceMinor = (int)st.SpecialMinor;
                    writer.WriteEntry(device);
                    break;
                case FileKind.Fifo:
                    emitted.Add(path);
                    writer.WriteEntry(Entry(TarEntryType.Fifo, path, st));
                    break;
                default:
                    sockets++;
                    break;
            }
        }
    }

    private static PaxTarEntry Entry(TarEntryType type, string name, FileStatus st) => new(type, name)
    {
        Mode = (UnixFileMode)st.Permissions,
        Uid = (int)st.Uid,
        Gid = (int)st.Gid,
        ModificationTime = DateTimeOffset.FromUnixTimeSeconds(st.ModifiedSeconds),
    };
}

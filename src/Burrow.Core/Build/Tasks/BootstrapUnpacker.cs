using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Burrow.Core.Diagnostics;
using Burrow.Core.Squashfs;
using Burrow.Linux;
using Microsoft.Win32.SafeHandles;

namespace Burrow.Core.Build.Tasks;

/// <summary>
/// Puts a bootstrap image's tree into the build's root file system, inside the build's user namespace: a SIF's
/// squashfs with Debian's <c>unsquashfs</c>, a sandbox directory with coreutils' <c>cp -a</c>. As root of the
/// namespace both keep owners (as the namespace's ids), modes and setuid bits. What no unprivileged process can make,
/// device nodes, is listed in the report (read from the image) so that the pack adds it to the image again; owners
/// that only-root mapping cannot keep are counted.
/// </summary>
internal static class BootstrapUnpacker
{
    public static void Unpack(BuildTask task)
    {
        string root = task.Root ?? throw new BurrowException("the unpack task has no root");
        string source = task.Source ?? throw new BurrowException("the unpack task has no source");
        (int exit, string[] lines) = Run("unsquashfs",
            ["-q", "-n", "-no-xattrs", "-f", "-o", task.Offset.ToString(CultureInfo.InvariantCulture), "-d", root, source],
            "install squashfs-tools (apt install squashfs-tools)");
        var devices = new List<string>();
        int owners = 0;
        var other = new List<string>();
        foreach (string line in lines)
        {
            if (DevicePath(line, "create_inode: failed to create ", root) is { } device)
            {
                devices.Add(device);
            }
            else if (line.Contains("failed to change uid and gids", StringComparison.Ordinal))
            {
                owners++;
            }
            else
            {
                other.Add(line);
            }
        }
        if (exit != 0 && (exit != 2 || other.Count > 0))
        {
            throw new BurrowException($"unsquashfs failed to unpack {source} (exit {exit}): {string.Join("; ", other.Take(5))}");
        }
        WriteReport(task, new UnpackReport { Devices = DevicesInSquashfs(source, task.Offset, task.Length, devices), OwnersLost = owners });
    }

    public static void CopyTree(BuildTask task)
    {
        string root = task.Root ?? throw new BurrowException("the copy task has no root");
        string source = task.Source ?? throw new BurrowException("the copy task has no source");
        string[] args = task.RootOnly ? ["-a", "--no-preserve=ownership", source + "/.", root] : ["-a", source + "/.", root];
        (int exit, string[] lines) = Run("cp", args, "install coreutils");
        var devices = new List<TreeEntry>();
        var other = new List<string>();
        var unreadable = new List<string>();
        int owners = 0;
        foreach (string line in lines)
        {
            // A sandbox of another owner (a system image directory): what the caller cannot read is left empty, and
            // owners outside the build's mapping become root's; both with a warning, as an unprivileged cp would.
            if (line.StartsWith("cp: failed to preserve ownership for ", StringComparison.Ordinal))
            {
                owners++;
                continue;
            }
            if (line.EndsWith(": Permission denied", StringComparison.Ordinal) && Quoted(line) is { } denied
                && denied.StartsWith(source + "/", StringComparison.Ordinal))
            {
                unreadable.Add(denied[source.Length..].Replace("/./", "/", StringComparison.Ordinal));
                continue;
            }
            if (line.StartsWith("cp: cannot create special file ", StringComparison.Ordinal) && Quoted(line) is { } target
                && target.StartsWith(root + "/", StringComparison.Ordinal))
            {
                string path = target[root.Length..];
                if (FileStatus.OfPath(source + path, followSymlinks: false) is { Kind: FileKind.CharDevice or FileKind.BlockDevice } st)
                {
                    devices.Add(new TreeEntry(path, st.Kind == FileKind.CharDevice ? 'c' : 'b', st.Permissions, st.Uid, st.Gid, st.SpecialMajor, st.SpecialMinor));
                }
                continue;
            }
            other.Add(line);
        }
        if (exit != 0 && other.Count > 0)
        {
            throw new BurrowException($"cp failed to copy the sandbox {source} (exit {exit}): {string.Join("; ", other.Take(5))}");
        }
        if (!task.RootOnly)
        {
            owners += ReownUnmapped(root);
        }
        WriteReport(task, new UnpackReport { Devices = devices, OwnersLost = owners, Unreadable = unreadable });
    }

    /// <summary>What an unmapped id looks like inside a user namespace (/proc/sys/kernel/overflowuid, 65534 unless changed).</summary>
    private static uint OverflowId(string which)
    {
        try
        {
            return uint.Parse(File.ReadAllText("/proc/sys/kernel/overflow" + which).Trim(), CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or FormatException or UnauthorizedAccessException)
        {
            return 65534;
        }
    }

    /// <summary>
    /// cp -a as root of the namespace copies an owner outside the build's mapping (a sandbox of the host's root) as the
    /// overflow id, which in the build's mapping is a real subordinate id ("nobody" in the image). Such entries become
    /// root's, as an unprivileged copy makes them, with their modes (setuid bits) restored after the chown; returns how many.
    /// </summary>
    private static int ReownUnmapped(string root)
    {
        uint overflowUid = OverflowId("uid"), overflowGid = OverflowId("gid");
        int count = 0;
        var pending = new Stack<string>();
        pending.Push(root);
        using (DirectoryHandle top = DirectoryHandle.Open(root))
        {
            FileStatus st = top.Status();
            if (st.Uid == overflowUid || st.Gid == overflowGid)
            {
                top.SetOwnerOfSelf(st.Uid == overflowUid ? 0 : st.Uid, st.Gid == overflowGid ? 0 : st.Gid);
                top.SetMode((int)st.Permissions);
                count++;
            }
        }
        while (pending.Count > 0)
        {
            using DirectoryHandle dir = DirectoryHandle.Open(pending.Pop());
            foreach (string name in dir.List())
            {
                if (dir.StatEntry(name) is not { } st)
                {
                    continue;
                }
                if (st.Uid == overflowUid || st.Gid == overflowGid)
                {
                    dir.SetOwner(name, st.Uid == overflowUid ? 0 : st.Uid, st.Gid == overflowGid ? 0 : st.Gid);
                    dir.SetEntryMode(name, (int)st.Permissions); // chown cleared setuid and setgid
                    count++;
                }
                if (st.Kind == FileKind.Directory)
                {
                    pending.Push(dir.Child(name));
                }
            }
        }
        return count;
    }

    /// <summary>"create_inode: failed to create character device /root/dev/null, because …" → "/dev/null".</summary>
    private static string? DevicePath(string line, string prefix, string root)
    {
        if (!line.StartsWith(prefix, StringComparison.Ordinal))
        {
            return null;
        }
        string rest = line[prefix.Length..];
        foreach (string kind in new[] { "character device ", "block device " })
        {
            if (rest.StartsWith(kind, StringComparison.Ordinal))
            {
                string path = rest[kind.Length..];
                int because = path.LastIndexOf(", because", StringComparison.Ordinal);
                path = because >= 0 ? path[..because] : path;
                string prefixRoot = root.TrimEnd('/') + "/";
                return path.StartsWith(prefixRoot, StringComparison.Ordinal) ? path[(prefixRoot.Length - 1)..] : null;
            }
        }
        return null;
    }

    /// <summary>The device nodes' numbers, modes and owners, read from the squashfs itself.</summary>
    private static IReadOnlyList<TreeEntry> DevicesInSquashfs(string file, long offset, long length, IReadOnlyList<string> paths)
    {
        if (paths.Count == 0)
        {
            return [];
        }
        using SafeFileHandle handle = RegularFile.Open(file);
        using SquashfsImage image = SquashfsImage.Open(handle, offset, length > 0 ? length : RandomAccess.GetLength(handle) - offset, file);
        var found = new List<TreeEntry>();
        foreach (string path in paths)
        {
            SquashfsInode? node = image.Root;
            foreach (string part in path.Split('/', StringSplitOptions.RemoveEmptyEntries))
            {
                node = node is { IsDirectory: true } ? image.Lookup(node, part) : null;
            }
            if (node is null || node.BasicType is not (SquashfsInodeType.CharacterDevice or SquashfsInodeType.BlockDevice))
            {
                continue;
            }
            uint major = (node.Device >> 8) & 0xfff;
            uint minor = (node.Device & 0xff) | ((node.Device >> 12) & 0xfff00);
            found.Add(new TreeEntry(path, node.BasicType == SquashfsInodeType.CharacterDevice ? 'c' : 'b', node.Permissions, node.Uid, node.Gid, major, minor));
        }
        return found;
    }

    private static string? Quoted(string line)
    {
        int a = line.IndexOf('\'');
        int b = a >= 0 ? line.IndexOf('\'', a + 1) : -1;
        return b > a ? line[(a + 1)..b] : null;
    }

    private static void WriteReport(BuildTask task, UnpackReport report)
    {
        if (task.Output is { } output)
        {
            File.WriteAllBytes(output, JsonSerializer.SerializeToUtf8Bytes(report, BuildTaskJsonContext.Default.UnpackReport));
        }
    }

    /// <summary>Runs a host tool and returns its exit status and its messages (stdout and stderr, one per line).</summary>
    internal static (int Exit, string[] Lines) Run(string tool, IReadOnlyList<string> args, string hint)
    {
        var psi = new ProcessStartInfo(tool) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }
        Process p;
        try
        {
            p = Process.Start(psi)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new BurrowException($"cannot run {tool}: {e.Message}", hint);
        }
        using (p)
        {
            Task<string> stdout = p.StandardOutput.ReadToEndAsync();
            string stderr = p.StandardError.ReadToEnd();
            p.WaitForExit();
            return (p.ExitCode, (stderr + "\n" + stdout.Result).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        }
    }
}

using System.Text;
using Burrow.Linux;
using Microsoft.Win32.SafeHandles;

namespace Burrow.Core.Build.Tasks;

/// <summary>
/// Writes generated files into a root file system that came from an untrusted image. Every path is a container path:
/// its directories are resolved inside the root (a symlink in the image leads somewhere in the image, never to the
/// host) and made when missing, and the last component is created without following a symlink there; one in the way
/// is replaced, as <c>cp -f</c> would.
/// </summary>
internal static class RootfsWriter
{
    public static void WriteAll(string root, IReadOnlyList<GeneratedFile> files)
    {
        using RootDirectory rootDir = RootDirectory.Open(root);
        foreach (GeneratedFile file in files)
        {
            Write(rootDir, file);
        }
    }

    public static void Write(RootDirectory root, GeneratedFile file)
    {
        (string parent, string name) = Split(file.Path);
        if (name.Length == 0)
        {
            return; // the root itself
        }
        using DirectoryHandle dir = OpenDirectory(root, parent);
        FileStatus? existing = dir.StatEntry(name);
        if (existing is not null && file.KeepExisting)
        {
            return;
        }
        switch (file.Type)
        {
            case 'r':
                if (existing is { Kind: FileKind.Directory })
                {
                    dir.RemoveTree(name);
                }
                else if (existing is not null)
                {
                    dir.Remove(name);
                }
                return;
            case 'd':
                if (existing is { Kind: FileKind.Directory })
                {
                    return;
                }
                if (existing is not null)
                {
                    dir.Remove(name);
                }
                dir.CreateDirectory(name, file.Mode).Directory.Dispose();
                return;
            case 'l':
                if (existing is { Kind: FileKind.Directory })
                {
                    return; // a real directory is never replaced by a link
                }
                if (existing is not null)
                {
                    dir.Remove(name);
                }
                dir.CreateSymlink(name, file.Content);
                return;
            default:
                byte[] bytes = Encoding.UTF8.GetBytes(file.Content);
                if (file.Append && existing is { Kind: FileKind.Regular })
                {
                    using SafeFileHandle appended = dir.OpenForAppend(name);
                    FileDescriptors.WriteAll(appended, bytes);
                    return;
                }
                using (SafeFileHandle fd = dir.CreateOrTruncate(name, file.Mode))
                {
                    FileDescriptors.WriteAll(fd, bytes);
                    FileDescriptors.SetMode(fd, file.Mode);
                }
                return;
        }
    }

    /// <summary>The directory <paramref name="containerPath"/> of the root, made (0755) where missing, held by descriptor.</summary>
    public static DirectoryHandle OpenDirectory(RootDirectory root, string containerPath)
    {
        SafeFileHandle handle = root.OpenMountTarget(containerPath.Length == 0 ? "/" : containerPath, CreateKind.Directory);
        return DirectoryHandle.FromHandle(handle, root.HostPath.TrimEnd('/') + "/" + containerPath.TrimStart('/'), pathOnly: true);
    }

    /// <summary>"/a/b/c" → ("/a/b", "c"); a trailing slash is ignored.</summary>
    public static (string Parent, string Name) Split(string containerPath)
    {
        string p = "/" + containerPath.Trim('/');
        int slash = p.LastIndexOf('/');
        return (slash <= 0 ? "/" : p[..slash], p[(slash + 1)..]);
    }
}

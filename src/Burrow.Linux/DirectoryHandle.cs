using System.Globalization;
using Burrow.Linux.Interop;
using Microsoft.Win32.SafeHandles;

namespace Burrow.Linux;

/// <summary>
/// A directory held open by descriptor. Entries are created, renamed and removed relative to the descriptor
/// (openat, mkdirat, renameat2, unlinkat), so the directory's path is resolved once, when it is opened, and never
/// again: another user who can write a parent cannot swap it for a symlink between a check and a use. Names given
/// to its methods are single components; the kernel is told not to follow a symlink there.
/// </summary>
public sealed class DirectoryHandle : IDisposable
{
    private DirectoryHandle(SafeFileHandle handle, string path, bool pathOnly)
    {
        Handle = handle;
        Path = path;
        _pathOnly = pathOnly;
    }

    private readonly bool _pathOnly;

    public SafeFileHandle Handle { get; }

    /// <summary>The path the directory was opened as, for messages only.</summary>
    public string Path { get; }

    private int Fd => (int)Handle.DangerousGetHandle();

    /// <summary>
    /// Opens a directory by path (symlinks in the path are followed, once). A directory the caller may search but
    /// not list is opened O_PATH, which is enough to create and rename entries in it.
    /// </summary>
    public static DirectoryHandle Open(string path)
    {
        int fd = Sys.OpenAt(Sys.AT_FDCWD, path, Sys.O_RDONLY | Sys.O_DIRECTORY | Sys.O_CLOEXEC, 0);
        if (fd >= 0)
        {
            return new DirectoryHandle(FileDescriptors.Own(fd), path, pathOnly: false);
        }
        if (Errno.Last != Errno.EACCES)
        {
            throw new LinuxException(Errno.Last, "open", path);
        }
        fd = Errno.Check(Sys.OpenAt(Sys.AT_FDCWD, path, Sys.O_PATH | Sys.O_DIRECTORY | Sys.O_CLOEXEC, 0), "open", path);
        return new DirectoryHandle(FileDescriptors.Own(fd), path, pathOnly: true);
    }

    /// <summary>Opens a subdirectory without following a symlink in its place (ELOOP/ENOTDIR if there is one).</summary>
    public DirectoryHandle OpenDirectory(string name)
    {
        Check(name);
        int fd = Sys.OpenAt(Fd, name, Sys.O_RDONLY | Sys.O_DIRECTORY | Sys.O_NOFOLLOW | Sys.O_CLOEXEC, 0);
        bool pathOnly = false;
        if (fd < 0 && Errno.Last == Errno.EACCES)
        {
            fd = Sys.OpenAt(Fd, name, Sys.O_PATH | Sys.O_DIRECTORY | Sys.O_NOFOLLOW | Sys.O_CLOEXEC, 0);
            pathOnly = true;
        }
        Errno.Check(fd, "open", Child(name));
        return new DirectoryHandle(FileDescriptors.Own(fd), Child(name), pathOnly);
    }

    /// <summary>Creates a subdirectory with exactly <paramref name="mode"/> (whatever the umask) and opens it.</summary>
    /// <returns>The directory, and whether this call created it (false when it already existed).</returns>
    public (DirectoryHandle Directory, bool Created) CreateDirectory(string name, int mode)
    {
        Check(name);
        bool created = Sys.MkdirAt(Fd, name, mode & 0x1c0) == 0;
        if (!created && Errno.Last != Errno.EEXIST)
        {
            throw new LinuxException(Errno.Last, "mkdir", Child(name));
        }
        DirectoryHandle dir = OpenDirectory(name);
        if (created)
        {
            try
            {
                dir.SetMode(mode);
            }
            catch
            {
                dir.Dispose();
                throw;
            }
        }
        return (dir, created);
    }

    /// <summary>The directory's own status.</summary>
    public FileStatus Status() => FileStatus.Of(Handle, Path);

    /// <summary>Status of an entry, not following a symlink there; null when there is no such entry.</summary>
    public unsafe FileStatus? StatEntry(string name)
    {
        Check(name);
        byte* buf = stackalloc byte[256];
        if (Sys.Statx(Fd, name, Sys.AT_SYMLINK_NOFOLLOW, Sys.STATX_BASIC_STATS, buf) < 0)
        {
            if (Errno.Last == Errno.ENOENT)
            {
                return null;
            }
            throw new LinuxException(Errno.Last, "statx", Child(name));
        }
        return FileStatus.FromBuffer(buf);
    }

    /// <summary>
    /// Creates a new file that did not exist, for reading and writing: O_CREAT|O_EXCL|O_NOFOLLOW, so a name another
    /// user planted first (a file or a symlink) makes this fail with EEXIST instead of writing through it.
    /// </summary>
    public SafeFileHandle CreateFile(string name, int mode)
    {
        Check(name);
        int fd = Errno.Check(Sys.OpenAt(Fd, name, Sys.O_RDWR | Sys.O_CREAT | Sys.O_EXCL | Sys.O_NOFOLLOW | Sys.O_CLOEXEC | Sys.O_NOCTTY, mode),
            "create", Child(name));
        return FileDescriptors.Own(fd);
    }

    /// <summary>Opens an existing regular file in the directory for reading, not following a symlink there.</summary>
    public SafeFileHandle OpenFile(string name)
    {
        Check(name);
        int fd = Errno.Check(Sys.OpenAt(Fd, name, Sys.O_RDONLY | Sys.O_NOFOLLOW | Sys.O_NONBLOCK | Sys.O_NOCTTY | Sys.O_CLOEXEC, 0), "open", Child(name));
        SafeFileHandle handle = FileDescriptors.Own(fd);
        FileStatus st = FileStatus.Of(handle, Child(name));
        if (st.Kind != FileKind.Regular)
        {
            handle.Dispose();
            throw new NotRegularFileException(Child(name), st.Kind);
        }
        return handle;
    }

    /// <summary>Renames an entry within this directory; with <paramref name="replace"/> false, an existing target is EEXIST.</summary>
    public void Rename(string from, string to, bool replace) => Rename(this, from, this, to, replace);

    /// <summary>renameat2 between two held directories. A symlink at <paramref name="to"/> is replaced, never followed.</summary>
    public static void Rename(DirectoryHandle fromDir, string from, DirectoryHandle toDir, string to, bool replace)
    {
        ArgumentNullException.ThrowIfNull(fromDir);
        ArgumentNullException.ThrowIfNull(toDir);
        Check(from);
        Check(to);
        Errno.Check(Sys.RenameAt2(fromDir.Fd, from, toDir.Fd, to, replace ? 0 : Sys.RENAME_NOREPLACE), "rename", toDir.Child(to));
    }

    /// <summary>The target of a symlink in the directory.</summary>
    public unsafe string ReadLink(string name)
    {
        Check(name);
        byte* buf = stackalloc byte[4096];
        nint n = Sys.ReadlinkAt(Fd, name, buf, 4096);
        Errno.Check((long)n, "readlink", Child(name));
        return System.Text.Encoding.UTF8.GetString(buf, (int)n);
    }

    /// <summary>Swaps two entries of this directory atomically (renameat2 RENAME_EXCHANGE).</summary>
    public void Exchange(string a, string b)
    {
        Check(a);
        Check(b);
        Errno.Check(Sys.RenameAt2(Fd, a, Fd, b, Sys.RENAME_EXCHANGE), "rename (exchange)", Child(b));
    }

    /// <summary>Removes an entry (a file or symlink, or an empty directory); false when it was not there.</summary>
    public bool Remove(string name, bool directory = false)
    {
        Check(name);
        if (Sys.UnlinkAt(Fd, name, directory ? Sys.AT_REMOVEDIR : 0) == 0)
        {
            return true;
        }
        if (Errno.Last == Errno.ENOENT)
        {
            return false;
        }
        throw new LinuxException(Errno.Last, directory ? "rmdir" : "unlink", Child(name));
    }

    /// <summary>Removes an entry and, if it is a real directory (never a symlink's target), everything under it.</summary>
    public void RemoveTree(string name)
    {
        FileStatus? st = StatEntry(name);
        if (st is null)
        {
            return;
        }
        if (st.Kind != FileKind.Directory)
        {
            Remove(name);
            return;
        }
        using (DirectoryHandle sub = OpenDirectory(name))
        {
            if ((st.Permissions & 0x1c0) != 0x1c0 && st.Uid == ProcessSecurity.Uid)
            {
                sub.SetMode((int)(st.Permissions | 0x1c0)); // images hold 0555 directories
            }
            foreach (string entry in sub.List())
            {
                sub.RemoveTree(entry);
            }
        }
        Remove(name, directory: true);
    }

    /// <summary>The names in the directory (not "." or "..").</summary>
    public IReadOnlyList<string> List()
    {
        // The descriptor names the directory; list that one through /proc, never the path again.
        return Directory.EnumerateFileSystemEntries(ProcPath)
            .Select(System.IO.Path.GetFileName)
            .OfType<string>()
            .ToArray();
    }

    /// <summary>fchmod of the directory itself.</summary>
    public void SetMode(int mode)
    {
        if (_pathOnly)
        {
            // fchmod refuses O_PATH descriptors; chmod through the magic link acts on the same inode.
            FileSystem.SetMode(ProcPath, mode);
            return;
        }
        Errno.Check(Sys.Fchmod(Fd, mode), "chmod", Path);
    }

    /// <summary>Makes renames and creations in the directory durable (fsync of the directory); a no-op when opened O_PATH.</summary>
    public void Sync()
    {
        if (!_pathOnly)
        {
            Errno.Check(Sys.Fsync(Fd), "fsync", Path);
        }
    }

    /// <summary>Takes an exclusive flock on the directory without waiting; false when another process holds it.</summary>
    public bool TryLock()
    {
        if (Sys.Flock(Fd, Sys.LOCK_EX | Sys.LOCK_NB) == 0)
        {
            return true;
        }
        if (Errno.Last == Errno.EAGAIN)
        {
            return false;
        }
        throw new LinuxException(Errno.Last, "flock", Path);
    }

    /// <summary>
    /// A path that reaches this very directory through the descriptor (<c>/proc/PID/fd/N</c>), for tools Burrow runs
    /// as child processes: they resolve it to the directory already opened, not to whatever the path names now.
    /// </summary>
    public string ProcPath => "/proc/" + ProcessSecurity.Pid.ToString(CultureInfo.InvariantCulture) + "/fd/" + Fd.ToString(CultureInfo.InvariantCulture);

    /// <summary>The path of an entry, for messages.</summary>
    public string Child(string name) => Path.EndsWith('/') ? Path + name : Path + "/" + name;

    public void Dispose() => Handle.Dispose();

    private static void Check(string name)
    {
        if (name.Length == 0 || name.Contains('/') || name is "." or "..")
        {
            throw new ArgumentException($"\"{name}\" is not a single file name", nameof(name));
        }
    }
}

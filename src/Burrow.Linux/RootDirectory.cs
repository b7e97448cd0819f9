using System.Text;
using Burrow.Linux.Interop;
using Microsoft.Win32.SafeHandles;

namespace Burrow.Linux;

/// <summary>
/// A directory used as a container root, held open by descriptor. Every path given to it is a
/// container path and is resolved inside the root by the kernel (openat2 RESOLVE_IN_ROOT: absolute
/// symlinks and ".." stop at the root), never as a host path string, so a symlink in an image
/// cannot make Burrow read, create or mount anything outside it (runc CVE-2021-30465).
/// </summary>
public sealed class RootDirectory : IDisposable
{
    private const int MaxSymlinks = 40;

    private RootDirectory(SafeFileHandle handle, string hostPath)
    {
        Handle = handle;
        HostPath = hostPath;
    }

    /// <summary>The root, opened O_PATH; usable as the dirfd of *at calls.</summary>
    public SafeFileHandle Handle { get; }

    /// <summary>The host path the root was opened from (for messages only).</summary>
    public string HostPath { get; }

    private int Fd => (int)Handle.DangerousGetHandle();

    public static RootDirectory Open(string hostPath)
    {
        int fd = Errno.Check(Sys.OpenAt(Sys.AT_FDCWD, hostPath, Sys.O_PATH | Sys.O_DIRECTORY | Sys.O_CLOEXEC, 0), "open", hostPath);
        return new RootDirectory(FileDescriptors.Own(fd), hostPath);
    }

    /// <summary>Wraps an already open directory descriptor (taken over).</summary>
    public static RootDirectory FromHandle(SafeFileHandle handle, string hostPath) => new(handle, hostPath);

    /// <summary>stat of a container path (symlinks followed inside the root); null when it does not exist.</summary>
    public FileStatus? Stat(string containerPath, bool followSymlinks = true)
    {
        using SafeFileHandle? fd = TryOpenPath(containerPath, followSymlinks);
        return fd is null ? null : FileStatus.Of(fd, containerPath);
    }

    public bool Exists(string containerPath) => Stat(containerPath) is not null;

    /// <summary>An O_PATH descriptor for a container path, or null when it does not exist.</summary>
    public SafeFileHandle? TryOpenPath(string containerPath, bool followSymlinks = true)
    {
        int flags = Sys.O_PATH | Sys.O_CLOEXEC | (followSymlinks ? 0 : Sys.O_NOFOLLOW);
        int fd = OpenAt2(Fd, Relative(containerPath), flags, Sys.RESOLVE_IN_ROOT | Sys.RESOLVE_NO_MAGICLINKS);
        if (fd < 0)
        {
            int e = Errno.Last;
            if (e is Errno.ENOENT or Errno.ENOTDIR or Errno.ELOOP)
            {
                return null;
            }
            throw new LinuxException(e, "openat2", Describe(containerPath));
        }
        return FileDescriptors.Own(fd);
    }

    /// <summary>
    /// Reads a regular file inside the root; null when it does not exist. Anything but a regular
    /// file (a FIFO or a device planted in an image) is refused before it is opened for reading.
    /// </summary>
    public byte[]? ReadFile(string containerPath, int limit = 1 << 20)
    {
        using SafeFileHandle? path = TryOpenPath(containerPath);
        if (path is null)
        {
            return null;
        }
        FileStatus st = FileStatus.Of(path, containerPath);
        if (st.Kind != FileKind.Regular)
        {
            throw new LinuxException(Errno.EINVAL, "read (not a regular file)", Describe(containerPath));
        }
        // Reopen the very inode we checked, not the path again.
        int fd = Errno.Check(Sys.OpenAt(Sys.AT_FDCWD, "/proc/self/fd/" + (int)path.DangerousGetHandle(),
            Sys.O_RDONLY | Sys.O_CLOEXEC | Sys.O_NOCTTY, 0), "open", Describe(containerPath));
        using SafeFileHandle file = FileDescriptors.Own(fd);
        return FileDescriptors.ReadAll(file, limit, Describe(containerPath));
    }

    public string? ReadText(string containerPath, int limit = 1 << 20) =>
        ReadFile(containerPath, limit) is { } bytes ? Encoding.UTF8.GetString(bytes) : null;

    /// <summary>
    /// Opens (creating if asked) the place to mount on, walking the path one component at a time
    /// relative to descriptors the walk holds: the kernel never follows a symlink here; this code
    /// follows it inside the root, so swapping a component for a symlink during set-up can change
    /// only which in-root directory is reached. A symlink that climbs above the root with ".." is
    /// refused (<see cref="Errno.EXDEV"/>): no image has a reason for one.
    /// </summary>
    /// <param name="create">null: the target must exist; otherwise what to create when it is missing.</param>
    /// <param name="beforeCreate">
    /// Called with the directory (and its resolved container path) before anything is created in it;
    /// throws to refuse, e.g. when that directory belongs to the host and not to the container.
    /// </param>
    public SafeFileHandle OpenMountTarget(string containerPath, CreateKind? create, Action<SafeFileHandle, string>? beforeCreate = null) =>
        Walk(containerPath, create, stopAtMissing: false, beforeCreate).Handle!;

    /// <summary>
    /// Makes a symbolic link at <paramref name="containerPath"/> whose text is <paramref name="linkText"/>, in a directory
    /// that exists (walked as <see cref="OpenMountTarget"/> walks); <paramref name="beforeCreate"/> may refuse that directory.
    /// With <paramref name="allowExisting"/>, a link already there with the same text is left as it is.
    /// </summary>
    public void CreateSymlink(string containerPath, string linkText, Action<SafeFileHandle, string>? beforeCreate = null, bool allowExisting = false)
    {
        string trimmed = containerPath.TrimEnd('/');
        int slash = trimmed.LastIndexOf('/');
        string parent = slash <= 0 ? "/" : trimmed[..slash];
        string name = trimmed[(slash + 1)..];
        if (name.Length == 0 || name is "." or "..")
        {
            throw new LinuxException(Errno.EINVAL, "symlink", Describe(containerPath));
        }
        WalkResult r = Walk(parent, null, stopAtMissing: false, null);
        using SafeFileHandle dir = r.Handle!;
        beforeCreate?.Invoke(dir, r.Existing);
        if (Sys.SymlinkAt(linkText, (int)dir.DangerousGetHandle(), name) == 0)
        {
            return;
        }
        int e = Errno.Last;
        if (e == Errno.EEXIST && allowExisting)
        {
            using SafeFileHandle existing = FileDescriptors.Own(Errno.Check(
                OpenAt2((int)dir.DangerousGetHandle(), name, Sys.O_PATH | Sys.O_NOFOLLOW | Sys.O_CLOEXEC, Sys.RESOLVE_BENEATH | Sys.RESOLVE_NO_SYMLINKS | Sys.RESOLVE_NO_MAGICLINKS),
                "open", Describe(containerPath)));
            if (FileStatus.Of(existing, containerPath).Kind == FileKind.Symlink && ReadLink(existing, containerPath) == linkText)
            {
                return;
            }
        }
        throw new LinuxException(e, "symlink", Describe(containerPath));
    }

    /// <summary>
    /// Resolves as much of <paramref name="containerPath"/> as exists (symlinks followed inside the
    /// root, as <see cref="OpenMountTarget"/> does) and returns the resolved existing part and the
    /// components still missing under it; nothing is created.
    /// </summary>
    public (string Existing, IReadOnlyList<string> Missing) ResolveExisting(string containerPath)
    {
        WalkResult r = Walk(containerPath, null, stopAtMissing: true, null);
        r.Handle?.Dispose();
        return (r.Existing, r.Missing);
    }

    private readonly record struct WalkResult(SafeFileHandle? Handle, string Existing, IReadOnlyList<string> Missing);

    private WalkResult Walk(string containerPath, CreateKind? create, bool stopAtMissing, Action<SafeFileHandle, string>? beforeCreate)
    {
        var pending = new Stack<string>(Components(containerPath).Reverse());
        var held = new List<(SafeFileHandle Fd, string Name)>();
        int links = 0;
        try
        {
            while (pending.Count > 0)
            {
                string name = pending.Pop();
                if (name == ".")
                {
                    continue;
                }
                if (name == "..")
                {
                    if (held.Count == 0)
                    {
                        throw new LinuxException(Errno.EXDEV, "resolve (a symlink leads out of the container root)", Describe(containerPath));
                    }
                    held[^1].Fd.Dispose();
                    held.RemoveAt(held.Count - 1);
                    continue;
                }
                int dir = held.Count == 0 ? Fd : (int)held[^1].Fd.DangerousGetHandle();
                bool last = pending.Count == 0;
                SafeFileHandle? step = OpenComponent(dir, name, last ? create : (create is null ? null : CreateKind.Directory), containerPath, stopAtMissing,
                    beforeCreate is null ? null : d => beforeCreate(d, ExistingPath(held)));
                if (step is null)
                {
                    var missing = new List<string> { name };
                    missing.AddRange(pending);
                    return new WalkResult(null, ExistingPath(held), missing);
                }
                FileStatus st = FileStatus.Of(step, containerPath);
                if (st.Kind == FileKind.Symlink)
                {
                    string target = ReadLink(step, containerPath);
                    step.Dispose();
                    if (++links > MaxSymlinks)
                    {
                        throw new LinuxException(Errno.ELOOP, "resolve", Describe(containerPath));
                    }
                    if (target.StartsWith('/'))
                    {
                        held.ForEach(h => h.Fd.Dispose());
                        held.Clear();
                    }
                    foreach (string c in Components(target).Reverse())
                    {
                        pending.Push(c);
                    }
                    continue;
                }
                if (!last && st.Kind != FileKind.Directory)
                {
                    step.Dispose();
                    throw new LinuxException(Errno.ENOTDIR, "resolve", Describe(containerPath));
                }
                held.Add((step, name));
            }
            string existing = ExistingPath(held);
            if (held.Count == 0)
            {
                return new WalkResult(FileDescriptors.Own(Errno.Check(Sys.OpenAt(Fd, ".", Sys.O_PATH | Sys.O_CLOEXEC | Sys.O_DIRECTORY, 0), "open", HostPath)), existing, []);
            }
            SafeFileHandle result = held[^1].Fd;
            held.RemoveAt(held.Count - 1);
            return new WalkResult(result, existing, []);
        }
        finally
        {
            held.ForEach(h => h.Fd.Dispose());
        }
    }

    private static string ExistingPath(List<(SafeFileHandle Fd, string Name)> held) => "/" + string.Join('/', held.Select(h => h.Name));

    public void Dispose() => Handle.Dispose();

    private SafeFileHandle? OpenComponent(int dir, string name, CreateKind? create, string containerPath, bool nullIfMissing, Action<SafeFileHandle>? beforeCreate)
    {
        for (int attempt = 0; ; attempt++)
        {
            int fd = OpenAt2(dir, name, Sys.O_PATH | Sys.O_NOFOLLOW | Sys.O_CLOEXEC,
                Sys.RESOLVE_BENEATH | Sys.RESOLVE_NO_SYMLINKS | Sys.RESOLVE_NO_MAGICLINKS);
            if (fd >= 0)
            {
                return FileDescriptors.Own(fd);
            }
            int e = Errno.Last;
            if (e == Errno.ENOENT && nullIfMissing)
            {
                return null;
            }
            if (e != Errno.ENOENT || create is null || attempt > 0)
            {
                throw new LinuxException(e, "open", Describe(containerPath));
            }
            if (beforeCreate is not null)
            {
                using var directory = new SafeFileHandle(dir, ownsHandle: false);
                beforeCreate(directory);
            }
            int made = create == CreateKind.File
                ? Sys.OpenAt(dir, name, Sys.O_CREAT | Sys.O_EXCL | Sys.O_WRONLY | Sys.O_NOFOLLOW | Sys.O_CLOEXEC, 0x1a4)
                : Sys.MkdirAt(dir, name, 0x1ed);
            if (made < 0 && Errno.Last != Errno.EEXIST)
            {
                throw new LinuxException(Errno.Last, create == CreateKind.File ? "create" : "mkdir", Describe(containerPath));
            }
            if (create == CreateKind.File && made >= 0)
            {
                Sys.Close(made);
            }
        }
    }

    private static unsafe string ReadLink(SafeFileHandle fd, string containerPath)
    {
        byte* buf = stackalloc byte[4096];
        nint n = Sys.ReadlinkAt((int)fd.DangerousGetHandle(), "", buf, 4096);
        Errno.Check((long)n, "readlink", containerPath);
        return Encoding.UTF8.GetString(buf, (int)n);
    }

    private static unsafe int OpenAt2(int dirfd, string path, int flags, ulong resolve)
    {
        var how = new Sys.OpenHow { Flags = (ulong)flags, Resolve = resolve };
        byte[] bytes = Encoding.UTF8.GetBytes(path + "\0");
        fixed (byte* p = bytes)
        {
            // EAGAIN: a concurrent rename made the kernel unsure the lookup stayed inside; retry a bounded number of times.
            for (int attempt = 0; ; attempt++)
            {
                long r = Sys.Syscall(Sys.SYS_openat2, dirfd, (long)p, (long)&how, sizeof(Sys.OpenHow), 0);
                if (r < 0 && attempt < 100 && Errno.Last is Errno.EINTR or Errno.EAGAIN)
                {
                    continue;
                }
                return (int)r;
            }
        }
    }

    private static IEnumerable<string> Components(string path) => path.Split('/', StringSplitOptions.RemoveEmptyEntries);

    private static string Relative(string containerPath)
    {
        string r = containerPath.TrimStart('/');
        return r.Length == 0 ? "." : r;
    }

    private string Describe(string containerPath) => containerPath + " (in " + HostPath + ")";
}

/// <summary>What to create at a missing mount target.</summary>
public enum CreateKind { Directory, File }

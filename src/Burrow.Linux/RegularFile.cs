using Burrow.Linux.Interop;
using Microsoft.Win32.SafeHandles;

namespace Burrow.Linux;

/// <summary>A path that had to be a regular file and is something else: a FIFO would block an open for ever, /dev/zero never ends.</summary>
public sealed class NotRegularFileException : IOException
{
    internal NotRegularFileException(string path, FileKind kind)
        : base(path + " is " + kind.Describe() + ", not a regular file")
    {
        FilePath = path;
        Kind = kind;
    }

    public string FilePath { get; }

    public FileKind Kind { get; }
}

/// <summary>Opens user-named input files only when they are regular files, without ever blocking on a FIFO.</summary>
public static class RegularFile
{
    /// <summary>
    /// Opens <paramref name="path"/> (symlinks followed: it is the caller's own path) for reading, or for reading
    /// and writing. The type is checked before the open, so a device is never opened, and again on the descriptor
    /// (opened O_NONBLOCK, so a FIFO swapped in between cannot block), which is the file then used.
    /// </summary>
    /// <exception cref="NotRegularFileException">The path is a directory, FIFO, device or socket.</exception>
    /// <exception cref="LinuxException">The open failed (ENOENT, EACCES, ELOOP …).</exception>
    public static SafeFileHandle Open(string path, bool writable = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        FileStatus? before = FileStatus.OfPathOrError(path);
        if (before.Kind != FileKind.Regular)
        {
            throw new NotRegularFileException(path, before.Kind);
        }
        int flags = (writable ? Sys.O_RDWR : Sys.O_RDONLY) | Sys.O_NONBLOCK | Sys.O_NOCTTY | Sys.O_CLOEXEC;
        SafeFileHandle fd = FileDescriptors.Own(Errno.Check(Sys.OpenAt(Sys.AT_FDCWD, path, flags, 0), "open", path));
        try
        {
            FileStatus st = FileStatus.Of(fd, path);
            if (st.Kind != FileKind.Regular)
            {
                throw new NotRegularFileException(path, st.Kind);
            }
            int fl = Errno.Check(Sys.Fcntl((int)fd.DangerousGetHandle(), Sys.F_GETFL, 0), "fcntl(F_GETFL)", path);
            Errno.Check(Sys.Fcntl((int)fd.DangerousGetHandle(), Sys.F_SETFL, fl & ~Sys.O_NONBLOCK), "fcntl(F_SETFL)", path);
            return fd;
        }
        catch
        {
            fd.Dispose();
            throw;
        }
    }

    /// <summary>A read-only FileStream over <see cref="Open"/>.</summary>
    public static FileStream OpenRead(string path, int bufferSize = 1 << 16) => new(Open(path), FileAccess.Read, bufferSize);
}

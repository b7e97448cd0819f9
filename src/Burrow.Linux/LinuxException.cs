using System.Runtime.InteropServices;

namespace Burrow.Linux;

/// <summary>
/// A failed system call: the operation, the object it acted on and the errno. The message reads
/// "open_tree /home/u: Permission denied"; callers add context outward (what Burrow was doing).
/// </summary>
public sealed class LinuxException : IOException
{
    internal LinuxException(int errno, string operation, string? path)
        : base(Describe(errno, operation, path))
    {
        Errno = errno;
        Operation = operation;
        Path = path;
        HResult = errno;
    }

    public int Errno { get; }

    public string Operation { get; }

    public string? Path { get; }

    /// <summary>strerror text for the errno, e.g. "No such file or directory".</summary>
    public string Reason => Marshal.GetPInvokeErrorMessage(Errno);

    private static string Describe(int errno, string operation, string? path) =>
        (path is null ? operation : operation + " " + path) + ": " + Marshal.GetPInvokeErrorMessage(errno);
}

/// <summary>errno values Burrow reacts to, and the one place results are checked.</summary>
public static class Errno
{
    public const int EPERM = 1, ENOENT = 2, ESRCH = 3, EINTR = 4, EIO = 5, EBADF = 9, ECHILD = 10, EAGAIN = 11, ENOMEM = 12,
        EACCES = 13, EBUSY = 16, EEXIST = 17, EXDEV = 18, ENOTDIR = 20, EISDIR = 21, EINVAL = 22, ENOSPC = 28, EROFS = 30,
        ELOOP = 40, ENOEXEC = 8, ETXTBSY = 26, ENOSYS = 38, EUSERS = 87,
        ENFILE = 23, EMFILE = 24, EFBIG = 27, EPIPE = 32, ENAMETOOLONG = 36, ENOTEMPTY = 39, EMSGSIZE = 90, EDQUOT = 122,
        E2BIG = 7, ENODEV = 19, ERANGE = 34, ENODATA = 61, EPROTO = 71, ECONNABORTED = 103;

    /// <summary>Throws a <see cref="LinuxException"/> when a libc call returned -1.</summary>
    public static int Check(int result, string operation, string? path = null)
    {
        if (result < 0)
        {
            throw new LinuxException(Marshal.GetLastPInvokeError(), operation, path);
        }
        return result;
    }

    public static long Check(long result, string operation, string? path = null)
    {
        if (result < 0)
        {
            throw new LinuxException(Marshal.GetLastPInvokeError(), operation, path);
        }
        return result;
    }

    /// <summary>For functions that return the error number instead of setting errno (posix_spawn).</summary>
    public static void CheckReturned(int error, string operation, string? path = null)
    {
        if (error != 0)
        {
            throw new LinuxException(error, operation, path);
        }
    }

    internal static int Last => Marshal.GetLastPInvokeError();
}

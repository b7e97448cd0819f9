using Burrow.Core.Diagnostics;
using Burrow.Linux;

namespace Burrow.Core.Files;

/// <summary>
/// A path the user gave (an --env-file, a file to add to a SIF; IMAGE is ImageSpec's), checked before it is used and described
/// for what it is when it cannot be: a dangling symlink is not "a file", a symlink loop is not "no such file", an
/// unreadable directory is not "a directory without /bin", and a FIFO is named as a FIFO (opening one would block).
/// </summary>
public static class UserPath
{
    /// <summary>
    /// The status of <paramref name="path"/> (symlinks followed), or null when nothing is there and
    /// <paramref name="allowMissing"/>. Every other failure is a <see cref="BurrowException"/> "{subject}: {what is wrong}".
    /// </summary>
    public static FileStatus? Stat(string path, string subject, bool allowMissing = false)
    {
        ArgumentNullException.ThrowIfNull(subject);
        if (string.IsNullOrEmpty(path))
        {
            throw new BurrowException($"{subject}: the path is empty", "give a path", ExitCodes.Usage);
        }
        try
        {
            return FileStatus.OfPathOrError(path);
        }
        catch (LinuxException e)
        {
            if (e.Errno is Errno.ENOENT && Dangling(path) is { } target)
            {
                throw new BurrowException($"{subject}: {path} is a symbolic link to {target}, which does not exist", "fix or remove the link");
            }
            if (e.Errno is Errno.ENOENT && allowMissing)
            {
                return null;
            }
            throw e.Errno switch
            {
                Errno.ENOENT => new BurrowException($"{subject}: {path} does not exist", "check the path"),
                Errno.ELOOP => new BurrowException($"{subject}: {path} is a symbolic link loop (too many levels of links)", "fix the links"),
                Errno.EACCES => new BurrowException($"{subject}: you may not reach {path} (a directory on the way does not let you in)", "check the permissions of its parent directories"),
                Errno.ENOTDIR => new BurrowException($"{subject}: {path} goes through something that is not a directory", "check the path"),
                Errno.ENAMETOOLONG => new BurrowException($"{subject}: the path is too long", "use a shorter path"),
                _ => new BurrowException($"{subject}: {path}: {e.Reason}", FailureText.ErrnoHint(e.Errno, path)),
            };
        }
    }

    private static string? Dangling(string path)
    {
        try
        {
            FileStatus? link = FileStatus.OfPath(path, followSymlinks: false);
            if (link is not { Kind: FileKind.Symlink })
            {
                return null;
            }
            return new FileInfo(path).LinkTarget ?? "?";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}

using System.Security.Cryptography;
using Burrow.Core.Diagnostics;

namespace Burrow.Core.Trust;

/// <summary>
/// Replaces a small file whole (keyrings): the bytes go to a new, unguessably named temp file beside it, created
/// exclusively (so nothing planted there is written through), fsync'ed, then renamed over the target, which
/// replaces the directory entry and never follows a symlink. A symlink at the target itself is refused, not
/// replaced, so that a keyring can never be redirected to another file. A reader sees the old file or the new.
/// </summary>
public static class AtomicFile
{
    public const UnixFileMode PrivateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    public const UnixFileMode PublicMode = PrivateMode | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    public static void Write(string path, ReadOnlySpan<byte> content, UnixFileMode mode, string what)
    {
        string dir = Path.GetDirectoryName(Path.GetFullPath(path)) ?? "/";
        if (new FileInfo(path).LinkTarget is { } target)
        {
            throw new BurrowException($"cannot write {what} {path}: it is a symbolic link (to {target})",
                "replace the link by the file itself; Burrow never writes through a link");
        }
        string temp = Path.Combine(dir, "." + Path.GetFileName(path) + ".tmp-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8)));
#pragma warning disable CA1416 // Linux only
        try
        {
            using (var fs = new FileStream(temp, new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                UnixCreateMode = mode,
                Options = FileOptions.None,
            }))
            {
                fs.Write(content);
                fs.Flush(flushToDisk: true);
            }
            File.SetUnixFileMode(temp, mode);
            File.Move(temp, path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(temp);
            throw new BurrowException($"cannot write {what} {path}: {ErrorText.Of(e)}", "check that you may write to " + dir);
        }
#pragma warning restore CA1416
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Log.Debug($"cannot remove {path}: {ErrorText.Of(e)}");
        }
    }
}

namespace Burrow.Core.Images;

/// <summary>
/// Creates directories and files that only their owner may read (0700/0600) from the first instant, whatever the
/// umask: a cache or a credentials file readable by others for even a moment is the Singularity CVE-2020-25039 class.
/// </summary>
public static class PrivateFiles
{
    public const UnixFileMode DirMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    public const UnixFileMode FileMode600 = UnixFileMode.UserRead | UnixFileMode.UserWrite;

#pragma warning disable CA1416 // Burrow runs on Linux only; these are the Unix permission APIs.
    /// <summary>
    /// Creates the directory (and missing parents) each with mode exactly 0700 whatever the umask, and tightens it to
    /// 0700 if it exists looser. For directories inside one Burrow already holds private (the cache's tmp/, a work
    /// directory); the roots themselves go through <see cref="Files.TrustedDirectory"/>, which checks the whole chain.
    /// </summary>
    public static void EnsureDirectory(string path)
    {
        string full = Path.GetFullPath(path);
        var missing = new Stack<string>();
        for (string? p = full; p is not null && !Directory.Exists(p); p = Path.GetDirectoryName(p))
        {
            missing.Push(p);
        }
        foreach (string dir in missing)
        {
            Linux.FileSystem.MakeDirectory(dir, (int)DirMode);
        }
        if ((File.GetUnixFileMode(full) & ~DirMode) != 0)
        {
            File.SetUnixFileMode(full, DirMode);
        }
    }

    public static FileStream CreateFile(string path, bool overwrite = false) => new(path, new FileStreamOptions
    {
        Mode = overwrite ? FileMode.Create : FileMode.CreateNew,
        Access = FileAccess.ReadWrite,
        UnixCreateMode = FileMode600,
        BufferSize = 1 << 16,
    });

    public static void SetMode(string path, UnixFileMode mode) => File.SetUnixFileMode(path, mode);

    public static UnixFileMode GetMode(string path) => File.GetUnixFileMode(path);
#pragma warning restore CA1416
}

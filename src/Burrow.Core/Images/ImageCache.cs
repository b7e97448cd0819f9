using System.Globalization;
using Burrow.Core.Diagnostics;
using Burrow.Core.Oci;

namespace Burrow.Core.Images;

/// <summary>
/// The per-user cache, mode 0700: <c>blobs/sha256/HEX</c> (OCI blobs by digest) and <c>sif/sha256/HEX.COMP.sif</c>
/// (converted images by manifest digest and squashfs compression). Every entry is written under <c>tmp/</c> and
/// renamed into place after an fsync, so a reader sees a whole entry or none, concurrent pulls of one image
/// each rename an identical file over the same name, and a killed pull leaves only a temp file that the next
/// run removes.
/// </summary>
public sealed class ImageCache
{
    public ImageCache(string root)
    {
        Root = root;
    }

    public string Root { get; }

    public string BlobDirectory => Path.Combine(Root, "blobs");
    public string SifDirectory => Path.Combine(Root, "sif");
    public string TempDirectory => Path.Combine(Root, "tmp");

    /// <summary><c>$BURROW_CACHEDIR</c>, else burrow.conf's <c>cache-dir</c>, else <c>$XDG_CACHE_HOME/burrow</c>, else <c>~/.cache/burrow</c>.</summary>
    public static string DefaultRoot()
    {
        if (Environment.GetEnvironmentVariable("BURROW_CACHEDIR") is { Length: > 0 } explicitDir)
        {
            return Path.GetFullPath(explicitDir);
        }
        if (Config.ConfiguredDirectories.Cache is { } configured)
        {
            return configured;
        }
        if (Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg)
        {
            return Path.Combine(Path.GetFullPath(xdg), "burrow");
        }
        string home = Environment.GetEnvironmentVariable("HOME") is { Length: > 0 } h ? h : Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        return Path.Combine(home, ".cache", "burrow");
    }

    private const string Hint = "set BURROW_CACHEDIR to a directory of your own, or use --disable-cache";

    /// <summary>
    /// Creates the cache directories 0700 whatever the umask, after checking that no other user can change any
    /// directory on the way to them (<see cref="Files.TrustedDirectory"/>), and removes temp files of pulls that no
    /// longer run.
    /// </summary>
    public void Prepare()
    {
        using (Linux.DirectoryHandle root = Files.TrustedDirectory.Ensure(Root, "the cache directory", Hint))
        {
            Files.TrustedDirectory.EnsureChild(root, "tmp", "the cache directory", Hint).Dispose();
            foreach (string kind in new[] { "blobs", "sif" })
            {
                using Linux.DirectoryHandle sub = Files.TrustedDirectory.EnsureChild(root, kind, "the cache directory", Hint);
                Files.TrustedDirectory.EnsureChild(sub, "sha256", "the cache directory", Hint).Dispose();
            }
        }
        RemoveStaleTemps();
    }

    /// <summary>
    /// For listing and cleaning: the cache may be missing (then it is empty), but if it exists it must be a directory
    /// Burrow can read, on a chain no other user can change; anything else is an error, never "0 files".
    /// </summary>
    /// <returns>False when there is no cache yet.</returns>
    public bool CheckExisting()
    {
        Linux.FileStatus? st;
        try
        {
            st = Linux.FileStatus.OfPath(Root);
        }
        catch (Linux.LinuxException e)
        {
            throw new BurrowException($"cannot use the cache directory {Root}: {e.Reason}", Hint, ExitCodes.Failure, e);
        }
        if (st is null)
        {
            return false;
        }
        if (st.Kind != Linux.FileKind.Directory)
        {
            throw new BurrowException($"the cache directory {Root} is {Linux.FileKindText.Describe(st.Kind)}, not a directory", Hint);
        }
        Files.TrustedDirectory.OpenExisting(Root, "the cache directory", Hint).Dispose();
        return true;
    }

    public string BlobPath(Digest d) => Path.Combine(BlobDirectory, d.Algorithm, d.Hex);

    public string SifPath(Digest manifest, string compression) => Path.Combine(SifDirectory, manifest.Algorithm, manifest.Hex + "." + compression + ".sif");

    private static readonly string s_session = Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + "-" + Guid.NewGuid().ToString("N")[..12];
    private static FileStream? s_sessionLock;

    /// <summary>
    /// A fresh temp name that starts with this process's session; the session's lock file (held open, and so
    /// flock-ed, for the life of the process) is how a later run tells a dead pull's leftovers from a live one's.
    /// </summary>
    public string NewTempPath(string suffix = "")
    {
        lock (s_session)
        {
            s_sessionLock ??= CreateLockedSessionFile();
        }
        return Path.Combine(TempDirectory, s_session + "-" + Guid.NewGuid().ToString("N")[..8] + suffix);
    }

    /// <summary>
    /// Creates the session's lock file already locked: it is opened (and flock-ed) under a name the stale-temp sweep
    /// never judges, then renamed into place. Created in place, another process's sweep could probe it between open
    /// and flock, take the session for dead and delete its work directory under it, and make this open fail.
    /// </summary>
    private FileStream CreateLockedSessionFile()
    {
        string locking = Path.Combine(TempDirectory, s_session + LockingSuffix);
        var stream = new FileStream(locking, FileMode.Create, FileAccess.ReadWrite, FileShare.None);
        File.Move(locking, Path.Combine(TempDirectory, s_session + ".lock"));
        return stream;
    }

    private const string LockingSuffix = ".locking";

    /// <summary>fsyncs the temp file and renames it over <paramref name="final"/> (atomic on one file system).</summary>
    public static void Commit(string temp, string final)
    {
        using (var fs = new FileStream(temp, FileMode.Open, FileAccess.ReadWrite))
        {
            fs.Flush(flushToDisk: true);
        }
        File.Move(temp, final, overwrite: true);
    }

    /// <summary>Ends this process's temp session: removes its lock file once nothing of the session is left.</summary>
    public void EndSession()
    {
        lock (s_session)
        {
            if (s_sessionLock is null || Directory.EnumerateFileSystemEntries(TempDirectory, s_session + "-*").Any())
            {
                return;
            }
            // The stream's Name is the pre-rename path; the lock lives under the session's name.
            File.Delete(Path.Combine(TempDirectory, s_session + ".lock"));
            s_sessionLock.Dispose();
            s_sessionLock = null;
        }
    }

    private void RemoveStaleTemps()
    {
        var alive = new Dictionary<string, bool>(StringComparer.Ordinal);
        foreach (string entry in Directory.EnumerateFileSystemEntries(TempDirectory))
        {
            string name = Path.GetFileName(entry);
            if (name.EndsWith(LockingSuffix, StringComparison.Ordinal))
            {
                // Another process is creating its lock right now; only a left-over of a crash at that instant is stale.
                if (File.GetLastWriteTimeUtc(entry) < DateTime.UtcNow.AddHours(-1))
                {
                    TryDelete(entry);
                }
                continue;
            }
            int first = name.IndexOf('-');
            int second = first < 0 ? -1 : name.IndexOfAny(['-', '.'], first + 1);
            string session = second < 0 ? name : name[..second];
            if (session == s_session)
            {
                continue;
            }
            if (!alive.TryGetValue(session, out bool isAlive))
            {
                isAlive = alive[session] = SessionAlive(Path.Combine(TempDirectory, session + ".lock"));
            }
            if (isAlive)
            {
                continue;
            }
            TryDelete(entry);
        }
    }

    private static void TryDelete(string entry)
    {
        try
        {
            if (Directory.Exists(entry))
            {
                Directory.Delete(entry, recursive: true);
            }
            else
            {
                File.Delete(entry);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Log.Debug($"cannot remove the stale temp entry {entry}: {e.Message}");
        }
    }

    /// <summary>A session is alive while its process holds the lock file open (FileShare.None is an flock on Linux).</summary>
    private static bool SessionAlive(string lockFile)
    {
        if (!File.Exists(lockFile))
        {
            return false;
        }
        try
        {
            using var probe = new FileStream(lockFile, FileMode.Open, FileAccess.ReadWrite, FileShare.None);
            return false;
        }
        catch (IOException)
        {
            return true;
        }
    }
}

/// <summary>Where layer blobs are kept: the cache's blob directory, or a private temp directory with <c>--disable-cache</c>.</summary>
public sealed class BlobStore(string blobDirectory, Func<string> newTempPath)
{
    private readonly HashSet<Digest> _verified = [];

    /// <summary>True for blobs this process downloaded and verified (see <see cref="PutAsync"/>).</summary>
    public bool WasVerified(Digest d)
    {
        lock (_verified)
        {
            return _verified.Contains(d);
        }
    }

    public string? TryGet(Digest d, long size)
    {
        string path = Path.Combine(blobDirectory, d.Algorithm, d.Hex);
        var info = new FileInfo(path);
        return info.Exists && info.Length == size ? path : null;
    }

    /// <summary>Writes a blob through <paramref name="write"/> (which must verify size and digest, or throw) to a temp file, then renames it into place.</summary>
    public async Task<string> PutAsync(Digest d, Func<FileStream, Task> write)
    {
        string final = Path.Combine(blobDirectory, d.Algorithm, d.Hex);
        PrivateFiles.EnsureDirectory(Path.GetDirectoryName(final)!);
        string temp = newTempPath();
        try
        {
            await using (FileStream file = PrivateFiles.CreateFile(temp))
            {
                await write(file).ConfigureAwait(false);
                file.Flush(flushToDisk: true);
            }
            File.Move(temp, final, overwrite: true);
            lock (_verified)
            {
                _verified.Add(d);
            }
        }
        finally
        {
            File.Delete(temp);
        }
        return final;
    }
}

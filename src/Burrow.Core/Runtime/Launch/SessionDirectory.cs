using Burrow.Core.Diagnostics;
using Burrow.Linux;

namespace Burrow.Core.Runtime.Launch;

/// <summary>
/// The per-launch directory the stage mounts its session tmpfs on (overlay upper layer, generated
/// files). Every level Burrow creates is 0700 whatever the umask (Singularity CVE-2020-25039/25040),
/// and it must be owned by the caller. Inside the container the tmpfs is unbindable, so a recursive
/// bind of a parent ($HOME) never shows it.
/// </summary>
internal sealed class SessionDirectory : IDisposable
{
    private SessionDirectory(string path) => Path = path;

    public string Path { get; }

    public static SessionDirectory Create()
    {
        string parent = System.IO.Path.Combine(BaseDirectory(), "sessions");
        try
        {
            EnsurePrivateDirectory(parent);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or LinuxException)
        {
            // A read-only or foreign home (HOME=/root under sudo -u, a full quota) must not stop a container:
            // fall back to a private directory in $TMPDIR or /tmp.
            string fallback = TmpFallback();
            try
            {
                EnsureOwnedTmpDirectory(fallback);
                parent = System.IO.Path.Combine(fallback, "sessions");
                EnsurePrivateDirectory(parent);
            }
            catch (Exception e2) when (e2 is IOException or UnauthorizedAccessException or LinuxException)
            {
                throw new BurrowException($"cannot create the session directory {parent}: {e.Message}; nor {fallback}: {e2.Message}",
                    "set XDG_RUNTIME_DIR or BURROW_CACHEDIR to a directory of your own that you can write");
            }
            Log.Verbose($"session directory under {fallback}: {e.Message}");
        }
        RemoveStale(parent);
        string name = "s-" + Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture)
            // Uniqueness only (the parent is 0700 and ours): not the crypto RNG, whose first use loads OpenSSL (milliseconds).
            + "-" + Random.Shared.Next().ToString("x8", System.Globalization.CultureInfo.InvariantCulture);
        string path = System.IO.Path.Combine(parent, name);
        FileSystem.MakeDirectory(path, 0x1c0);
        return new SessionDirectory(path);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: false);
        }
        catch (IOException e)
        {
            Log.Warning($"could not remove the session directory {Path}: {e.Message}");
        }
    }

    /// <summary>$XDG_RUNTIME_DIR/burrow when the session manager gave us one, else the cache directory.</summary>
    private static string BaseDirectory()
    {
        string? runtime = Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR");
        if (runtime is { Length: > 0 } && FileStatus.OfPath(runtime) is { Kind: FileKind.Directory } st && st.Uid == ProcessSecurity.Uid)
        {
            return System.IO.Path.Combine(runtime, "burrow");
        }
        string? cache = Environment.GetEnvironmentVariable("BURROW_CACHEDIR");
        if (cache is { Length: > 0 })
        {
            return cache;
        }
        if (Config.ConfiguredDirectories.Cache is { } configured)
        {
            return configured;
        }
        string? xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        string home = Environment.GetEnvironmentVariable("HOME") is { Length: > 0 } h ? h
            : throw new BurrowException("HOME is not set, so there is nowhere to keep the session directory", "set HOME or XDG_RUNTIME_DIR");
        return System.IO.Path.Combine(xdg is { Length: > 0 } ? xdg : System.IO.Path.Combine(home, ".cache"), "burrow");
    }

    /// <summary>$BURROW_TMPDIR, temp-dir or $TMPDIR (else /tmp), then burrow-UID.</summary>
    private static string TmpFallback() =>
        System.IO.Path.Combine(Config.ConfiguredDirectories.TempRoot(), "burrow-" + ProcessSecurity.Uid.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>
    /// /tmp is shared: another user may have planted the name first. Accept only a real directory (not a symlink)
    /// that is ours, and make it 0700.
    /// </summary>
    private static void EnsureOwnedTmpDirectory(string path)
    {
        FileSystem.MakeDirectory(path, 0x1c0);
        FileStatus st = FileStatus.OfPath(path, followSymlinks: false) ?? throw new BurrowException($"cannot create {path}");
        if (st.Kind != FileKind.Directory || st.Uid != ProcessSecurity.Uid)
        {
            throw new BurrowException($"{path} exists and is not a directory of yours",
                "remove it, or set XDG_RUNTIME_DIR or BURROW_CACHEDIR to a directory of your own");
        }
        FileSystem.SetMode(path, 0x1c0);
    }

    /// <summary>Creates the directory chain Burrow owns with mode 0700 and refuses one that someone else owns.</summary>
    private static void EnsurePrivateDirectory(string path)
    {
        string? up = System.IO.Path.GetDirectoryName(path);
        if (up is not null && !Directory.Exists(up))
        {
            string? top = System.IO.Path.GetDirectoryName(up);
            if (top is not null && !Directory.Exists(top))
            {
                Directory.CreateDirectory(top); // e.g. ~/.cache: not Burrow's, the usual mode
            }
            FileSystem.MakeDirectory(up, 0x1c0);
        }
        FileSystem.MakeDirectory(path, 0x1c0);
        FileStatus st = FileStatus.OfPath(path) ?? throw new BurrowException($"cannot create the session directory {path}");
        if (st.Uid != ProcessSecurity.Uid)
        {
            throw new BurrowException($"the session directory {path} belongs to uid {st.Uid}, not to you",
                "remove it, or set XDG_RUNTIME_DIR or BURROW_CACHEDIR to a directory of your own");
        }
        if ((st.Permissions & 0x3f) != 0)
        {
            FileSystem.SetMode(path, 0x1c0);
        }
    }

    /// <summary>Removes the empty directories left by launches whose burrow was killed.</summary>
    private static void RemoveStale(string parent)
    {
        foreach (string dir in Directory.EnumerateDirectories(parent, "s-*"))
        {
            string[] parts = System.IO.Path.GetFileName(dir).Split('-');
            if (parts.Length == 3 && int.TryParse(parts[1], out int pid) && !Directory.Exists("/proc/" + pid))
            {
                try { Directory.Delete(dir, recursive: false); } catch (IOException) { }
            }
        }
    }
}

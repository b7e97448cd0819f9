using Burrow.Core.Diagnostics;
using Burrow.Core.Files;
using Burrow.Linux;

namespace Burrow.Core.Runtime.Launch;

/// <summary>
/// The per-launch directory the stage mounts its session tmpfs on (overlay upper layer, generated
/// files). Every level Burrow creates is 0700 whatever the umask (Singularity CVE-2020-25039/25040),
/// and every directory on the way must be one no other user can change (Files.TrustedDirectory): the path handed
/// to the stage is then the directory created here, by descriptor, in a parent held open. Inside the container the tmpfs is unbindable, so a recursive
/// bind of a parent ($HOME) never shows it.
/// </summary>
internal sealed class SessionDirectory : IDisposable
{
    private const string Hint = "set XDG_RUNTIME_DIR or BURROW_CACHEDIR to a directory of your own";

    private readonly DirectoryHandle _parent;
    private readonly string _name;

    private SessionDirectory(DirectoryHandle parent, string name)
    {
        _parent = parent;
        _name = name;
        Path = parent.Child(name);
    }

    public string Path { get; }

    public static SessionDirectory Create()
    {
        string wanted = System.IO.Path.Combine(BaseDirectory(), "sessions");
        DirectoryHandle parent;
        try
        {
            // Every directory on the way is checked (no other user can swap one) and the ones Burrow makes are 0700.
            parent = TrustedDirectory.Ensure(wanted, "the session directory", Hint);
        }
        catch (BurrowException e)
        {
            // A read-only or foreign home (HOME=/root under sudo -u, a full quota) must not stop a container:
            // fall back to a private directory in $TMPDIR or /tmp, checked the same way (/tmp is sticky; the
            // burrow-UID directory in it must be ours).
            string fallback = System.IO.Path.Combine(TmpFallback(), "sessions");
            try
            {
                parent = TrustedDirectory.Ensure(fallback, "the session directory", Hint);
            }
            catch (BurrowException e2)
            {
                throw new BurrowException($"{e.Message}; nor {e2.Message}", Hint, ExitCodes.Failure, e2);
            }
            Log.Verbose($"session directory under {fallback}: {e.Message}");
        }
        try
        {
            RemoveStale(parent);
            for (int attempt = 0; ; attempt++)
            {
                string name = "s-" + Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture)
                    // Uniqueness only (the parent is 0700 and ours): not the crypto RNG, whose first use loads OpenSSL (milliseconds).
                    + "-" + Random.Shared.Next().ToString("x8", System.Globalization.CultureInfo.InvariantCulture);
                (DirectoryHandle dir, bool created) = parent.CreateDirectory(name, 0x1c0);
                dir.Dispose();
                if (created)
                {
                    return new SessionDirectory(parent, name);
                }
                if (attempt > 8)
                {
                    throw new BurrowException($"cannot create a session directory in {parent.Path}: every name tried exists", Hint);
                }
            }
        }
        catch
        {
            parent.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        try
        {
            _parent.Remove(_name, directory: true);
        }
        catch (LinuxException e)
        {
            Log.Warning($"could not remove the session directory {Path}: {e.Reason}");
        }
        finally
        {
            _parent.Dispose();
        }
    }

    /// <summary>$XDG_RUNTIME_DIR/burrow when the session manager gave us one, else the cache directory.</summary>
    internal static string BaseDirectory()
    {
        string? runtime = Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR");
        if (runtime is { Length: > 0 } && SafeStatus(runtime) is { Kind: FileKind.Directory } st && st.Uid == ProcessSecurity.Uid)
        {
            return System.IO.Path.Combine(runtime, "burrow");
        }
        string? cache = Environment.GetEnvironmentVariable("BURROW_CACHEDIR");
        if (cache is { Length: > 0 })
        {
            return System.IO.Path.GetFullPath(cache);
        }
        if (Config.ConfiguredDirectories.Cache is { } configured)
        {
            return configured;
        }
        string? xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        string home = Environment.GetEnvironmentVariable("HOME") is { Length: > 0 } h ? h
            : throw new BurrowException("HOME is not set, so there is nowhere to keep the session directory", "set HOME or XDG_RUNTIME_DIR");
        return System.IO.Path.Combine(xdg is { Length: > 0 } ? System.IO.Path.GetFullPath(xdg) : System.IO.Path.Combine(home, ".cache"), "burrow");
    }

    private static FileStatus? SafeStatus(string path)
    {
        try
        {
            return FileStatus.OfPath(path);
        }
        catch (LinuxException)
        {
            return null; // EACCES, ELOOP: not a runtime directory Burrow can use
        }
    }

    /// <summary>$BURROW_TMPDIR, temp-dir or $TMPDIR (else /tmp), then burrow-UID.</summary>
    private static string TmpFallback() =>
        System.IO.Path.Combine(Config.ConfiguredDirectories.TempRoot(), "burrow-" + ProcessSecurity.Uid.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>Removes the empty directories left by launches whose burrow was killed.</summary>
    private static void RemoveStale(DirectoryHandle parent)
    {
        IReadOnlyList<string> names;
        try
        {
            names = parent.List();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return;
        }
        foreach (string name in names.Where(n => n.StartsWith("s-", StringComparison.Ordinal)))
        {
            string[] parts = name.Split('-');
            if (parts.Length == 3 && int.TryParse(parts[1], out int pid) && !Directory.Exists("/proc/" + pid))
            {
                try { parent.Remove(name, directory: true); } catch (LinuxException) { }
            }
        }
    }
}

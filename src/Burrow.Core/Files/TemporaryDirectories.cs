using System.Globalization;
using System.Security.Cryptography;
using Burrow.Core.Diagnostics;
using Burrow.Linux;

namespace Burrow.Core.Files;

/// <summary>
/// Private directories in the temporary directory (<see cref="Root"/>: <c>burrow-pull-*</c> of a --disable-cache pull, <c>burrow-sandbox-*</c> of a SIF
/// unpacked for exec): mode 0700, and flock-ed for as long as this process lives, so that the next burrow can tell
/// the leftovers of a killed one (lock free) from a live one's (lock held), across PID namespaces too, and sweep
/// them. $TMPDIR itself is never created: a missing one is an error that says so.
/// </summary>
public static class TemporaryDirectories
{
    /// <summary>A directory younger than this is never swept: it may be between its mkdir and its flock.</summary>
    private const long MinimumAgeSeconds = 60;

    private static readonly Dictionary<string, DirectoryHandle> s_held = new(StringComparer.Ordinal);

    /// <summary>$BURROW_TMPDIR, else burrow.conf's temp-dir, else $TMPDIR, else /tmp, without the trailing slash.</summary>
    public static string Root => Path.TrimEndingDirectorySeparator(Config.ConfiguredDirectories.TempRoot());

    /// <summary>Creates <c>$TMPDIR/PREFIX-PID-RANDOM</c> (0700, locked) after sweeping dead ones of the same prefix.</summary>
    public static string Create(string prefix)
    {
        using DirectoryHandle tmp = OpenRoot();
        Sweep(tmp, prefix);
        string name = prefix + "-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + "-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        try
        {
            (DirectoryHandle dir, bool created) = tmp.CreateDirectory(name, 0x1c0);
            if (!created || dir.Status().Uid != ProcessSecurity.Uid || !dir.TryLock())
            {
                dir.Dispose();
                throw new BurrowException($"cannot create a private directory in {Root}: {name} was taken by someone else", "set TMPDIR to a directory of your own");
            }
            string path = tmp.Child(name);
            lock (s_held)
            {
                s_held[path] = dir;
            }
            return path;
        }
        catch (LinuxException e)
        {
            throw new BurrowException($"cannot create a private directory in {Root}: {e.Reason}", FailureText.ErrnoHint(e.Errno, Root) ?? "set TMPDIR to a directory of your own", ExitCodes.Failure, e);
        }
    }

    /// <summary>Removes a directory made by <see cref="Create"/> and everything in it, and releases its lock.</summary>
    public static void Remove(string path)
    {
        DirectoryHandle? held;
        lock (s_held)
        {
            s_held.Remove(path, out held);
        }
        try
        {
            using DirectoryHandle parent = DirectoryHandle.Open(Path.GetDirectoryName(path) ?? "/");
            parent.RemoveTree(Path.GetFileName(path));
        }
        catch (Exception e) when (e is LinuxException or IOException or UnauthorizedAccessException)
        {
            Log.Warning($"could not remove the temporary directory {path}: {FailureText.Reason(e)}");
        }
        finally
        {
            held?.Dispose();
        }
    }

    /// <summary>Removes this user's <c>PREFIX-*</c> directories whose process is gone (their lock is free).</summary>
    public static void Sweep(string prefix)
    {
        try
        {
            using DirectoryHandle tmp = OpenRoot();
            Sweep(tmp, prefix);
        }
        catch (BurrowException)
        {
            // No $TMPDIR: nothing to sweep.
        }
    }

    private static void Sweep(DirectoryHandle tmp, string prefix)
    {
        IReadOnlyList<string> names;
        try
        {
            names = tmp.List();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return; // a TMPDIR we may write but not list: nothing to sweep
        }
        long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        foreach (string name in names.Where(n => n.StartsWith(prefix + "-", StringComparison.Ordinal)))
        {
            try
            {
                FileStatus? st = tmp.StatEntry(name);
                if (st is not { Kind: FileKind.Directory } || st.Uid != ProcessSecurity.Uid || now - st.ModifiedSeconds < MinimumAgeSeconds)
                {
                    continue;
                }
                bool dead;
                using (DirectoryHandle candidate = tmp.OpenDirectory(name))
                {
                    dead = candidate.TryLock();
                }
                if (dead)
                {
                    tmp.RemoveTree(name);
                    Log.Verbose($"removed {tmp.Child(name)}, left by a burrow that was killed");
                }
            }
            catch (Exception e) when (e is LinuxException or IOException or UnauthorizedAccessException)
            {
                Log.Debug($"cannot sweep {tmp.Child(name)}: {FailureText.Reason(e)}");
            }
        }
    }

    private static DirectoryHandle OpenRoot()
    {
        string root = Root;
        try
        {
            return DirectoryHandle.Open(root);
        }
        catch (LinuxException e)
        {
            string what = e.Errno == Errno.ENOENT ? $"the temporary directory {root} does not exist" : $"cannot open the temporary directory {root}: {e.Reason}";
            throw new BurrowException(what + Config.ConfiguredDirectories.TempRootChosenBy(),
                "create it, or set BURROW_TMPDIR to a directory you may write (Burrow does not create it)", ExitCodes.Failure, e);
        }
    }
}

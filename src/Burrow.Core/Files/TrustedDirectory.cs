using System.Globalization;
using Burrow.Core.Diagnostics;
using Burrow.Linux;

namespace Burrow.Core.Files;

/// <summary>
/// The directories Burrow keeps its own state in (the cache, <c>~/.config/burrow</c>, the session directories) and
/// every directory on the way to them. The path is walked from <c>/</c> one component at a time by descriptor, and
/// each directory passed through must be one no other user can change: owned by you or by root, and not writable by
/// group or others unless sticky (as /tmp). Otherwise another user could rename a parent and put a directory of their
/// own (or a symlink) in its place between two of Burrow's steps (inside a user namespace, where owners that are not
/// mapped cannot be told apart, such a directory is judged by its mode). Missing components are created 0700 whatever the
/// umask (<c>~/.cache</c> included, as the XDG base directory rules ask). Symlinks on the way are followed only from
/// directories that passed the check, so their targets are as trusted as the rest.
/// </summary>
public static class TrustedDirectory
{
    private const int PrivateMode = 0x1c0;
    private const int MaxSymlinks = 40;

    /// <summary>
    /// Opens (creating what is missing) the directory at <paramref name="path"/>, checking every component, and makes
    /// the last one 0700 and yours. <paramref name="what"/> names it in messages ("the cache directory").
    /// </summary>
    public static DirectoryHandle Ensure(string path, string what, string hint)
    {
        DirectoryHandle dir = Walk(path, what, hint, create: true);
        try
        {
            FileStatus st = dir.Status();
            if (st.Uid != ProcessSecurity.Uid)
            {
                throw new BurrowException($"{what} {path} belongs to uid {st.Uid.ToString(CultureInfo.InvariantCulture)}, not to you", hint);
            }
            if ((st.Permissions & 0xfff) != PrivateMode)
            {
                dir.SetMode(PrivateMode);
            }
            return dir;
        }
        catch (LinuxException e)
        {
            dir.Dispose();
            throw new BurrowException($"cannot make {what} {path} private: {e.Reason}", hint, ExitCodes.Failure, e);
        }
        catch
        {
            dir.Dispose();
            throw;
        }
    }

    /// <summary>As <see cref="Ensure"/> for a subdirectory of a directory already held (created 0700, checked, tightened).</summary>
    public static DirectoryHandle EnsureChild(DirectoryHandle parent, string name, string what, string hint)
    {
        ArgumentNullException.ThrowIfNull(parent);
        try
        {
            (DirectoryHandle dir, bool created) = parent.CreateDirectory(name, PrivateMode);
            FileStatus st = dir.Status();
            if (st.Uid != ProcessSecurity.Uid)
            {
                dir.Dispose();
                throw new BurrowException($"{what} {parent.Child(name)} belongs to uid {st.Uid.ToString(CultureInfo.InvariantCulture)}, not to you", hint);
            }
            if (!created && (st.Permissions & 0xfff) != PrivateMode)
            {
                dir.SetMode(PrivateMode);
            }
            return dir;
        }
        catch (LinuxException e)
        {
            throw new BurrowException($"cannot create {what} {parent.Child(name)}: {e.Reason}", hint, ExitCodes.Failure, e);
        }
    }

    /// <summary>Checks an existing directory and every component on its way, without creating anything.</summary>
    public static DirectoryHandle OpenExisting(string path, string what, string hint) => Walk(path, what, hint, create: false);

    private static DirectoryHandle Walk(string path, string what, string hint, bool create)
    {
        string full = Path.GetFullPath(path);
        var pending = new Stack<string>(Components(full).Reverse());
        var held = new List<DirectoryHandle>();
        int links = 0;
        try
        {
            held.Add(Open("/", what, full, hint));
            Check(held[^1], what, full, hint);
            while (pending.Count > 0)
            {
                string name = pending.Pop();
                if (name == ".")
                {
                    continue;
                }
                if (name == "..")
                {
                    if (held.Count > 1)
                    {
                        held[^1].Dispose();
                        held.RemoveAt(held.Count - 1);
                    }
                    continue;
                }
                DirectoryHandle current = held[^1];
                FileStatus? st = current.StatEntry(name);
                if (st is null)
                {
                    if (!create)
                    {
                        throw new BurrowException($"{what} {full}: {current.Child(name)} does not exist", hint);
                    }
                    (DirectoryHandle made, _) = current.CreateDirectory(name, PrivateMode);
                    held.Add(made);
                    Check(made, what, full, hint);
                    continue;
                }
                if (st.Kind == FileKind.Symlink)
                {
                    if (++links > MaxSymlinks)
                    {
                        throw new BurrowException($"{what} {full}: too many symbolic links (a loop?)", hint);
                    }
                    string target = current.ReadLink(name);
                    if (target.StartsWith('/'))
                    {
                        held.Skip(1).ToList().ForEach(h => h.Dispose());
                        held.RemoveRange(1, held.Count - 1);
                    }
                    foreach (string c in Components(target).Reverse())
                    {
                        pending.Push(c);
                    }
                    continue;
                }
                if (st.Kind != FileKind.Directory)
                {
                    throw new BurrowException($"{what} {full}: {current.Child(name)} is {st.Kind.Describe()}, not a directory", hint);
                }
                DirectoryHandle next = current.OpenDirectory(name);
                held.Add(next);
                Check(next, what, full, hint);
            }
            DirectoryHandle result = held[^1];
            held.RemoveAt(held.Count - 1);
            return result;
        }
        catch (LinuxException e)
        {
            throw new BurrowException($"cannot use {what} {full}: {e.Message}", FailureText.ErrnoHint(e.Errno, null) is { } h ? h + "; or " + hint : hint, ExitCodes.Failure, e);
        }
        finally
        {
            held.ForEach(h => h.Dispose());
        }
    }

    private static DirectoryHandle Open(string path, string what, string full, string hint)
    {
        try
        {
            return DirectoryHandle.Open(path);
        }
        catch (LinuxException e)
        {
            throw new BurrowException($"cannot use {what} {full}: {e.Message}", hint, ExitCodes.Failure, e);
        }
    }

    /// <summary>No one but you (and root) may change a directory Burrow relies on.</summary>
    private static void Check(DirectoryHandle dir, string what, string full, string hint)
    {
        FileStatus st = dir.Status();
        uint me = ProcessSecurity.Uid;
        if (st.Uid != me && st.Uid != 0 && !IsUnmappedOwner(st.Uid, dir.Path))
        {
            throw new BurrowException($"cannot use {what} {full}: {dir.Path} belongs to uid {st.Uid.ToString(CultureInfo.InvariantCulture)}, who could replace what is in it",
                hint);
        }
        bool sticky = (st.Permissions & 0x200) != 0;
        if ((st.Permissions & 0x12) != 0 && !sticky)
        {
            string who = (st.Permissions & 0x2) != 0 ? "everyone" : "its group";
            throw new BurrowException($"cannot use {what} {full}: {dir.Path} is writable by {who} (mode {Convert.ToString(st.Permissions & 0xfff, 8)}), so another user could replace what is in it",
                $"chmod go-w {dir.Path}, or {hint}");
        }
    }

    private static readonly Lazy<uint?> s_overflowUid = new(ReadOverflowUid);
    private static int s_unmappedNoted;

    /// <summary>
    /// Inside a user namespace (burrow run from another container or from <c>unshare -U</c>) every owner that is not
    /// mapped, the host's root among them, shows as the overflow uid (65534): the owner cannot be told apart there,
    /// so such a directory is judged by its mode alone (not writable by group or others unless sticky), and
    /// <c>--verbose</c> says so once.
    /// </summary>
    private static bool IsUnmappedOwner(uint uid, string path)
    {
        if (s_overflowUid.Value != uid)
        {
            return false;
        }
        if (Interlocked.Exchange(ref s_unmappedNoted, 1) == 0)
        {
            Log.Verbose($"in a user namespace: {path} has an unmapped owner (uid {uid}); trusted as root's by its mode alone");
        }
        return true;
    }

    /// <summary>The overflow uid when this process is in a user namespace other than the initial one, else null.</summary>
    private static uint? ReadOverflowUid()
    {
        try
        {
            string[] map = File.ReadAllText("/proc/self/uid_map").Split((char[])[' ', '\n'], StringSplitOptions.RemoveEmptyEntries);
            if (map is ["0", "0", "4294967295"])
            {
                return null; // the initial user namespace: every owner is what it says
            }
            return uint.TryParse(File.ReadAllText("/proc/sys/kernel/overflowuid").Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out uint overflow)
                ? overflow : 65534;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static IEnumerable<string> Components(string path) => path.Split('/', StringSplitOptions.RemoveEmptyEntries);
}

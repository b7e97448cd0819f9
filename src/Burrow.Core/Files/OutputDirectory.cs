using System.Security.Cryptography;
using Burrow.Core.Diagnostics;
using Burrow.Linux;

namespace Burrow.Core.Files;

/// <summary>
/// A directory tree written at a path the user named (<c>build --sandbox DIR</c>), with <see cref="OutputFile"/>'s
/// rules: the parent is opened once; the tree is made in a new private temp directory beside the target (mkdirat,
/// which fails on a planted name) that tools reach through the parent's descriptor (<see cref="WorkPath"/>), then
/// renamed into place, or swapped with the old tree atomically (RENAME_EXCHANGE) when replacing one. A symlink at
/// the target is refused, never followed. Dispose without <see cref="Commit"/> removes the temp tree.
/// </summary>
public sealed class OutputDirectory : IDisposable
{
    private readonly DirectoryHandle _dir;
    private readonly string _name;
    private readonly string _display;
    private string? _temp;
    private bool _replaceExisting;

    private OutputDirectory(DirectoryHandle dir, string name, string display)
    {
        _dir = dir;
        _name = name;
        _display = display;
    }

    /// <summary>
    /// A path to the temp directory through the parent's descriptor (<c>/proc/PID/fd/N/.NAME.burrow-…</c>), for a tool
    /// Burrow runs (unsquashfs -d). It is created by the tool; it does not exist yet.
    /// </summary>
    public string WorkPath => _dir.ProcPath + "/" + (_temp ?? throw new InvalidOperationException("already committed"));

    /// <summary>
    /// Prepares to write <paramref name="path"/>. A missing or empty directory is fine; an existing non-empty one only
    /// with <paramref name="replace"/> and only if it holds one of <paramref name="markers"/> (a root file system).
    /// </summary>
    public static OutputDirectory Create(string path, bool replace, IReadOnlyList<string> markers)
    {
        ArgumentNullException.ThrowIfNull(markers);
        (DirectoryHandle dir, string name) = OutputFile.OpenParent(path.TrimEnd('/') is { Length: > 0 } p ? p : path);
        var output = new OutputDirectory(dir, name, path);
        try
        {
            output.CheckTarget(replace, markers);
            output._temp = "." + (name.Length > 180 ? name[..180] : name) + ".burrow-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
            return output;
        }
        catch
        {
            output.Dispose();
            throw;
        }
    }

    /// <summary>Puts the finished tree in place: renamed over a missing or empty target, exchanged with a tree being replaced.</summary>
    public void Commit()
    {
        string temp = _temp ?? throw new InvalidOperationException("already committed");
        try
        {
            if (_dir.StatEntry(temp) is not { Kind: FileKind.Directory })
            {
                throw new BurrowException($"cannot write the sandbox {_display}: the unpacked tree is missing");
            }
            if (_replaceExisting)
            {
                _dir.Exchange(temp, _name);
                _temp = null;
                _dir.RemoveTree(temp); // the old tree, now under the temp name
            }
            else
            {
                _dir.Rename(temp, _name, replace: true); // replaces only an empty directory (ENOTEMPTY otherwise)
                _temp = null;
            }
            _dir.Sync();
        }
        catch (LinuxException e) when (e.Errno is Errno.ENOTEMPTY or Errno.EEXIST)
        {
            throw new BurrowException($"sandbox directory already exists: {_display}", "use --force to replace it");
        }
        catch (LinuxException e)
        {
            throw new BurrowException($"cannot write the sandbox {_display}: {e.Reason}", FailureText.ErrnoHint(e.Errno, _display), ExitCodes.Failure, e);
        }
    }

    public void Dispose()
    {
        if (_temp is not null)
        {
            try
            {
                _dir.RemoveTree(_temp);
            }
            catch (Exception e) when (e is LinuxException or IOException or UnauthorizedAccessException)
            {
                Log.Warning($"could not remove the temporary directory {_dir.Child(_temp)}: {FailureText.Reason(e)}");
            }
            _temp = null;
        }
        _dir.Dispose();
    }

    private void CheckTarget(bool replace, IReadOnlyList<string> markers)
    {
        FileStatus? st = _dir.StatEntry(_name);
        if (st is null)
        {
            return;
        }
        if (st.Kind == FileKind.Symlink)
        {
            throw new BurrowException($"cannot write the sandbox {_display}: it is a symbolic link, and Burrow does not write through one",
                "remove the link or give another path (another user may have planted it)");
        }
        if (st.Kind != FileKind.Directory)
        {
            throw new BurrowException($"sandbox target {_display} is {st.Kind.Describe()}", "give the path of a directory to create");
        }
        using DirectoryHandle existing = _dir.OpenDirectory(_name);
        if (existing.List().Count == 0)
        {
            return;
        }
        if (!replace)
        {
            throw new BurrowException($"sandbox directory already exists: {_display}", "use --force to replace it");
        }
        if (!markers.Any(m => existing.StatEntry(m) is { Kind: FileKind.Directory }))
        {
            throw new BurrowException($"refusing to replace {_display}: it does not look like a sandbox (none of /{string.Join(", /", markers)})");
        }
        _replaceExisting = true;
    }
}

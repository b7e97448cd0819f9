using System.Security.Cryptography;
using Burrow.Core.Diagnostics;
using Burrow.Linux;
using Microsoft.Win32.SafeHandles;

namespace Burrow.Core.Files;

/// <summary>
/// Writes a file at a path the user named (<c>pull OUT.sif</c>, <c>build OUT.sif</c>, <c>sif new</c>, the
/// credentials file) so that nobody else can redirect the write, even in a directory another user may write to
/// (a group project directory, or /tmp with <c>fs.protected_symlinks=0</c>):
/// <list type="bullet">
/// <item>the output's directory is opened once, and every later step is relative to that descriptor;</item>
/// <item>the data goes to a new temp file with an unguessable name, created <c>O_CREAT|O_EXCL|O_NOFOLLOW</c>, so a
/// planted file or symlink makes the create fail instead of being written through;</item>
/// <item>it is fsync'ed and renamed into place with <c>renameat2</c> (<c>RENAME_NOREPLACE</c> unless overwriting), which
/// replaces a directory entry and never follows a symlink;</item>
/// <item>a symlink already at the output's name is refused with a message saying so, rather than silently replaced.</item>
/// </list>
/// The file is whole or absent: dispose without <see cref="Commit"/> removes the temp file.
/// </summary>
public sealed class OutputFile : IDisposable
{
    /// <summary>rw-r--r--, filtered by the umask as any new file; never group- or world-writable even under umask 000.</summary>
    public const int PublicMode = 0x1a4;

    /// <summary>rw-------: credentials.</summary>
    public const int PrivateMode = 0x180;

    private readonly DirectoryHandle _dir;
    private readonly string _name;
    private readonly string _display;
    private readonly bool _overwrite;
    private string? _temp;
    private FileStream? _stream;

    private OutputFile(DirectoryHandle dir, string name, string display, bool overwrite)
    {
        _dir = dir;
        _name = name;
        _display = display;
        _overwrite = overwrite;
    }

    /// <summary>The temp file to write; <see cref="Commit"/> puts it in place.</summary>
    public FileStream Stream => _stream ?? throw new InvalidOperationException("the output file is already committed");

    /// <summary>The path as the user wrote it, for messages.</summary>
    public string Display => _display;

    /// <summary>
    /// Opens the output's directory and creates the temp file in it. Fails (a <see cref="BurrowException"/>) when the
    /// directory is missing or not writable, when the name is a symlink or a directory, and, unless
    /// <paramref name="overwrite"/>, when the file exists.
    /// </summary>
    public static OutputFile Create(string path, bool overwrite, int mode = PublicMode)
    {
        (DirectoryHandle dir, string name) = OpenParent(path);
        return CreateIn(dir, name, overwrite, mode);
    }

    /// <summary>As <see cref="Create"/>, in a directory already held (and checked) by the caller; takes the handle over.</summary>
    public static OutputFile CreateIn(DirectoryHandle dir, string name, bool overwrite, int mode)
    {
        ArgumentNullException.ThrowIfNull(dir);
        var output = new OutputFile(dir, name, dir.Child(name), overwrite);
        try
        {
            output.CheckTarget();
            output.CreateTemp(mode);
            return output;
        }
        catch
        {
            output.Dispose();
            throw;
        }
    }

    /// <summary>Copies a file (in the cache) into the temp file.</summary>
    public void CopyFrom(string from)
    {
        using FileStream source = OpenSource(from);
        CopyFrom(source);
    }

    /// <summary>
    /// Takes a finished private file (a --disable-cache pull) as the content: renamed over this output's temp file when
    /// both are on one file system (no copy), copied otherwise. The source is gone afterwards either way.
    /// </summary>
    public void TakeFrom(string from)
    {
        string temp = _temp ?? throw new InvalidOperationException("the output file is already committed");
        string full = Path.GetFullPath(from);
        try
        {
            using DirectoryHandle src = DirectoryHandle.Open(Path.GetDirectoryName(full) ?? "/");
            try
            {
                // Over our own temp file, which this process created O_EXCL: replacing it is replacing ours.
                DirectoryHandle.Rename(src, Path.GetFileName(full), _dir, temp, replace: true);
                _stream?.Dispose();
                _stream = null;
            }
            catch (LinuxException e) when (e.Errno == Errno.EXDEV)
            {
                using (FileStream source = OpenSource(full))
                {
                    CopyFrom(source);
                }
                src.Remove(Path.GetFileName(full));
            }
        }
        catch (LinuxException e)
        {
            throw Failure(e);
        }
    }

    /// <summary>Copies <paramref name="source"/> into the temp file, stopping at a signal (see <see cref="Interruption"/>).</summary>
    public void CopyFrom(Stream source)
    {
        ArgumentNullException.ThrowIfNull(source);
        byte[] buffer = new byte[1 << 20];
        try
        {
            int n;
            while ((n = source.Read(buffer)) > 0)
            {
                Interruption.ThrowIfRequested();
                Stream.Write(buffer, 0, n);
            }
        }
        catch (IOException e) when (e is not LinuxException)
        {
            throw new BurrowException($"cannot write {_display}: {FailureText.Reason(e)}", FailureText.ErrnoHint(e.HResult, _display), ExitCodes.Failure, e);
        }
        catch (ArgumentException e) when (FailureText.IsFileTooLarge(e))
        {
            throw new BurrowException($"cannot write {_display}: {FailureText.Reason(e)}", FailureText.ErrnoHint(Errno.EFBIG, null), ExitCodes.Failure, e);
        }
    }

    /// <summary>fsyncs the temp file and renames it to the output's name (an existing file is replaced only if allowed).</summary>
    public void Commit()
    {
        string temp = _temp ?? throw new InvalidOperationException("the output file is already committed");
        try
        {
            if (_stream is not null)
            {
                _stream.Flush(flushToDisk: true);
                _stream.Dispose();
                _stream = null;
            }
            else
            {
                using SafeFileHandle moved = _dir.OpenFile(temp);
                RandomAccess.FlushToDisk(moved);
            }
            CheckTarget();
            _dir.Rename(temp, _name, replace: _overwrite);
            _temp = null;
            _dir.Sync();
        }
        catch (LinuxException e) when (e.Errno == Errno.EEXIST)
        {
            throw Exists();
        }
        catch (LinuxException e)
        {
            throw Failure(e);
        }
        catch (IOException e)
        {
            throw new BurrowException($"cannot write {_display}: {FailureText.Reason(e)}", FailureText.ErrnoHint(e.HResult, _display), ExitCodes.Failure, e);
        }
    }

    public void Dispose()
    {
        _stream?.Dispose();
        _stream = null;
        if (_temp is not null)
        {
            try
            {
                _dir.Remove(_temp);
            }
            catch (LinuxException e)
            {
                Log.Warning($"could not remove the temporary file {_dir.Child(_temp)}: {e.Reason}");
            }
            _temp = null;
        }
        _dir.Dispose();
    }

    /// <summary>The directory of <paramref name="path"/>, opened (once), and the file's name in it.</summary>
    internal static (DirectoryHandle Dir, string Name) OpenParent(string path)
    {
        if (string.IsNullOrEmpty(path))
        {
            throw new BurrowException("no output file given (an empty path)", "give the path of the file to write");
        }
        string name = Path.GetFileName(path);
        if (name.Length == 0 || name is "." or "..")
        {
            throw new BurrowException($"cannot write {path}: it names a directory, not a file", "give a file name, e.g. DIR/image.sif");
        }
        if (name.Length > 200)
        {
            throw new BurrowException($"cannot write {path}: the file name is too long", "use a name of at most 200 bytes");
        }
        string parent = Path.GetDirectoryName(path) is { Length: > 0 } d ? d : ".";
        try
        {
            return (DirectoryHandle.Open(parent), name);
        }
        catch (LinuxException e)
        {
            string why = e.Errno switch
            {
                Errno.ENOENT => $"the directory {parent} does not exist",
                Errno.ENOTDIR => $"{parent} is not a directory",
                Errno.EACCES => $"you may not enter the directory {parent}",
                _ => e.Reason,
            };
            throw new BurrowException($"cannot write {path}: {why}",
                e.Errno == Errno.ENOENT ? $"create it first (mkdir -p {parent}) or write elsewhere" : FailureText.ErrnoHint(e.Errno, parent), ExitCodes.Failure, e);
        }
    }

    /// <summary>What is at the output's name now: nothing, or a regular file that may be replaced.</summary>
    private void CheckTarget()
    {
        FileStatus? st;
        try
        {
            st = _dir.StatEntry(_name);
        }
        catch (LinuxException e)
        {
            throw Failure(e);
        }
        if (st is null)
        {
            return;
        }
        switch (st.Kind)
        {
            case FileKind.Symlink:
                throw new BurrowException($"cannot write {_display}: it is a symbolic link, and Burrow does not write through one",
                    "remove the link or give another path (another user may have planted it)");
            case FileKind.Directory:
                throw new BurrowException($"cannot write {_display}: it is a directory", "give the path of a file");
            case FileKind.Regular:
                if (!_overwrite)
                {
                    throw Exists();
                }
                return;
            default:
                throw new BurrowException($"cannot write {_display}: it is {st.Kind.Describe()}", "give the path of a regular file");
        }
    }

    private void CreateTemp(int mode)
    {
        for (int attempt = 0; ; attempt++)
        {
            string temp = NewTempName(_name);
            try
            {
                SafeFileHandle fd = _dir.CreateFile(temp, mode);
                _temp = temp;
                _stream = new FileStream(fd, FileAccess.ReadWrite, 1 << 16);
                return;
            }
            catch (LinuxException e) when (e.Errno == Errno.EEXIST && attempt < 8)
            {
                // Someone holds that name (planted or by chance): draw another.
            }
            catch (LinuxException e)
            {
                throw Failure(e);
            }
        }
    }

    /// <summary>".NAME.burrow-RANDOM": hidden beside the output, and not guessable by another user.</summary>
    private static string NewTempName(string name)
    {
        string prefix = "." + (name.Length > 180 ? name[..180] : name) + ".burrow-";
        return prefix + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
    }

    private static FileStream OpenSource(string from)
    {
        try
        {
            return RegularFile.OpenRead(from, 1 << 20);
        }
        catch (IOException e)
        {
            throw new BurrowException($"cannot read {from}: {FailureText.Reason(e)}", null, ExitCodes.Failure, e);
        }
    }

    private BurrowException Exists() => new($"image file already exists: {_display}", "use --force to overwrite it");

    private BurrowException Failure(LinuxException e) =>
        new($"cannot write {_display}: {e.Reason}", FailureText.ErrnoHint(e.Errno, Path.GetDirectoryName(_display) is { Length: > 0 } d ? d : "."), ExitCodes.Failure, e);
}

using Burrow.Core.Diagnostics;
using Burrow.Linux;

namespace Burrow.Core.Runtime.Planning.Facts;

/// <summary>
/// <see cref="IImageRootReader"/> over the runtime's <see cref="RootDirectory"/>: the kernel resolves every
/// path inside the image root (openat2 RESOLVE_IN_ROOT), so absolute symlinks and ".." stop at the root, and
/// a file is read through the very descriptor whose type was checked (a planted fifo is never opened).
/// </summary>
public sealed class RootDirectoryReader : IImageRootReader, IDisposable
{
    private readonly RootDirectory _root;

    public RootDirectoryReader(string hostRoot)
    {
        try
        {
            _root = RootDirectory.Open(hostRoot);
        }
        catch (LinuxException e)
        {
            throw new BurrowException($"cannot open the image {hostRoot}: {e.Reason}", "check that the directory exists and that you may enter it", inner: e);
        }
    }

    public PathKind KindOf(string containerPath) => Guard(containerPath, () => _root.Stat(containerPath)?.Kind switch
    {
        null => PathKind.Missing,
        FileKind.Regular => PathKind.File,
        FileKind.Directory => PathKind.Directory,
        _ => PathKind.Other,
    });

    public string? ReadText(string containerPath, int maxBytes)
    {
        if (KindOf(containerPath) != PathKind.File)
        {
            return null;
        }
        try
        {
            return Guard(containerPath, () => _root.ReadText(containerPath, maxBytes));
        }
        catch (InvalidDataException e)
        {
            // An image's /etc/passwd of 5 MB, a runscript of 2 GB: refused by size, named with the limit.
            throw new BurrowException($"{containerPath} in the image {_root.HostPath} is larger than {SizeText(maxBytes)}, the most Burrow reads of it",
                "an image file this large is a mistake or an attack: check the image", inner: e);
        }
    }

    private static string SizeText(int bytes) => bytes >= 1 << 20 && bytes % (1 << 20) == 0
        ? $"{bytes >> 20} MiB ({bytes} bytes)"
        : $"{bytes} bytes";

    public IReadOnlyList<string> ListFiles(string containerDirectory)
    {
        if (KindOf(containerDirectory) != PathKind.Directory)
        {
            return [];
        }
        return Guard(containerDirectory, () =>
        {
            using Microsoft.Win32.SafeHandles.SafeFileHandle dir = _root.TryOpenPath(containerDirectory)!;
            // The O_PATH descriptor names the directory the kernel resolved inside the root; list that one, not a path.
            string dirPath = "/proc/self/fd/" + (int)dir.DangerousGetHandle();
            string prefix = containerDirectory.TrimEnd('/') + "/";
            return Directory.EnumerateFileSystemEntries(dirPath)
                .Select(Path.GetFileName)
                .OfType<string>()
                .Where(name => KindOf(prefix + name) == PathKind.File)
                .Order(StringComparer.Ordinal)
                .ToArray();
        });
    }

    public void Dispose() => _root.Dispose();

    private T Guard<T>(string containerPath, Func<T> read)
    {
        try
        {
            return read();
        }
        catch (IOException e)
        {
            throw new BurrowException($"cannot read {containerPath} in the image {_root.HostPath}: {e.Message}",
                "check the image's permissions: Burrow reads it as you", inner: e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new BurrowException($"cannot read {containerPath} in the image {_root.HostPath}: permission denied",
                "check the image's permissions: Burrow reads it as you", inner: e);
        }
    }
}

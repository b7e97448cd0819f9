using System.Text;
using Burrow.Core.Diagnostics;
using Burrow.Core.Squashfs;

namespace Burrow.Core.Runtime.Planning.Facts;

/// <summary>
/// <see cref="IImageRootReader"/> over a squashfs read in place (a SIF's partition, no mount, no extraction).
/// Paths resolve as the kernel resolves them under RESOLVE_IN_ROOT: an absolute symlink starts again at the
/// image root, ".." stops at the root, and at most 40 symlinks are followed in one resolution (ELOOP beyond).
/// Damage found on the way is a <see cref="BurrowException"/> naming the image and the path.
/// </summary>
public sealed class SquashfsRootReader : IImageRootReader
{
    /// <summary>Linux's limit on symlinks followed in one path resolution (MAXSYMLINKS).</summary>
    public const int MaxSymlinks = 40;

    private readonly SquashfsImage _image;

    public SquashfsRootReader(SquashfsImage image)
    {
        _image = image;
    }

    public PathKind KindOf(string containerPath) => Guard(containerPath, () => ResolveInode(containerPath) switch
    {
        null => PathKind.Missing,
        { IsDirectory: true } => PathKind.Directory,
        { IsRegularFile: true } => PathKind.File,
        _ => PathKind.Other,
    });

    public string? ReadText(string containerPath, int maxBytes) => Guard(containerPath, () =>
    {
        SquashfsInode? file = ResolveInode(containerPath);
        if (file is not { IsRegularFile: true })
        {
            return null;
        }
        if (file.Size > maxBytes)
        {
            throw new BurrowException($"cannot read {containerPath} in the image {_image.DisplayName}: it is {file.Size} bytes, more than the {maxBytes} allowed",
                "the image's file is unexpectedly large; check the image");
        }
        byte[] bytes = new byte[file.Size];
        int n = _image.ReadFile(file, 0, bytes);
        return Encoding.UTF8.GetString(bytes, 0, n);
    });

    public IReadOnlyList<string> ListFiles(string containerDirectory) => List(containerDirectory, directories: false);

    public IReadOnlyList<string> ListDirectories(string containerDirectory) => List(containerDirectory, directories: true);

    private IReadOnlyList<string> List(string containerDirectory, bool directories) => Guard(containerDirectory, () =>
    {
        if (ResolveInode(containerDirectory) is not { IsDirectory: true } directory)
        {
            return (IReadOnlyList<string>)[];
        }
        string prefix = containerDirectory.TrimEnd('/') + "/";
        return _image.ReadDirectory(directory)
            .Select(e => e.NameString)
            .Where(name => ResolveInode(prefix + name) is { } inode && (directories ? inode.IsDirectory : inode.IsRegularFile))
            .Order(StringComparer.Ordinal)
            .ToArray();
    });

    public string? Resolve(string containerPath) => Guard(containerPath, () =>
    {
        var names = new List<string>();
        return ResolveInode(containerPath, names) is null ? null : "/" + string.Join('/', names);
    });

    /// <summary>The inode the path names with every symlink followed inside the image, or null if it does not exist.</summary>
    public SquashfsInode? ResolveInode(string containerPath) => ResolveInode(containerPath, null);

    private SquashfsInode? ResolveInode(string containerPath, List<string>? names)
    {
        var ancestors = new List<SquashfsInode> { _image.Root };
        var pending = new Stack<string>();
        Push(pending, containerPath);
        int links = 0;
        while (pending.TryPop(out string? name))
        {
            if (name is "" or ".")
            {
                continue;
            }
            if (name == "..")
            {
                if (ancestors.Count > 1)
                {
                    ancestors.RemoveAt(ancestors.Count - 1);
                    names?.RemoveAt(names.Count - 1);
                }
                continue;
            }
            SquashfsInode directory = ancestors[^1];
            if (!directory.IsDirectory)
            {
                return null;
            }
            if (_image.Lookup(directory, name) is not { } child)
            {
                return null;
            }
            if (child.IsSymlink)
            {
                if (++links > MaxSymlinks)
                {
                    throw new BurrowException($"cannot resolve {containerPath} in the image {_image.DisplayName}: too many levels of symbolic links",
                        "the image has a symlink loop on this path");
                }
                string target = Encoding.UTF8.GetString(_image.ReadSymlink(child));
                if (target.StartsWith('/'))
                {
                    ancestors.RemoveRange(1, ancestors.Count - 1);
                    names?.Clear();
                }
                Push(pending, target);
                continue;
            }
            ancestors.Add(child);
            names?.Add(name);
        }
        return ancestors[^1];
    }

    private static void Push(Stack<string> pending, string path)
    {
        string[] parts = path.Split('/');
        for (int i = parts.Length - 1; i >= 0; i--)
        {
            pending.Push(parts[i]);
        }
    }

    private T Guard<T>(string containerPath, Func<T> read)
    {
        try
        {
            return read();
        }
        catch (InvalidDataException e)
        {
            throw new BurrowException($"cannot read {containerPath} in the image {_image.DisplayName}: {e.Message}",
                "the image is damaged; re-create or re-download it", inner: e);
        }
    }
}

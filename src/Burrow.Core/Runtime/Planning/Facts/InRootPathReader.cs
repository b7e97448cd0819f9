using Burrow.Core.Diagnostics;
using Burrow.Linux;

namespace Burrow.Core.Runtime.Planning.Facts;

/// <summary>
/// <see cref="IImageRootReader"/> by path walking: each component is checked with lstat and symlinks are
/// resolved against the image root, never the host's /, with ".." clamped at the root (chroot semantics).
/// The engine runs as the caller with no privilege, so a race that swaps a component between the walk
/// and the read could only show the caller a file they can read anyway; the stage's own mounts use
/// openat2 and do not depend on this.
/// </summary>
public sealed class InRootPathReader : IImageRootReader
{
    private const int MaxSymlinks = 40; // the kernel's limit (MAXSYMLINKS)

    private readonly string _root;

    public InRootPathReader(string root)
    {
        _root = Path.GetFullPath(root).TrimEnd('/');
    }

    public PathKind KindOf(string containerPath)
    {
        string? host = Resolve(containerPath);
        return host is null ? PathKind.Missing : PathProbe.TypeOf(host) switch
        {
            ProbedType.Regular => PathKind.File,
            ProbedType.Directory => PathKind.Directory,
            ProbedType.Missing => PathKind.Missing,
            _ => PathKind.Other,
        };
    }

    public string? ReadText(string containerPath, int maxBytes)
    {
        if (KindOf(containerPath) != PathKind.File)
        {
            return null;
        }
        using var stream = new FileStream(Resolve(containerPath)!, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        if (stream.Length > maxBytes)
        {
            throw new BurrowException($"{containerPath} in the image is larger than {maxBytes} bytes", "is this really a root file system?");
        }
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    public IReadOnlyList<string> ListFiles(string containerDirectory)
    {
        if (KindOf(containerDirectory) != PathKind.Directory)
        {
            return [];
        }
        string dir = containerDirectory.TrimEnd('/');
        return new DirectoryInfo(Resolve(containerDirectory)!).EnumerateFileSystemInfos()
            .Select(i => i.Name)
            .Where(name => KindOf(dir + "/" + name) == PathKind.File)
            .Order(StringComparer.Ordinal)
            .ToArray();
    }

    /// <summary>The host path that <paramref name="containerPath"/> names inside the root, or null if a component is missing.</summary>
    public string? Resolve(string containerPath)
    {
        var pending = new Stack<string>(Components(containerPath).Reverse());
        var done = new List<string>();
        int links = 0;
        while (pending.Count > 0)
        {
            string part = pending.Pop();
            if (part == "..")
            {
                if (done.Count > 0)
                {
                    done.RemoveAt(done.Count - 1);
                }
                continue;
            }
            string candidate = _root + "/" + string.Join('/', done.Append(part));
            ProbedType type = PathProbe.TypeOf(candidate);
            if (type == ProbedType.Missing)
            {
                return null;
            }
            if (type == ProbedType.Symlink)
            {
                string target = new FileInfo(candidate).LinkTarget ?? "";
                if (++links > MaxSymlinks)
                {
                    throw new BurrowException($"{containerPath} in the image has too many levels of symbolic links", null);
                }
                if (target.StartsWith('/'))
                {
                    done.Clear();
                }
                foreach (string p in Components(target).Reverse())
                {
                    pending.Push(p);
                }
                continue;
            }
            if (pending.Count > 0 && type != ProbedType.Directory)
            {
                return null; // a file used as a directory: ENOTDIR
            }
            done.Add(part);
        }
        return done.Count == 0 ? _root : _root + "/" + string.Join('/', done);
    }

    private static IEnumerable<string> Components(string path) =>
        path.Split('/', StringSplitOptions.RemoveEmptyEntries).Where(p => p != ".");
}

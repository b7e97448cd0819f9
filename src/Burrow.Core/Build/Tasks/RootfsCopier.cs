using System.IO.Enumeration;
using Burrow.Core.Diagnostics;
using Burrow.Linux;
using Microsoft.Win32.SafeHandles;

namespace Burrow.Core.Build.Tasks;

/// <summary>
/// <c>%files</c>, as Apptainer copies: from the host like <c>cp -fLr SRC DST</c> (symlinks followed, the copies owned by
/// root, permission bits kept), from an earlier stage like a tar copy (owners, modes and the symlinks inside kept, only
/// the named source followed). <c>*</c> and <c>?</c> in a source match names. The destination is a path in the image:
/// resolved inside it, created where missing, "into" a directory that exists or that the path names with a final /.
/// </summary>
internal static class RootfsCopier
{
    private const int MaxDepth = 256;

    public static void CopyAll(string root, IReadOnlyList<FileCopy> copies)
    {
        using RootDirectory dest = RootDirectory.Open(root);
        foreach (FileCopy copy in copies)
        {
            Interruption.ThrowIfRequested();
            if (copy.SourceRoot is { } stageRoot)
            {
                FromStage(dest, stageRoot, copy);
            }
            else
            {
                FromHost(dest, copy);
            }
        }
    }

    private static void FromHost(RootDirectory dest, FileCopy copy)
    {
        IReadOnlyList<string> sources = Glob.Expand(copy.Source);
        if (sources.Count == 0)
        {
            throw Missing(copy, copy.Source);
        }
        foreach (string source in sources)
        {
            if (FileStatus.OfPath(source) is null)
            {
                throw Missing(copy, source);
            }
            (DirectoryHandle dir, string name) = Target(dest, copy.Destination.Length > 0 ? copy.Destination : source, Path.GetFileName(source.TrimEnd('/')));
            using (dir)
            {
                CopyHostEntry(source, dir, name, 0);
            }
        }
    }

    private static void FromStage(RootDirectory dest, string stageRoot, FileCopy copy)
    {
        using RootDirectory from = RootDirectory.Open(stageRoot);
        string prefix = stageRoot.TrimEnd('/');
        IReadOnlyList<string> matches = Glob.Expand(prefix + "/" + copy.Source.TrimStart('/'));
        if (matches.Count == 0)
        {
            throw Missing(copy, copy.Source);
        }
        foreach (string match in matches)
        {
            string inStage = match.Length > prefix.Length ? match[prefix.Length..] : "/";
            using SafeFileHandle? source = from.TryOpenPath(inStage);
            if (source is null)
            {
                throw Missing(copy, inStage);
            }
            (DirectoryHandle dir, string name) = Target(dest, copy.Destination.Length > 0 ? copy.Destination : inStage, Path.GetFileName(inStage.TrimEnd('/')));
            using (dir)
            {
                FileStatus st = FileStatus.Of(source, inStage);
                if (st.Kind == FileKind.Directory)
                {
                    using DirectoryHandle sourceDir = DirectoryHandle.FromHandle(FileDescriptors.Duplicate(source), stageRoot + inStage, pathOnly: true);
                    CopyStageDirectory(sourceDir, st, dir, name, 0);
                }
                else if (st.Kind == FileKind.Regular)
                {
                    using var data = new FileStream(FileDescriptors.OpenReadable(source, inStage), FileAccess.Read, 1 << 16);
                    WriteFile(dir, name, data, st, keepOwner: true);
                }
                else
                {
                    Log.Warning($"%files from a stage, line {copy.Line}: {inStage} is {st.Kind.Describe()}; not copied");
                }
            }
        }
    }

    /// <summary>
    /// Where a copy lands: into DST when it ends with / or is a directory (made where missing), else at DST itself
    /// (its parent made where missing).
    /// </summary>
    private static (DirectoryHandle Dir, string Name) Target(RootDirectory dest, string destination, string sourceName)
    {
        if (destination.EndsWith('/') || (dest.Stat(destination) is { Kind: FileKind.Directory } && sourceName.Length > 0))
        {
            return (RootfsWriter.OpenDirectory(dest, destination), sourceName);
        }
        (string parent, string name) = RootfsWriter.Split(destination);
        return (RootfsWriter.OpenDirectory(dest, parent), name);
    }

    private static void CopyHostEntry(string source, DirectoryHandle dir, string name, int depth)
    {
        if (depth > MaxDepth)
        {
            throw new BurrowException($"%files: {source} is nested too deeply (a symbolic link loop?)");
        }
        FileStatus st = FileStatus.OfPathOrError(source); // -L: the link's target
        switch (st.Kind)
        {
            case FileKind.Directory:
                using (DirectoryHandle sub = EnsureDirectory(dir, name, (int)(st.Permissions & 0x1ff)))
                {
                    foreach (string child in Directory.EnumerateFileSystemEntries(source).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal))
                    {
                        CopyHostEntry(Path.Combine(source, child), sub, child, depth + 1);
                    }
                }
                return;
            case FileKind.Regular:
                using (FileStream data = RegularFile.OpenRead(source, 1 << 16))
                {
                    WriteFile(dir, name, data, st, keepOwner: false);
                }
                return;
            default:
                Log.Warning($"%files: {source} is {st.Kind.Describe()}; not copied");
                return;
        }
    }

    private static void CopyStageDirectory(DirectoryHandle source, FileStatus st, DirectoryHandle dir, string name, int depth)
    {
        if (depth > MaxDepth)
        {
            throw new BurrowException($"%files from a stage: {source.Path} is nested too deeply");
        }
        using DirectoryHandle target = EnsureDirectory(dir, name, (int)st.Permissions);
        foreach (string child in source.List().Order(StringComparer.Ordinal))
        {
            FileStatus? cst = source.StatEntry(child);
            switch (cst?.Kind)
            {
                case FileKind.Directory:
                    using (DirectoryHandle sub = source.OpenDirectory(child))
                    {
                        CopyStageDirectory(sub, cst, target, child, depth + 1);
                    }
                    break;
                case FileKind.Regular:
                    using (var data = new FileStream(source.OpenFile(child), FileAccess.Read, 1 << 16))
                    {
                        WriteFile(target, child, data, cst, keepOwner: true);
                    }
                    break;
                case FileKind.Symlink:
                    if (target.StatEntry(child) is { } existing)
                    {
                        if (existing.Kind == FileKind.Directory)
                        {
                            break;
                        }
                        target.Remove(child);
                    }
                    target.CreateSymlink(child, source.ReadLink(child));
                    target.SetOwner(child, cst.Uid, cst.Gid);
                    break;
                case null:
                    break;
                default:
                    Log.Warning($"%files from a stage: {source.Child(child)} is {cst.Kind.Describe()}; not copied");
                    break;
            }
        }
        target.SetOwnerOfSelf(st.Uid, st.Gid);
        target.SetMode((int)st.Permissions);
    }

    private static DirectoryHandle EnsureDirectory(DirectoryHandle dir, string name, int mode)
    {
        FileStatus? existing = dir.StatEntry(name);
        if (existing is not null and not { Kind: FileKind.Directory })
        {
            dir.Remove(name);
        }
        return dir.CreateDirectory(name, mode | 0x1c0).Directory;
    }

    private static void WriteFile(DirectoryHandle dir, string name, Stream data, FileStatus st, bool keepOwner)
    {
        int mode = keepOwner ? (int)st.Permissions : (int)(st.Permissions & 0x1ff);
        using SafeFileHandle fd = dir.CreateOrTruncate(name, 0x180);
        using (var output = new FileStream(fd, FileAccess.Write, 1 << 16))
        {
            data.CopyTo(output);
        }
        if (keepOwner)
        {
            dir.SetOwner(name, st.Uid, st.Gid); // before the mode: chown clears setuid and setgid
        }
        dir.SetEntryMode(name, mode);
    }

    private static BurrowException Missing(FileCopy copy, string what) =>
        new($"%files (line {copy.Line}): {what} does not exist", copy.SourceRoot is null ? "a relative source is relative to the directory burrow build runs in" : null);
}

/// <summary>Expands <c>*</c> and <c>?</c> in the components of an absolute path, in name order; a path without them is returned as is.</summary>
internal static class Glob
{
    public static IReadOnlyList<string> Expand(string path)
    {
        if (path.IndexOfAny(['*', '?']) < 0)
        {
            return [path];
        }
        bool trailing = path.EndsWith('/');
        IEnumerable<string> current = ["/"];
        foreach (string part in path.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            if (part.IndexOfAny(['*', '?']) < 0)
            {
                current = current.Select(c => Path.Combine(c, part));
                continue;
            }
            current = current.Where(Directory.Exists).SelectMany(dir => Directory.EnumerateFileSystemEntries(dir)
                .Where(e => FileSystemName.MatchesSimpleExpression(part, Path.GetFileName(e)) && (part.StartsWith('.') || !Path.GetFileName(e).StartsWith('.')))
                .Order(StringComparer.Ordinal)).ToArray();
        }
        return current.Select(p => trailing ? p + "/" : p).ToArray();
    }
}

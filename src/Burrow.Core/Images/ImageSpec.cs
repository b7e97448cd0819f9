using Burrow.Core.Diagnostics;
using Burrow.Linux;

namespace Burrow.Core.Images;

/// <summary>
/// What the user wrote for IMAGE, classified once at the edge: a sandbox directory, a SIF file or an OCI source.
/// Every command that takes an image (exec, run, shell, inspect, build) starts from one; <see cref="ImageOpener"/>
/// turns it into something to read and run. A path is checked for what it is before anything opens it, so a FIFO,
/// a device or a dangling link is named as such instead of blocking or being taken for something else.
/// </summary>
public abstract record ImageSpec(string Given)
{
    /// <summary>Directories every root file system has at least one of; an empty or unrelated directory has none.</summary>
    public static readonly IReadOnlyList<string> RootMarkers = ["bin", "usr", "etc", ".singularity.d"];

    public static ImageSpec Parse(string given, string cwd)
    {
        if (string.IsNullOrWhiteSpace(given))
        {
            throw new BurrowException("no image given", "give a SIF file, a root file system directory, or an OCI reference such as docker://alpine");
        }
        if (Oci.ImageSource.TryParse(given) is { } source)
        {
            return new OciImageSpec(given, Rebase(source, cwd));
        }
        if (given.StartsWith(InstanceImageSpec.Scheme, StringComparison.Ordinal))
        {
            throw new BurrowException($"image {TerminalText.Escape(given)}: a running instance can only be joined by exec, run and shell",
                "burrow exec instance://NAME COMMAND; for the instance's image, give the image itself");
        }
        if (LooksLikeTransport(given))
        {
            throw new BurrowException($"image {given}: this kind of image reference is not supported",
                "give a SIF file, a root file system directory, or docker://, docker-archive:, oci: or oci-archive:");
        }
        string path = Path.GetFullPath(given, cwd);
        FileStatus status = StatOrExplain(given, path);
        return status.Kind switch
        {
            FileKind.Directory => Sandbox(given, path),
            FileKind.Regular => new SifImageSpec(given, path),
            FileKind.Fifo => throw NotAnImage(given, path, "a FIFO (named pipe)"),
            FileKind.Socket => throw NotAnImage(given, path, "a socket"),
            FileKind.CharDevice or FileKind.BlockDevice => throw NotAnImage(given, path, "a device"),
            _ => throw NotAnImage(given, path, "not a regular file or a directory"),
        };
    }

    private static SandboxImageSpec Sandbox(string given, string path)
    {
        string real = new DirectoryInfo(path).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? path;
        if (real == "/")
        {
            throw new BurrowException($"image {given}: the host's / cannot be a container image", "give a directory holding a root file system");
        }
        if (!RootMarkers.Any(m => IsDirectory(Path.Combine(real, m))))
        {
            string bundleRoot = Path.Combine(real, "rootfs");
            string hint = RootMarkers.Any(m => IsDirectory(Path.Combine(bundleRoot, m)))
                ? $"this looks like an OCI bundle: did you mean {bundleRoot}?"
                : "give the directory that holds the container's /bin, /usr and /etc";
            if (!CanList(real))
            {
                throw new BurrowException($"image {given}: cannot read the directory {real}: permission denied", "check that you may read and enter it");
            }
            throw new BurrowException($"image {given}: {real} is not a root file system (it has none of /{string.Join(", /", RootMarkers)})", hint);
        }
        return new SandboxImageSpec(given, real);
    }

    /// <summary>stat, or an error that says why there is nothing usable at the path.</summary>
    private static FileStatus StatOrExplain(string given, string path)
    {
        FileStatus? status;
        try
        {
            status = FileStatus.OfPath(path);
        }
        catch (LinuxException e) when (e.Errno == Errno.ELOOP)
        {
            throw new BurrowException($"image {given}: {path} is a loop of symbolic links", "point the link at the image itself");
        }
        catch (LinuxException e) when (e.Errno == Errno.EACCES)
        {
            throw new BurrowException($"image {given}: cannot reach {path}: permission denied", "a directory on the way is closed to you; check its permissions");
        }
        catch (LinuxException e)
        {
            throw new BurrowException($"image {given}: cannot look at {path}: {e.Reason}");
        }
        if (status is not null)
        {
            return status;
        }
        if (FileStatus.OfPath(path, followSymlinks: false) is { Kind: FileKind.Symlink })
        {
            string target = new FileInfo(path).LinkTarget ?? "?";
            throw new BurrowException($"image {given}: {path} is a symbolic link to {target}, which does not exist", "fix or remove the link");
        }
        throw new BurrowException($"image {given}: {path} does not exist",
            "give a SIF file, a root file system directory, or an OCI reference such as docker://alpine");
    }

    private static BurrowException NotAnImage(string given, string path, string what) =>
        new($"image {given}: {path} is {what}, not an image", "give a SIF file or a root file system directory");

    private static bool IsDirectory(string path)
    {
        try
        {
            return FileStatus.OfPath(path) is { Kind: FileKind.Directory };
        }
        catch (LinuxException)
        {
            return false;
        }
    }

    private static bool CanList(string path)
    {
        try
        {
            using IEnumerator<string> e = Directory.EnumerateFileSystemEntries(path).GetEnumerator();
            e.MoveNext();
            return true;
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            return false;
        }
    }

    /// <summary>"docker://x", "oras://x": a transport no source claimed must not be taken for a relative path.</summary>
    private static bool LooksLikeTransport(string reference) =>
        reference.IndexOf("://", StringComparison.Ordinal) is > 0 and int i && reference[..i].All(char.IsAsciiLetterOrDigit);

    /// <summary>Relative archive and layout paths are relative to the caller's working directory.</summary>
    private static Oci.ImageSource Rebase(Oci.ImageSource source, string cwd) => source switch
    {
        Oci.DockerArchiveSource d => d with { Path = Path.GetFullPath(d.Path, cwd) },
        Oci.OciArchiveSource a => a with { Path = Path.GetFullPath(a.Path, cwd) },
        Oci.OciLayoutSource l => l with { Path = Path.GetFullPath(l.Path, cwd) },
        _ => source,
    };
}

/// <summary>A directory holding a root file system (Apptainer's "sandbox"), run as is; <paramref name="Directory"/> is its real path.</summary>
public sealed record SandboxImageSpec(string Given, string Directory) : ImageSpec(Given);

/// <summary>A regular file that should be a SIF image (its header is checked when it is opened).</summary>
public sealed record SifImageSpec(string Given, string File) : ImageSpec(Given);

/// <summary>instance://NAME: a running instance of the caller's, which exec, run and shell join instead of starting a container.</summary>
public sealed record InstanceImageSpec(string Given, string Name) : ImageSpec(Given)
{
    public const string Scheme = "instance://";

    /// <summary>Null when <paramref name="given"/> is not an instance:// reference; an error when its name is not valid.</summary>
    public static InstanceImageSpec? TryParse(string given)
    {
        if (!given.StartsWith(Scheme, StringComparison.Ordinal))
        {
            return null;
        }
        return new InstanceImageSpec(given, Instances.InstanceStore.CheckName(given[Scheme.Length..]));
    }
}

/// <summary>An OCI source, pulled into the cache and converted to a SIF on first use.</summary>
public sealed record OciImageSpec(string Given, Oci.ImageSource Source) : ImageSpec(Given);

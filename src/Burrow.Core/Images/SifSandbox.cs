using System.Diagnostics;
using System.Globalization;
using Burrow.Core.Diagnostics;
using Burrow.Core.Sif;

namespace Burrow.Core.Images;

/// <summary>
/// Extracts a SIF's primary squashfs partition into a directory with <c>unsquashfs -o OFFSET</c>, as Apptainer's
/// fallback does when it cannot mount ("Converting SIF file to temporary sandbox..."). Unprivileged, owners become
/// the caller and device nodes cannot be made: unsquashfs reports those and Burrow says so once as a warning.
/// </summary>
public static class SifSandbox
{
    public static void Extract(string sifPath, string destination)
    {
        long offset;
        using (SifImage sif = OpenSif(sifPath))
        {
            SifDescriptor partition = sif.PrimarySystemPartition
                ?? throw new BurrowException($"image {sifPath}: the SIF has no primary system partition", "is it a data container?");
            if (partition.FsType != SifFsType.Squash)
            {
                throw new BurrowException($"image {sifPath}: the primary partition is {partition.FsType}, not squashfs; only squashfs can be run");
            }
            offset = partition.Offset;
        }
        var psi = new ProcessStartInfo("unsquashfs") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (string a in new[] { "-q", "-n", "-no-xattrs", "-o", offset.ToString(CultureInfo.InvariantCulture), "-d", destination, sifPath })
        {
            psi.ArgumentList.Add(a);
        }
        Process p;
        try
        {
            p = Process.Start(psi)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new BurrowException($"cannot run unsquashfs to unpack {sifPath}: {e.Message}", "install squashfs-tools (apt install squashfs-tools)");
        }
        using (p)
        // A signal stops the unpacking (the caller removes the half-made tree).
        using (Interruption.Token.Register(() => { try { p.Kill(); } catch (InvalidOperationException) { } }))
        {
            Task<string> stdout = p.StandardOutput.ReadToEndAsync();
            string stderr = p.StandardError.ReadToEnd();
            p.WaitForExit();
            Interruption.ThrowIfRequested();
            string[] problems = (stderr + stdout.Result).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            string[] devices = problems.Where(l => l.Contains("because you're not superuser", StringComparison.Ordinal)).ToArray();
            string[] other = problems.Except(devices).ToArray();
            if (p.ExitCode != 0 && (p.ExitCode != 2 || other.Length > 0))
            {
                throw new BurrowException($"unsquashfs failed to unpack {sifPath} (exit {p.ExitCode}): {string.Join("; ", other.Take(5))}");
            }
            if (devices.Length > 0)
            {
                Log.Warning($"{devices.Length} device node(s) of the image could not be created in the temporary sandbox (that needs privilege); the host's /dev is used in the container");
            }
        }
    }

    /// <summary>A private temp directory (0700, locked while this process lives, see TemporaryDirectories); the caller removes it.</summary>
    public static string NewTemporaryDirectory() => Files.TemporaryDirectories.Create("burrow-sandbox");

    public static bool LooksLikeSif(string path)
    {
        try
        {
            // Only a regular file can be a SIF: a FIFO must not block here, nor a device be opened.
            using FileStream fs = Linux.RegularFile.OpenRead(path, 4096);
            byte[] head = new byte[42];
            int n = fs.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
            return n >= 42 && System.Text.Encoding.ASCII.GetString(head, 32, 10) == "SIF_MAGIC\0";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static SifImage OpenSif(string path)
    {
        try
        {
            return SifImage.Open(path);
        }
        catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
        {
            throw new BurrowException($"image {path}: cannot read the SIF file: {e.Message}");
        }
    }
}

/// <summary>
/// SIF files and OCI sources for exec/run/shell: OCI sources are pulled into the cache on first use
/// (<c>Using cached SIF image</c> later); the SIF's squashfs is then unpacked into a private temporary sandbox
/// that is removed when Burrow exits, until SIFs are mounted with squashfuse.
/// </summary>
public sealed class SifImageSource : IImageSource
{
    private static readonly List<string> s_temporary = [];

    public bool Claims(string reference, string cwd)
    {
        if (Oci.ImageSource.TryParse(reference) is not null)
        {
            return true;
        }
        string path = Path.GetFullPath(reference, cwd);
        return File.Exists(path) && (path.EndsWith(".sif", StringComparison.Ordinal) || LooksLikeSif(path));
    }

    private static bool LooksLikeSif(string path) => SifSandbox.LooksLikeSif(path);

    public ResolvedImage Resolve(string reference, string cwd)
    {
        string sif;
        if (Oci.ImageSource.TryParse(reference) is { } source)
        {
            source = Rebase(source, cwd);
            var cache = new ImageCache(ImageCache.DefaultRoot());
            PulledImage pulled = new ImagePuller(cache).PullAsync(source, new PullOptions(), CancellationToken.None).GetAwaiter().GetResult();
            sif = pulled.SifPath;
        }
        else
        {
            sif = Path.GetFullPath(reference, cwd);
            if (!SifSandbox.LooksLikeSif(sif))
            {
                throw new BurrowException($"image {reference}: {sif} is not a SIF file");
            }
        }
        string sandbox = SifSandbox.NewTemporaryDirectory();
        Register(sandbox);
        Log.Info("Converting SIF file to temporary sandbox...");
        string root = Path.Combine(sandbox, "root");
        SifSandbox.Extract(sif, root);
        return new ResolvedImage(reference, root, Runtime.RootFsKind.Directory);
    }

    /// <summary>Relative archive and layout paths are relative to the caller's working directory.</summary>
    private static Oci.ImageSource Rebase(Oci.ImageSource source, string cwd) => source switch
    {
        Oci.DockerArchiveSource d => d with { Path = Path.GetFullPath(d.Path, cwd) },
        Oci.OciArchiveSource a => a with { Path = Path.GetFullPath(a.Path, cwd) },
        Oci.OciLayoutSource l => l with { Path = Path.GetFullPath(l.Path, cwd) },
        _ => source,
    };

    /// <summary>Temporary sandboxes are removed at exit, whatever path the run took (normal exit or SIGTERM).</summary>
    private static void Register(string dir)
    {
        lock (s_temporary)
        {
            if (s_temporary.Count == 0)
            {
                AppDomain.CurrentDomain.ProcessExit += (_, _) => RemoveAll();
            }
            s_temporary.Add(dir);
        }
    }

    public static void RemoveAll()
    {
        lock (s_temporary)
        {
            foreach (string dir in s_temporary)
            {
                try
                {
                    MakeWritable(dir);
                    Directory.Delete(dir, recursive: true);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    Log.Warning($"could not remove the temporary sandbox {dir}: {e.Message}");
                }
            }
            s_temporary.Clear();
        }
    }

    /// <summary>Images contain read-only directories (0555 /proc, 0500 …) that would stop the removal.</summary>
    private static void MakeWritable(string dir)
    {
        foreach (string d in Directory.EnumerateDirectories(dir, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.ReparsePoint }).Prepend(dir))
        {
            UnixFileMode mode = PrivateFiles.GetMode(d);
            if ((mode & PrivateFiles.DirMode) != PrivateFiles.DirMode)
            {
                PrivateFiles.SetMode(d, mode | PrivateFiles.DirMode);
            }
        }
    }
}

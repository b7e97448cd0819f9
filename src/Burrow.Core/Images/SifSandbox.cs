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
        ExtractSquashfs(sifPath, offset, destination, sifPath);
    }

    /// <summary>Unpacks the squashfs at <paramref name="offset"/> in <paramref name="file"/>; messages name <paramref name="imageName"/>.</summary>
    public static void ExtractSquashfs(string file, long offset, string destination, string imageName)
    {
        string sifPath = imageName;
        var psi = new ProcessStartInfo(Runtime.ExecutableSearch.Require("unsquashfs", "squashfs-tools", "unpacking a SIF")) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (string a in new[] { "-q", "-n", "-no-xattrs", "-o", offset.ToString(CultureInfo.InvariantCulture), "-d", destination, file })
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

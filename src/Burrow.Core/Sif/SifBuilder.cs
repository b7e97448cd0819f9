using Burrow.Core.Diagnostics;

namespace Burrow.Core.Sif;

/// <summary>
/// Creates a whole SIF image in one step (the reference's CreateContainer with descriptors). The file
/// appears complete or not at all: it is written to a temporary name beside the target, flushed to disk
/// and renamed over it.
/// </summary>
public static class SifBuilder
{
    public static void Create(string path, IReadOnlyList<SifObjectSpec> objects, SifCreateOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(objects);
        string full = Path.GetFullPath(path);
        string dir = Path.GetDirectoryName(full) ?? "/";
        string temp = Path.Combine(dir, "." + Path.GetFileName(full) + ".tmp-" + Guid.NewGuid().ToString("N")[..12]);
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None))
            using (SifImage image = SifImage.CreateInto(new StreamSifStorage(stream, leaveOpen: true), path, objects, options ?? new SifCreateOptions()))
            {
            }
            File.Move(temp, full, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(temp);
            throw new BurrowException($"cannot create SIF image {path}: {SifIoText.Of(e)}", null, ExitCodes.Failure, e);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    /// <summary>Writes a new image into a seekable stream (truncated first), for in-memory images and tests.</summary>
    public static void Create(Stream stream, IReadOnlyList<SifObjectSpec> objects, SifCreateOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(objects);
        using SifImage image = SifImage.CreateInto(new StreamSifStorage(stream, leaveOpen: true), "(stream)", objects, options ?? new SifCreateOptions());
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}

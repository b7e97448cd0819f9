using Burrow.Core.Diagnostics;

namespace Burrow.Core.Sif;

/// <summary>
/// Creates a whole SIF image in one step (the reference's CreateContainer with descriptors). The file
/// appears complete or not at all: it is written to a temporary file beside the target, flushed to disk
/// and renamed over it (see Files.OutputFile).
/// </summary>
public static class SifBuilder
{
    public static void Create(string path, IReadOnlyList<SifObjectSpec> objects, SifCreateOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(objects);
        // Through Files.OutputFile: a temp file no other user can plant or redirect, fsync'ed and renamed into place.
        using Files.OutputFile output = Files.OutputFile.Create(path, overwrite: true);
        try
        {
            using (SifImage image = SifImage.CreateInto(new StreamSifStorage(output.Stream, leaveOpen: true), path, objects, options ?? new SifCreateOptions()))
            {
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new BurrowException($"cannot create SIF image {path}: {SifIoText.Of(e)}", null, ExitCodes.Failure, e);
        }
        output.Commit();
    }

    /// <summary>Writes a new image into a seekable stream (truncated first), for in-memory images and tests.</summary>
    public static void Create(Stream stream, IReadOnlyList<SifObjectSpec> objects, SifCreateOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(objects);
        using SifImage image = SifImage.CreateInto(new StreamSifStorage(stream, leaveOpen: true), "(stream)", objects, options ?? new SifCreateOptions());
    }
}

using Burrow.Core.Runtime;
using Burrow.Core.Runtime.Planning.Facts;
using Burrow.Core.Runtime.Serving;

namespace Burrow.Core.Images;

/// <summary>The format an image came in; a SIF stays read-only even when it runs from an unpacked copy.</summary>
public enum ImageFormat { Sandbox, Sif }

/// <summary>
/// An image ready to read and run, opened once for the whole command: the planner reads its files through
/// <see cref="Reader"/> (inside the image, never through a host path), and a launch gets its root from
/// <see cref="Kind"/> and <see cref="HostPath"/>, with <see cref="CreateServer"/> for an image the engine serves.
/// Disposing releases everything it holds (open files, a temporary sandbox).
/// </summary>
public sealed class OpenedImage : IDisposable
{
    private readonly List<IDisposable> _owned;
    private readonly Func<IImageServer?> _server;

    internal OpenedImage(ImageSpec spec, ImageFormat format, RootFsKind kind, string hostPath, IImageRootReader reader,
        IEnumerable<IDisposable> owned, Func<IImageServer?>? server = null)
    {
        Spec = spec;
        Format = format;
        Kind = kind;
        HostPath = hostPath;
        Reader = reader;
        _owned = [.. owned];
        _server = server ?? (() => null);
    }

    public ImageSpec Spec { get; }

    public ImageFormat Format { get; }

    /// <summary>How the stage sets the root up.</summary>
    public RootFsKind Kind { get; }

    /// <summary>The root directory, or the file holding the squashfs.</summary>
    public string HostPath { get; }

    /// <summary>Where the squashfs lies in <see cref="HostPath"/>, for <see cref="RootFsKind.Squashfs"/>.</summary>
    public SquashfsLocation? Squashfs { get; init; }

    /// <summary>Reads files inside the image (symlinks resolved inside it).</summary>
    public IImageRootReader Reader { get; }

    /// <summary>True when the caller may change the image in place (--writable).</summary>
    public bool WritableByCaller { get; init; }

    /// <summary>Its squashfs is read through the execution control list's verified extent (every block checked against what was signed).</summary>
    public bool Verified { get; init; }

    /// <summary>The server for a squashfs root (sharing this image's open file and caches); null for a directory.</summary>
    public IImageServer? CreateServer() => _server();

    public void Dispose()
    {
        for (int i = _owned.Count - 1; i >= 0; i--)
        {
            _owned[i].Dispose();
        }
        _owned.Clear();
    }
}

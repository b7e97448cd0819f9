using Microsoft.Win32.SafeHandles;

namespace Burrow.Core.Runtime.Serving;

/// <summary>
/// Serves a squashfs image on the FUSE device that the stage mounted inside the container (docs/ARCHITECTURE.md,
/// "Serving images"). The engine owns it for the life of the container and disposes of it when the payload's
/// status has arrived (the monitor has then killed every process of the container).
/// </summary>
public interface IImageServer : IDisposable
{
    /// <summary>Starts answering the kernel on <paramref name="fuseDevice"/>, which this server then owns; returns at once.</summary>
    void Serve(SafeFileHandle fuseDevice);
}

using Burrow.Core.Diagnostics;
using Burrow.Core.Fuse;
using Microsoft.Win32.SafeHandles;

namespace Burrow.Core.Runtime.Serving;

/// <summary>Burrow's own server: the engine answers the kernel itself, from several threads, for any read-only file system.</summary>
public sealed class FileSystemServer(IReadOnlyFileSystem fileSystem, string imageName) : IImageServer
{
    private FuseServer? _server;

    public void Serve(SafeFileHandle fuseDevice)
    {
        if (_server is not null)
        {
            fuseDevice.Dispose();
            throw new BurrowException("the stage mounted the image twice");
        }
        try
        {
            _server = FuseServer.Start(fuseDevice, fileSystem, new FuseServerOptions { ImageName = imageName });
        }
        catch (OutOfMemoryException)
        {
            // .NET's answer when no thread can be created; almost always the limit on the user's processes.
            throw ProcessLimit.Failure($"cannot start a thread to serve the image {imageName}");
        }
    }

    public void Dispose()
    {
        if (_server is null)
        {
            return;
        }
        if (_server.Completion.IsCompleted && _server.Completion.Result == FuseServerExit.Failed && _server.Failure is { } failure)
        {
            Log.Warning($"serving the image {imageName} failed: {failure.Message}");
        }
        _server.Dispose();
        _server = null;
    }
}

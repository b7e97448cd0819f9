using Burrow.Core.Diagnostics;
using Burrow.Core.Squashfs;
using Microsoft.Win32.SafeHandles;

namespace Burrow.Core.Runtime.Serving;

/// <summary>
/// The server for a plan that arrived without one (<c>__run-plan</c>): none for a directory; for a squashfs, Burrow's
/// own server on the file the plan names, or squashfuse_ll for a compressor Burrow cannot read.
/// </summary>
public static class ImageServers
{
    public static IImageServer? For(RootFsPlan root)
    {
        if (root.Kind != RootFsKind.Squashfs)
        {
            return null;
        }
        SquashfsLocation where = root.Squashfs ?? new SquashfsLocation(0, new FileInfo(root.HostPath).Length);
        SafeFileHandle file = File.OpenHandle(root.HostPath, FileMode.Open, FileAccess.Read, FileShare.Read);
        try
        {
            SquashfsImage image = SquashfsImage.Open(file, where.Offset, where.Length, root.HostPath);
            return new OwningServer(new FileSystemServer(new SquashfsFileSystem(image, ownsImage: true), root.HostPath), file, image);
        }
        catch (UnsupportedSquashfsCompressorException e)
        {
            file.Dispose();
            Log.Info(e.Message + $"; serving it with {SquashfuseServer.Program}");
            return new SquashfuseServer(root.HostPath, where.Offset);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>A server together with what it reads from, released after it.</summary>
    private sealed class OwningServer(IImageServer inner, params IDisposable[] owned) : IImageServer
    {
        public void Serve(SafeFileHandle fuseDevice) => inner.Serve(fuseDevice);

        public void Dispose()
        {
            inner.Dispose();
            foreach (IDisposable d in owned.Reverse())
            {
                d.Dispose();
            }
        }
    }
}

using Burrow.Core.Fuse;
using Burrow.Linux;
using Microsoft.Win32.SafeHandles;

namespace Burrow.Core.Runtime.Stage;

/// <summary>
/// Mounts the image's FUSE file system inside the container's namespaces and hands the device to the engine,
/// which answers the kernel's requests on it for as long as the container lives (docs/ARCHITECTURE.md,
/// "Serving images"). The stage never serves anything itself: it only makes the mount a user namespace allows.
/// </summary>
internal static class FuseImageMount
{
    public static void Mount(RootFsPlan plan, string mountPoint, Action<SafeFileHandle> handToEngine)
    {
        using SafeFileHandle device = FuseDevice.Open();
        IReadOnlyList<KeyValuePair<string, string?>> options =
            FuseMount.Options((int)device.DangerousGetHandle(), ProcessSecurity.Uid, ProcessSecurity.Gid, plan.HostPath);
        using (SafeFileHandle mount = Mounts.CreateFileSystem(FuseMount.FileSystemType, options, FuseMount.Attributes, plan.HostPath))
        {
            Mounts.Attach(mount, mountPoint);
        }
        handToEngine(device);
    }
}

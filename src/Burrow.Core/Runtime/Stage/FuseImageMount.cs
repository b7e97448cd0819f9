using System.Globalization;
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
        string fd = ((int)device.DangerousGetHandle()).ToString(CultureInfo.InvariantCulture);
        KeyValuePair<string, string?>[] options =
        [
            new("source", plan.HostPath),
            new("subtype", "burrow"),
            new("fd", fd),
            // The root is a directory (S_IFDIR in octal, as fusermount writes it).
            new("rootmode", "40000"),
            // The mount's owner is the stage's identity in the user namespace; allow_other lets the payload in whatever
            // its ids (a FUSE mount in a user namespace admits only processes of that namespace anyway).
            new("user_id", ProcessSecurity.Uid.ToString(CultureInfo.InvariantCulture)),
            new("group_id", ProcessSecurity.Gid.ToString(CultureInfo.InvariantCulture)),
            new("allow_other", null),
            // The kernel checks permissions against the image's modes and owners, as on any disk file system.
            new("default_permissions", null),
            new("ro", null),
        ];
        using (SafeFileHandle mount = Mounts.CreateFileSystem("fuse", options,
            MountAttributes.ReadOnly | MountAttributes.NoSuid | MountAttributes.NoDev, plan.HostPath))
        {
            Mounts.Attach(mount, mountPoint);
        }
        handToEngine(device);
    }
}

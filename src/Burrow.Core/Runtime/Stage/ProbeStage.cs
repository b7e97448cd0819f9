using System.Globalization;
using Burrow.Core.Runtime.Launch;
using Burrow.Linux;
using Microsoft.Win32.SafeHandles;

namespace Burrow.Core.Runtime.Stage;

/// <summary>
/// <c>burrow __probe SYNC_FD DIR</c>, run by the starter in a fresh user and mount namespace for <c>burrow check</c>:
/// reports that it got there with the namespace's capabilities, then mounts a tmpfs on DIR/tmp and, over the host
/// directory DIR/lower, an overlay with its upper layer on that tmpfs (the runtime's options), on DIR/merged.
/// </summary>
public static class ProbeStage
{
    public static int Run(string[] args)
    {
        if (args.Length != 2 || !int.TryParse(args[0], CultureInfo.InvariantCulture, out int syncFd))
        {
            Diagnostics.Log.Failure($"{NamespaceProbe.Command} is started by burrow check, not by hand");
            return Diagnostics.ExitCodes.Usage;
        }
        string dir = args[1];
        using SafeFileHandle sync = FileDescriptors.Own(syncFd);
        try
        {
            Mounts.MakeAllPrivate();
        }
        catch (LinuxException e)
        {
            Send(sync, NamespaceProbe.UserNamespaceFeature, false, "in the user namespace, but without the capability to mount: " + e.Message);
            return 1;
        }
        Send(sync, NamespaceProbe.UserNamespaceFeature, true, "made, with its own mount namespace");
        try
        {
            const MountAttributes attrs = MountAttributes.NoSuid | MountAttributes.NoDev;
            string tmp = Path.Combine(dir, "tmp");
            using (SafeFileHandle tmpfs = Mounts.CreateFileSystem("tmpfs", [new("mode", "0700")], attrs, tmp))
            {
                Mounts.Attach(tmpfs, tmp);
            }
            FileSystem.MakeDirectory(Path.Combine(tmp, "upper"), 0x1c0);
            FileSystem.MakeDirectory(Path.Combine(tmp, "work"), 0x1c0);
            string merged = Path.Combine(dir, "merged");
            using (SafeFileHandle overlay = Mounts.CreateFileSystem("overlay",
                [new("lowerdir", Path.Combine(dir, "lower")), new("upperdir", Path.Combine(tmp, "upper")), new("workdir", Path.Combine(tmp, "work")), new("userxattr", null)],
                attrs, merged))
            {
                Mounts.Attach(overlay, merged);
            }
            if (!File.Exists(Path.Combine(merged, "marker")))
            {
                throw new IOException("the overlay does not show its lower layer");
            }
            File.WriteAllText(Path.Combine(merged, "written"), "ok\n");
            Send(sync, NamespaceProbe.OverlayFeature, true, "a host directory under a tmpfs upper layer, written to");
            return 0;
        }
        catch (Exception e) when (e is LinuxException or IOException or UnauthorizedAccessException)
        {
            Send(sync, NamespaceProbe.OverlayFeature, false, e.Message);
            return 1;
        }
    }

    private static void Send(SafeFileHandle sync, string feature, bool works, string detail) =>
        FileDescriptors.SendPacket(sync, StarterProtocol.ProbeResult + feature + "\t" + (works ? "1" : "0") + "\t" + detail.Replace('\t', ' '));
}

using System.Text.Json;
using Burrow.Core.Diagnostics;
using Burrow.Core.Runtime.Launch;
using Burrow.Linux;
using Microsoft.Win32.SafeHandles;

namespace Burrow.Core.Runtime.Sharing;

/// <summary>
/// <c>burrow __hold SYNC_FD JOB_FD LOG_LEVEL</c>, run by burrow-starter in the shared server's user and mount
/// namespaces: mounts the image's FUSE file system there, hands the device to the server, says "P", and waits. It is
/// the process whose namespaces containers of the image join; it dies with the server (the monitor sees to it).
/// </summary>
public static class ImageHolderStage
{
    public const string Command = "__hold";

    public static int Run(string[] args)
    {
        if (NamespaceCommandArguments.Parse(args) is not { } parsed)
        {
            Log.Failure(Command + " is started by burrow's image server, not by hand");
            return ExitCodes.Usage;
        }
        Log.Level = parsed.Level;
        using SafeFileHandle sync = FileDescriptors.Own(parsed.SyncFd);
        try
        {
            FileDescriptors.SetCloseOnExec(parsed.SyncFd, true);
            ProcessSecurity.SetParentDeathSignal(9);
            HolderJob job = parsed.ReadJob(SharingJsonContext.Default.HolderJob, 1 << 20, "the holder's job");
            Stage.FuseImageMount.Mount(new RootFsPlan(job.Image, RootFsKind.Squashfs, Writable: false), job.MountPoint, device =>
            {
                if (!FileDescriptors.SendPacket(sync, StarterProtocol.ImageDevice, device))
                {
                    throw new BurrowException("the image server went away before it could serve the image");
                }
            });
            // The containers that share the server share its user namespace: nothing of the holder may be theirs to take,
            // neither its capabilities there nor (through ptrace or /proc) the process. Its owner still opens its ns/.
            ProcessSecurity.SetDumpable(false);
            ProcessSecurity.SetAmbient(0, ProcessSecurity.LastCapability());
            ProcessSecurity.SetCapabilities(0, 0, 0);
            FileDescriptors.SendPacket(sync, StarterProtocol.PayloadStarting);
            // Nothing more to do: the namespaces live as long as this process, which lives as long as the server.
            while (FileDescriptors.ReceivePacket(sync) is not null)
            {
            }
            return ExitCodes.Success;
        }
        catch (Exception e) when (e is BurrowException or LinuxException or IOException or JsonException)
        {
            FileDescriptors.SendPacket(sync, StarterProtocol.FormatStageFailure(ExitCodes.Failure, "the image server's holder: " + e.Message, null));
            return ExitCodes.Failure;
        }
    }
}

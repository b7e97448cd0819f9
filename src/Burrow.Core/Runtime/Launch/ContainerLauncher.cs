using Burrow.Core.Identity;
using System.Globalization;
using System.Text.Json;
using Burrow.Core.Diagnostics;
using Burrow.Core.Runtime.Serving;
using Burrow.Linux;
using Microsoft.Win32.SafeHandles;

namespace Burrow.Core.Runtime.Launch;

/// <summary>
/// The engine side of a launch: creates the session directory, spawns the starter with the plan on a
/// memfd, writes the uid/gid maps when the starter has its user namespace, relays signals, relays
/// failures from the starter and the stage as ERROR: lines, and returns the payload's exit status.
/// </summary>
public static class ContainerLauncher
{
    /// <summary>
    /// Runs the plan to completion and returns the exit status for burrow to exit with
    /// (payload status, 128+N for a signal). Throws BurrowException for set-up failures.
    /// </summary>
    /// <param name="server">Serves a squashfs root; null to make one from the plan (see <see cref="ImageServers"/>).</param>
    /// <param name="payloadStarted">Called once the payload is about to run (an instance records itself then).</param>
    public static int Run(LaunchPlan plan, RuntimePaths paths, IImageServer? server = null, Action? payloadStarted = null)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(paths);
        try
        {
            using IImageServer? serving = server ?? ImageServers.For(plan.Root);
            return Launch(plan, paths, serving, payloadStarted);
        }
        catch (LinuxException e) when (e.Errno == Errno.EAGAIN && e.Operation == "posix_spawn")
        {
            throw ProcessLimit.Failure("cannot start the container's starter");
        }
        catch (Exception e) when (e is LinuxException or IOException or UnauthorizedAccessException)
        {
            // Whatever the host refused on our side of the launch, it is reported, never a stack trace.
            throw new BurrowException("cannot start the container: " + e.Message);
        }
    }

    private static int Launch(LaunchPlan plan, RuntimePaths paths, IImageServer? server, Action? payloadStarted)
    {
        Stage.StageRunner.Timing.Start();
        if (!File.Exists(paths.Starter))
        {
            throw new BurrowException($"the starter {paths.Starter} is missing", "reinstall burrow (scripts/build installs it under PREFIX/libexec/burrow)");
        }

        // Before anything starts: a subordinate map needs working newuidmap/newgidmap. Found and checked once,
        // here, and handed to the map writer, so the starter never waits on a second lookup.
        MapHelpers.Paths? helpers = MapHelpers.RequireFor(plan.Identity);

        // The payload runs as the same user in the host's PID namespace: keep it out of our /proc
        // entries (fds, memory, /proc/PID/exe — runc CVE-2019-5736 and CVE-2024-21626).
        ProcessSecurity.SetDumpable(false);

        using SessionDirectory session = SessionDirectory.Create();
        Stage.StageRunner.Timing.Mark("engine: session directory");
        byte[] json = JsonSerializer.SerializeToUtf8Bytes(plan, LaunchPlanJsonContext.Default.LaunchPlan);
        Stage.StageRunner.Timing.Mark("engine: plan serialised");
        using SafeFileHandle planFd = FileDescriptors.MemoryFile("burrow-plan", json);
        (SafeFileHandle engineEnd, SafeFileHandle starterEnd) = FileDescriptors.SeqPacketPair();
        using (engineEnd)
        using (SignalForwarder signals = StartSignalForwarder())
        {
            Stage.StageRunner.Timing.Mark("engine: signal handlers");
            int starterFd = (int)starterEnd.DangerousGetHandle();
            int planNumber = (int)planFd.DangerousGetHandle();
            string[] argv =
            [
                paths.Starter, Num(starterFd), Num(Environment.ProcessId), NamespaceFlags(plan.Namespaces) + (plan.Network is null ? "" : "h"),
                paths.Self, "__stage", Num(starterFd), Num(planNumber), session.Path, Num((int)Log.Level),
            ];
            int pid;
            using (starterEnd)
            {
                pid = Processes.Spawn(paths.Starter, argv, [], [starterFd, planNumber]);
            }
            signals.Target = pid;
            Stage.StageRunner.Timing.Mark("engine: starter spawned");
            return Supervise(pid, engineEnd, plan, helpers, server, session.Path, payloadStarted);
        }
    }

    /// <summary>The runtime's signal thread is the first thread burrow starts for a launch: it fails on the process limit.</summary>
    private static SignalForwarder StartSignalForwarder()
    {
        try
        {
            return new SignalForwarder();
        }
        catch (Exception e) when (e is TypeInitializationException or IOException)
        {
            Exception cause = e.InnerException ?? e;
            if (cause is IOException { HResult: Errno.EAGAIN })
            {
                throw ProcessLimit.Failure("cannot start burrow's signal-relay thread");
            }
            throw new BurrowException("cannot set up signal handling: " + cause.Message, ProcessLimit.MaybeHint());
        }
    }

    private static int Supervise(int pid, SafeFileHandle channel, LaunchPlan plan, MapHelpers.Paths? helpers, IImageServer? server, string sessionPath,
        Action? payloadStarted)
    {
        Networking.INetworkHelper? network = null;
        try
        {
            return Supervise(pid, channel, plan, helpers, server, sessionPath, payloadStarted, ref network);
        }
        finally
        {
            network?.Dispose();
        }
    }

    private static int Supervise(int pid, SafeFileHandle channel, LaunchPlan plan, MapHelpers.Paths? helpers, IImageServer? server, string sessionPath,
        Action? payloadStarted,
        ref Networking.INetworkHelper? network)
    {
        BurrowException? failure = null;
        int? status = null;
        bool started = false;
        try
        {
            string? first = FileDescriptors.ReceivePacket(channel);
            if (first == StarterProtocol.UserNamespaceReady)
            {
                try
                {
                    IdMapWriting.Write(pid, plan.Identity, helpers);
                    FileDescriptors.SendPacket(channel, StarterProtocol.Go);
                    Stage.StageRunner.Timing.Mark("engine: maps written");
                }
                catch (BurrowException e)
                {
                    failure = e;
                    FileDescriptors.SendPacket(channel, StarterProtocol.Abort);
                }
                first = null;
            }
            for (Packet? packet = first is null ? FileDescriptors.ReceivePacketWithDescriptor(channel) : new Packet(first, null);
                 packet is { } p; packet = FileDescriptors.ReceivePacketWithDescriptor(channel))
            {
                string message = p.Text;
                if (message == StarterProtocol.NetworkNamespaceReady && p.Descriptor is null && plan.Network is { } net && network is null)
                {
                    try
                    {
                        network = Networking.NetworkHelpers.Start(net, pid, sessionPath);
                        FileDescriptors.SendPacket(channel, StarterProtocol.Go);
                        Stage.StageRunner.Timing.Mark("engine: network helper attached");
                    }
                    catch (Exception e) when (e is BurrowException or IOException or System.Net.Sockets.SocketException or UnauthorizedAccessException)
                    {
                        failure ??= e as BurrowException ?? new BurrowException($"cannot start the network helper {net.Helper.ToString().ToLowerInvariant()}: {e.Message}");
                        FileDescriptors.SendPacket(channel, StarterProtocol.Abort);
                    }
                    continue;
                }
                if (message == StarterProtocol.ImageDevice && p.Descriptor is { } device && server is not null)
                {
                    try
                    {
                        server.Serve(device);
                        Stage.StageRunner.Timing.Mark("engine: serving the image");
                    }
                    catch (BurrowException e)
                    {
                        // The stage is waiting on the mount: kill the container rather than let it hang.
                        failure ??= e;
                        ProcessSecurity.Kill(pid, 9);
                    }
                    continue;
                }
                if (p.Descriptor is { } unexpected)
                {
                    unexpected.Dispose();
                    failure ??= new BurrowException($"unexpected descriptor from the starter with \"{message}\"");
                    continue;
                }
                if (message.Length > 0 && message[0] == StarterProtocol.PayloadStatus && int.TryParse(message.AsSpan(1), CultureInfo.InvariantCulture, out int code))
                {
                    status = code;
                    break;
                }
                if (message == StarterProtocol.PayloadStarting)
                {
                    started = true;
                    payloadStarted?.Invoke();
                    Stage.StageRunner.Timing.Mark("engine: payload started");
                    continue;
                }
                failure ??= Interpret(message);
            }
        }
        catch (Exception e) when (e is LinuxException or InvalidDataException)
        {
            failure ??= new BurrowException("lost contact with the starter: " + e.Message);
        }
        // With the status in hand there is no need to wait while the monitor's exit tears the mount
        // namespace down; it is reaped now if it is already gone, else by init when burrow exits.
        bool reported = status is not null;
        if (status is null)
        {
            status = Processes.Wait(pid).ShellCode;
        }
        else
        {
            Processes.TryReap(pid);
        }
        if (failure is not null)
        {
            throw failure;
        }
        if (!reported)
        {
            throw new BurrowException($"the container's monitor ended without the payload's status (burrow-starter exit status {status})",
                "it was killed from outside burrow, or the machine ran out of memory");
        }
        if (!started)
        {
            // The stage reports every failure it can see; dying silently means its runtime could not start.
            throw new BurrowException($"the container's set-up ended before the command started, without a message (status {status})",
                ProcessLimit.MaybeHint() ?? "rerun with --debug");
        }
        return status.Value;
    }

    private static BurrowException Interpret(string message)
    {
        if (message.Length == 0)
        {
            return new BurrowException("unexpected empty message from the starter");
        }
        string[] f = message[1..].Split('\t');
        if (message[0] == StarterProtocol.StageFailure && f.Length >= 2)
        {
            int code = int.TryParse(f[0], CultureInfo.InvariantCulture, out int c) ? c : ExitCodes.Failure;
            return new BurrowException(f[1], f.Length > 2 && f[2].Length > 0 ? f[2] : null, code);
        }
        if (message[0] == StarterProtocol.StarterError && f.Length >= 2 && int.TryParse(f[0], CultureInfo.InvariantCulture, out int errno))
        {
            return StarterFailure(errno, f[1]);
        }
        return new BurrowException("unexpected message from the starter: " + message);
    }

    private static BurrowException StarterFailure(int errno, string operation)
    {
        string reason = System.Runtime.InteropServices.Marshal.GetPInvokeErrorMessage(errno);
        if (errno == Errno.EAGAIN && operation.StartsWith("fork", StringComparison.Ordinal))
        {
            return ProcessLimit.Failure($"burrow-starter: {operation}");
        }
        if (operation.StartsWith("unshare(CLONE_NEWUSER)", StringComparison.Ordinal))
        {
            return new BurrowException($"cannot create a user namespace: {reason}",
                "unprivileged user namespaces are disabled or exhausted on this machine; ask the administrator to allow them "
                + "(sysctl user.max_user_namespaces > 0; on Debian kernels kernel.unprivileged_userns_clone=1; "
                + "on Ubuntu kernel.apparmor_restrict_unprivileged_userns=0)");
        }
        if (operation.StartsWith("unshare", StringComparison.Ordinal))
        {
            return new BurrowException($"cannot create the container's namespaces ({operation}): {reason}",
                "the kernel or its configuration refuses one of the requested namespaces; try without --pid, --ipc, --net or --hostname");
        }
        return new BurrowException($"burrow-starter: {operation}: {reason}");
    }

    private static string NamespaceFlags(NamespacePlan ns)
    {
        string flags = (ns.Pid ? "p" : "") + (ns.Ipc ? "i" : "") + (ns.Uts ? "u" : "") + (ns.Net ? "n" : "") + (ns.Pid && ns.Init ? "t" : "");
        return flags.Length == 0 ? "-" : flags;
    }

    private static string Num(int value) => value.ToString(CultureInfo.InvariantCulture);
}

using System.Globalization;
using System.Text.Json;
using Burrow.Core.Diagnostics;
using Burrow.Core.Runtime.Launch;
using Burrow.Linux;
using Microsoft.Win32.SafeHandles;

namespace Burrow.Core.Runtime.Stage;

/// <summary>
/// The stage: runs inside the new namespaces with the user namespace's capabilities (kept across the
/// starter's exec in the ambient set) and carries the plan out in order: session tmpfs, root, mounts,
/// generated files, hostname, loopback, pivot_root, then the payload's identity and exec. It decides
/// nothing; every failure goes back to the engine as one message and the stage exits.
/// </summary>
public static class StageRunner
{
    /// <summary>With --debug, how long each part of the stage took (start-up time counts on this path).</summary>
    public static class Timing
    {
        private static long s_last;

        public static void Start() => s_last = System.Diagnostics.Stopwatch.GetTimestamp();

        public static void Mark(string what)
        {
            if (Log.Level > LogLevel.Debug)
            {
                return;
            }
            long now = System.Diagnostics.Stopwatch.GetTimestamp();
            Log.Debug($"{what} in {System.Diagnostics.Stopwatch.GetElapsedTime(s_last, now).TotalMilliseconds:F2} ms");
            s_last = now;
        }
    }

    /// <summary>Entry point of <c>burrow __stage SYNC_FD PLAN_FD SESSION_DIR LOG_LEVEL</c>; returns only on failure.</summary>
    public static int Run(string[] args)
    {
        Timing.Start();
        if (args.Length != 4 || !int.TryParse(args[0], CultureInfo.InvariantCulture, out int syncFd)
            || !int.TryParse(args[1], CultureInfo.InvariantCulture, out int planFd)
            || !int.TryParse(args[3], CultureInfo.InvariantCulture, out int level))
        {
            Log.Failure("__stage is started by burrow-starter, not by hand");
            return ExitCodes.Usage;
        }
        Log.Level = (LogLevel)level;
        using SafeFileHandle sync = FileDescriptors.Own(syncFd);
        try
        {
            FileDescriptors.SetCloseOnExec(syncFd, true);
            LaunchPlan plan;
            using (SafeFileHandle planHandle = FileDescriptors.Own(planFd))
            {
                byte[] json = FileDescriptors.ReadAll(planHandle, 64 << 20, "the launch plan");
                plan = JsonSerializer.Deserialize(json, LaunchPlanJsonContext.Default.LaunchPlan)
                    ?? throw new BurrowException("the launch plan is empty");
            }
            Timing.Mark("stage: plan read");
            Execute(plan, args[2], sync, device =>
            {
                if (!FileDescriptors.SendPacket(sync, StarterProtocol.ImageDevice, device))
                {
                    throw new BurrowException("the engine went away before it could serve the image");
                }
            });
            return ExitCodes.Failure; // not reached: Execute execs the payload or throws
        }
        catch (BurrowException e)
        {
            return Report(sync, e.ExitCode, e.Message, e.Hint);
        }
        catch (LinuxException e)
        {
            return Report(sync, ExitCodes.Failure, "container set-up failed: " + e.Message, null);
        }
        catch (Exception e) when (e is IOException or JsonException or InvalidDataException)
        {
            return Report(sync, ExitCodes.Failure, "container set-up failed: " + e.Message, null);
        }
        catch (Exception e)
        {
            // The stage is a boundary of its own: whatever it did not expect still reaches the engine as one message.
            return Report(sync, ExitCodes.Failure, $"container set-up failed ({e.GetType().Name}): {e.Message}", ProcessLimit.MaybeHint());
        }
    }

    private static void Execute(LaunchPlan plan, string sessionPath, SafeFileHandle sync, Action<SafeFileHandle> handToEngine)
    {
        // The payload must die with burrow: PR_SET_PDEATHSIG survives exec but not every credential change.
        ProcessSecurity.SetParentDeathSignal(9);
        int lastCap = ProcessSecurity.LastCapability();
        // Compiled now, while the root is the host's: libseccomp must never be loaded from the image.
        byte[]? filter = PayloadFilter.Compile(plan.Process.SyscallFilter ?? []);
        Timing.Mark("stage: seccomp filter compiled");
        Mounts.MakeAllPrivate();

        var session = SessionArea.Mount(sessionPath, plan.Root.TmpfsSize);
        using RootDirectory root = RootBuilder.Build(plan.Root, session, MountPoints(plan), handToEngine);
        Timing.Mark("stage: session and root");
        var mounter = new MountExecutor(root);
        foreach (MountStep step in plan.Mounts ?? [])
        {
            mounter.Perform(step);
        }
        Timing.Mark("stage: mounts");
        IReadOnlyList<SynthesizedFile> files = plan.Files ?? [];
        for (int i = 0; i < files.Count; i++)
        {
            mounter.BindSynthesized(files[i], session.WriteFile(i, files[i]));
        }
        if (plan.Hostname is { Length: > 0 } hostname)
        {
            ProcessSecurity.SetHostname(hostname);
        }
        if (plan.Namespaces.Net)
        {
            Network.BringUpLoopback();
            if (Network.AllowLowPorts() is { } why)
            {
                Log.Warning($"ports below 1024 stay closed to the payload in its network namespace ({why})");
            }
        }
        if (!Planning.RootPlanner.IsWritable(plan.Root))
        {
            Mounts.SetAttributes(root.Handle, MountAttributes.ReadOnly, recursive: false, "the container root");
        }
        Mounts.PivotRoot(root.Handle, "the container root");
        Timing.Mark("stage: files, pivot_root");
        PayloadLauncher.Exec(plan.Process, plan.Identity, lastCap, filter,
            () => FileDescriptors.SendPacket(sync, StarterProtocol.PayloadStarting));
    }

    private static List<(string, CreateKind)> MountPoints(LaunchPlan plan)
    {
        var points = new List<(string, CreateKind)>();
        foreach (MountStep m in plan.Mounts ?? [])
        {
            bool file = m.Kind == MountKind.Bind && m.Source is not null
                ? FileStatus.OfPath(m.Source) is { Kind: not FileKind.Directory and not FileKind.Unknown }
                : m.TargetKind == TargetKind.File;
            points.Add((m.Target, file ? CreateKind.File : CreateKind.Directory));
        }
        foreach (SynthesizedFile f in plan.Files ?? [])
        {
            points.Add((f.Target, CreateKind.File));
        }
        return points;
    }

    private static int Report(SafeFileHandle sync, int code, string message, string? hint)
    {
        bool sent;
        try
        {
            sent = FileDescriptors.SendPacket(sync, StarterProtocol.FormatStageFailure(code, message, hint));
        }
        catch (LinuxException)
        {
            sent = false;
        }
        if (!sent)
        {
            Log.Failure(message);
        }
        return code;
    }
}

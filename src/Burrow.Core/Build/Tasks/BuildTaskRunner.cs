using System.Text.Json;
using Burrow.Core.Diagnostics;
using Burrow.Core.Runtime.Launch;
using Burrow.Linux;
using Microsoft.Win32.SafeHandles;

namespace Burrow.Core.Build.Tasks;

/// <summary>
/// <c>burrow __build-task SYNC_FD JOB_FD LOG_LEVEL</c>: the in-namespace half of a build task, exec'd by
/// burrow-starter after the engine wrote the build's maps. It says "P" (started) on the socket, does the task, and
/// reports a failure as the stage does ("F", one ERROR line for the engine to print); an Exec task becomes the
/// program it names. It runs on the host's file system, in a mount namespace of its own, as root of the user
/// namespace: it can do to files of the mapped ids what their owner could, and nothing to anyone else's.
/// </summary>
public static class BuildTaskRunner
{
    public const string CommandName = "__build-task";

    public static int Run(string[] args)
    {
        if (NamespaceCommandArguments.Parse(args) is not { } parsed)
        {
            Log.Failure(CommandName + " is started by burrow build, not by hand");
            return ExitCodes.Usage;
        }
        Log.Level = parsed.Level;
        using SafeFileHandle sync = FileDescriptors.Own(parsed.SyncFd);
        FileDescriptors.SetCloseOnExec(parsed.SyncFd, true);
        try
        {
            BuildTask task = parsed.ReadJob(BuildTaskJsonContext.Default.BuildTask, 64 << 20, "the build task");
            FileSystem.SetUmask(0x12); // 022: what the image's files get is what the task sets, not the caller's umask
            foreach (string kv in task.Env)
            {
                int eq = kv.IndexOf('=');
                if (eq > 0)
                {
                    Environment.SetEnvironmentVariable(kv[..eq], kv[(eq + 1)..]);
                }
            }
            FileDescriptors.SendPacket(sync, StarterProtocol.PayloadStarting);
            return Execute(task);
        }
        catch (BurrowException e)
        {
            return Report(sync, e.ExitCode, e.Message, e.Hint);
        }
        catch (Exception e) when (e is LinuxException or IOException or UnauthorizedAccessException or JsonException or InvalidDataException)
        {
            return Report(sync, ExitCodes.Failure, FailureText.Reason(e), null);
        }
    }

    private static int Execute(BuildTask task)
    {
        switch (task.Kind)
        {
            case BuildTaskKind.Exec:
                return Exec(task);
            case BuildTaskKind.Unpack:
                BootstrapUnpacker.Unpack(task);
                return 0;
            case BuildTaskKind.CopyTree:
                BootstrapUnpacker.CopyTree(task);
                return 0;
            case BuildTaskKind.Copy:
                RootfsCopier.CopyAll(Required(task.Root, "root"), task.Copies);
                return 0;
            case BuildTaskKind.Write:
                RootfsWriter.WriteAll(Required(task.Root, "root"), task.Files);
                return 0;
            case BuildTaskKind.Pack:
                RootfsPacker.Pack(Required(task.Root, "root"), Required(task.Output, "output"), task.Compression, task.Extra);
                return 0;
            case BuildTaskKind.Remove:
                foreach (string path in task.Paths)
                {
                    RemoveTree(path);
                }
                return 0;
            default:
                throw new BurrowException($"unknown build task {task.Kind}");
        }
    }

    private static int Exec(BuildTask task)
    {
        if (task.Argv.Count == 0)
        {
            throw new BurrowException("a build task to run has no command");
        }
        if (task.Cwd is { } cwd)
        {
            FileSystem.ChangeDirectory(cwd);
        }
        string program = task.Argv[0].Contains('/') ? task.Argv[0] : Runtime.ExecutableSearch.OnPath(task.Argv[0])
            ?? throw new BurrowException($"{task.Argv[0]} was not found on PATH", $"install it on the host (it is run there, as root of the build's user namespace)");
        int errno = Processes.Exec(program, task.Argv, task.Env);
        throw new BurrowException($"cannot run {program}: {System.Runtime.InteropServices.Marshal.GetPInvokeErrorMessage(errno)}");
    }

    internal static void RemoveTree(string path)
    {
        string full = Path.GetFullPath(path);
        using DirectoryHandle parent = DirectoryHandle.Open(Path.GetDirectoryName(full) ?? "/");
        parent.RemoveTree(Path.GetFileName(full));
    }

    private static string Required(string? value, string what) => value ?? throw new BurrowException($"the build task has no {what}");

    private static int Report(SafeFileHandle sync, int code, string message, string? hint)
    {
        if (!FileDescriptors.SendPacket(sync, StarterProtocol.FormatStageFailure(code, message, hint)))
        {
            Log.Failure(message);
        }
        return code == 0 ? ExitCodes.Failure : code;
    }
}

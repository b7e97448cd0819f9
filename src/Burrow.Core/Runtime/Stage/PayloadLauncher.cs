using Burrow.Core.Diagnostics;
using Burrow.Linux;

namespace Burrow.Core.Runtime.Stage;

/// <summary>
/// The last steps before the payload, after pivot_root: working directory, umask, ids, capabilities
/// (bounding set first, while CAP_SETPCAP is still effective), no_new_privs, descriptors, execve.
/// </summary>
internal static class PayloadLauncher
{
    private const string DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    public static void Exec(ProcessPlan process, IdentityPlan identity, int lastCap)
    {
        if (process.Argv.Count == 0)
        {
            throw new BurrowException("the launch plan has no command to run");
        }
        try
        {
            ProcessSecurity.ChangeDirectory(process.Cwd);
        }
        catch (LinuxException e)
        {
            throw new BurrowException($"cannot enter the working directory {process.Cwd} in the container: {e.Reason}",
                "give --pwd a directory that exists in the container");
        }
        if (process.Umask is int umask)
        {
            ProcessSecurity.SetUmask(umask);
        }

        CapabilitySets caps = process.Capabilities ?? CapabilitySets.None;
        ProcessSecurity.LimitBoundingSet(caps.Bounding, lastCap);
        if (identity.AllowSetgroups)
        {
            ProcessSecurity.SetGroups(process.SupplementaryGroups ?? []);
        }
        ProcessSecurity.SetKeepCapabilities(true);
        ProcessSecurity.SetGid(process.Gid);
        ProcessSecurity.SetUid(process.Uid);
        ProcessSecurity.SetKeepCapabilities(false);
        ProcessSecurity.SetParentDeathSignal(9); // cleared by the credential change
        ProcessSecurity.SetCapabilities(caps.Effective, caps.Permitted, caps.Inheritable);
        ProcessSecurity.SetAmbient(caps.Ambient, lastCap);
        if (process.NoNewPrivileges)
        {
            ProcessSecurity.SetNoNewPrivileges();
        }
        FileDescriptors.CloseOnExecFrom(3, (process.PassFds ?? []).ToArray());
        Signals.ResetForExec();

        StageRunner.Timing.Mark("stage: identity, capabilities, descriptors");
        string[] env = process.Env.Select(e => e.Name + "=" + e.Value).ToArray();
        string command = process.Argv[0];
        string path = process.Env.LastOrDefault(e => e.Name == "PATH")?.Value ?? DefaultPath;
        IEnumerable<string> candidates = command.Contains('/')
            ? [command]
            : path.Split(':').Select(d => (d.Length == 0 ? "." : d) + "/" + command);
        int firstError = 0;
        foreach (string candidate in candidates)
        {
            int errno = Processes.Exec(candidate, process.Argv, env);
            if (errno is Errno.ENOENT or Errno.ENOTDIR)
            {
                continue;
            }
            if (firstError == 0)
            {
                firstError = errno;
            }
            if (errno is not (Errno.EACCES or Errno.EISDIR))
            {
                break;
            }
        }
        if (firstError == 0)
        {
            throw new BurrowException($"{command}: command not found in the container",
                command.Contains('/') ? "check the path inside the image" : $"check its name and the container's PATH ({path})",
                ExitCodes.CommandNotFound);
        }
        throw new BurrowException($"{command}: cannot execute in the container: {System.Runtime.InteropServices.Marshal.GetPInvokeErrorMessage(firstError)}",
            firstError == Errno.ENOEXEC ? "the file is not a binary and has no #! line" : "check that it is an executable file",
            ExitCodes.CommandNotExecutable);
    }
}

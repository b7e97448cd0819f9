using Burrow.Core.Diagnostics;
using Burrow.Linux;

namespace Burrow.Core.Runtime.Stage;

/// <summary>
/// The last steps before the payload, after pivot_root: working directory, umask, ids, capabilities
/// (bounding set first, while CAP_SETPCAP is still effective), no_new_privs, the payload's session and
/// its seccomp filter (last, so that nothing of the stage's own set-up runs under it), descriptors, execve.
/// </summary>
internal static class PayloadLauncher
{
    private const string DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    /// <param name="filter">The compiled seccomp program (null: none planned).</param>
    /// <param name="profile">The user's compiled seccomp profile (null: none), installed last, right before execve.</param>
    /// <param name="beforeExec">Tells the engine that the set-up is done and the payload starts now.</param>
    public static void Exec(ProcessPlan process, IdentityPlan identity, int lastCap, byte[]? filter, byte[]? profile, Action beforeExec)
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

        if (filter is not null && !process.NoNewPrivileges)
        {
            // Without no_new_privs the kernel wants CAP_SYS_ADMIN (in the user namespace), which the stage
            // still holds before the identity change; the filter refuses nothing the rest of the set-up does.
            PayloadFilter.Install(filter);
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
        if (process.Session?.New == true)
        {
            // No controlling terminal from here on: TIOCSTI and /dev/tty cannot reach the caller's terminal.
            ProcessSecurity.NewSession();
        }
        if (filter is not null && process.NoNewPrivileges)
        {
            PayloadFilter.Install(filter);
        }
        FileDescriptors.CloseOnExecFrom(3, (process.PassFds ?? []).ToArray());
        Signals.ResetForExec();

        StageRunner.Timing.Mark("stage: identity, capabilities, descriptors");
        string[] env = process.Env.Select(e => e.Name + "=" + e.Value).ToArray();
        if (process.CommandIndex > 0 && process.CommandIndex < process.Argv.Count && process.Argv[process.CommandIndex].Contains('/')
            && CommandDiagnosis.MissingInterpreter(process.Argv[process.CommandIndex]) is { } wrapped)
        {
            // Behind the env-script wrapper the shell would only say "not found" about the script itself.
            throw wrapped;
        }
        string command = process.Argv[0];
        string path = process.Env.LastOrDefault(e => e.Name == "PATH")?.Value ?? DefaultPath;
        IEnumerable<string> candidates = command.Contains('/')
            ? [command]
            : path.Split(':').Select(d => (d.Length == 0 ? "." : d) + "/" + command);
        beforeExec();
        if (profile is not null)
        {
            // Last of all, so that the stage's own calls (the message just sent included) are not the profile's business:
            // it judges the payload, from its execve on. The kernel applies it on top of Burrow's filter.
            PayloadFilter.Install(profile);
        }
        int firstError = 0;
        string? failed = null;
        foreach (string candidate in candidates)
        {
            int errno = Processes.Exec(candidate, process.Argv, env);
            if (errno is Errno.ENOENT && CommandDiagnosis.MissingInterpreter(candidate) is { } missing)
            {
                throw missing;
            }
            if (errno is Errno.ENOENT or Errno.ENOTDIR)
            {
                continue;
            }
            if (firstError == 0)
            {
                firstError = errno;
                failed = candidate;
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
        if (firstError == Errno.EAGAIN)
        {
            throw ProcessLimit.Failure($"cannot start {command} in the container");
        }
        throw new BurrowException($"{failed ?? command}: cannot execute in the container: {System.Runtime.InteropServices.Marshal.GetPInvokeErrorMessage(firstError)}",
            firstError == Errno.ENOEXEC ? "the file is not a binary and has no #! line" : "check that it is an executable file",
            ExitCodes.CommandNotExecutable);
    }
}

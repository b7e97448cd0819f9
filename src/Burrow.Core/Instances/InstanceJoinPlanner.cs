using Burrow.Core.Identity;
using Burrow.Core.Runtime;
using Burrow.Core.Runtime.Planning;

namespace Burrow.Core.Instances;

/// <summary>
/// What a command joining a running instance (<c>exec|run|shell instance://NAME</c>) runs: the command, environment
/// and working directory this command asked for, planned against the instance's live root, with the ids,
/// capabilities, no_new_privs and seccomp rules the instance's own payload has. Pure.
/// </summary>
public static class InstanceJoinPlanner
{
    /// <summary>The account variables follow the identity, which is the instance's.</summary>
    private static readonly string[] IdentityVariables = ["HOME", "USER", "LOGNAME"];

    /// <summary>
    /// The options that shape a container (its root, mounts, namespaces, identity), which a join cannot change: the
    /// instance has them already. Giving one is a mistake worth an error, not something to ignore.
    /// </summary>
    public static IReadOnlyList<string> InapplicableOptions(ActionRequest request, IdentityRequest identity)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(identity);
        var given = new List<string>();
        void If(bool set, string option)
        {
            if (set)
            {
                given.Add(option);
            }
        }
        If(request.Binds.Count > 0, "--bind");
        If(request.Mounts.Count > 0, "--mount");
        If(request.Overlays.Count > 0, "--overlay");
        If(request.Writable, "--writable");
        If(request.WritableTmpfs, "--writable-tmpfs");
        If(request.Contain, "--contain");
        If(request.ContainAll, "--containall");
        If(request.NoHome, "--no-home");
        If(request.Home is not null, "--home");
        If(request.Workdir is not null, "--workdir");
        If(request.Scratch.Count > 0, "--scratch");
        If(request.NoMount.Count > 0, "--no-mount");
        If(request.Pid, "--pid");
        If(request.Ipc, "--ipc");
        If(request.Uts, "--uts");
        If(request.Net, "--net");
        If(request.Network is not null, "--network");
        If(request.Publish.Count > 0, "--publish");
        If(request.Dns.Count > 0, "--dns");
        If(request.Hostname is not null, "--hostname");
        If(request.NoInit, "--no-init");
        If(request.Unsquash, "--unsquash");
        If(request.SeccompProfile is not null, "--security seccomp:");
        If(identity.FakeRoot, "--fakeroot");
        If(identity.Security.Count > 0, "--security");
        If(identity.UserNs is not null, "--userns");
        If(identity.AddCaps.Count > 0, "--add-caps");
        If(identity.DropCaps.Count > 0, "--drop-caps");
        If(identity.NoPrivs, "--no-privs");
        return given;
    }

    /// <summary>The joined payload: <paramref name="asked"/>'s command and environment, <paramref name="instance"/>'s security.</summary>
    public static ProcessPlan Merge(ProcessPlan asked, InstanceJoin instance)
    {
        ArgumentNullException.ThrowIfNull(asked);
        ArgumentNullException.ThrowIfNull(instance);
        ProcessPlan theirs = instance.Process;
        var env = asked.Env.Where(e => !IdentityVariables.Contains(e.Name, StringComparer.Ordinal)).ToList();
        env.AddRange(theirs.Env.Where(e => IdentityVariables.Contains(e.Name, StringComparer.Ordinal)));
        return asked with
        {
            Env = env,
            Uid = theirs.Uid,
            Gid = theirs.Gid,
            SupplementaryGroups = theirs.SupplementaryGroups,
            Capabilities = theirs.Capabilities,
            NoNewPrivileges = theirs.NoNewPrivileges,
            Umask = asked.Umask ?? theirs.Umask,
            SyscallFilter = theirs.SyscallFilter,
            SeccompProfile = theirs.SeccompProfile,
            PassFds = [],
        };
    }
}

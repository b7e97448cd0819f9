using System.Globalization;
using System.Text;

namespace Burrow.Core.Runtime.Planning;

/// <summary>
/// The human-readable rendering of a plan for <c>--explain</c>: what a container will see and why,
/// in the order the stage does it, so users and administrators can audit a launch without running it.
/// </summary>
public static class PlanExplainer
{
    public static string Render(LaunchPlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var s = new StringBuilder();
        s.AppendLine("Launch plan (--explain: nothing was run)");
        s.AppendLine();
        Namespaces(s, plan);
        Identity(s, plan.Identity);
        Root(s, plan.Root);
        Mounts(s, plan.Mounts);
        Files(s, plan.Files);
        Process(s, plan.Process);
        Guards(s, plan);
        if (plan.Warnings.Count > 0)
        {
            s.AppendLine("Warnings");
            foreach (string w in plan.Warnings)
            {
                s.AppendLine("  " + w);
            }
        }
        return s.ToString();
    }

    public static string Flags(MountFlags flags)
    {
        var names = new List<string>();
        if (flags.HasFlag(MountFlags.ReadOnly)) names.Add("ro");
        if (flags.HasFlag(MountFlags.NoSuid)) names.Add("nosuid");
        if (flags.HasFlag(MountFlags.NoDev)) names.Add("nodev");
        if (flags.HasFlag(MountFlags.NoExec)) names.Add("noexec");
        if (flags.HasFlag(MountFlags.Recursive)) names.Add("rec");
        return names.Count == 0 ? "-" : string.Join(',', names);
    }

    private static void Namespaces(StringBuilder s, LaunchPlan plan)
    {
        NamespacePlan n = plan.Namespaces;
        s.AppendLine("Namespaces");
        s.AppendLine("  user   new     always: ids are mapped, nobody is root on the host");
        s.AppendLine("  mount  new     always: the container's mounts are its own");
        s.AppendLine(n.Pid ? $"  pid    new     --pid/--containall; {(n.Init ? "a tiny init is PID 1 (reaps, forwards signals)" : "the payload is PID 1 (--no-init)")}"
                           : "  pid    host's  default (--pid for a new one)");
        s.AppendLine(n.Ipc ? "  ipc    new     --ipc/--containall" : "  ipc    host's  default (--ipc for a new one)");
        s.AppendLine(n.Uts ? (plan.Hostname is { } name ? $"  uts    new     --hostname {name}" : "  uts    new     --uts: the host's name, changeable inside")
                           : "  uts    host's  default (--uts or --hostname for a new one)");
        s.AppendLine(!n.Net ? "  net    host's  default (--net for a namespace of its own)"
            : plan.Network is { } net ? $"  net    new     {NetworkHelperName(net.Helper)}: outbound access from the host, by an unprivileged helper"
            : "  net    new     --network none: only lo, up");
        if (plan.Network is { } network)
        {
            s.AppendLine(network.Helper == NetworkHelperKind.Pasta
                ? "         helper pasta on the host, attached to the namespace before the container starts; the host's addresses and routes; connections to the gateway reach the host's own services"
                : "         helper slirp4netns on the host: a tap device, 10.0.2.100/24, gateway 10.0.2.2 (the host's own services), DNS 10.0.2.3");
            s.AppendLine(network.Upstream is { } upstream
                ? $"         DNS    {network.Nameservers[0]} (pasta's resolver, forwarding to --dns {upstream}), in a generated /etc/resolv.conf"
                : network.Helper == NetworkHelperKind.Pasta || plan.Files.All(f => f.Target != "/etc/resolv.conf")
                    ? $"         DNS    {string.Join(", ", network.Nameservers)} (the helper's resolver, forwarding to the host's), in a generated /etc/resolv.conf"
                    : $"         DNS    {string.Join(", ", network.Nameservers)} (--dns, as the namespace reaches it), in a generated /etc/resolv.conf");
            foreach (PortMapping p in network.Ports)
            {
                s.AppendLine($"         publish {(p.HostAddress ?? "*")}:{p.HostPort} -> container port {p.ContainerPort}/{p.Protocol}");
            }
            if (network.Ports.Count == 0)
            {
                s.AppendLine("         publish nothing (--publish HOSTPORT:CONTAINERPORT to reach a service inside)");
            }
            s.AppendLine("         the helper ends with the container");
        }
        s.AppendLine();
    }

    private static void Identity(StringBuilder s, IdentityPlan id)
    {
        s.AppendLine($"Identity (mode {id.Mode})");
        foreach ((string name, IReadOnlyList<IdMapEntry> map) in new[] { ("uid_map", id.UidMap), ("gid_map", id.GidMap) })
        {
            foreach (IdMapEntry e in map)
            {
                s.AppendLine(string.Create(CultureInfo.InvariantCulture, $"  {name}  container {e.ContainerId} = host {e.HostId}, count {e.Count}"));
            }
        }
        s.AppendLine("  setgroups  " + (id.AllowSetgroups ? "allow" : "deny"));
        s.AppendLine("  maps written by  " + (id.Writer == IdMapWriter.Direct ? "burrow itself (a single mapping of your own ids)" : "newuidmap/newgidmap (subordinate ranges)"));
        foreach (string why in id.Explanation)
        {
            s.AppendLine("  why: " + why);
        }
        s.AppendLine();
    }

    private static void Root(StringBuilder s, RootFsPlan root)
    {
        s.AppendLine("Root file system");
        string how = root.Kind == RootFsKind.Squashfs
            ? string.Create(CultureInfo.InvariantCulture, $"squashfs at offset {root.Squashfs?.Offset ?? 0}, mounted over FUSE and served by burrow itself, ")
                + (root.Shared ? "by the server your containers of this image share (--no-share: its own)" : "for this container alone")
            : "directory";
        s.AppendLine($"  {root.HostPath} ({how})");
        foreach (OverlayLayer o in root.Overlays)
        {
            s.AppendLine(o.ReadOnly
                ? $"  overlay {o.Upper}: read-only layer (--overlay {o.Directory}:ro)"
                : $"  overlay {o.Directory}: takes every change, in {o.Upper} (--overlay); they persist");
        }
        if (root.Writable)
        {
            s.AppendLine("  writable: bound read-write (--writable); changes stay in the image");
        }
        else if (root.WritableTmpfs)
        {
            s.AppendLine($"  writable: changes go to a tmpfs of at most {root.TmpfsSize} that vanishes at exit (--writable-tmpfs)");
        }
        else if (root.Overlays.All(o => o.ReadOnly))
        {
            s.AppendLine("  read-only (--writable-tmpfs or --overlay DIR for changes); mount points are made in a throw-away layer, the image is never modified");
        }
        s.AppendLine();
    }

    private static void Mounts(StringBuilder s, IReadOnlyList<MountStep> mounts)
    {
        s.AppendLine("Mounts (in order, targets resolved inside the container root)");
        for (int i = 0; i < mounts.Count; i++)
        {
            MountStep m = mounts[i];
            string what = m.Kind switch
            {
                MountKind.Bind => $"bind   {m.Source} -> {m.Target}",
                MountKind.Symlink => $"link   {m.Target} -> {m.Source}",
                MountKind.Generated => $"file   {m.Target}",
                _ => $"{m.Kind.ToString().ToLowerInvariant(),-6} {m.Target}",
            };
            string extra = (m.Data is null ? "" : " " + m.Data) + (m.TargetKind == TargetKind.File && m.Kind != MountKind.Generated ? " file" : "")
                + (m.Optional ? " optional" : "")
                + (m.MakeSource is int mode ? " made " + Convert.ToString(mode, 8) : "") + (m.ContainerOwned ? " container's" : "");
            string flags = m.Kind == MountKind.Symlink ? "" : $"  [{Flags(m.Flags)}{extra}]";
            s.AppendLine(string.Create(CultureInfo.InvariantCulture, $"  {i + 1,2}. {what}{flags}"));
            if (m.Reason.Length > 0)
            {
                s.AppendLine("      " + m.Reason);
            }
        }
        s.AppendLine();
    }

    private static void Files(StringBuilder s, IReadOnlyList<SynthesizedFile> files)
    {
        s.AppendLine("Synthesized files (written to the session tmpfs, bound read-only over the target)");
        if (files.Count == 0)
        {
            s.AppendLine("  none");
        }
        foreach (SynthesizedFile f in files)
        {
            s.AppendLine($"  {f.Target} (mode {Convert.ToString(f.Mode, 8)}): {Why(f.Target)}");
            foreach (string line in f.Content.TrimEnd('\n').Split('\n'))
            {
                s.AppendLine("    | " + line);
            }
        }
        s.AppendLine();
    }

    private static string Why(string target) => target switch
    {
        "/etc/passwd" => "the image's, with your line rewritten or appended",
        "/etc/group" => "the image's, with a line for each of your groups",
        "/etc/hostname" => "--hostname",
        "/etc/hosts" => "localhost only (--contain with a network of its own)",
        _ => "generated",
    };

    private static void Process(StringBuilder s, ProcessPlan p)
    {
        s.AppendLine("Process");
        s.AppendLine("  argv    " + string.Join(' ', p.Argv.Select(ShellWord)));
        s.AppendLine("  cwd     " + p.Cwd);
        s.AppendLine(string.Create(CultureInfo.InvariantCulture, $"  uid {p.Uid}  gid {p.Gid}  groups {(p.SupplementaryGroups.Count == 0 ? "-" : string.Join(',', p.SupplementaryGroups))}"));
        CapabilitySets c = p.Capabilities;
        s.AppendLine(c == CapabilitySets.None
            ? "  capabilities  none (bounding, permitted, effective, inheritable and ambient all empty)"
            : string.Create(CultureInfo.InvariantCulture, $"  capabilities  bounding {c.Bounding:x16} permitted {c.Permitted:x16} effective {c.Effective:x16} inheritable {c.Inheritable:x16} ambient {c.Ambient:x16}"));
        s.AppendLine("  no_new_privs  " + (p.NoNewPrivileges ? "yes (setuid binaries and sudo cannot gain privilege)" : "no"));
        s.AppendLine("  umask   " + (p.Umask is { } u ? Convert.ToString(u, 8) : "the caller's"));
        s.AppendLine("  fds     0, 1, 2" + (p.PassFds.Count > 0 ? ", " + string.Join(", ", p.PassFds) : "") + "; every other descriptor is closed before exec");
        s.AppendLine("  env (nothing else is inherited)");
        foreach (EnvVar v in p.Env)
        {
            s.AppendLine($"    {v.Name}={v.Value}");
        }
        s.AppendLine();
    }

    private static void Guards(StringBuilder s, LaunchPlan plan)
    {
        ProcessPlan p = plan.Process;
        s.AppendLine("Terminal and monitor (what the payload cannot do to your terminal or to burrow's monitor)");
        s.AppendLine((p.Session.New ? "  session  new (setsid)" : "  session  yours, kept") + (p.Session.Reason.Length > 0 ? ": " + p.Session.Reason : ""));
        s.AppendLine(plan.Namespaces.Pid
            ? "  monitor  outside the new PID namespace: no pid the payload can write names it"
            : "  monitor  its own session and process group; the payload finds it as its parent, so the filter refuses what could stop it");
        if (p.SyscallFilter.Count == 0)
        {
            s.AppendLine("  seccomp  none of Burrow's own");
        }
        else
        {
            s.AppendLine("  seccomp  every system call is allowed except (arguments compared on their low 32 bits):");
            foreach (SyscallRule r in p.SyscallFilter)
            {
                string args = r.Arguments.Count == 0 ? "any arguments" : string.Join(", ", r.Arguments.Select(PayloadGuards.Describe));
                string errno = r.Errno switch { PayloadGuards.EPERM => "EPERM", PayloadGuards.ENOSYS => "ENOSYS", _ => "errno " + r.Errno.ToString(CultureInfo.InvariantCulture) };
                s.AppendLine($"    {r.Syscall}({args}) -> {errno}: {r.Reason}");
            }
        }
        if (p.SeccompProfile is { } profile)
        {
            s.AppendLine($"  seccomp  and, on top, the profile {profile.File} (--security seccomp:): the stricter answer wins");
            s.AppendLine("           default " + Describe(profile.DefaultAction)
                + (profile.Architectures.Count > 0 ? "; architectures " + string.Join(", ", profile.Architectures) : "; the native architecture and its compatibility ABIs"));
            foreach (SeccompProfileRule r in profile.Rules)
            {
                string args = r.Arguments.Count == 0 ? "" : " if " + string.Join(" and ", r.Arguments.Select(Describe));
                s.AppendLine($"           {r.Entry}: {string.Join(",", r.Names)} -> {Describe(r.Action)}{args}");
            }
        }
        s.AppendLine();
    }

    private static string Describe(SeccompAction a) => a.Kind switch
    {
        SeccompActionKind.Errno => "errno " + a.Value.ToString(CultureInfo.InvariantCulture),
        SeccompActionKind.Trace => "trace " + a.Value.ToString(CultureInfo.InvariantCulture),
        SeccompActionKind.KillThread => "kill (the thread)",
        SeccompActionKind.KillProcess => "kill the process",
        var k => k.ToString().ToLowerInvariant(),
    };

    private static string Describe(SeccompArgument a)
    {
        string op = a.Op switch
        {
            SeccompComparison.NotEqual => "!=",
            SeccompComparison.Less => "<",
            SeccompComparison.LessOrEqual => "<=",
            SeccompComparison.Equal => "==",
            SeccompComparison.GreaterOrEqual => ">=",
            SeccompComparison.Greater => ">",
            _ => "&",
        };
        return a.Op == SeccompComparison.MaskedEqual
            ? string.Create(CultureInfo.InvariantCulture, $"arg{a.Index} & 0x{a.Value:x} == 0x{a.ValueTwo:x}")
            : string.Create(CultureInfo.InvariantCulture, $"arg{a.Index} {op} 0x{a.Value:x}");
    }

    private static string ShellWord(string word) =>
        word.Length > 0 && word.All(ch => char.IsAsciiLetterOrDigit(ch) || "/._-=:,+@%".Contains(ch)) ? word : ProcessPlanner.Quote(word);

    private static string NetworkHelperName(NetworkHelperKind kind) => kind == NetworkHelperKind.Pasta ? "pasta" : "slirp4netns";
}

using Burrow.Core.Config;

namespace Burrow.Core.Runtime.Planning;

/// <summary>
/// The strict checks for what the administrator's configuration forbids (burrow.conf's user-bind-control and
/// allow-*-ns). Each refusal names the option, the key, the file and the line, so that the user knows it is this
/// installation's policy and whom to ask.
/// </summary>
internal static class ConfigChecks
{
    public static readonly IReadOnlyList<PlanCheck> Strict =
    [
        new("config-user-binds", UserBinds),
        new("config-namespaces", Namespaces),
    ];

    private static IEnumerable<(string, string?)> UserBinds(PlanContext c)
    {
        BurrowConfig config = c.Input.Host.Config;
        if (!config.UserBindControl && c.Input.Request.Binds.Count > 0)
        {
            yield return ($"--bind {string.Join(",", c.Input.Request.Binds)}: users may not add binds on this installation ({config.Cite("user-bind-control")})",
                "leave --bind out (the administrator's bind-path entries are bound for you), or ask the administrator");
        }
    }

    private static IEnumerable<(string, string?)> Namespaces(PlanContext c)
    {
        ActionRequest r = c.Input.Request;
        BurrowConfig config = c.Input.Host.Config;
        if (!config.AllowPidNs && (r.Pid || r.ContainAll))
        {
            yield return (r.Pid ? $"--pid: a new PID namespace is not allowed on this installation ({config.Cite("allow-pid-ns")})"
                    : $"--containall: it makes a new PID namespace, which is not allowed on this installation ({config.Cite("allow-pid-ns")})",
                r.Pid ? "leave --pid out" : "use --contain --cleanenv, which makes no PID namespace");
        }
        if (!config.AllowIpcNs && (r.Ipc || r.ContainAll))
        {
            yield return (r.Ipc ? $"--ipc: a new IPC namespace is not allowed on this installation ({config.Cite("allow-ipc-ns")})"
                    : $"--containall: it makes a new IPC namespace, which is not allowed on this installation ({config.Cite("allow-ipc-ns")})",
                r.Ipc ? "leave --ipc out" : "use --contain --cleanenv, which makes no IPC namespace");
        }
        if (!config.AllowUtsNs && r.Hostname is not null)
        {
            yield return ($"--hostname {r.Hostname}: a new UTS namespace is not allowed on this installation ({config.Cite("allow-uts-ns")})",
                "leave --hostname out");
        }
        if (!config.AllowNetNs && (r.Net || r.Network is not null || r.Publish.Count > 0))
        {
            string given = r.Net ? "--net" : r.Network is not null ? "--network " + r.Network : "--publish " + r.Publish[0];
            yield return ($"{given}: a new network namespace is not allowed on this installation ({config.Cite("allow-net-ns")})",
                "leave --net, --network and --publish out: the container uses the host's network");
        }
    }
}

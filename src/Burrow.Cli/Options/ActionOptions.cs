using System.CommandLine;
using Burrow.Core.Runtime.Planning;

namespace Burrow.Cli.Options;

/// <summary>The container options shared by exec, run and shell (Apptainer's names and short forms).</summary>
public static class ActionOptions
{
    public static readonly Argument<string> Image = new("IMAGE")
    {
        Description = "The image: a root file system directory (sandbox), a SIF file, or docker://, docker-archive:, oci:, oci-archive: (pulled into the cache)",
    };

    public static readonly Option<bool> Contain = new("--contain", "-c")
    {
        Description = "Private /tmp, /var/tmp and home, a minimal /dev; no host working directory or resolv.conf",
    };

    public static readonly Option<bool> ContainAll = new("--containall", "-C")
    {
        Description = "--contain plus new PID and IPC namespaces and --cleanenv",
    };

    public static readonly Option<bool> NoHome = new("--no-home")
    {
        Description = "Do not bind your home directory",
    };

    public static readonly Option<string[]> Bind = new("--bind", "-B")
    {
        Description = "src[:dst[:ro|rw]] bind a host path into the container (repeatable, or a comma list)",
        AllowMultipleArgumentsPerToken = false,
    };

    public static readonly Option<string?> Pwd = new("--pwd", "--cwd")
    {
        Description = "Working directory inside the container",
    };

    public static readonly Option<string[]> Env = new("--env")
    {
        Description = "NAME=value to set in the container (repeatable; wins over --env-file and BURROWENV_NAME)",
        AllowMultipleArgumentsPerToken = false,
    };

    public static readonly Option<string[]> EnvFile = new("--env-file")
    {
        Description = "A file of NAME=value lines to set in the container (repeatable; no shell expansion)",
        AllowMultipleArgumentsPerToken = false,
    };

    public static readonly Option<bool> CleanEnv = new("--cleanenv", "-e")
    {
        Description = "Pass only TERM and the proxy variables from the host, and set LANG=C",
    };

    public static readonly Option<string?> Shell = new("--shell")
    {
        Description = "Shell for 'shell' (default /bin/bash --norc if the image has it, else /bin/sh)",
    };

    public static readonly Option<bool> Pid = new("--pid", "-p") { Description = "New PID namespace (a tiny init is PID 1); -p followed by a port mapping is --publish" };
    public static readonly Option<bool> Ipc = new("--ipc", "-i") { Description = "New IPC namespace" };
    public static readonly Option<bool> Net = new("--net", "-n") { Description = "New network namespace with outbound access through pasta (--network chooses another)" };
    public static readonly Option<string?> Network = new("--network") { Description = "Network of the new namespace: pasta (default), slirp4netns, or none (only lo)" };

    public static readonly Option<string[]> Publish = new("--publish")
    {
        Description = "[IP:]HOSTPORT:CONTAINERPORT[/tcp|udp] forward a host port into the container (repeatable; implies --net; -p with a port mapping, as in Podman)",
        AllowMultipleArgumentsPerToken = false,
    };
    public static readonly Option<string[]> Dns = new("--dns")
    {
        Description = "IP,… the resolvers in the container's /etc/resolv.conf (repeatable); with pasta, its resolver forwards to the first",
        AllowMultipleArgumentsPerToken = false,
    };
    public static readonly Option<string?> Hostname = new("--hostname") { Description = "Host name in the container (implies a new UTS namespace)" };
    public static readonly Option<bool> NoInit = new("--no-init") { Description = "With --pid, run the payload itself as PID 1" };
    public static readonly Option<bool> Writable = new("--writable", "-w") { Description = "Make the root writable: the sandbox itself, changed in place (it must be yours to write)" };

    public static readonly Option<bool> WritableTmpfs = new("--writable-tmpfs")
    {
        Description = "Let the container write to its root; the changes go to a tmpfs (64 MiB) and vanish at exit",
    };

    public static readonly Option<string[]> Overlay = new("--overlay", "-o")
    {
        Description = "DIR[:ro] a directory laid over the image: it keeps the changes in DIR/upper (repeatable; :ro layers take none)",
        AllowMultipleArgumentsPerToken = false,
    };

    public static readonly Option<bool> Unsquash = new("--unsquash")
    {
        Description = "Unpack a SIF image into a temporary sandbox instead of mounting it",
    };

    public static readonly Option<bool> Explain = new("--explain")
    {
        Description = "Print the launch plan (namespaces, maps, mounts, files, process) and run nothing",
    };

    public static readonly Option<bool> Json = new("--json")
    {
        Description = "With --explain, print the plan as JSON",
    };

    public static void AddTo(Command command)
    {
        foreach (Option option in All)
        {
            command.Options.Add(option);
        }
    }

    private static IEnumerable<Option> All =>
    [
        Contain, ContainAll, NoHome, Bind, Pwd, Env, EnvFile, CleanEnv, Shell,
        Pid, Ipc, Net, Network, Publish, Dns, Hostname, NoInit, Writable, WritableTmpfs, Overlay, Unsquash, Explain, Json,
    ];

    public static ActionRequest Read(ParseResult result, ActionKind action, IReadOnlyList<string> arguments) => new()
    {
        Action = action,
        Arguments = arguments,
        Contain = result.GetValue(Contain),
        ContainAll = result.GetValue(ContainAll),
        NoHome = result.GetValue(NoHome),
        Binds = result.GetValue(Bind) ?? [],
        Pwd = result.GetValue(Pwd),
        Env = result.GetValue(Env) ?? [],
        EnvFiles = result.GetValue(EnvFile) ?? [],
        CleanEnv = result.GetValue(CleanEnv),
        Shell = result.GetValue(Shell),
        Pid = result.GetValue(Pid),
        Ipc = result.GetValue(Ipc),
        Net = result.GetValue(Net),
        Network = result.GetValue(Network),
        Publish = result.GetValue(Publish) ?? [],
        Dns = result.GetValue(Dns) ?? [],
        Hostname = result.GetValue(Hostname),
        NoInit = result.GetValue(NoInit),
        Writable = result.GetValue(Writable),
        WritableTmpfs = result.GetValue(WritableTmpfs),
        Overlays = result.GetValue(Overlay) ?? [],
        Unsquash = result.GetValue(Unsquash),
    };
}

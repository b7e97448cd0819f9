using System.CommandLine;
using Burrow.Core.Runtime.Planning;

namespace Burrow.Cli.Options;

/// <summary>The container options shared by exec, run and shell (Apptainer's names and short forms).</summary>
public static class ActionOptions
{
    public static readonly Argument<string> Image = new("IMAGE")
    {
        Description = "The image: a root file system directory (sandbox), a SIF file, or docker://, docker-archive:, oci:, oci-archive: (pulled into the cache); for exec, run and shell also instance://NAME, a running instance to join",
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
        Description = "src[:dst[:ro|rw]] bind a host path into the container (repeatable, or a comma list; \\, and \\: for a comma or colon in a path; also BURROW_BIND, BURROW_BINDPATH)",
        AllowMultipleArgumentsPerToken = false,
    };

    public static readonly Option<string[]> Mount = new("--mount")
    {
        Description = "type=bind,source=SRC,destination=DST[,ro] a bind in Docker's syntax (repeatable)",
        AllowMultipleArgumentsPerToken = false,
    };

    public static readonly Option<string?> Home = new("--home", "-H")
    {
        Description = "SRC[:DST] bind SRC as your home, at DST (default SRC), even with --contain; HOME is DST",
    };

    public static readonly Option<string?> Workdir = new("--workdir", "-W")
    {
        Description = "DIR (existing): with --contain, /tmp, /var/tmp and home are DIR/tmp, DIR/var_tmp, DIR/home; --scratch goes in DIR/scratch",
    };

    public static readonly Option<string[]> Scratch = new("--scratch", "-S")
    {
        Description = "DIR a container directory that starts empty: a tmpfs, or in --workdir (repeatable, or a comma list)",
        AllowMultipleArgumentsPerToken = false,
    };

    public static readonly Option<string[]> NoMount = new("--no-mount")
    {
        Description = "leave default mounts out: proc, sys, dev, devpts, home, tmp, hostfs, cwd, bind-paths, or a path such as /etc/hosts (comma list)",
        AllowMultipleArgumentsPerToken = false,
    };

    public static readonly Option<string?> App = new("--app")
    {
        Description = "NAME the SCIF app (/scif/apps/NAME): run its runscript, test its test, its bin/ and environment first",
    };

    public static readonly Option<string?> Pwd = new("--pwd", "--cwd")
    {
        Description = "Working directory inside the container",
    };

    public static readonly Option<string[]> Env = new("--env")
    {
        Description = "NAME=value to set in the container, evaluated there ($PATH, ${VAR:-word}); repeatable or a comma list; wins over --env-file and BURROWENV_NAME",
        AllowMultipleArgumentsPerToken = false,
    };

    public static readonly Option<string[]> EnvFile = new("--env-file")
    {
        Description = "A file of NAME=value lines (sh quoting, $VAR from the host) to set in the container (repeatable)",
        AllowMultipleArgumentsPerToken = false,
    };

    public static readonly Option<bool> NoEval = new("--no-eval")
    {
        Description = "Take --env, --env-file and BURROWENV_ values literally: no $VAR, ${VAR:-word} or \\ evaluation in the container",
    };

    public static readonly Option<string[]> NoEnv = new("--no-env")
    {
        Description = "NAME,… host variables not to pass into the container (BURROWENV_NAME still sets them)",
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
    public static readonly Option<bool> Uts = new("--uts") { Description = "New UTS namespace (the host's name, which the container may change for itself)" };
    public static readonly Option<bool> NoInit = new("--no-init") { Description = "With --pid, run the payload itself as PID 1" };
    public static readonly Option<bool> Writable = new("--writable", "-w") { Description = "Make the root writable: the sandbox itself, changed in place (it must be yours to write)" };

    public static readonly Option<bool> WritableTmpfs = new("--writable-tmpfs")
    {
        Description = "Let the container write to its root; the changes go to a tmpfs (64 MiB) and vanish at exit",
    };

    public static readonly Option<bool> Nested = new("--nested")
    {
        Description = "Set the container up for a container runtime inside it (with --fakeroot): private /run, /var/lib/containers, /var/tmp, /dev/shm; hybrid cgroups masked",
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
        App, Contain, ContainAll, NoHome, Home, Workdir, Scratch, Bind, Mount, NoMount, Pwd, Env, EnvFile, NoEval, NoEnv, CleanEnv, Shell,
        Pid, Ipc, Net, Network, Publish, Dns, Uts, Hostname, NoInit, Writable, WritableTmpfs, Nested, Overlay, Unsquash, Explain, Json,
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
        Nested = result.GetValue(Nested),
        Overlays = result.GetValue(Overlay) ?? [],
        Unsquash = result.GetValue(Unsquash),
        App = result.GetValue(App),
        Home = result.GetValue(Home),
        Workdir = result.GetValue(Workdir),
        Scratch = result.GetValue(Scratch) ?? [],
        Mounts = result.GetValue(Mount) ?? [],
        NoMount = result.GetValue(NoMount) ?? [],
        Uts = result.GetValue(Uts),
        NoEval = result.GetValue(NoEval),
        NoEnv = result.GetValue(NoEnv) ?? [],
        SeccompProfile = IdentityOptions.SeccompProfile(result),
    };
}

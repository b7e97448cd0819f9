namespace Burrow.Core.Runtime.Planning;

/// <summary>Which action the user asked for; it decides the payload's argv.</summary>
public enum ActionKind
{
    /// <summary>burrow exec IMAGE COMMAND [ARGS…]</summary>
    Exec,

    /// <summary>burrow run IMAGE [ARGS…]: the image's runscript, else its shell.</summary>
    Run,

    /// <summary>burrow shell IMAGE: an interactive shell.</summary>
    Shell,

    /// <summary>burrow test IMAGE [ARGS…]: the image's test script (/.singularity.d/test).</summary>
    Test,

    /// <summary>burrow instance start IMAGE NAME [ARGS…]: the image's startscript, else its runscript, else its shell.</summary>
    Start,
}

/// <summary>
/// What the user asked for on the command line, unvalidated (the planner's checks validate it).
/// Plain data: the CLI fills it from System.CommandLine's parse result, tests build it directly.
/// </summary>
public sealed record ActionRequest
{
    public required ActionKind Action { get; init; }

    /// <summary>For exec, the command and its arguments; for run, the runscript's arguments; empty for shell.</summary>
    public IReadOnlyList<string> Arguments { get; init; } = [];

    /// <summary>-c/--contain: private /tmp, /var/tmp and home, no host cwd, resolv.conf and bind paths.</summary>
    public bool Contain { get; init; }

    /// <summary>-C/--containall: --contain plus --pid, --ipc and --cleanenv.</summary>
    public bool ContainAll { get; init; }

    public bool NoHome { get; init; }

    /// <summary>Each -B/--bind value as given; comma lists are split by <see cref="BindSpec.ParseAll"/>.</summary>
    public IReadOnlyList<string> Binds { get; init; } = [];

    /// <summary>--pwd/--cwd: the working directory inside the container.</summary>
    public string? Pwd { get; init; }

    /// <summary>--env K=V values in the order given.</summary>
    public IReadOnlyList<string> Env { get; init; } = [];

    /// <summary>--env-file paths in the order given (their text is in <see cref="HostFacts.EnvFiles"/>).</summary>
    public IReadOnlyList<string> EnvFiles { get; init; } = [];

    /// <summary>-e/--cleanenv: keep only TERM and the proxy variables, set LANG=C.</summary>
    public bool CleanEnv { get; init; }

    /// <summary>--shell: the shell for burrow shell (and run without a runscript).</summary>
    public string? Shell { get; init; }

    public bool Pid { get; init; }
    public bool Ipc { get; init; }
    public bool Net { get; init; }

    /// <summary>--network TYPE: none (lo only), pasta or slirp4netns (outbound access, published ports).</summary>
    public string? Network { get; init; }

    /// <summary>--dns IP,…: the resolvers the container uses (Apptainer's option), as given.</summary>
    public IReadOnlyList<string> Dns { get; init; } = [];

    /// <summary>Each --publish [IP:]HOSTPORT:CONTAINERPORT[/tcp|udp] as given.</summary>
    public IReadOnlyList<string> Publish { get; init; } = [];

    /// <summary>--hostname NAME (implies a UTS namespace).</summary>
    public string? Hostname { get; init; }

    /// <summary>--no-init: with --pid the payload itself is PID 1.</summary>
    public bool NoInit { get; init; }

    /// <summary>--writable: the root is the sandbox itself, writable, instead of read-only.</summary>
    public bool Writable { get; init; }

    /// <summary>--writable-tmpfs: changes go to a tmpfs that vanishes at exit.</summary>
    public bool WritableTmpfs { get; init; }

    /// <summary>Each --overlay DIR[:ro] as given, in order (later ones lie above earlier ones).</summary>
    public IReadOnlyList<string> Overlays { get; init; } = [];

    /// <summary>--unsquash: unpack a SIF into a temporary sandbox instead of mounting it.</summary>
    public bool Unsquash { get; init; }

    /// <summary>--no-share: a squashfs image gets a server of the container's own, not the per-user shared one.</summary>
    public bool NoShare { get; init; }

    /// <summary>
    /// A build's container (Apptainer's --build-config, for %post and %test): no home, no working directory, a minimal
    /// /dev, and no host /tmp or /var/tmp (the build binds its own); the host's resolv.conf and hosts stay.
    /// </summary>
    public bool BuildContainer { get; init; }

    /// <summary>--nested: set the container up for a container runtime inside it (see <see cref="NestedRuntime"/>).</summary>
    public bool Nested { get; init; }

    /// <summary>--app NAME: the SCIF app (/scif/apps/NAME) whose runscript, test, environment and PATH to use.</summary>
    public string? App { get; init; }

    /// <summary>-H/--home SRC[:DST]: the host directory bound as home, and where (default: at SRC).</summary>
    public string? Home { get; init; }

    /// <summary>-W/--workdir DIR: with --contain, /tmp, /var/tmp and home come from DIR/tmp, DIR/var_tmp, DIR/home; --scratch from DIR/scratch.</summary>
    public string? Workdir { get; init; }

    /// <summary>Each -S/--scratch value as given (comma lists allowed): container directories that start empty.</summary>
    public IReadOnlyList<string> Scratch { get; init; } = [];

    /// <summary>Each --mount value as given (Docker's type=bind,source=…,destination=…[,ro]).</summary>
    public IReadOnlyList<string> Mounts { get; init; } = [];

    /// <summary>Each --no-mount value as given (comma lists allowed): proc, sys, dev, devpts, home, tmp, hostfs, cwd, bind-paths, or a path.</summary>
    public IReadOnlyList<string> NoMount { get; init; } = [];

    /// <summary>--uts: a new UTS namespace (the host's name, changeable inside without touching the host).</summary>
    public bool Uts { get; init; }

    /// <summary>--no-eval: --env, --env-file and BURROWENV_ values are taken literally, not evaluated in the container.</summary>
    public bool NoEval { get; init; }

    /// <summary>--no-env NAME,…: host variables not passed into the container (BURROWENV_NAME still sets them).</summary>
    public IReadOnlyList<string> NoEnv { get; init; } = [];

    /// <summary>--security seccomp:FILE: an OCI/Docker seccomp profile applied on top of Burrow's own filter.</summary>
    public string? SeccompProfile { get; init; }

    /// <summary>--contain or --containall.</summary>
    public bool IsContained => Contain || ContainAll;
}

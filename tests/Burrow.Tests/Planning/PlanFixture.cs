using Burrow.Core.Identity;
using Burrow.Core.Runtime;
using Burrow.Core.Runtime.Planning;

namespace Burrow.Tests.Planning;

/// <summary>Builds planner inputs with facts answered from small dictionaries; every queried path defaults to missing.</summary>
internal sealed class PlanFixture
{
    public HostUser User { get; set; } = new()
    {
        Name = "alice", Uid = 1000, Gid = 1000, Home = "/home/alice", Gecos = "Alice", Shell = "/bin/bash",
        Groups = [new HostGroup(1000, "alice"), new HostGroup(27, "sudo"), new HostGroup(5000, "proj")],
    };

    public string Cwd { get; set; } = "/home/alice/work";

    public List<EnvVar> Env { get; } = [new("TERM", "xterm"), new("PATH", "/host/bin"), new("HOME", "/home/alice"), new("LANG", "en_US.UTF-8"), new("http_proxy", "http://proxy:3128"), new("BURROW_CACHEDIR", "/x"), new("LD_LIBRARY_PATH", "/host/lib")];

    public Dictionary<string, PathKind> HostPaths { get; } = new()
    {
        ["/home/alice"] = PathKind.Directory, ["/home/alice/work"] = PathKind.Directory, ["/tmp"] = PathKind.Directory, ["/var/tmp"] = PathKind.Directory,
        ["/etc/hosts"] = PathKind.File, ["/etc/localtime"] = PathKind.File, ["/etc/resolv.conf"] = PathKind.File,
    };

    public Dictionary<string, PathKind> ImagePaths { get; } = new() { ["/"] = PathKind.Directory, ["/bin/sh"] = PathKind.File };

    public Dictionary<string, string> EnvFiles { get; } = [];

    /// <summary>Which of 0, 1, 2 are terminals (none by default, as in a batch job).</summary>
    public List<int> TerminalFds { get; } = [];

    public string? Passwd { get; set; } = "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n";
    public string? Group { get; set; } = "root:x:0:\nsudo:x:27:\nnogroup:x:65534:\n";
    public List<string> EnvScripts { get; } = [];
    public bool RootWritable { get; set; }
    public int UnprivilegedPortStart { get; set; } = 1024;

    public IdentityDecision? Identity { get; set; }

    /// <summary>The administrator's configuration (burrow.conf); every key at its default unless a test sets it.</summary>
    public Burrow.Core.Config.BurrowConfig Config { get; set; } = Burrow.Core.Config.BurrowConfig.Default;

    public IdentityDecision ResolveIdentity() => Identity ?? IdentityResolver.Resolve(IdentityRequest.Default, User, SubordinateIds.None);

    /// <summary>Where image paths lead with symlinks followed (only what a test sets; others lead to themselves).</summary>
    public Dictionary<string, string?> Resolved { get; } = [];

    public string? SeccompProfile { get; set; }

    public string? TerminalDevice { get; set; }

    public Version KernelVersion { get; set; } = new(6, 1);

    public PlanInput Input(ActionRequest request)
    {
        IdentityDecision identity = HomeSpec.Apply(ResolveIdentity(), request, User, Cwd);
        var host = new Dictionary<string, PathKind>();
        foreach (string p in FactQueries.HostPaths(request, User, Cwd, identity, Env, Config))
        {
            host[p] = HostPaths.GetValueOrDefault(p, PathKind.Missing);
        }
        var image = new Dictionary<string, PathKind>();
        foreach (string p in FactQueries.ImagePaths(request, Cwd, identity, Env, Config))
        {
            image[p] = ImagePaths.GetValueOrDefault(p, PathKind.Missing);
        }
        var resolved = new Dictionary<string, string?>();
        foreach (string p in FactQueries.ResolvedImagePaths)
        {
            resolved[p] = Resolved.TryGetValue(p, out string? r) ? r : p;
        }
        return new PlanInput(
            request,
            new HostFacts
            {
                User = User, Cwd = Cwd, Environment = Env, Paths = host, EnvFiles = EnvFiles, TerminalFds = TerminalFds,
                SeccompProfile = SeccompProfile, TerminalDevice = TerminalDevice, KernelVersion = KernelVersion,
                UnprivilegedPortStart = UnprivilegedPortStart, Config = Config,
            },
            new ImageFacts
            {
                RootPath = "/images/box", Passwd = Passwd, Group = Group, EnvScripts = EnvScripts, Paths = image, RootWritableByCaller = RootWritable,
                Resolved = resolved,
            },
            identity);
    }

    public LaunchPlan Plan(ActionRequest request) => LaunchPlanner.Plan(Input(request));

    /// <summary>The image has what the default container mounts on (as a sandbox used --writable needs).</summary>
    public void ImageHasStandardDirectories()
    {
        foreach (string d in new[] { "/dev", "/proc", "/sys", "/tmp", "/var/tmp", "/etc", "/root", "/home" })
        {
            ImagePaths[d] = PathKind.Directory;
        }
        foreach (string f in new[] { "/etc/hosts", "/etc/localtime", "/etc/resolv.conf", "/etc/passwd", "/etc/group" })
        {
            ImagePaths[f] = PathKind.File;
        }
    }

    public static ActionRequest Exec(params string[] argv) => new() { Action = ActionKind.Exec, Arguments = argv };
}

using System.Text;
using Burrow.Core.Identity;
using Burrow.Core.Instances;
using Burrow.Core.Runtime;
using Burrow.Core.Runtime.Launch;
using Burrow.Core.Runtime.Planning;

namespace Burrow.Tests.Instances;

public class InstanceJoinTests
{
    private static readonly IdentityPlan Fakeroot = new()
    {
        Mode = "fakeroot", UidMap = [new IdMapEntry(0, 1000, 1)], GidMap = [new IdMapEntry(0, 1000, 1)], AllowSetgroups = true, Writer = IdMapWriter.Direct,
    };

    private static readonly ProcessPlan TheInstances = new()
    {
        Argv = ["/bin/sh", "/.singularity.d/startscript"], Env = [new EnvVar("HOME", "/root"), new EnvVar("USER", "root"), new EnvVar("PATH", "/bin")],
        Cwd = "/root", Uid = 0, Gid = 0, SupplementaryGroups = [0], Capabilities = new CapabilitySets(0xff, 0xf, 0xf, 0, 0), Umask = 0x12,
        SyscallFilter = [new SyscallRule { Syscall = "ioctl", Errno = 1 }],
    };

    private static readonly ProcessPlan Asked = new()
    {
        Argv = ["cat", "/tmp/x"], Env = [new EnvVar("HOME", "/home/u"), new EnvVar("USER", "u"), new EnvVar("LANG", "C")],
        Cwd = "/home/u/work", Uid = 1000, Gid = 1000, PassFds = [5], Session = new SessionPlan(true, "not a terminal"),
    };

    private static readonly InstanceJoin Instance = new(42, 7, TheInstances, Fakeroot, new NamespacePlan());

    [Fact]
    public void TheJoinedCommandKeepsItsCommandAndEnvironmentAndTakesTheInstancesSecurity()
    {
        ProcessPlan merged = InstanceJoinPlanner.Merge(Asked, Instance);

        Assert.Equal(Asked.Argv, merged.Argv);
        Assert.Equal(Asked.Cwd, merged.Cwd);
        Assert.Equal(Asked.Session, merged.Session);
        Assert.Equal((0u, 0u), (merged.Uid, merged.Gid));
        Assert.Equal(TheInstances.Capabilities, merged.Capabilities);
        Assert.Equal(TheInstances.SyscallFilter, merged.SyscallFilter);
        Assert.Equal(0x12, merged.Umask);
        Assert.Empty(merged.PassFds);
        // The account variables follow the identity, which is the instance's; the rest is the caller's.
        Assert.Equal(["LANG=C", "HOME=/root", "USER=root"], merged.Env.Select(e => e.Name + "=" + e.Value));
    }

    [Fact]
    public void OptionsThatShapeAContainerAreNamedForARefusal()
    {
        var request = new ActionRequest { Action = ActionKind.Exec, Binds = ["/tmp"], Net = true, Hostname = "h", Env = ["A=1"], Pwd = "/" };
        var identity = new IdentityRequest { FakeRoot = true };

        Assert.Equal(["--bind", "--net", "--hostname", "--fakeroot"], InstanceJoinPlanner.InapplicableOptions(request, identity));
        Assert.Empty(InstanceJoinPlanner.InapplicableOptions(new ActionRequest { Action = ActionKind.Exec, Env = ["A=1"], CleanEnv = true, Pwd = "/" }, IdentityRequest.Default));
    }

    [Fact]
    public void TheSpecIsTheFieldsTheStarterReadsInItsOrder()
    {
        byte[] filter = [1, 0, 0, 0, 0, 0, 0, 0];
        byte[] spec = JoinSpec.Encode(InstanceJoinPlanner.Merge(Asked, Instance), Fakeroot, filter, null, "/root");

        string text = Encoding.UTF8.GetString(spec);
        string[] fields = text.Split('\0');
        Assert.Equal(["burrow-join-1", "0", "0", "1", "1", "0", "ff", "f", "f", "0", "0", "1", "1", "22", "/home/u/work", "/root", "2", "cat", "/tmp/x", "3",
            "LANG=C", "HOME=/root", "USER=root", "8"], fields[..24]);
        Assert.Equal(filter, spec[^10..^2]); // the program's raw bytes, then the (empty) profile's length
        Assert.Equal([(byte)'0', 0], spec[^2..]);
    }

    [Fact]
    public void ANulInTheCommandIsAnErrorNotATruncation()
    {
        ProcessPlan bad = Asked with { Argv = ["cat", "a\0b"] };
        var e = Assert.Throws<Burrow.Core.Diagnostics.BurrowException>(() => JoinSpec.Encode(bad, Fakeroot, null, null, null));
        Assert.Contains("NUL", e.Message);
    }
}

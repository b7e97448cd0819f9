using System.Text.Json.Nodes;
using Burrow.E2E.Harness;

namespace Burrow.E2E.Identity;

/// <summary>
/// The seed scenario from Apptainer's comparison: a container runtime inside a container. The Debian test
/// image carries runc and uidmap; the nested container's root file system is a copy of the busybox image.
/// </summary>
public class NestingTests
{
    private static TestUser WithRange => E2EEnvironment.UserWithRange;

    [Fact]
    public void WithFakeRootANestedRuncRunsAContainer()
    {
        using Sandboxes.Scratch scratch = Sandboxes.NewScratch(WithRange);
        string bundle = scratch.Bundle();
        string var = scratch.Subdirectory("var");
        string run = scratch.Subdirectory("run");

        // runc keeps its state under /run (and may use /var): writable binds, as the scenario asks.
        // Its default spec makes no user namespace; as root with capabilities in Burrow's namespace it
        // creates the mount, pid, ipc, uts and network namespaces itself. The hybrid cgroup hierarchy is
        // not writable here, which runc tolerates inside a user namespace (crun 1.8 refuses hybrid mode).
        RunResult r = AsUser.Run(WithRange,
            [E2EEnvironment.Burrow, "exec", "--fakeroot", "--bind", var + ":/var", "--bind", run + ":/run", "--bind", bundle + ":/bundle",
             E2EEnvironment.DebianImage, "sh", "-c",
             "cd /bundle && runc spec && sed -i 's/\"terminal\": true/\"terminal\": false/' config.json && runc run nested"],
            stdin: "id; hostname; cat /proc/self/uid_map; echo $$\n",
            timeout: TimeSpan.FromSeconds(60));

        Assert.True(r.ExitCode == 0, r.ToString());
        string[] lines = r.Stdout.TrimEnd().Split('\n');
        Assert.StartsWith("uid=0(root) gid=0(root)", lines[0]);
        Assert.Equal("runc", lines[1]); // its own UTS namespace, hostname from the spec
        Assert.Matches($@"^\s*0\s+{WithRange.Uid}\s+1$", lines[2]);
        Assert.Equal("1", lines[^1]); // PID 1 of its own PID namespace
    }

    [Fact]
    public void WithoutFakeRootANestedRootlessContainerCannotMapARange()
    {
        using Sandboxes.Scratch scratch = Sandboxes.NewScratch(WithRange);
        string bundle = scratch.Bundle();
        uint start = uint.Parse(File.ReadLines("/etc/subuid").First(l => l.StartsWith(WithRange.Name + ":", StringComparison.Ordinal)).Split(':')[1]);
        scratch.RootlessSpec(bundle, WithRange.Uid, start);

        // The host's subordinate files are bound in so that newuidmap gets as far as writing the map: the
        // step that fails is the write, because newuidmap cannot gain privilege (no_new_privs, nosuid).
        RunResult r = AsUser.Run(WithRange,
            [E2EEnvironment.Burrow, "exec", "--bind", "/etc/subuid", "--bind", "/etc/subgid", "--bind", bundle + ":/bundle",
             E2EEnvironment.DebianImage, "sh", "-c",
             "grep NoNewPrivs /proc/self/status; ls -l /usr/bin/newuidmap; cd /bundle && runc --root /bundle/state run nested"],
            timeout: TimeSpan.FromSeconds(60));

        Assert.NotEqual(0, r.ExitCode);
        Assert.Matches(@"NoNewPrivs:\s+1", r.Stdout);
        Assert.Contains("-rwsr-xr-x 1 nobody nogroup", r.Stdout); // setuid, but its owner (host root) is not even mapped
        Assert.Contains("newuidmap: write to uid_map failed: Operation not permitted", r.Stderr);
        Assert.Contains("failed to use newuid map", r.Stderr);
    }

    [Fact]
    public void WithoutFakeRootANestedContainerOfYourOwnIdAloneStillRuns()
    {
        // For contrast: a single mapping of one's own id needs no helper, so this much nests without --fakeroot.
        using Sandboxes.Scratch scratch = Sandboxes.NewScratch(WithRange);
        string bundle = scratch.Bundle();
        scratch.RootlessSpec(bundle, WithRange.Uid, rangeStart: null);

        RunResult r = AsUser.Run(WithRange,
            [E2EEnvironment.Burrow, "exec", "--bind", bundle + ":/bundle", E2EEnvironment.DebianImage, "sh", "-c",
             "cd /bundle && runc --root /bundle/state run nested"],
            timeout: TimeSpan.FromSeconds(60));

        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.StartsWith("uid=0(root) gid=0(root)", r.Stdout);
    }
}

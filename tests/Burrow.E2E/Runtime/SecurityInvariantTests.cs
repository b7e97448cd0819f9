using Burrow.E2E.Harness;

namespace Burrow.E2E.Runtime;

/// <summary>
/// The security invariants of the default container (DESIGN.md "Security invariants"), each checked
/// from inside a real container run as the unprivileged users.
/// </summary>
public class SecurityInvariantTests
{
    private static string Busybox => E2EEnvironment.BusyboxImage;

    [Theory]
    [MemberData(nameof(E2EEnvironment.BothUsers), MemberType = typeof(E2EEnvironment))]
    public void PayloadHasNoCapabilitiesAndNoNewPrivs(TestUser user)
    {
        RunResult r = AsUser.Burrow(user, "exec", Busybox, "cat", "/proc/self/status");
        Assert.True(r.ExitCode == 0, r.ToString());
        Dictionary<string, string> status = r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split(':', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1].Trim());
        foreach (string set in new[] { "CapInh", "CapPrm", "CapEff", "CapAmb", "CapBnd" })
        {
            Assert.True(status[set] == "0000000000000000", $"{set} is {status[set]}\n{r}");
        }
        Assert.Equal("1", status["NoNewPrivs"]);
        Assert.Equal($"{user.Uid}\t{user.Uid}\t{user.Uid}\t{user.Uid}", status["Uid"]);
        Assert.Equal($"{user.Gid}\t{user.Gid}\t{user.Gid}\t{user.Gid}", status["Gid"]);
    }

    [Fact]
    public void EveryMountIsNosuidAndEveryMountButDevIsNodev()
    {
        TestUser user = E2EEnvironment.UserWithoutRange;
        RunResult r = AsUser.Burrow(user, "exec", "-B", "/var/cache/burrow-test/fixtures/suid:/suid", Busybox, "cat", "/proc/self/mountinfo");
        Assert.True(r.ExitCode == 0, r.ToString());
        string[] lines = r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length >= 8, r.ToString());
        foreach (string line in lines)
        {
            // mount ID, parent ID, major:minor, root, mount point, mount options, ...
            string[] f = line.Split(' ');
            string mountPoint = f[4];
            string[] options = f[5].Split(',');
            Assert.True(options.Contains("nosuid"), "not nosuid: " + line);
            // /dev is the host's device tree: nodev there would make /dev/null unusable (Apptainer binds it nosuid only).
            if (mountPoint != "/dev" && !mountPoint.StartsWith("/dev/", StringComparison.Ordinal))
            {
                Assert.True(options.Contains("nodev"), "not nodev: " + line);
            }
        }
        Assert.Contains(lines, l => l.Split(' ')[4] == "/suid");
    }

    [Fact]
    public void SudoFailsBecauseOfNoNewPrivileges()
    {
        TestUser user = E2EEnvironment.UserWithoutRange;
        RunResult r = AsUser.Burrow(user, "exec", E2EEnvironment.DebianImage, "sudo", "whoami");
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("\"no new privileges\" flag is set", r.Stderr);
        Assert.DoesNotContain("root", r.Stdout);
    }

    [Theory]
    [MemberData(nameof(E2EEnvironment.BothUsers), MemberType = typeof(E2EEnvironment))]
    public void SetuidRootBinaryInABoundDirectoryDoesNotElevate(TestUser user)
    {
        // busybox drops privileges for most applets by itself; su keeps them and says so when it has none:
        // with a working setuid bit it would ask for a password instead.
        RunResult r = AsUser.Run(user, [E2EEnvironment.Burrow, "exec", "-B", "/var/cache/burrow-test/fixtures/suid:/suid", Busybox,
            "sh", "-c", "ls -l /suid/busybox-suid; /suid/busybox-suid id -u; echo | /suid/busybox-suid su -c id root"]);
        Assert.Contains("-rwsr-xr-x", r.Stdout); // the bit is there; the mount and no_new_privs void it
        Assert.Contains(user.Uid + "\n", r.Stdout);
        Assert.Contains("must be suid to work properly", r.Stderr);
        Assert.DoesNotContain("Password", r.Stderr + r.Stdout);
    }

    [Fact]
    public void OnlyDescriptorsZeroToTwoReachThePayload()
    {
        TestUser user = E2EEnvironment.UserWithoutRange;
        // fd 7: a file, fd 9: a directory of the host (runc CVE-2024-21626), both inheritable into burrow.
        RunResult r = AsUser.Run(user, ["sh", "-c", "exec 7</etc/hostname 9</; exec \"$0\" exec \"$1\" sh -c 'ls /proc/$$/fd; readlink /proc/$$/cwd; readlink /proc/$$/root'",
            E2EEnvironment.Burrow, Busybox]);
        Assert.True(r.ExitCode == 0, r.ToString());
        string[] lines = r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["0", "1", "2"], lines.Take(3));
        Assert.Equal(user.Home, lines[3]);
        Assert.Equal("/", lines[4]);
        Assert.Equal(5, lines.Length);
    }

    [Fact]
    public void BurrowProcessesAndTheirBinariesAreOutOfReachFromTheContainer()
    {
        TestUser user = E2EEnvironment.UserWithoutRange;
        // Without a PID namespace the container sees burrow and the starter's monitor in /proc: their exe,
        // root and fd entries must be closed to it (runc CVE-2019-5736, CVE-2024-21626).
        // Strictly for this container's own engine and monitor (its ancestors). Every other monitor (burrow-starter) is
        // checked too, a second later if it is open at first: a starter is dumpable until its namespaces are set up, by
        // design. Another burrow command of the user (a pull, a build) is an ordinary process of the user, as any other.
        const string script = """
            check() {
              out=""
              ( : >> $1/exe ) 2>/dev/null && out="$out WRITABLE"
              ls $1/root/ >/dev/null 2>&1 && out="$out ROOT"
              ls $1/fd/ >/dev/null 2>&1 && out="$out FD"
              echo "$out"
            }
            found=0
            mine=" "
            p=$$
            while [ -n "$p" ] && [ "$p" -gt 1 ]; do
              p=$(awk '/^PPid:/ {print $2}' /proc/$p/status 2>/dev/null)
              [ -n "$p" ] || break
              c=$(cat /proc/$p/comm 2>/dev/null)
              case "$c" in
                burrow|burrow-starter)
                  found=$((found+1)); mine="$mine$p "
                  bad=$(check /proc/$p)
                  [ -n "$bad" ] && echo "$bad /proc/$p $c (this container's)"
                  ;;
              esac
            done
            for d in /proc/[0-9]*; do
              case "$mine" in *" ${d#/proc/} "*) continue ;; esac
              [ "$(cat $d/comm 2>/dev/null)" = burrow-starter ] || continue
              bad=$(check $d)
              if [ -n "$bad" ]; then sleep 1; if [ -d $d ]; then bad=$(check $d); else bad=""; fi; fi
              [ -n "$bad" ] && echo "$bad $d burrow-starter"
            done
            ( : >> /proc/self/exe ) 2>/dev/null && echo "SELF WRITABLE"
            echo "found=$found"
            """;
        RunResult r = AsUser.Burrow(user, "exec", Busybox, "sh", "-c", script);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Matches(@"found=([2-9]|[1-9][0-9]+)\n", r.Stdout); // its monitor and its engine, at least
        Assert.DoesNotContain("WRITABLE", r.Stdout);
        Assert.DoesNotContain("ROOT", r.Stdout);
        Assert.DoesNotContain("FD", r.Stdout);
    }

    [Fact]
    public void DirectoriesBurrowCreatesArePrivateUnderUmask000()
    {
        TestUser user = E2EEnvironment.UserWithoutRange;
        string cache = Path.Combine(user.Home, ".cache", "burrow-umask-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            RunResult r = AsUser.Run(user, ["sh", "-c", "umask 000; exec \"$0\" exec \"$1\" sh -c 'stat -c \"%a %n\" \"$0\" \"$0\"/sessions \"$0\"/sessions/s-*' \"$2\"",
                E2EEnvironment.Burrow, Busybox, cache], env: new Dictionary<string, string> { ["BURROW_CACHEDIR"] = cache });
            Assert.True(r.ExitCode == 0, r.ToString());
            string[] lines = r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(3, lines.Length);
            Assert.All(lines, l => Assert.StartsWith("700 ", l));
            // The session directory goes away with the container.
            Assert.Empty(Directory.GetDirectories(Path.Combine(cache, "sessions")));
        }
        finally
        {
            if (Directory.Exists(cache))
            {
                Directory.Delete(cache, recursive: true);
            }
        }
    }
}

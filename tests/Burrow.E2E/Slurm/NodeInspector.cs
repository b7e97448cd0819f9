using System.Diagnostics;
using Burrow.E2E.Harness;
using Burrow.E2E.Runtime;

namespace Burrow.E2E.Slurm;

/// <summary>
/// What a user's containers leave on the node, read from /proc as the harness (root in CI): the installed burrow's
/// processes of that user, which of them serve a FUSE file system (hold /dev/fuse open), and the FUSE mounts
/// (in any mount namespace) that user owns, by connection (a mount's device number names its FUSE connection).
/// </summary>
public static class NodeInspector
{
    /// <summary>Processes of <paramref name="user"/> running the installed burrow or burrow-starter.</summary>
    public static IReadOnlyList<int> BurrowProcesses(TestUser user) =>
        Pids().Where(pid => UidOf(pid) == user.Uid && ExeOf(pid) is { } exe && exe.StartsWith(E2EEnvironment.Prefix + "/", StringComparison.Ordinal)).ToList();

    /// <summary>The user's burrow processes that hold /dev/fuse open: the servers of mounted images.</summary>
    public static IReadOnlyList<int> FuseServers(TestUser user) =>
        BurrowProcesses(user).Where(pid => ExeOf(pid)!.EndsWith("/bin/burrow", StringComparison.Ordinal) && HoldsFuseDevice(pid)).ToList();

    /// <summary>
    /// Every FUSE connection on the node, by the kernel's connection number (/sys/fs/fuse/connections, which the test
    /// setup mounts): a mount made inside a container is detached from every mount table by its pivot_root, so only
    /// fusectl still shows it. Compare against a snapshot taken before the job to find the job's.
    /// </summary>
    public static IReadOnlySet<string> FuseConnections()
    {
        const string dir = "/sys/fs/fuse/connections";
        Assert.True(File.ReadAllText("/proc/self/mountinfo").Contains(" " + dir + " ", StringComparison.Ordinal),
            $"fusectl is not mounted on {dir} (scripts/test.d/60-slurm.sh mounts it)");
        return Directory.EnumerateDirectories(dir).Select(Path.GetFileName).OfType<string>().ToHashSet();
    }

    /// <summary>The session directories of the user's containers that some mount namespace on the node still uses.</summary>
    public static IReadOnlySet<string> SessionMounts(TestUser user)
    {
        var found = new HashSet<string>();
        foreach (int pid in Pids())
        {
            string text;
            try
            {
                text = File.ReadAllText($"/proc/{pid}/mountinfo");
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                continue;
            }
            foreach (System.Text.RegularExpressions.Match m in System.Text.RegularExpressions.Regex.Matches(text, @"/[^\s,=]*/sessions/s-[0-9]+-[0-9a-f]+"))
            {
                if (m.Value.StartsWith(user.Home + "/", StringComparison.Ordinal) || m.Value.StartsWith($"/run/user/{user.Uid}/", StringComparison.Ordinal))
                {
                    found.Add(m.Value);
                }
            }
        }
        return found;
    }

    /// <summary>Polls (bounded) until <paramref name="condition"/> holds; returns whether it did.</summary>
    public static bool WaitFor(Func<bool> condition, TimeSpan timeout)
    {
        var sw = Stopwatch.StartNew();
        while (!condition())
        {
            if (sw.Elapsed > timeout)
            {
                return false;
            }
            Thread.Sleep(100);
        }
        return true;
    }

    /// <summary>
    /// Fails unless the node holds nothing of the user's containers: no process with the token, no burrow process of
    /// the user, no mount of one of the user's session directories, no FUSE connection made since <paramref name="connectionsBefore"/>.
    /// </summary>
    public static void AssertNothingLeft(TestUser user, string token, IReadOnlySet<string> connectionsBefore, TimeSpan timeout)
    {
        IEnumerable<string> NewConnections() => FuseConnections().Except(connectionsBefore);
        bool clean = WaitFor(() => HostProcesses.Matching(token).Count == 0 && BurrowProcesses(user).Count == 0
            && SessionMounts(user).Count == 0 && !NewConnections().Any(), timeout);
        Assert.True(clean, "left on the node after the job ended: "
            + $"processes with {token}: [{Describe(HostProcesses.Matching(token))}]; "
            + $"burrow processes of {user.Name}: [{Describe(BurrowProcesses(user))}]; "
            + $"mounts of {user.Name}'s sessions: [{string.Join(", ", SessionMounts(user))}]; "
            + $"FUSE connections: [{string.Join(", ", NewConnections())}]");
    }

    /// <summary>What the process has read so far (rchar of /proc/PID/io), 0 once it is gone.</summary>
    public static long BytesRead(int pid)
    {
        try
        {
            string? line = File.ReadLines($"/proc/{pid}/io").FirstOrDefault(l => l.StartsWith("rchar:", StringComparison.Ordinal));
            return line is null ? 0 : long.Parse(line["rchar:".Length..].Trim(), System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return 0;
        }
    }

    public static string Describe(IEnumerable<int> pids) => string.Join(", ", pids.Select(pid =>
    {
        try
        {
            return $"{pid} {File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ').Trim()}";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return pid.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
    }));

    private static IEnumerable<int> Pids()
    {
        foreach (string dir in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), out int pid) && pid != Environment.ProcessId)
            {
                yield return pid;
            }
        }
    }

    private static uint? UidOf(int pid)
    {
        try
        {
            string? line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("Uid:", StringComparison.Ordinal));
            return line is null ? null : uint.Parse(line.Split('\t', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static string? ExeOf(int pid)
    {
        try
        {
            return new FileInfo($"/proc/{pid}/exe").LinkTarget;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static bool HoldsFuseDevice(int pid)
    {
        try
        {
            return Directory.EnumerateFileSystemEntries($"/proc/{pid}/fd")
                .Any(fd => { try { return new FileInfo(fd).LinkTarget == "/dev/fuse"; } catch (IOException) { return false; } });
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}

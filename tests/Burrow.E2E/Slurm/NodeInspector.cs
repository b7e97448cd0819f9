using System.Diagnostics;
using Burrow.E2E.Harness;

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

    /// <summary>The user's FUSE connections mounted anywhere on the node (distinct device numbers), with one mount line each.</summary>
    public static IReadOnlyDictionary<string, string> FuseConnections(TestUser user)
    {
        var found = new Dictionary<string, string>();
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
            foreach (string line in text.Split('\n'))
            {
                // ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL…] - FSTYPE SOURCE SUPEROPTIONS
                int dash = line.IndexOf(" - ", StringComparison.Ordinal);
                if (dash < 0)
                {
                    continue;
                }
                string[] tail = line[(dash + 3)..].Split(' ');
                if (tail.Length < 3 || !(tail[0] == "fuse" || tail[0].StartsWith("fuse.", StringComparison.Ordinal))
                    || !tail[2].Split(',').Contains("user_id=" + user.Uid))
                {
                    continue;
                }
                found.TryAdd(line.Split(' ')[2], line);
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

    /// <summary>Fails unless the node holds nothing of the user's containers: no process with the token, no burrow, no FUSE mount.</summary>
    public static void AssertNothingLeft(TestUser user, string token, TimeSpan timeout)
    {
        bool clean = WaitFor(() => HostProcesses.Matching(token).Count == 0 && BurrowProcesses(user).Count == 0 && FuseConnections(user).Count == 0, timeout);
        Assert.True(clean, "left on the node after the job ended: "
            + $"processes with {token}: [{Describe(HostProcesses.Matching(token))}]; "
            + $"burrow processes of {user.Name}: [{Describe(BurrowProcesses(user))}]; "
            + $"FUSE mounts of {user.Name}: [{string.Join(" | ", FuseConnections(user).Values)}]");
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

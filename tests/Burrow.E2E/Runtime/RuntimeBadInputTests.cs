using Burrow.E2E.Harness;

namespace Burrow.E2E.Runtime;

/// <summary>The runtime's bad inputs (issue 13): each says what is wrong, and none leaves anything on the host.</summary>
public class RuntimeBadInputTests
{
    private static TestUser User => E2EEnvironment.UserWithoutRange;

    private static void Fails(RunResult r, int code, params string[] says)
    {
        Assert.True(r.ExitCode == code, r.ToString());
        Assert.StartsWith("ERROR:", r.Stderr);
        foreach (string text in says)
        {
            Assert.Contains(text, r.Stderr);
        }
        Assert.DoesNotContain("   at ", r.Stderr);
        Assert.DoesNotContain("Exception", r.Stderr);
    }

    [Fact]
    public void ABindOverEtcHidesThePasswdAndGroupAndNeverCreatesThemInTheHostDirectory()
    {
        using var sandbox = new ScratchSandbox(User);
        RunResult r = AsUser.Burrow(User, "exec", "--bind", sandbox.Source + ":/../../../etc", E2EEnvironment.BusyboxImage, "true");
        // The bind is /etc itself: it hides the generated passwd and group (said), and nothing is created in it.
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("--bind " + sandbox.Source + ":/../../../etc hides", r.Stderr);
        Assert.Equal(["marker"], Directory.EnumerateFileSystemEntries(sandbox.Source).Select(Path.GetFileName));
    }

    [Fact]
    public void ABindInsideABindNeverCreatesItsMountPointOnTheHost()
    {
        using var sandbox = new ScratchSandbox(User);
        RunResult r = AsUser.Burrow(User, "exec", "-B", sandbox.Source + ":/mnt", "-B", sandbox.Outside + ":/mnt/sub", E2EEnvironment.BusyboxImage, "true");
        Fails(r, 255, "refusing to create /mnt/sub", $"/mnt is the host directory {sandbox.Source}");
        Assert.Equal(["marker"], Directory.EnumerateFileSystemEntries(sandbox.Source).Select(Path.GetFileName));
        // Where the mount point exists in the bound directory, the bind works as before.
        Directory.CreateDirectory(Path.Combine(sandbox.Source, "sub"));
        Chmod755(Path.Combine(sandbox.Source, "sub"));
        RunResult ok = AsUser.Burrow(User, "exec", "-B", sandbox.Source + ":/mnt", "-B", sandbox.Outside + ":/mnt/sub", E2EEnvironment.BusyboxImage, "true");
        Assert.True(ok.ExitCode == 0, ok.ToString());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AnImageWhoseTmpIsAFileSaysSo(bool contain)
    {
        using var sandbox = new ScratchSandbox(User);
        Directory.Delete(Path.Combine(sandbox.Root, "tmp"), recursive: true);
        File.WriteAllText(Path.Combine(sandbox.Root, "tmp"), "not a directory\n");
        RunResult r = AsUser.Burrow(User, ["exec", .. contain ? new[] { "--contain" } : [], sandbox.Root, "true"]);
        Fails(r, 255, "the image has a file at /tmp, where a directory is mounted", "the image needs a directory at /tmp");
        Assert.DoesNotContain("move_mount", r.Stderr);
        Assert.DoesNotContain("Invalid argument", r.Stderr);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AnEmptyCommandIsNamed(bool envScripts)
    {
        using var sandbox = Sandbox(envScripts ? "true\n" : null, runscript: null);
        Fails(AsUser.Burrow(User, "exec", sandbox.Root, ""), 255, "exec: the command to run is an empty string ('')");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ARunscriptWhoseInterpreterIsMissingNamesTheInterpreterAndTheScript(bool envScripts)
    {
        using var sandbox = Sandbox(envScripts ? "true\n" : null, runscript: "#!/bin/nosuchshell -e\necho never\n");
        RunResult r = AsUser.Burrow(User, "run", sandbox.Root);
        Fails(r, 126, "/.singularity.d/runscript: its interpreter /bin/nosuchshell (the script's #! line) is not in the container");
        Assert.DoesNotContain("command not found", r.Stderr);
        Assert.DoesNotContain("not found", r.Stderr.Replace("is not in the container", ""));
    }

    [Fact]
    public void ABinaryWhoseProgramLoaderIsMissingNamesTheLoader()
    {
        // The busybox image is static and has no C library; the host's /bin/true needs glibc's loader.
        using var sandbox = new ScratchSandbox(User);
        File.Copy("/bin/true", Path.Combine(sandbox.Root, "bin", "host-true"));
        Chmod755(Path.Combine(sandbox.Root, "bin", "host-true"));
        RunResult r = AsUser.Burrow(User, "exec", sandbox.Root, "host-true");
        Fails(r, 126, "/bin/host-true: its program loader /lib64/ld-linux-x86-64.so.2 is not in the container");
    }

    [Fact]
    public void AnEnvScriptThatExitsSaysWhichAndWithWhatStatus()
    {
        using var sandbox = Sandbox("exit 3\n", runscript: "#!/bin/sh\necho runscript-ran\n");
        RunResult r = AsUser.Burrow(User, "run", sandbox.Root);
        Assert.True(r.ExitCode == 3, r.ToString());
        Assert.DoesNotContain("runscript-ran", r.Stdout);
        Assert.Equal("ERROR:   the image's environment script /.singularity.d/env/50-test.sh ended the container (exit status 3) before the command ran\n", r.Stderr);
        // A script that returns normally is silent, and the payload's own exit status is unchanged.
        using var fine = Sandbox("X=1\n", runscript: "#!/bin/sh\necho runscript-ran; exit 4\n");
        RunResult ok = AsUser.Burrow(User, "run", fine.Root);
        Assert.Equal(4, ok.ExitCode);
        Assert.Equal("runscript-ran\n", ok.Stdout);
        Assert.Equal("", ok.Stderr);
    }

    [Fact]
    public void AHundredThousandCharacterBindDestinationIsRefusedInOneShortMessage()
    {
        RunResult r = AsUser.Burrow(User, "exec", "--bind", "/tmp:/" + new string('a', 100_000), E2EEnvironment.BusyboxImage, "true");
        Fails(r, 255, "is 100001 bytes long; Linux paths are at most 4095");
        Assert.True(r.Stderr.Length < 1000, r.Stderr.Length.ToString());
    }

    [Fact]
    public void AStageFailureQuotingAVeryLongPathFitsTheSocket()
    {
        // 3,800 bytes pass the planner; the stage's message quotes them several times, more than one packet holds.
        string deep = "/etc/passwd/" + string.Join('/', Enumerable.Repeat(new string('b', 250), 15));
        RunResult r = AsUser.Burrow(User, "exec", "--bind", "/tmp:" + deep, E2EEnvironment.BusyboxImage, "true");
        Fails(r, 255, "cannot perform the bind of /tmp on /etc/passwd/bbb", "more characters)");
        Assert.DoesNotContain("Message too long", r.Stderr);
        Assert.True(r.Stderr.Length < 8192, r.Stderr.Length.ToString());
    }

    private static void Chmod755(string path)
    {
        using var p = System.Diagnostics.Process.Start("chmod", ["0755", path]);
        p.WaitForExit();
        Assert.Equal(0, p.ExitCode);
    }

    /// <summary>A busybox sandbox with an optional env script (50-test.sh) and runscript.</summary>
    private static ScratchSandbox Sandbox(string? envScript, string? runscript)
    {
        var sandbox = new ScratchSandbox(User);
        string sd = Path.Combine(sandbox.Root, ".singularity.d");
        Directory.CreateDirectory(Path.Combine(sd, "env"));
        if (envScript is not null)
        {
            File.WriteAllText(Path.Combine(sd, "env", "50-test.sh"), envScript);
        }
        if (runscript is not null)
        {
            File.WriteAllText(Path.Combine(sd, "runscript"), runscript);
            Chmod755(Path.Combine(sd, "runscript"));
        }
        return sandbox;
    }
}

[CollectionDefinition("process-limit", DisableParallelization = true)]
public sealed class ProcessLimitCollection
{
}

/// <summary>ulimit -u: alone, because the limit counts every process and thread of the user, other tests' too.</summary>
[Collection("process-limit")]
public class ProcessLimitTests
{
    [Fact]
    public void AProcessLimitThatStopsTheLaunchIsNamed()
    {
        TestUser user = E2EEnvironment.UserWithoutRange;
        var informative = new List<int>();
        var outcomes = new List<string>();
        bool succeeded = false;
        for (int spare = 1; spare <= 16 && !succeeded; spare++)
        {
            int limit = TasksOf(user.Uid) + spare;
            RunResult r = AsUser.Run(user, ["bash", "-c", $"ulimit -u {limit}; exec {E2EEnvironment.Burrow} exec {E2EEnvironment.BusyboxImage} true"]);
            outcomes.Add($"ulimit -u {limit} (+{spare}): exit {r.ExitCode}: {r.Stderr.Split('\n')[0]}");
            if (r.ExitCode == 0)
            {
                succeeded = true;
                continue;
            }
            if (r.Stderr.Contains($"ulimit -u {limit}", StringComparison.Ordinal))
            {
                informative.Add(spare);
                Assert.Equal(255, r.ExitCode);
                Assert.DoesNotContain("   at ", r.Stderr);
            }
            else
            {
                // Only while the .NET runtime of burrow itself cannot start its threads, before any of burrow's code runs.
                Assert.True(informative.Count == 0, "a failure after the limit was first named, without naming it:\n" + string.Join('\n', outcomes));
            }
        }
        Assert.True(informative.Count > 0, string.Join('\n', outcomes));
        Assert.True(succeeded, string.Join('\n', outcomes));
    }

    /// <summary>What RLIMIT_NPROC counts: the user's tasks (threads), zombies included.</summary>
    private static int TasksOf(uint uid)
    {
        int tasks = 0;
        foreach (string dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out _))
            {
                continue;
            }
            try
            {
                string[] lines = File.ReadAllLines(Path.Combine(dir, "status"));
                string? uidLine = lines.FirstOrDefault(l => l.StartsWith("Uid:", StringComparison.Ordinal));
                if (uidLine is not null && uidLine.Split('\t', StringSplitOptions.RemoveEmptyEntries)[1] == uid.ToString(System.Globalization.CultureInfo.InvariantCulture))
                {
                    string? threads = lines.FirstOrDefault(l => l.StartsWith("Threads:", StringComparison.Ordinal));
                    tasks += threads is null ? 1 : int.Parse(threads.Split('\t', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture);
                }
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
        return tasks;
    }
}

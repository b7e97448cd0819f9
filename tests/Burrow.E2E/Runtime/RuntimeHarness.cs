using System.Diagnostics;
using Burrow.E2E.Harness;

namespace Burrow.E2E.Runtime;

/// <summary>A burrow started in the background as a test user, for signal and kill tests.</summary>
public sealed class BackgroundBurrow : IDisposable
{
    private readonly Process _process;
    private readonly System.Text.StringBuilder _stdout = new();
    private readonly System.Text.StringBuilder _stderr = new();

    private BackgroundBurrow(Process process)
    {
        _process = process;
        _process.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (_stdout) { _stdout.AppendLine(e.Data); } } };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (_stderr) { _stderr.AppendLine(e.Data); } } };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>The pid of burrow itself (setpriv execs it, so it is the started process).</summary>
    public int Pid => _process.Id;

    public string Stdout { get { lock (_stdout) { return _stdout.ToString(); } } }

    public string Stderr { get { lock (_stderr) { return _stderr.ToString(); } } }

    public static BackgroundBurrow Start(TestUser user, params string[] args) => StartWith(user, new Dictionary<string, string>(), args);

    /// <summary>As <see cref="Start"/>, with extra environment (BURROW_CACHEDIR, TMPDIR and the like).</summary>
    public static BackgroundBurrow StartWith(TestUser user, IReadOnlyDictionary<string, string> env, params string[] args)
    {
        var psi = new ProcessStartInfo
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = user.Home,
        };
        psi.Environment.Clear();
        psi.Environment["HOME"] = user.Home;
        psi.Environment["USER"] = user.Name;
        psi.Environment["PATH"] = "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin";
        foreach ((string k, string v) in env)
        {
            psi.Environment[k] = v;
        }
        if (E2EEnvironment.IsRoot)
        {
            psi.FileName = "setpriv";
            foreach (string a in new[] { "--reuid=" + user.Uid, "--regid=" + user.Gid, "--init-groups", "--inh-caps=-all", "--", E2EEnvironment.Burrow })
            {
                psi.ArgumentList.Add(a);
            }
        }
        else
        {
            psi.FileName = E2EEnvironment.Burrow;
        }
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }
        return new BackgroundBurrow(Process.Start(psi)!);
    }

    /// <summary>Waits (bounded) until the payload printed <paramref name="text"/>.</summary>
    public void WaitForOutput(string text, TimeSpan? timeout = null)
    {
        var sw = Stopwatch.StartNew();
        while (!Stdout.Contains(text, StringComparison.Ordinal))
        {
            if (sw.Elapsed > (timeout ?? TimeSpan.FromSeconds(30)) || _process.HasExited)
            {
                Assert.Fail($"never saw '{text}'\n--- stdout\n{Stdout}\n--- stderr\n{Stderr}");
            }
            Thread.Sleep(20);
        }
    }

    public void Signal(int signal) => Assert.Equal(0, Kill(_process.Id, signal));

    public int WaitForExit(TimeSpan? timeout = null)
    {
        if (!_process.WaitForExit(timeout ?? TimeSpan.FromSeconds(30)))
        {
            _process.Kill(entireProcessTree: true);
            Assert.Fail($"burrow did not exit\n--- stdout\n{Stdout}\n--- stderr\n{Stderr}");
        }
        _process.WaitForExit(); // drain the output readers
        return _process.ExitCode;
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }
        _process.Dispose();
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}

/// <summary>Host-side helpers: processes by command line, scratch sandboxes owned by a test user.</summary>
public static class HostProcesses
{
    /// <summary>Pids whose command line contains <paramref name="text"/> (this process excluded).</summary>
    public static IReadOnlyList<int> Matching(string text)
    {
        var pids = new List<int>();
        foreach (string dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out int pid) || pid == Environment.ProcessId)
            {
                continue;
            }
            try
            {
                string cmdline = File.ReadAllText(Path.Combine(dir, "cmdline")).Replace('\0', ' ');
                if (cmdline.Contains(text, StringComparison.Ordinal))
                {
                    pids.Add(pid);
                }
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
        return pids;
    }

    /// <summary>Polls (bounded) until no process matches.</summary>
    public static bool WaitUntilGone(string text, TimeSpan timeout)
    {
        var sw = Stopwatch.StartNew();
        while (Matching(text).Count > 0)
        {
            if (sw.Elapsed > timeout)
            {
                return false;
            }
            Thread.Sleep(20);
        }
        return true;
    }
}

/// <summary>
/// A scratch directory outside every path a container binds by default (not /tmp, not $HOME), with
/// a private copy of the busybox root file system owned by the test user.
/// </summary>
public sealed class ScratchSandbox : IDisposable
{
    public ScratchSandbox(TestUser user)
    {
        Dir = Path.Combine(E2EEnvironment.TestCache, "scratch", user.Name + "-" + Guid.NewGuid().ToString("N")[..10]);
        Root = Path.Combine(Dir, "root");
        Outside = Path.Combine(Dir, "outside");
        Directory.CreateDirectory(Path.Combine(E2EEnvironment.TestCache, "scratch"));
        Directory.CreateDirectory(Dir);
        Run("cp", "-a", E2EEnvironment.BusyboxTree, Root);
        Directory.CreateDirectory(Outside);
        Directory.CreateDirectory(Path.Combine(Dir, "src"));
        File.WriteAllText(Path.Combine(Dir, "src", "marker"), "bound\n");
        if (E2EEnvironment.IsRoot)
        {
            Run("chown", "-R", $"{user.Uid}:{user.Gid}", Dir);
        }
    }

    public string Dir { get; }

    /// <summary>The sandbox (a copy of the busybox image).</summary>
    public string Root { get; }

    /// <summary>A host directory next to the sandbox that nothing may reach.</summary>
    public string Outside { get; }

    /// <summary>A host directory with a file "marker", to bind.</summary>
    public string Source => Path.Combine(Dir, "src");

    public void Dispose()
    {
        try { Directory.Delete(Dir, recursive: true); } catch (IOException) { }
    }

    private static void Run(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { UseShellExecute = false };
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }
        using Process p = Process.Start(psi)!;
        p.WaitForExit();
        Assert.Equal(0, p.ExitCode);
    }
}

/// <summary>
/// Runs a shell command line as a test user on a new pseudo-terminal (python3's pty module: the command's
/// session leader has it as controlling terminal, as a login shell has), and returns what the terminal showed.
/// </summary>
public static class PseudoTerminal
{
    private const string Driver = """
        import os, pty, select, sys, time
        pid, fd = pty.fork()
        if pid == 0:
            os.execvp(sys.argv[1], sys.argv[1:])
        out = b''
        end = time.time() + 60
        status = None
        while time.time() < end:
            r, _, _ = select.select([fd], [], [], 0.5)
            if r:
                try:
                    data = os.read(fd, 4096)
                except OSError:
                    data = b''
                if not data:
                    break
                out += data
            elif os.waitpid(pid, os.WNOHANG)[0]:
                status = 0
                break
        sys.stdout.write(out.decode(errors='replace').replace('\r\n', '\n'))
        """;

    /// <summary>Runs <paramref name="commandLine"/> with bash -c on a terminal; the result's Stdout is the terminal's output.</summary>
    public static RunResult Run(TestUser user, string commandLine) =>
        AsUser.Run(user, ["python3", "-c", Driver, "bash", "-c", commandLine], env: new Dictionary<string, string> { ["TERM"] = "dumb" },
            timeout: TimeSpan.FromSeconds(90));

    /// <summary>Single-quotes a word for bash.</summary>
    public static string Quote(string word) => "'" + word.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}

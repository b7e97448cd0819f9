using System.Globalization;
using Burrow.Core.Diagnostics;
using Burrow.Core.Images;
using Burrow.Core.Runtime;
using Burrow.Linux;

namespace Burrow.Core.Networking;

/// <summary>
/// passt's pasta, attached to the container's user and network namespaces: it copies the host's addresses and
/// routes into them (--config-net), answers DNS at the plan's DNS address by forwarding to the
/// host's resolver (or --dns), and forwards exactly the published ports (pasta's default, "auto", would publish every
/// port the container listens on). It stays in the foreground as burrow's child under setpriv's parent-death
/// signal: pasta does not notice on its own that a namespace named by /proc/PID/ns/net is gone (it watches with
/// inotify, which procfs does not feed), so without it a SIGKILLed burrow would leave pasta holding the ports.
/// </summary>
internal sealed class PastaHelper : INetworkHelper
{
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(30);
    private int _pid;

    private PastaHelper(int pid) => _pid = pid;

    public static PastaHelper Start(NetworkPlan plan, int targetPid, string sessionDirectory)
    {
        string pasta = NetworkHelpers.Find("pasta", "passt");
        string setpriv = NetworkHelpers.Find("setpriv", "util-linux");
        string pidFile = Path.Combine(sessionDirectory, "pasta.pid");
        string log = Path.Combine(sessionDirectory, "pasta.log");
        string target = "/proc/" + targetPid.ToString(CultureInfo.InvariantCulture) + "/ns/";
        var argv = new List<string>
        {
            setpriv, "--pdeathsig", "KILL", "--",
            pasta, "--foreground", "--config-net", "--quiet", "--pid", pidFile, "--dns-forward", plan.Nameservers[0],
            "--netns", target + "net", "--userns", target + "user",
            "-T", "none", "-U", "none",
        };
        if (plan.Upstream is { } upstream)
        {
            argv.AddRange(["--dns", upstream]);
        }
        argv.AddRange(Forwards("-t", plan.Ports.Where(p => p.Protocol == "tcp")));
        argv.AddRange(Forwards("-u", plan.Ports.Where(p => p.Protocol == "udp")));
        int pid = 0;
        try
        {
            using (FileStream logFile = PrivateFiles.CreateFile(log))
            {
                int fd = (int)logFile.SafeFileHandle.DangerousGetHandle();
                // Spawned from the thread that runs the container (the main thread), which lives as long as burrow:
                // the parent-death signal follows the spawning thread, not the process.
                pid = Processes.Spawn(setpriv, argv, Environment.GetEnvironmentVariable("PATH") is { } path ? ["PATH=" + path] : [], [], [(fd, 1), (fd, 2)]);
            }
            // pasta writes its pid file once the namespace is configured and the ports are bound.
            var waited = System.Diagnostics.Stopwatch.StartNew();
            while (ReadPid(pidFile) != pid)
            {
                if (Processes.TryReap(pid))
                {
                    pid = 0;
                    throw new BurrowException($"pasta could not attach to the container's network namespace: {NetworkHelpers.LogExcerpt(log)}",
                        "try --network slirp4netns, or --network none for lo only");
                }
                if (waited.Elapsed > ReadyTimeout)
                {
                    throw new BurrowException($"pasta did not configure the container's network namespace within {ReadyTimeout.TotalSeconds:0} s: {NetworkHelpers.LogExcerpt(log)}",
                        "try --network slirp4netns, or --network none for lo only");
                }
                Thread.Sleep(5);
            }
        }
        catch
        {
            new PastaHelper(pid).Dispose();
            throw;
        }
        finally
        {
            // The session directory must be empty when burrow removes it.
            File.Delete(log);
            File.Delete(pidFile);
        }
        return new PastaHelper(pid);
    }

    private static IEnumerable<string> Forwards(string flag, IEnumerable<PortMapping> ports)
    {
        PortMapping[] list = ports.ToArray();
        if (list.Length == 0)
        {
            return [flag, "none"];
        }
        return list.SelectMany(p => new[]
        {
            flag, (p.HostAddress is null ? "" : p.HostAddress + "/")
                + p.HostPort.ToString(CultureInfo.InvariantCulture) + ":" + p.ContainerPort.ToString(CultureInfo.InvariantCulture),
        });
    }

    private static int ReadPid(string file)
    {
        try
        {
            return int.TryParse(File.ReadAllText(file).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int pid) ? pid : 0;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return 0;
        }
    }

    public void Dispose()
    {
        if (_pid > 0)
        {
            try
            {
                ProcessSecurity.Kill(_pid, 15);
            }
            catch (LinuxException)
            {
                // It quit first.
            }
            // It is our child: once reaped, its ports are closed.
            try
            {
                Processes.Wait(_pid);
            }
            catch (LinuxException)
            {
                // Reaped already.
            }
            _pid = 0;
        }
    }
}

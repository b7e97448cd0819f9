using System.Globalization;
using Burrow.Core.Diagnostics;
using Burrow.Core.Images;
using Burrow.Core.Runtime;
using Burrow.Linux;

namespace Burrow.Core.Networking;

/// <summary>
/// passt's pasta, attached to the container's user and network namespaces: it copies the host's addresses and
/// routes into them (--config-net), answers DNS at the plan's DNS address by forwarding to the
/// host's resolver, and forwards exactly the published ports (pasta's default, "auto", would publish every port
/// the container listens on). It goes to the background once the namespace is configured; Burrow stops it at exit,
/// and it quits by itself when the namespace is gone (burrow killed).
/// </summary>
internal sealed class PastaHelper : INetworkHelper
{
    private int _pid;

    private PastaHelper(int pid) => _pid = pid;

    public static PastaHelper Start(NetworkPlan plan, int targetPid, string sessionDirectory)
    {
        string pasta = NetworkHelpers.Find("pasta", "passt");
        string pidFile = Path.Combine(sessionDirectory, "pasta.pid");
        string log = Path.Combine(sessionDirectory, "pasta.log");
        string target = "/proc/" + targetPid.ToString(CultureInfo.InvariantCulture) + "/ns/";
        var argv = new List<string>
        {
            pasta, "--config-net", "--quiet", "--pid", pidFile, "--dns-forward", plan.Nameservers[0],
            "--netns", target + "net", "--userns", target + "user",
            "-T", "none", "-U", "none",
        };
        if (plan.Upstream is { } upstream)
        {
            argv.AddRange(["--dns", upstream]);
        }
        argv.AddRange(Forwards("-t", plan.Ports.Where(p => p.Protocol == "tcp")));
        argv.AddRange(Forwards("-u", plan.Ports.Where(p => p.Protocol == "udp")));
        int status;
        int daemon;
        try
        {
            using (FileStream logFile = PrivateFiles.CreateFile(log))
            {
                int fd = (int)logFile.SafeFileHandle.DangerousGetHandle();
                int pid = Processes.Spawn(pasta, argv, Environment.GetEnvironmentVariable("PATH") is { } path ? ["PATH=" + path] : [], [], [(fd, 1), (fd, 2)]);
                // pasta's first process exits once the namespace is configured, leaving its daemon behind.
                status = Processes.Wait(pid).ShellCode;
            }
            daemon = ReadPid(pidFile);
            if (status != 0 || daemon <= 0)
            {
                throw new BurrowException($"pasta could not attach to the container's network namespace (exit {status}): {NetworkHelpers.LogExcerpt(log)}",
                    "try --network slirp4netns, or --network none for lo only");
            }
        }
        finally
        {
            // The session directory must be empty when burrow removes it.
            File.Delete(log);
            File.Delete(pidFile);
        }
        return new PastaHelper(daemon);
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
                // It quit first: the namespace went with the container.
            }
            _pid = 0;
        }
    }
}

using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Burrow.Core.Diagnostics;
using Burrow.Core.Images;
using Burrow.Core.Runtime;
using Burrow.Linux;
using Microsoft.Win32.SafeHandles;

namespace Burrow.Core.Networking;

/// <summary>
/// slirp4netns in the foreground, as the engine's child: a tap device in the container's namespace behind a user-mode
/// TCP/IP stack (10.0.2.0/24, the host's loopback at 10.0.2.2, DNS at 10.0.2.3). It says it is ready on a pipe
/// (--ready-fd) and exits when the other end of another pipe closes (--exit-fd), which is when burrow exits, even
/// killed. Published ports are added through its API socket (add_hostfwd).
/// </summary>
internal sealed class Slirp4netnsHelper : INetworkHelper
{
    private readonly int _pid;
    private readonly SafeFileHandle _exitWrite;
    private readonly string _apiSocket;
    private bool _disposed;

    private Slirp4netnsHelper(int pid, SafeFileHandle exitWrite, string apiSocket)
    {
        _pid = pid;
        _exitWrite = exitWrite;
        _apiSocket = apiSocket;
    }

    public static Slirp4netnsHelper Start(NetworkPlan plan, int targetPid, string sessionDirectory)
    {
        string slirp = NetworkHelpers.Find("slirp4netns", "slirp4netns");
        string apiSocket = Path.Combine(sessionDirectory, "slirp.sock");
        string log = Path.Combine(sessionDirectory, "slirp.log");
        string target = "/proc/" + targetPid.ToString(CultureInfo.InvariantCulture) + "/ns/";
        (SafeFileHandle readyRead, SafeFileHandle readyWrite) = FileDescriptors.Pipe();
        (SafeFileHandle exitRead, SafeFileHandle exitWrite) = FileDescriptors.Pipe();
        int pid;
        using (readyRead)
        using (readyWrite)
        using (exitRead)
        {
            using (FileStream logFile = PrivateFiles.CreateFile(log))
            {
                int ready = (int)readyWrite.DangerousGetHandle(), exit = (int)exitRead.DangerousGetHandle();
                string[] argv =
                [
                    slirp, "--configure", "--mtu=65520", "--ready-fd=" + Num(ready), "--exit-fd=" + Num(exit),
                    "--api-socket", apiSocket, "--userns-path=" + target + "user", "--netns-type=path", target + "net", "tap0",
                ];
                int fd = (int)logFile.SafeFileHandle.DangerousGetHandle();
                pid = Processes.Spawn(slirp, argv, [], [ready, exit], [(fd, 1), (fd, 2)]);
            }
            readyWrite.Dispose(); // only slirp4netns holds it now: end of file means it died
            var helper = new Slirp4netnsHelper(pid, exitWrite, apiSocket);
            try
            {
                if (!FileDescriptors.WaitReadable(readyRead, TimeSpan.FromSeconds(30)) || FileDescriptors.ReadAll(readyRead, 16, "slirp4netns's ready pipe").Length == 0)
                {
                    throw new BurrowException($"slirp4netns could not attach to the container's network namespace: {NetworkHelpers.LogExcerpt(log)}",
                        "try --network pasta, or --network none for lo only");
                }
                foreach (PortMapping p in plan.Ports)
                {
                    helper.Forward(p);
                }
            }
            catch
            {
                helper.Dispose();
                throw;
            }
            finally
            {
                File.Delete(log);
            }
            return helper;
        }
    }

    private void Forward(PortMapping p)
    {
        string request = "{\"execute\":\"add_hostfwd\",\"arguments\":{\"proto\":\"" + p.Protocol + "\",\"host_addr\":\""
            + (p.HostAddress ?? "0.0.0.0") + "\",\"host_port\":" + Num(p.HostPort) + ",\"guest_port\":" + Num(p.ContainerPort) + "}}";
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Connect(new UnixDomainSocketEndPoint(_apiSocket));
        socket.Send(Encoding.UTF8.GetBytes(request));
        socket.Shutdown(SocketShutdown.Send);
        byte[] buffer = new byte[4096];
        int n = socket.Receive(buffer);
        string reply = Encoding.UTF8.GetString(buffer, 0, n);
        if (!reply.Contains("\"return\"", StringComparison.Ordinal) || reply.Contains("\"error\"", StringComparison.Ordinal))
        {
            throw new BurrowException($"--publish {p.HostPort}:{p.ContainerPort}: slirp4netns refused the port: {TerminalText.Escape(reply.Trim())}",
                "choose another host port");
        }
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        _exitWrite.Dispose(); // slirp4netns exits when this end closes
        if (!Processes.TryReap(_pid))
        {
            try
            {
                ProcessSecurity.Kill(_pid, 15);
            }
            catch (LinuxException)
            {
            }
            Processes.Wait(_pid);
        }
        File.Delete(_apiSocket);
    }

    private static string Num(int value) => value.ToString(CultureInfo.InvariantCulture);
}

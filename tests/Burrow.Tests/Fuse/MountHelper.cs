using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Burrow.Core.Fuse;
using Burrow.Linux;
using Microsoft.Win32.SafeHandles;

namespace Burrow.Tests.Fuse;

/// <summary>Runs the helper and receives the descriptor it mounted.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
internal sealed class MountHelper : IDisposable
{
    private const int HelperFd = 100;
    private readonly string _dir;
    private readonly Process _process;
    private readonly Socket _listener;

    public MountHelper(JsonObject spec, string script = "fuse_mount_helper.py", int connectSeconds = 30)
    {
        _dir = Directory.CreateTempSubdirectory("burrow-fuse-test-").FullName;
        File.SetUnixFileMode(_dir, (UnixFileMode)0b111_101_101);
        foreach (string py in Directory.GetFiles(AppContext.BaseDirectory, "fuse_*.py"))
        {
            string copy = Path.Combine(_dir, Path.GetFileName(py));
            File.Copy(py, copy);
            File.SetUnixFileMode(copy, (UnixFileMode)0b111_101_101);
        }
        script = Path.Combine(_dir, script);
        spec["fd"] = HelperFd;
        spec["attributes"] = (ulong)FuseMount.Attributes;
        spec["options"] = new JsonArray(FuseMount.Options(HelperFd, 0, 0).Select(o => (JsonNode?)new JsonArray(o.Key, o.Value)).ToArray());
        string specPath = Path.Combine(_dir, "spec.json");
        File.WriteAllText(specPath, spec.ToJsonString());
        string socketPath = Path.Combine(_dir, "sock");
        _listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        _listener.Bind(new UnixDomainSocketEndPoint(socketPath));
        _listener.Listen(1);
        File.SetUnixFileMode(socketPath, (UnixFileMode)0b111_111_111);

        _process = Process.Start(FuseMountEnvironment.Command(["/usr/bin/python3", script, socketPath, specPath]))!;
        Task<Socket> accept = _listener.AcceptAsync();
        if (!accept.Wait(TimeSpan.FromSeconds(connectSeconds)))
        {
            throw new Xunit.Sdk.XunitException("the mount helper never connected:\n" + Stderr());
        }
        using Socket connection = accept.Result;
        Packet? packet = FileDescriptors.ReceivePacketWithDescriptor(new SafeFileHandle(connection.Handle, ownsHandle: false));
        if (packet is not { Text: "mounted", Descriptor: SafeFileHandle device })
        {
            packet?.Descriptor?.Dispose();
            throw new Xunit.Sdk.XunitException("the mount helper sent no descriptor:\n" + Stderr());
        }
        Device = device;
    }

    public SafeFileHandle Device { get; }

    public JsonObject NextLine()
    {
        Task<string?> line = _process.StandardOutput.ReadLineAsync();
        if (!line.Wait(TimeSpan.FromSeconds(60)) || line.Result is null)
        {
            throw new Xunit.Sdk.XunitException("the mount helper said nothing:\n" + Stderr());
        }
        return JsonNode.Parse(line.Result)!.AsObject();
    }

    public void Continue() => _process.StandardInput.WriteLine();

    public JsonObject Result()
    {
        JsonObject result = NextLine();
        Assert.True(_process.WaitForExit(30_000), "the mount helper did not exit");
        Assert.True(_process.ExitCode == 0, Stderr());
        return result;
    }

    private string Stderr()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
        }
        _process.WaitForExit();
        return _process.StandardError.ReadToEnd();
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit();
        }
        _process.Dispose();
        _listener.Dispose();
        Directory.Delete(_dir, recursive: true);
    }
}

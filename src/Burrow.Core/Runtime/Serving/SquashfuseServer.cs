using System.Globalization;
using Burrow.Core.Diagnostics;
using Burrow.Core.Runtime;
using Burrow.Linux;
using Microsoft.Win32.SafeHandles;

namespace Burrow.Core.Runtime.Serving;

/// <summary>
/// The fallback server: Debian's <c>squashfuse_ll</c> (libfuse 3, which accepts an already mounted device as the
/// mount point <c>/dev/fd/N</c>) for a compressor Burrow's own reader lacks. It runs on the host as the caller, as a
/// child of the engine; it also ends by itself when the container's mount goes away (the device reads ENODEV).
/// </summary>
public sealed class SquashfuseServer : IImageServer
{
    public const string Program = "squashfuse_ll";

    private readonly string _image;
    private readonly long _offset;
    private int _pid;

    public SquashfuseServer(string image, long offset)
    {
        _image = image;
        _offset = offset;
    }

    /// <summary>The squashfuse_ll found on PATH, or null.</summary>
    public static string? Find() => ExecutableSearch.OnPath(Program);

    public void Serve(SafeFileHandle fuseDevice)
    {
        using (fuseDevice)
        {
            string program = Find() ?? throw new BurrowException($"{Program} is not installed, and Burrow cannot read this image's compression itself",
                "install squashfuse (apt install squashfuse), or run with --unsquash to unpack the image instead");
            int fd = (int)fuseDevice.DangerousGetHandle();
            string[] argv =
            [
                program, "-f", "-o", "offset=" + _offset.ToString(CultureInfo.InvariantCulture),
                _image, "/dev/fd/" + fd.ToString(CultureInfo.InvariantCulture),
            ];
            _pid = Processes.Spawn(program, argv, Environment.GetEnvironmentVariable("PATH") is { } path ? ["PATH=" + path] : [], [0, 1, 2, fd]);
        }
    }

    public void Dispose()
    {
        if (_pid <= 0)
        {
            return;
        }
        try
        {
            ProcessSecurity.Kill(_pid, 15);
        }
        catch (LinuxException)
        {
            // Already gone: the container's mount went first.
        }
        Processes.Wait(_pid);
        _pid = 0;
    }
}

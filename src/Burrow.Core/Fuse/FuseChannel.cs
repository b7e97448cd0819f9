using Burrow.Linux;
using Microsoft.Win32.SafeHandles;

namespace Burrow.Core.Fuse;

/// <summary>Where a worker reads requests and writes replies: a /dev/fuse descriptor, or a fake one in tests.</summary>
internal interface IFuseChannel : IDisposable
{
    /// <summary>Reads one request; returns its length, or 0 when the worker should stop (see <see cref="Ended"/>).</summary>
    int Receive(Span<byte> buffer);

    /// <summary>Writes one reply.</summary>
    void Send(ReadOnlySpan<byte> reply);

    /// <summary>Why <see cref="Receive"/> returned 0: unmounted, or woken to stop.</summary>
    FuseServerExit Ended { get; }
}

/// <summary>
/// A /dev/fuse descriptor in non-blocking mode. Closing a descriptor does not wake a thread blocked in read(2) on
/// it, and aborting a connection through /sys/fs/fuse/connections is root's alone, so workers wait in poll(2) on the
/// device and a shared eventfd: Stop signals the eventfd and every worker returns at once. While requests keep
/// coming the workers read without polling.
/// </summary>
internal sealed class DeviceChannel(SafeFileHandle device, WakeEvent wake, bool ownsDevice, FailureReporter failures) : IFuseChannel
{
    public FuseServerExit Ended { get; private set; } = FuseServerExit.Stopped;

    public int Receive(Span<byte> buffer)
    {
        while (true)
        {
            int n = FuseDevice.Read(device, buffer);
            if (n > 0)
            {
                return n;
            }
            switch (-n)
            {
                case Errno.EAGAIN:
                    if (!FuseDevice.WaitForRequest(device, wake))
                    {
                        Ended = FuseServerExit.Stopped;
                        return 0;
                    }
                    continue;
                case Errno.ENOENT:
                    continue; // the request was interrupted before it could be read
                case Errno.ENODEV:
                case Errno.ECONNABORTED:
                    Ended = FuseServerExit.Unmounted; // unmounted, or the connection was aborted
                    return 0;
                case 0:
                    throw FuseDevice.Error(Errno.EIO, "read (end of file)");
                default:
                    throw FuseDevice.Error(-n, "read");
            }
        }
    }

    public void Send(ReadOnlySpan<byte> reply)
    {
        int r = FuseDevice.Write(device, reply);
        switch (-r)
        {
            case 0:
            case Errno.ENOENT: // the request was interrupted and the kernel no longer waits for this reply
            case Errno.ENODEV: // unmounted meanwhile: the next read says so
                return;
            default:
                // The kernel rejected the reply's shape: this request fails (its caller sees an error), others go on.
                failures.Channel($"the kernel refused a FUSE reply: {FuseDevice.Error(-r, "write").Message}");
                return;
        }
    }

    public void Dispose()
    {
        if (ownsDevice)
        {
            device.Dispose();
        }
    }
}

using Burrow.Core.Diagnostics;
using Burrow.Linux;
using Microsoft.Win32.SafeHandles;

namespace Burrow.Core.Fuse;

/// <summary>Why a <see cref="FuseServer"/> stopped serving.</summary>
public enum FuseServerExit
{
    /// <summary>The kernel ended the connection: the file system was unmounted (the container's mounts are gone).</summary>
    Unmounted,

    /// <summary>The owner called <see cref="FuseServer.Stop"/> or <see cref="FuseServer.Dispose"/>.</summary>
    Stopped,

    /// <summary>Reading the device failed in a way the server cannot go on from (<see cref="FuseServer.Failure"/> says how).</summary>
    Failed,
}

/// <summary>
/// Burrow's FUSE server: answers the kernel's requests on a /dev/fuse descriptor from several dedicated threads for
/// any <see cref="IReadOnlyFileSystem"/> (docs/ARCHITECTURE.md, "Serving images").
/// </summary>
/// <remarks>
/// <para>The caller opens /dev/fuse in the container's user namespace and mounts it there (see <see cref="FuseMount"/>
/// for why and how), then hands the descriptor to <see cref="Start"/>; the server owns it from then on and closes it
/// when disposed, which ends the connection: processes still using the mount then get ENOTCONN.</para>
/// <para>Failures of the file system never stop the server: they become the errno the file system gave, or EIO with
/// one WARNING per distinct message. The server ends when the kernel ends the connection (the container's mount
/// namespace is gone), when <see cref="Stop"/> is called, or if the device itself fails.</para>
/// </remarks>
public sealed class FuseServer : IDisposable
{
    private readonly FuseSession _session;
    private readonly IFuseChannel[] _channels;
    private readonly FuseWorkerState[] _workers;
    private readonly Thread[] _threads;
    private readonly WakeEvent? _wake;
    private readonly TaskCompletionSource<FuseServerExit> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _stopping;
    private int _running;
    private int _started;
    private int _unmounted;
    private int _disposed;

    private FuseServer(FuseSession session, IFuseChannel[] channels, IReadOnlyFileSystem fs, WakeEvent? wake)
    {
        _session = session;
        _channels = channels;
        _wake = wake;
        _workers = channels.Select(_ => new FuseWorkerState(session, fs)).ToArray();
        _threads = new Thread[channels.Length];
        _running = 0;
        for (int i = 0; i < channels.Length; i++)
        {
            int index = i;
            _threads[i] = new Thread(() => Work(index)) { IsBackground = true, Name = "burrow-fuse-" + i };
        }
    }

    /// <summary>
    /// Starts serving <paramref name="fileSystem"/> on <paramref name="device"/>, a mounted /dev/fuse descriptor whose
    /// INIT has not been answered yet. Takes ownership of the descriptor.
    /// </summary>
    public static FuseServer Start(SafeFileHandle device, IReadOnlyFileSystem fileSystem, FuseServerOptions? options = null)
    {
        options ??= new FuseServerOptions();
        var failures = new FailureReporter(options.ImageName);
        var session = new FuseSession(fileSystem, options, failures);
        var wake = new WakeEvent();
        var channels = new List<IFuseChannel>();
        try
        {
            FuseDevice.SetNonBlocking(device);
            channels.Add(new DeviceChannel(device, wake, ownsDevice: true, failures));
            int threads = Math.Max(1, options.Threads);
            for (int i = 1; i < threads; i++)
            {
                SafeFileHandle fd = device;
                bool owns = false;
                if (options.CloneDevicePerThread)
                {
                    try
                    {
                        fd = FuseDevice.Clone(device);
                        FuseDevice.SetNonBlocking(fd);
                        owns = true;
                    }
                    catch (LinuxException e)
                    {
                        Log.Verbose($"{options.ImageName}: workers share one FUSE descriptor ({e.Message})");
                        options = options with { CloneDevicePerThread = false };
                    }
                }
                channels.Add(new DeviceChannel(fd, wake, owns, failures));
            }
        }
        catch
        {
            foreach (IFuseChannel c in channels)
            {
                c.Dispose();
            }
            wake.Dispose();
            throw;
        }
        return Start(session, channels.ToArray(), fileSystem, wake);
    }

    internal static FuseServer Start(FuseSession session, IFuseChannel[] channels, IReadOnlyFileSystem fileSystem, WakeEvent? wake)
    {
        var server = new FuseServer(session, channels, fileSystem, wake);
        int started = 0;
        foreach (Thread t in server._threads)
        {
            Interlocked.Increment(ref server._running);
            try
            {
                t.Start();
                started++;
                server._started = started;
            }
            catch (OutOfMemoryException) when (started > 0)
            {
                // No thread to be had (ulimit -u, memory): serve with the workers that started.
                Interlocked.Decrement(ref server._running);
                Log.Verbose($"{session.Failures.ImageName}: serving with {started} of {server._threads.Length} threads: no more could start");
                break;
            }
            catch
            {
                Interlocked.Decrement(ref server._running);
                server.Dispose();
                throw;
            }
        }
        return server;
    }

    /// <summary>Completes when every worker has stopped, with the reason.</summary>
    public Task<FuseServerExit> Completion => _completion.Task;

    /// <summary>What made the server fail, when <see cref="Completion"/> is <see cref="FuseServerExit.Failed"/>.</summary>
    public Exception? Failure { get; private set; }

    /// <summary>Requests answered with EIO because the file system failed (damaged image or a defect).</summary>
    public long FailureCount => _session.Failures.Count;

    /// <summary>Asks every worker to stop; returns at once (wait on <see cref="Completion"/>). Requests not yet read stay unanswered until the descriptor is closed.</summary>
    public void Stop()
    {
        _stopping = true;
        _wake?.Signal();
    }

    /// <summary>Waits for the server to end; false if it is still serving after <paramref name="timeout"/>.</summary>
    public bool Wait(TimeSpan timeout) => _completion.Task.Wait(timeout);

    /// <summary>Stops the workers, waits for them, and closes the descriptors (which ends the FUSE connection).</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        Stop();
        // Only the threads that started: one whose start failed cannot be joined.
        foreach (Thread t in _threads.Take(Volatile.Read(ref _started)))
        {
            t.Join();
        }
        foreach (IFuseChannel c in _channels)
        {
            c.Dispose();
        }
        _wake?.Dispose();
        _session.Failures.Flush();
    }

    internal FuseSession Session => _session;

    internal long CountOf(FuseOpcode opcode) => _workers.Sum(w => w.CountOf(opcode));

    internal int LargestRead => _workers.Max(w => w.LargestRead);

    private void Work(int index)
    {
        IFuseChannel channel = _channels[index];
        FuseWorkerState state = _workers[index];
        FuseServerExit exit = FuseServerExit.Stopped;
        try
        {
            while (!_stopping)
            {
                int n = channel.Receive(state.Request);
                if (n == 0)
                {
                    exit = channel.Ended;
                    break;
                }
                int length = _session.Handle(state.Request.AsSpan(0, n), state);
                if (length > 0)
                {
                    channel.Send(state.Reply.AsSpan(0, length));
                }
            }
        }
        catch (Exception e)
        {
            exit = FuseServerExit.Failed;
            lock (_threads)
            {
                Failure ??= e;
            }
        }
        if (exit == FuseServerExit.Unmounted)
        {
            Interlocked.Exchange(ref _unmounted, 1);
        }
        if (exit != FuseServerExit.Stopped || _stopping)
        {
            // One worker's end is everyone's: the others would see the same unmount, or serve on without a partner.
            Stop();
        }
        if (Interlocked.Decrement(ref _running) == 0)
        {
            FuseServerExit result = Failure is not null ? FuseServerExit.Failed
                : Volatile.Read(ref _unmounted) != 0 ? FuseServerExit.Unmounted
                : FuseServerExit.Stopped;
            if (Failure is not null)
            {
                Log.Warning($"{_session.Failures.ImageName}: serving stopped: {Failure.Message}");
            }
            _completion.TrySetResult(result);
        }
    }
}

using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Burrow.Core.Diagnostics;
using Burrow.Core.Runtime.Launch;
using Burrow.Core.Runtime.Serving;
using Burrow.Core.Squashfs;
using Burrow.Linux;
using Microsoft.Win32.SafeHandles;

namespace Burrow.Core.Runtime.Sharing;

/// <summary>
/// <c>burrow __image-server JOB_FD READY_FD</c>: one user's server for one image and identity (docs/ARCHITECTURE.md,
/// "One server per image"). It mounts the image in a user and mount namespace of its own (the holder), serves it,
/// and takes the engines of the containers that use it on a socket in its 0700 directory; each engine stays
/// connected for its container's life, and when the last one goes the server exits, the holder with it.
/// </summary>
public static class SharedImageServer
{
    public const string Command = "__image-server";

    /// <summary>How long a server started for a container waits for its first connection before it gives up.</summary>
    private static readonly TimeSpan FirstClientTimeout = TimeSpan.FromSeconds(30);

    private static readonly TimeSpan HolderTimeout = TimeSpan.FromSeconds(60);

    public static int Run(string[] args)
    {
        if (args.Length != 2 || !int.TryParse(args[0], CultureInfo.InvariantCulture, out int jobFd)
            || !int.TryParse(args[1], CultureInfo.InvariantCulture, out int readyFd))
        {
            Log.Failure("__image-server is started by burrow, not by hand");
            return ExitCodes.Usage;
        }
        ProcessSecurity.NewSession(); // no terminal's signals: it serves containers of other sessions too
        using SafeFileHandle ready = FileDescriptors.Own(readyFd);
        FileDescriptors.SetCloseOnExec(readyFd, true);
        try
        {
            SharedServerJob job;
            using (SafeFileHandle handle = FileDescriptors.Own(jobFd))
            {
                job = JsonSerializer.Deserialize(FileDescriptors.ReadAll(handle, 1 << 20, "the image server's job"), SharingJsonContext.Default.SharedServerJob)
                    ?? throw new BurrowException("the image server's job is empty");
            }
            Log.Level = (LogLevel)job.LogLevel;
            return Serve(job, ready);
        }
        catch (Exception e) when (e is BurrowException or LinuxException or IOException or JsonException or SocketException or UnauthorizedAccessException)
        {
            Report(ready, "error: " + e.Message);
            Log.Failure(e.Message);
            return ExitCodes.Failure;
        }
    }

    private static int Serve(SharedServerJob job, SafeFileHandle ready)
    {
        SafeFileHandle file = File.OpenHandle(job.Image, FileMode.Open, FileAccess.Read, FileShare.Read);
        if (SharedImageKey.Fingerprint(FileStatus.Of(file, job.Image)) != job.Fingerprint)
        {
            throw new BurrowException($"the image {job.Image} changed since the container's engine opened it");
        }
        SquashfsImage image = SquashfsImage.Open(file, job.Offset, job.Length, job.Image);
        var server = new FileSystemServer(new SquashfsFileSystem(image, ownsImage: true), job.Image);
        string mountPoint = Path.Combine(job.Directory, "image");
        Directory.CreateDirectory(mountPoint);

        var clients = new Clients(job.Directory);
        JoinTarget? holder = null;
        Exception? holderFailure = null;
        using var mounted = new ManualResetEventSlim();
        var holding = new Thread(() =>
        {
            try
            {
                ContainerLauncher.Hold(job.Identity, server, new HolderJob(job.Image, mountPoint), RuntimePaths.FromProcess(), starter =>
                {
                    holder = JoinTarget.FindPayload(starter, init: false);
                    mounted.Set();
                });
                holderFailure ??= new BurrowException("the image server's holder ended");
            }
            catch (Exception e) when (e is BurrowException or LinuxException or IOException)
            {
                holderFailure = e;
            }
            mounted.Set();
            if (clients.EverServed)
            {
                // Every container of the image now reads EIO/ENOTCONN; their engines see this process go and say so.
                Log.Failure("the shared image server's holder ended: " + holderFailure.Message);
                Environment.Exit(ExitCodes.Failure);
            }
        }) { IsBackground = true, Name = "holder" };
        holding.Start();
        if (!mounted.Wait(HolderTimeout) || holder is null)
        {
            throw holderFailure as BurrowException ?? new BurrowException("the image server's holder did not mount the image: " + (holderFailure?.Message ?? "timed out"));
        }

        using Socket listener = clients.Listen();
        string greeting = string.Create(CultureInfo.InvariantCulture, $"READY {holder.Pid} {holder.StartTime} {mountPoint}\n");
        Report(ready, "ready");
        ready.Dispose();
        var idle = new Timer(_ => clients.ExitIfUnused(listener), null, FirstClientTimeout, Timeout.InfiniteTimeSpan);
        for (;;)
        {
            Socket client = listener.Accept();
            clients.Serve(client, greeting, listener);
            GC.KeepAlive(idle);
        }
    }

    private static void Report(SafeFileHandle ready, string text)
    {
        try
        {
            FileDescriptors.WriteAll(ready, Encoding.UTF8.GetBytes(text + "\n"));
        }
        catch (Exception e) when (e is LinuxException or IOException or ObjectDisposedException)
        {
            // The engine that started us is gone; it learns nothing more.
        }
    }

    private static void TryRemoveDirectory(string path)
    {
        try
        {
            Directory.Delete(path);
        }
        catch (IOException)
        {
            // not empty (a file someone else put there): left as it is
        }
    }

    /// <summary>The connected engines: counted, each watched by a thread that notices when it goes.</summary>
    private sealed class Clients(string directory)
    {
        private int _count;

        public bool EverServed { get; private set; }

        public string SocketPath => Path.Combine(directory, SharedImageLease.SocketName);

        public Socket Listen()
        {
            var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            File.Delete(SocketPath);
            listener.Bind(new UnixDomainSocketEndPoint(SocketPath));
            listener.Listen(64);
            return listener;
        }

        public void Serve(Socket client, string greeting, Socket listener)
        {
            if (SharedImageLease.PeerUid(client) != ProcessSecurity.Uid)
            {
                client.Dispose(); // the directory is 0700, so this is not expected; never serve another user
                return;
            }
            Interlocked.Increment(ref _count);
            EverServed = true;
            try
            {
                client.Send(Encoding.UTF8.GetBytes(greeting));
            }
            catch (SocketException)
            {
            }
            new Thread(() =>
            {
                var buffer = new byte[64];
                try
                {
                    while (client.Receive(buffer) > 0)
                    {
                    }
                }
                catch (SocketException)
                {
                }
                client.Dispose();
                if (Interlocked.Decrement(ref _count) == 0)
                {
                    ExitIfUnused(listener);
                }
            }) { IsBackground = true, Name = "client" }.Start();
        }

        /// <summary>
        /// Under the directory's lock, which an engine holds from its connect to the greeting: no engine is between the
        /// two, so none is left connecting to a server that is going away.
        /// </summary>
        public void ExitIfUnused(Socket listener)
        {
            using SafeFileHandle lockFile = SharedImageLease.OpenLock(directory);
            FileDescriptors.LockExclusive(lockFile, directory);
            if (Volatile.Read(ref _count) == 0 && !listener.Poll(0, SelectMode.SelectRead))
            {
                // Nothing of it stays behind (a cluster user runs a new step, and so a new key, with every job). The lock
                // file goes last, still locked: an engine waiting for it finds it gone and starts over.
                File.Delete(SocketPath);
                File.Delete(Path.Combine(directory, "log"));
                TryRemoveDirectory(Path.Combine(directory, "image"));
                File.Delete(Path.Combine(directory, "lock"));
                TryRemoveDirectory(directory);
                Environment.Exit(ExitCodes.Success);
            }
        }
    }
}

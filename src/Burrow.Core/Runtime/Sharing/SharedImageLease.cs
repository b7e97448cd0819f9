using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Burrow.Core.Diagnostics;
using Burrow.Core.Files;
using Burrow.Core.Runtime.Launch;
using Burrow.Linux;
using Microsoft.Win32.SafeHandles;

namespace Burrow.Core.Runtime.Sharing;

/// <summary>
/// A container's use of the caller's shared server for its image: joins the running one, or starts it. Held for the
/// container's life (the connection is what the server counts); <see cref="HolderDirectory"/> is /proc/PID of the
/// holder whose namespaces the starter joins, <see cref="MountPoint"/> where the image is mounted in them.
/// </summary>
public sealed class SharedImageLease : IDisposable
{
    internal const string SocketName = "sock";

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan GreetingTimeout = TimeSpan.FromSeconds(15);

    private readonly Socket _connection;
    private Thread? _watch;
    private volatile bool _closing;

    private SharedImageLease(Socket connection, SafeFileHandle holderDirectory, string mountPoint, bool started)
    {
        _connection = connection;
        HolderDirectory = holderDirectory;
        MountPoint = mountPoint;
        Started = started;
    }

    public SafeFileHandle HolderDirectory { get; }

    public string MountPoint { get; }

    /// <summary>True when this container started the server; false when it joined one that ran already.</summary>
    public bool Started { get; }

    /// <summary>True once the server went away while the container still used it.</summary>
    public bool Lost { get; private set; }

    /// <summary>Joins or starts the server for this plan's image and identity.</summary>
    public static SharedImageLease Acquire(LaunchPlan plan, RuntimePaths paths)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(paths);
        var key = SharedImageKey.For(plan.Root, plan.Identity, ProcessSecurity.Uid, Environment.GetEnvironmentVariable);
        string servers = Path.Combine(SessionDirectory.BaseDirectory(), "servers");
        const string hint = "set XDG_RUNTIME_DIR or BURROW_CACHEDIR to a directory of your own, or run with --no-share";
        string directory = Path.Combine(servers, key.DirectoryName);
        if (Encoding.UTF8.GetByteCount(Path.Combine(directory, SocketName)) > 100)
        {
            throw new BurrowException($"the image server's socket path under {servers} is too long for a socket", hint);
        }
        // A server that exits removes its directory, lock file included, under that lock: whoever waited for the lock
        // then holds a file no longer there, and starts over.
        for (int attempt = 1; ; attempt++)
        {
            using (DirectoryHandle parent = TrustedDirectory.Ensure(servers, "the image servers' directory", hint))
            {
                TrustedDirectory.EnsureChild(parent, key.DirectoryName, "the image server's directory", hint).Dispose();
            }
            SafeFileHandle lockFile;
            try
            {
                lockFile = OpenLock(directory);
            }
            catch (IOException) when (attempt < MaxAttempts)
            {
                continue; // removed between the mkdir and the open
            }
            using (lockFile)
            {
                FileDescriptors.LockExclusive(lockFile, directory);
                if (!IsAtPath(lockFile, Path.Combine(directory, "lock")))
                {
                    if (attempt < MaxAttempts)
                    {
                        continue;
                    }
                    throw new BurrowException($"the image server's directory {directory} keeps going away", hint);
                }
                if (TryConnect(directory, started: false) is { } joined)
                {
                    return joined;
                }
                Start(plan, directory);
                return TryConnect(directory, started: true)
                    ?? throw new BurrowException($"the image server for {plan.Root.HostPath} started, but does not answer", $"see its log, {Path.Combine(directory, "log")}");
            }
        }
    }

    private const int MaxAttempts = 5;

    private static bool IsAtPath(SafeFileHandle fd, string path) =>
        FileStatus.Of(fd, path) is var held && FileStatus.OfPath(path, followSymlinks: false) is { } now
        && now.Inode == held.Inode && now.DeviceMajor == held.DeviceMajor && now.DeviceMinor == held.DeviceMinor;

    /// <summary>Watches the connection from now on: the server's end means its image is gone for the container.</summary>
    public void Watch(string image)
    {
        _watch = new Thread(() =>
        {
            var buffer = new byte[64];
            try
            {
                while (_connection.Receive(buffer) > 0)
                {
                }
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
            }
            if (!_closing)
            {
                Lost = true;
                Log.Failure($"the image server for {image} ended while the container ran: its reads of the image fail from now on (ENOTCONN)");
            }
        }) { IsBackground = true, Name = "image server watch" };
        _watch.Start();
    }

    public void Dispose()
    {
        _closing = true;
        _connection.Dispose();
        HolderDirectory.Dispose();
    }

    /// <summary>The directory's lock file, opened without .NET's own FileShare locking (an flock of its own, which would clash with ours).</summary>
    internal static SafeFileHandle OpenLock(string directory)
    {
        string path = Path.Combine(directory, "lock");
        CreatePrivate(path);
        return FileDescriptors.OpenNoFollow(path, writable: false);
    }

    /// <summary>The new server's log, made afresh (0600, O_EXCL): whatever was at the path, a symlink included, is gone.</summary>
    private static FileStream NewLog(string path)
    {
        File.Delete(path);
        return Images.PrivateFiles.CreateFile(path);
    }

    private static void CreatePrivate(string path)
    {
        if (!File.Exists(path))
        {
            try
            {
                Images.PrivateFiles.CreateFile(path).Dispose();
            }
            catch (IOException) when (File.Exists(path))
            {
                // another engine made it first
            }
        }
    }

    /// <summary>SO_PEERCRED's uid: the peer's, as the kernel saw it at connect.</summary>
    internal static uint PeerUid(Socket socket)
    {
        const int SolSocket = 1, SoPeerCred = 17;
        var cred = new byte[12]; // struct ucred: pid, uid, gid
        return socket.GetRawSocketOption(SolSocket, SoPeerCred, cred) == cred.Length ? BitConverter.ToUInt32(cred, 4) : uint.MaxValue;
    }

    private static SharedImageLease? TryConnect(string directory, bool started)
    {
        string path = Path.Combine(directory, SocketName);
        if (!File.Exists(path))
        {
            return null;
        }
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Connect(new UnixDomainSocketEndPoint(path));
            if (PeerUid(socket) != ProcessSecurity.Uid)
            {
                throw new BurrowException($"the image server socket {path} belongs to another user", "remove it; the directory it is in should be yours alone");
            }
            socket.ReceiveTimeout = (int)GreetingTimeout.TotalMilliseconds;
            string? greeting = ReadLine(socket);
            socket.ReceiveTimeout = 0;
            string[] f = greeting?.Split(' ', 4) ?? [];
            if (f.Length != 4 || f[0] != "READY" || !int.TryParse(f[1], CultureInfo.InvariantCulture, out int pid)
                || !ulong.TryParse(f[2], CultureInfo.InvariantCulture, out ulong startTime))
            {
                socket.Dispose();
                return null; // a server on its way out: start another
            }
            SafeFileHandle holder = new JoinTarget(pid, startTime).Open();
            return new SharedImageLease(socket, holder, f[3], started);
        }
        catch (SocketException)
        {
            socket.Dispose();
            File.Delete(path); // a dead server's socket
            return null;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private static string? ReadLine(Socket socket)
    {
        var bytes = new List<byte>();
        var one = new byte[1];
        while (bytes.Count < 4096 && socket.Receive(one) == 1)
        {
            if (one[0] == (byte)'\n')
            {
                return Encoding.UTF8.GetString([.. bytes]);
            }
            bytes.Add(one[0]);
        }
        return null;
    }

    /// <summary>Starts <c>burrow __image-server</c> detached and waits until it serves (or says why not).</summary>
    private static void Start(LaunchPlan plan, string directory)
    {
        FileStatus st = FileStatus.OfPathOrError(plan.Root.HostPath);
        SquashfsLocation where = plan.Root.Squashfs ?? new SquashfsLocation(0, st.Size);
        var job = new SharedServerJob(directory, plan.Root.HostPath, where.Offset, where.Length, SharedImageKey.Fingerprint(st), plan.Identity, (int)Log.Level);
        byte[] bytes = JsonSerializer.SerializeToUtf8Bytes(job, SharingJsonContext.Default.SharedServerJob);
        using SafeFileHandle jobFd = FileDescriptors.MemoryFile("burrow-image-server", bytes);
        (SafeFileHandle readEnd, SafeFileHandle writeEnd) = FileDescriptors.Pipe();
        using (readEnd)
        {
            using (writeEnd)
            using (SafeFileHandle nothing = File.OpenHandle("/dev/null", FileMode.Open, FileAccess.ReadWrite))
            using (FileStream log = NewLog(Path.Combine(directory, "log")))
            {
                int jobNumber = (int)jobFd.DangerousGetHandle(), readyNumber = (int)writeEnd.DangerousGetHandle();
                string self = RuntimePaths.FromProcess().Self;
                string[] env = Environment.GetEnvironmentVariables().Keys.Cast<string>()
                    .Select(k => k + "=" + Environment.GetEnvironmentVariable(k)).ToArray();
                // Its own stdin and stdout: a caller reading the container's output (srun, a pipe) must not wait for the server.
                Processes.Spawn(self, [self, SharedImageServer.Command, jobNumber.ToString(CultureInfo.InvariantCulture), readyNumber.ToString(CultureInfo.InvariantCulture)],
                    env, [jobNumber, readyNumber], [((int)nothing.DangerousGetHandle(), 0), ((int)nothing.DangerousGetHandle(), 1), ((int)log.SafeFileHandle.DangerousGetHandle(), 2)]);
            }
            if (!FileDescriptors.WaitReadable(readEnd, StartTimeout))
            {
                throw new BurrowException($"the image server for {plan.Root.HostPath} did not start within {StartTimeout.TotalSeconds:0} s", $"see its log, {Path.Combine(directory, "log")}");
            }
            string answer = Encoding.UTF8.GetString(FileDescriptors.ReadAll(readEnd, 8192, "the image server's answer")).Trim();
            if (answer != "ready")
            {
                throw new BurrowException($"cannot start the image server for {plan.Root.HostPath}: "
                    + (answer.StartsWith("error: ", StringComparison.Ordinal) ? answer[7..] : answer.Length == 0 ? "it ended without a word" : answer),
                    $"see its log, {Path.Combine(directory, "log")}; --no-share serves the image from this container's own burrow");
            }
        }
    }
}

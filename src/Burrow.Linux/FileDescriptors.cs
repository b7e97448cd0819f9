using System.Text;
using Burrow.Linux.Interop;
using Microsoft.Win32.SafeHandles;

namespace Burrow.Linux;

/// <summary>Descriptor plumbing: memfds, socket pairs, close-on-exec, whole reads and writes.</summary>
public static class FileDescriptors
{
    public static SafeFileHandle Own(int fd) => new((IntPtr)fd, ownsHandle: true);

    /// <summary>An O_PATH descriptor for a host path Burrow itself created (the final symlink is not followed).</summary>
    public static SafeFileHandle OpenPath(string hostPath) =>
        Own(Errno.Check(Sys.OpenAt(Sys.AT_FDCWD, hostPath, Sys.O_PATH | Sys.O_NOFOLLOW | Sys.O_CLOEXEC, 0), "open", hostPath));

    /// <summary>
    /// The path the kernel gives an open descriptor now (<c>/proc/self/fd/N</c>): absolute, with every symlink resolved,
    /// and following a rename. A file deleted since it was opened has " (deleted)" appended, as the kernel says.
    /// </summary>
    public static string PathOf(SafeFileHandle fd) =>
        new FileInfo("/proc/self/fd/" + fd.DangerousGetHandle().ToString(System.Globalization.CultureInfo.InvariantCulture)).LinkTarget
        ?? throw new LinuxException(Errno.EBADF, "readlink /proc/self/fd", "descriptor");

    /// <summary>
    /// Opens a regular file for reading (and writing) without following a symlink at its last component: a link
    /// there fails with ELOOP, so that a write can never be redirected to another file.
    /// </summary>
    public static SafeFileHandle OpenNoFollow(string path, bool writable) =>
        Own(Errno.Check(Sys.OpenAt(Sys.AT_FDCWD, path, (writable ? Sys.O_RDWR : Sys.O_RDONLY) | Sys.O_NOFOLLOW | Sys.O_CLOEXEC, 0), "open", path));

    /// <summary>realpath(3) done by the kernel: what <paramref name="path"/> leads to now, or null if nothing is there.</summary>
    public static string? RealPath(string path)
    {
        int fd = Sys.OpenAt(Sys.AT_FDCWD, path, Sys.O_PATH | Sys.O_CLOEXEC, 0);
        if (fd < 0)
        {
            int e = Errno.Last;
            return e is Errno.ENOENT or Errno.ENOTDIR ? null : throw new LinuxException(e, "open", path);
        }
        using SafeFileHandle handle = Own(fd);
        return PathOf(handle);
    }

    /// <summary>
    /// Makes sure descriptors 0, 1 and 2 are open, putting /dev/null where one is closed, so that no file Burrow
    /// opens later lands on a standard descriptor (and is written to as output, or passed to a payload). One that is
    /// close-on-exec was not inherited (execve would have closed it): the runtime opened it before Main, because the
    /// standard one was closed (NativeAOT keeps /dev/urandom open), so it counts as closed too and is left alone.
    /// </summary>
    /// <returns>For each of 0, 1, 2: whether it was closed when the process started.</returns>
    public static bool[] EnsureStandardDescriptors()
    {
        var closed = new bool[3];
        for (int fd = 0; fd < 3; fd++)
        {
            int flags = Sys.Fcntl(fd, Sys.F_GETFD, 0);
            if (flags >= 0)
            {
                closed[fd] = (flags & Sys.FD_CLOEXEC) != 0;
                continue;
            }
            if (Errno.Last != Errno.EBADF)
            {
                continue;
            }
            closed[fd] = true;
            // The lowest free descriptor is this one, since the ones below it are open by now. Not close-on-exec:
            // children (tar2sqfs, the starter) must get an open descriptor there too.
            int got = Sys.OpenAt(Sys.AT_FDCWD, "/dev/null", Sys.O_RDWR | Sys.O_NOCTTY, 0);
            if (got >= 0 && got != fd)
            {
                Sys.Close(got);
            }
        }
        return closed;
    }

    /// <summary>Writes all of <paramref name="data"/> to a descriptor that is not owned (e.g. 1), retrying EINTR.</summary>
    public static void WriteAll(int fd, ReadOnlySpan<byte> data)
    {
        using var handle = new SafeFileHandle(fd, ownsHandle: false);
        WriteAll(handle, data);
    }

    /// <summary>An anonymous in-memory file holding <paramref name="content"/>, positioned at the start.</summary>
    public static SafeFileHandle MemoryFile(string name, ReadOnlySpan<byte> content)
    {
        SafeFileHandle fd = Own(Errno.Check(Sys.MemfdCreate(name, Sys.MFD_CLOEXEC), "memfd_create", name));
        WriteAll(fd, content);
        Errno.Check(Sys.Lseek((int)fd.DangerousGetHandle(), 0, 0), "lseek", name);
        return fd;
    }

    /// <summary>Takes an exclusive flock on <paramref name="fd"/>, waiting for it; released when the descriptor closes.</summary>
    public static void LockExclusive(SafeFileHandle fd, string what)
    {
        while (Sys.Flock((int)fd.DangerousGetHandle(), Sys.LOCK_EX) != 0)
        {
            if (Errno.Last != Errno.EINTR)
            {
                throw new LinuxException(Errno.Last, "flock", what);
            }
        }
    }

    /// <summary>A connected AF_UNIX SOCK_SEQPACKET pair (message boundaries kept), both close-on-exec.</summary>
    public static unsafe (SafeFileHandle, SafeFileHandle) SeqPacketPair()
    {
        int* fds = stackalloc int[2];
        Errno.Check(Sys.Socketpair(Sys.AF_UNIX, Sys.SOCK_SEQPACKET | Sys.SOCK_CLOEXEC, 0, fds), "socketpair");
        return (Own(fds[0]), Own(fds[1]));
    }

    /// <summary>A second descriptor for the same open file (F_DUPFD_CLOEXEC), owned separately.</summary>
    public static SafeFileHandle Duplicate(SafeFileHandle fd) =>
        Own(Errno.Check(Sys.Fcntl((int)fd.DangerousGetHandle(), Sys.F_DUPFD_CLOEXEC, 3), "fcntl (dup)"));

    /// <summary>
    /// Opens for reading the very inode an O_PATH descriptor holds (through /proc/self/fd), after checking that it
    /// is a regular file: never a FIFO or a device an image planted.
    /// </summary>
    public static SafeFileHandle OpenReadable(SafeFileHandle pathHandle, string what)
    {
        FileStatus st = FileStatus.Of(pathHandle, what);
        if (st.Kind != FileKind.Regular)
        {
            throw new NotRegularFileException(what, st.Kind);
        }
        string proc = "/proc/self/fd/" + ((int)pathHandle.DangerousGetHandle()).ToString(System.Globalization.CultureInfo.InvariantCulture);
        return Own(Errno.Check(Sys.OpenAt(Sys.AT_FDCWD, proc, Sys.O_RDONLY | Sys.O_CLOEXEC | Sys.O_NOCTTY, 0), "open", what));
    }

    /// <summary>fchmod: the exact mode, whatever the umask was when the file was made.</summary>
    public static void SetMode(SafeFileHandle fd, int mode) => Errno.Check(Sys.Fchmod((int)fd.DangerousGetHandle(), mode), "chmod");

    /// <summary>A pipe, both ends close-on-exec: (read end, write end).</summary>
    public static unsafe (SafeFileHandle Read, SafeFileHandle Write) Pipe()
    {
        int* fds = stackalloc int[2];
        Errno.Check(Sys.Pipe2(fds, Sys.O_CLOEXEC), "pipe2");
        return (Own(fds[0]), Own(fds[1]));
    }

    /// <summary>Waits until <paramref name="fd"/> can be read (or its writers are gone); false when the time ran out.</summary>
    public static unsafe bool WaitReadable(SafeFileHandle fd, TimeSpan timeout)
    {
        var p = new Sys.PollFd { Fd = (int)fd.DangerousGetHandle(), Events = Sys.POLLIN };
        long deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        while (true)
        {
            int left = (int)Math.Max(0, deadline - Environment.TickCount64);
            int r = Sys.Poll(&p, 1, left);
            if (r >= 0)
            {
                return r > 0;
            }
            if (Errno.Last != Errno.EINTR)
            {
                throw new LinuxException(Errno.Last, "poll", null);
            }
        }
    }

    public static void SetCloseOnExec(int fd, bool value)
    {
        int flags = Errno.Check(Sys.Fcntl(fd, Sys.F_GETFD, 0), "fcntl(F_GETFD)");
        flags = value ? flags | Sys.FD_CLOEXEC : flags & ~Sys.FD_CLOEXEC;
        Errno.Check(Sys.Fcntl(fd, Sys.F_SETFD, flags), "fcntl(F_SETFD)");
    }

    /// <summary>Marks every descriptor from <paramref name="first"/> up close-on-exec except <paramref name="keep"/>.</summary>
    public static void CloseOnExecFrom(int first, IReadOnlyCollection<int> keep)
    {
        int start = first;
        foreach (int k in keep.Where(k => k >= first).Order())
        {
            if (k > start)
            {
                Errno.Check(Sys.CloseRange((uint)start, (uint)(k - 1), Sys.CLOSE_RANGE_CLOEXEC), "close_range");
            }
            start = k + 1;
        }
        Errno.Check(Sys.CloseRange((uint)start, uint.MaxValue, Sys.CLOSE_RANGE_CLOEXEC), "close_range");
        foreach (int k in keep)
        {
            // A descriptor the user passes must reach the payload even if it was opened close-on-exec.
            try { SetCloseOnExec(k, false); } catch (LinuxException e) when (e.Errno == Errno.EBADF) { }
        }
    }

    public static unsafe void WriteAll(SafeFileHandle fd, ReadOnlySpan<byte> data)
    {
        fixed (byte* p = data)
        {
            int done = 0;
            while (done < data.Length)
            {
                nint n = Sys.Write((int)fd.DangerousGetHandle(), p + done, data.Length - done);
                if (n < 0 && Errno.Last == Errno.EINTR)
                {
                    continue;
                }
                done += (int)Errno.Check((long)n, "write");
            }
        }
    }

    /// <summary>Reads to end of file, up to <paramref name="limit"/> bytes (more is an error).</summary>
    public static unsafe byte[] ReadAll(SafeFileHandle fd, int limit, string what)
    {
        var buffer = new MemoryStream();
        byte* chunk = stackalloc byte[16384];
        while (true)
        {
            nint n = Sys.Read((int)fd.DangerousGetHandle(), chunk, 16384);
            if (n < 0 && Errno.Last == Errno.EINTR)
            {
                continue;
            }
            Errno.Check((long)n, "read", what);
            if (n == 0)
            {
                return buffer.ToArray();
            }
            if (buffer.Length + n > limit)
            {
                throw new InvalidDataException($"{what} is larger than {limit} bytes");
            }
            buffer.Write(new ReadOnlySpan<byte>(chunk, (int)n));
        }
    }

    /// <summary>Sends one packet, with a descriptor attached (SCM_RIGHTS) when one is given; false when the peer has gone.</summary>
    public static unsafe bool SendPacket(SafeFileHandle socket, string message, SafeFileHandle? descriptor = null)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(message);
        byte* control = stackalloc byte[Sys.CmsgSpaceOneFd];
        new Span<byte>(control, Sys.CmsgSpaceOneFd).Clear();
        fixed (byte* p = bytes)
        {
            var iov = new Sys.IoVec { Base = p, Length = (nuint)bytes.Length };
            var header = new Sys.MsgHdr { Iov = &iov, IovLength = 1 };
            if (descriptor is not null)
            {
                var cmsg = (Sys.CmsgHdr*)control;
                cmsg->Length = (nuint)(Sys.CmsgDataOffset + sizeof(int));
                cmsg->Level = Sys.SOL_SOCKET;
                cmsg->Type = Sys.SCM_RIGHTS;
                *(int*)(control + Sys.CmsgDataOffset) = (int)descriptor.DangerousGetHandle();
                header.Control = control;
                header.ControlLength = (nuint)Sys.CmsgSpaceOneFd;
            }
            while (true)
            {
                nint n = Sys.Sendmsg((int)socket.DangerousGetHandle(), &header, Sys.MSG_NOSIGNAL);
                if (n >= 0)
                {
                    return true;
                }
                int e = Errno.Last;
                if (e == Errno.EINTR)
                {
                    continue;
                }
                if (e is 32 /* EPIPE */ or 104 /* ECONNRESET */)
                {
                    return false;
                }
                throw new LinuxException(e, "sendmsg", null);
            }
        }
    }

    /// <summary>Receives one packet that carries no descriptor; null at end of file (every peer descriptor closed).</summary>
    public static string? ReceivePacket(SafeFileHandle socket)
    {
        Packet? packet = ReceivePacketWithDescriptor(socket);
        if (packet?.Descriptor is { } unexpected)
        {
            unexpected.Dispose();
            throw new InvalidDataException($"a descriptor came with the message \"{packet.Value.Text}\", which carries none");
        }
        return packet?.Text;
    }

    /// <summary>
    /// Receives one packet and the descriptor sent with it, if any (close-on-exec); null at end of file. A packet
    /// or a descriptor set that did not fit is an error, never silently cut.
    /// </summary>
    public static unsafe Packet? ReceivePacketWithDescriptor(SafeFileHandle socket)
    {
        const int size = 8192;
        byte* buf = stackalloc byte[size];
        byte* control = stackalloc byte[Sys.CmsgSpaceOneFd];
        while (true)
        {
            new Span<byte>(control, Sys.CmsgSpaceOneFd).Clear();
            var iov = new Sys.IoVec { Base = buf, Length = size };
            var header = new Sys.MsgHdr { Iov = &iov, IovLength = 1, Control = control, ControlLength = (nuint)Sys.CmsgSpaceOneFd };
            nint n = Sys.Recvmsg((int)socket.DangerousGetHandle(), &header, Sys.MSG_CMSG_CLOEXEC);
            if (n < 0 && Errno.Last == Errno.EINTR)
            {
                continue;
            }
            Errno.Check((long)n, "recvmsg");
            SafeFileHandle? descriptor = null;
            var cmsg = (Sys.CmsgHdr*)control;
            if (header.ControlLength >= (nuint)(Sys.CmsgDataOffset + sizeof(int)) && cmsg->Level == Sys.SOL_SOCKET && cmsg->Type == Sys.SCM_RIGHTS)
            {
                descriptor = Own(*(int*)(control + Sys.CmsgDataOffset));
            }
            if ((header.Flags & (Sys.MSG_CTRUNC | 0x20 /* MSG_TRUNC */)) != 0)
            {
                descriptor?.Dispose();
                throw new InvalidDataException("a message on the starter socket was larger than expected or carried more than one descriptor");
            }
            if (n == 0 && descriptor is null)
            {
                return null;
            }
            return new Packet(Encoding.UTF8.GetString(buf, (int)n), descriptor);
        }
    }
}

/// <summary>One SOCK_SEQPACKET message and the descriptor that came with it, which the receiver then owns.</summary>
public readonly record struct Packet(string Text, SafeFileHandle? Descriptor);

#!/usr/bin/python3
# Run by FuseMountTests under `unshare --user --map-root-user --mount` (as an unprivileged user): opens /dev/fuse
# inside the new user namespace, mounts "fuse" with the options the server's FuseMount gives (new mount API:
# fsopen/fsconfig/fsmount/move_mount), hands the descriptor to the test over a unix socket (SCM_RIGHTS), then looks
# at the mount as a container would and prints what it saw as JSON. Standard library only.
import ctypes, errno, hashlib, json, mmap, os, socket, sys, tempfile, threading

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
SYS_move_mount, SYS_fsopen, SYS_fsconfig, SYS_fsmount = 429, 430, 431, 432


def check(result, what):
    if result < 0:
        e = ctypes.get_errno()
        raise OSError(e, f"{what}: {os.strerror(e)}")
    return result


def errno_of(action):
    try:
        action()
        return 0
    except OSError as e:
        return e.errno


def mount(spec, target):
    fs = check(libc.syscall(SYS_fsopen, b"fuse", 1), "fsopen fuse")
    for key, value in spec["options"]:
        if value is None:
            check(libc.syscall(SYS_fsconfig, fs, 0, key.encode(), None, 0), "fsconfig " + key)
        else:
            check(libc.syscall(SYS_fsconfig, fs, 1, key.encode(), value.encode(), 0), f"fsconfig {key}={value}")
    check(libc.syscall(SYS_fsconfig, fs, 6, None, None, 0), "fsconfig create")
    m = check(libc.syscall(SYS_fsmount, fs, 1, ctypes.c_uint(spec["attributes"])), "fsmount")
    check(libc.syscall(SYS_move_mount, m, b"", -100, target.encode(), 4), "move_mount")
    os.close(m)
    os.close(fs)


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def main():
    sock_path, spec_path = sys.argv[1], sys.argv[2]
    spec = json.load(open(spec_path))
    fd = os.open("/dev/fuse", os.O_RDWR | os.O_CLOEXEC)
    os.dup2(fd, spec["fd"], inheritable=False)
    os.close(fd)
    fd = spec["fd"]
    mnt = tempfile.mkdtemp(prefix="burrow-fuse-mnt-")
    mount(spec, mnt)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sock_path)
    socket.send_fds(s, [b"mounted"], [fd])
    os.close(fd)
    p = lambda rel: os.path.join(mnt, rel)
    out = {}

    if spec["mode"] == "hold":
        # Anything touching the mount waits for INIT: this stat proves the server answers, then the test stops it.
        out["root_is_dir"] = os.path.isdir(mnt)
        print(json.dumps(out), flush=True)
        sys.stdin.readline()
        out["after_stop"] = errno_of(lambda: os.stat(p("etc")))
        print(json.dumps(out), flush=True)
        return

    st = os.stat(mnt)
    out["root_mode"] = st.st_mode
    out["root_listing"] = sorted(os.listdir(mnt))
    out["owners"] = {rel: [os.lstat(p(rel)).st_uid, os.lstat(p(rel)).st_gid] for rel in spec["owners"]}
    out["many_count"] = len(os.listdir(p("many")))
    out["scandir_types"] = sorted({e.is_file() for e in os.scandir(p("many"))})

    bad = []
    for rel, (size, digest) in spec["files"].items():
        with open(p(rel), "rb") as f:
            data = f.read()
        if len(data) != size or hashlib.sha256(data).hexdigest() != digest:
            bad.append(rel)
            continue
        if size > 2:
            g = os.open(p(rel), os.O_RDONLY)
            for off in (1, size // 3, size - 1):
                if os.pread(g, 777, off) != data[off:off + 777]:
                    bad.append(f"{rel}@{off}")
            os.close(g)
    out["bad_files"] = bad

    # Many concurrent readers (the GIL is released while reading).
    failures = []
    def reader(k):
        for rel, (size, digest) in list(spec["files"].items())[k::3] * 3:
            if sha(p(rel)) != digest:
                failures.append(rel)
    threads = [threading.Thread(target=reader, args=(k % 3,)) for k in range(12)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    out["concurrent_failures"] = len(failures)

    # A big file in 1 MiB chunks, buffered and then with O_DIRECT (which sends READs as large as max_pages allows).
    big, (big_size, big_digest) = spec["big"]
    h = hashlib.sha256()
    with open(p(big), "rb", buffering=0) as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    out["big_ok"] = h.hexdigest() == big_digest
    g = os.open(p(big), os.O_RDONLY | os.O_DIRECT)
    buf = mmap.mmap(-1, 1 << 20)
    h = hashlib.sha256()
    offset = 0
    while (n := os.preadv(g, [buf], offset)) > 0:
        h.update(buf[:n])
        offset += n
    os.close(g)
    out["big_direct_ok"] = h.hexdigest() == big_digest

    out["readlink"] = os.readlink(p(spec["link"][0]))
    xf = p(spec["xattr"][0])
    out["listxattr"] = sorted(os.listxattr(xf))
    out["getxattr"] = os.getxattr(xf, spec["xattr"][1]).decode()
    name = spec["xattr"][1].encode()
    out["getxattr_probe"] = libc.getxattr(xf.encode(), name, None, 0)
    small = ctypes.create_string_buffer(1)
    out["getxattr_small"] = errno.errorcode.get(0 if libc.getxattr(xf.encode(), name, small, 1) >= 0 else ctypes.get_errno())
    out["getxattr_missing"] = errno.errorcode.get(errno_of(lambda: os.getxattr(xf, "user.absent")))
    out["listxattr_probe"] = libc.listxattr(xf.encode(), None, 0)

    out["missing"] = errno.errorcode.get(errno_of(lambda: os.stat(p("no-such-file"))))
    out["write_open"] = errno.errorcode.get(errno_of(lambda: os.open(p(spec["owners"][0]), os.O_WRONLY)))
    out["mkdir"] = errno.errorcode.get(errno_of(lambda: os.mkdir(p("newdir"))))
    out["chmod"] = errno.errorcode.get(errno_of(lambda: os.chmod(p(spec["owners"][0]), 0o777)))
    sv = os.statvfs(mnt)
    out["statvfs"] = [sv.f_bsize, sv.f_blocks, sv.f_files, sv.f_namemax]
    for line in open("/proc/self/mountinfo"):
        f = line.split()
        if f[4] == mnt:
            sep = f.index("-")
            out["mountinfo"] = {"options": f[5], "type": f[sep + 1], "source": f[sep + 2], "super": f[sep + 3]}
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()

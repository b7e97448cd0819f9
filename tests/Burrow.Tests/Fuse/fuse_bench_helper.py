#!/usr/bin/python3
# Run by FuseBenchmark (bench/fuse/run.sh) under `unshare --user --map-root-user --mount` as an unprivileged user:
# times `tar` over a tree of small files (lstat, open, read, close for each; readdir for each directory) on the host
# disk, through Burrow's server (descriptor passed to the test process, which serves it), and through Debian's
# squashfuse_ll on a squashfs of the same tree. Cold = the first pass after a fresh mount (host disk: after the test
# dropped the page cache); warm = the median of the passes after it. Prints one JSON line.
import json, os, socket, statistics, subprocess, sys, tempfile, time

from fuse_mount_helper import mount


def tar_pass(root, readers):
    halves = ["a", "b"]
    groups = [halves] if readers == 1 else [[h] for h in halves]
    start = time.perf_counter()
    procs = [subprocess.Popen(["sh", "-c", 'tar -C "$0" -cf - "$@" | cat > /dev/null', root, *g]) for g in groups]
    for p in procs:
        if p.wait() != 0:
            raise SystemExit("tar failed")
    return time.perf_counter() - start


def measure(root, spec):
    cold = tar_pass(root, spec["readers"])
    warm = [tar_pass(root, spec["readers"]) for _ in range(spec["warm_runs"])]
    return {"cold": cold, "warm": statistics.median(warm)}


def fresh_fuse(spec):
    fd = os.open("/dev/fuse", os.O_RDWR | os.O_CLOEXEC)
    os.dup2(fd, spec["fd"], inheritable=False)
    os.close(fd)
    mnt = tempfile.mkdtemp(prefix="burrow-fuse-bench-")
    mount(spec, mnt)
    return spec["fd"], mnt


def main():
    sock_path, spec_path = sys.argv[1], sys.argv[2]
    spec = json.load(open(spec_path))
    out = {}
    if "disk" in spec["targets"]:
        out["disk"] = measure(spec["disk"], spec)

    fd, mnt = fresh_fuse(spec)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sock_path)
    socket.send_fds(s, [b"mounted"], [fd])
    os.close(fd)
    out["burrow"] = measure(mnt, spec)

    if "squashfuse" in spec["targets"]:
        subprocess.run(["cat", spec["image"]], stdout=subprocess.DEVNULL, check=True)  # the image in the page cache
        fd, mnt2 = fresh_fuse(spec)
        os.set_inheritable(fd, True)
        sq = subprocess.Popen(["squashfuse_ll", "-f", spec["image"], f"/dev/fd/{fd}"], pass_fds=[fd])
        os.close(fd)
        try:
            out["squashfuse"] = measure(mnt2, spec)
        finally:
            sq.terminate()
            sq.wait()
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()

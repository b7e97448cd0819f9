/*
 * burrow-starter: the small C piece between the engine (multi-threaded .NET, which cannot unshare a
 * user namespace) and the stage (the same .NET binary, run inside the namespaces).
 *
 *   burrow-starter SYNC_FD ENGINE_PID NSFLAGS STAGE_EXE [STAGE_ARGS...]
 *
 * SYNC_FD is one end of an AF_UNIX SOCK_SEQPACKET pair whose other end the engine holds; NSFLAGS is
 * "-" or letters: p (new PID namespace), i (IPC), u (UTS), n (network), t (a tiny init as PID 1),
 * h (a network helper, pasta or slirp4netns, is to be attached to the new network namespace).
 *
 * The protocol (one message per packet, see src/Burrow.Core/Runtime/Launch/StarterProtocol.cs):
 *
 *   starter                                   engine
 *   unshare(CLONE_NEWUSER)
 *   "U"  ---------------------------------->  writes setgroups, gid_map, uid_map (or runs newgidmap/newuidmap)
 *        <----------------------------------  "G" (go) or "X" (abort: the starter exits quietly)
 *   unshare(mount + planned namespaces)
 *   with h: "N" --------------------------->  starts the network helper on /proc/PID/ns/{user,net}
 *        <----------------------------------  "G" once it has configured the namespace, or "X"
 *   fork: the parent stays as the monitor, the child (PID 1 of a new PID namespace, if any)
 *   either becomes the tiny init (which forks again) or execs the stage directly; the stage keeps
 *   the capabilities of the user namespace across exec through the ambient set.
 *   any failure: "E<errno>\t<what>" ------>   reported as an ERROR: line, exit 255
 *   the stage (C#), also on this socket: "F<code>\t<message>\t<hint>" on failure, "P" just before it execs
 *   the payload (a status without "P" means the stage died before it could say why)
 *   the monitor, when the payload is gone and every other process of the container is killed:
 *   "S<status>" (the shell's convention, 128+N for signal N)
 *
 * The status travels as a message so that the engine can exit without waiting for the monitor's
 * own exit, which tears the container's mount namespace down (milliseconds of RCU grace periods).
 * End of file without "S" means the monitor died.
 *
 * The monitor (this process after the fork) is a child subreaper: every orphan of the container comes
 * to it. When the payload exits, it SIGKILLs every remaining descendant (background jobs, setsid
 * daemons) before it sends the status; when the engine dies (PARENT_DIED_SIGNAL through
 * PR_SET_PDEATHSIG, even after SIGKILL) it does the same and exits, so that killing burrow never leaves
 * a stray process. It forwards the signals the engine relays, and keeps only CAP_KILL.
 *
 * Without a PID namespace the payload runs as the same user in the same PID namespace as the monitor,
 * and finds it as its parent. Each way it could stop or cripple the monitor is closed:
 *   - signals: kill, tkill, tgkill, rt_sigqueueinfo, rt_tgsigqueueinfo aimed at the monitor's pid or
 *     process group, and kill(-1), are refused by the payload's seccomp filter; pidfd_send_signal fails
 *     with ENOSYS (a pidfd can come from opening /proc/PID, which seccomp cannot see). CAP_KILL, which
 *     fakeroot payloads have in the user namespace, changes nothing: the filter runs before permissions.
 *   - SIGIO/SIGURG to an owner (F_SETOWN, with F_SETSIG any signal, SIGSTOP included): F_SETOWN naming the
 *     monitor is refused; F_SETOWN_EX, FIOSETOWN and SIOCSPGRP, which pass the pid by pointer, are refused.
 *   - the terminal: the monitor calls setsid() right after the fork, so it is alone in its session and
 *     process group with no controlling terminal: Ctrl-C, Ctrl-Z, a hang-up or a resize of the caller's
 *     terminal do not reach it (the engine relays them), and no process can join its group (setpgid
 *     across sessions is refused).
 *   - ptrace, process_vm_writev, /proc/PID/mem, pidfd_getfd: the monitor is not dumpable and its memory
 *     belongs to the initial user namespace (it was exec'd there), so they need CAP_SYS_PTRACE on the host.
 *     Not dumpable also makes /proc/PID/{fd,environ,oom_score_adj,...} root's.
 *   - prlimit64 on the monitor (RLIMIT_NOFILE 0 would keep it from reading its children, RLIMIT_CPU
 *     would kill it) is refused.
 * With a PID namespace the monitor is outside it and no pid the payload can write names it. What remains
 * open: setpriority/sched_setattr/sched_setaffinity can slow the monitor but not stop it, and a cgroup
 * the user may write (systemd's delegated user@.service subtree) can be frozen.
 *
 * The tiny init (PID 1 with --pid) is out of the payload's reach too: the kernel drops the signals of its
 * own namespace that PID 1 does not handle (SIGKILL, SIGSTOP), and it is not dumpable either.
 * Between fork and exec only async-signal-safe calls are made.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The monitor must survive its parent's death long enough to kill the container: a catchable signal. */
#define PARENT_DIED_SIGNAL (SIGRTMIN + 3)

static const int forwarded_signals[] = {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGWINCH};
#define N_FORWARDED ((int)(sizeof forwarded_signals / sizeof forwarded_signals[0]))

static int sync_fd = -1;
static volatile pid_t child_pid = 0;
static volatile sig_atomic_t pending_mask = 0;
static int children_dirfd = -1;

/* Tells the engine what failed (errno + the operation), then exits. Async-signal-safe. */
static void fail(const char *what) __attribute__((noreturn));
static void fail(const char *what)
{
    int err = errno;
    char buf[256];
    int n = snprintf(buf, sizeof buf, "E%d\t%s", err, what);
    if (n > (int)sizeof buf - 1)
        n = (int)sizeof buf - 1;
    if (sync_fd < 0 || send(sync_fd, buf, (size_t)n, MSG_NOSIGNAL) < 0)
        dprintf(2, "ERROR:   burrow-starter: %s: %s\n", what, strerror(err));
    _exit(255);
}

static void on_forwarded(int sig)
{
    int saved = errno;
    if (child_pid > 0)
        kill(child_pid, sig);
    else
        pending_mask |= 1 << sig;
    errno = saved;
}

static void kill_descendants(void);

/* Runs in the handler itself, so that no window exists between the engine's death and the killing. */
static void on_parent_died(int sig)
{
    (void)sig;
    if (child_pid > 0)
        kill_descendants();
    _exit(255);
}

static void install(int sig, void (*handler)(int))
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sigemptyset(&sa.sa_mask);
    if (sigaction(sig, &sa, NULL) < 0)
        fail("sigaction");
}

static void block_forwarded(int how)
{
    sigset_t set;
    sigemptyset(&set);
    for (int i = 0; i < N_FORWARDED; i++)
        sigaddset(&set, forwarded_signals[i]);
    sigaddset(&set, PARENT_DIED_SIGNAL);
    if (sigprocmask(how, &set, NULL) < 0)
        fail("sigprocmask");
}

static void forward_pending(void)
{
    for (int i = 0; i < N_FORWARDED; i++)
        if (pending_mask & (1 << forwarded_signals[i]))
            kill(child_pid, forwarded_signals[i]);
    pending_mask = 0;
}

static int last_cap(void)
{
    int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
    char buf[16] = {0};
    if (fd < 0 || read(fd, buf, sizeof buf - 1) <= 0)
        return CAP_LAST_CAP;
    close(fd);
    return atoi(buf);
}

/* Sets the three capability sets of this process to the same mask (bits 0..63). */
static int set_caps(unsigned long long mask)
{
    struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2];
    memset(data, 0, sizeof data);
    data[0].effective = data[0].permitted = data[0].inheritable = (unsigned)(mask & 0xffffffffu);
    data[1].effective = data[1].permitted = data[1].inheritable = (unsigned)(mask >> 32);
    return (int)syscall(SYS_capset, &hdr, data);
}

/* Keeps every capability of the new user namespace across exec of the (non-root) stage. */
static void raise_ambient(int cap_last)
{
    struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2];
    if (syscall(SYS_capget, &hdr, data) < 0)
        fail("capget");
    data[0].inheritable = data[0].permitted;
    data[1].inheritable = data[1].permitted;
    if (syscall(SYS_capset, &hdr, data) < 0)
        fail("capset (inheritable)");
    for (int cap = 0; cap <= cap_last; cap++)
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0 && errno != EINVAL)
            fail("prctl(PR_CAP_AMBIENT_RAISE)");
}

/* A process the payload might reach through /proc keeps nothing worth taking: no capabilities but
 * the few it needs, and not dumpable, so /proc/PID/{exe,root,fd,mem} are closed to the payload. */
static void harden_self(unsigned long long keep, int cap_last)
{
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
        fail("prctl(PR_SET_DUMPABLE)");
    for (int cap = 0; cap <= cap_last; cap++)
        if (!(keep & (1ULL << cap)) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
            fail("prctl(PR_CAPBSET_DROP)");
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
        fail("prctl(PR_CAP_AMBIENT_CLEAR_ALL)");
    if (set_caps(keep) < 0)
        fail("capset (monitor)");
}

static int status_to_exit(int status)
{
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return 255;
}

/* SIGKILLs every descendant: children first; their orphans then come to us (we are a subreaper), and the
 * next round gets them. A SIGKILLed process can no longer fork, so the rounds end. Async-signal-safe. */
static void kill_descendants(void)
{
    for (;;) {
        int fd = openat(children_dirfd, "children", O_RDONLY | O_CLOEXEC);
        char buf[4096];
        ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
        if (fd >= 0)
            close(fd);
        int any = 0;
        if (n > 0) {
            buf[n] = 0;
            for (char *p = buf; *p;) {
                char *end;
                long pid = strtol(p, &end, 10);
                if (end == p)
                    break;
                if (pid > 0) {
                    kill((pid_t)pid, SIGKILL);
                    any = 1;
                }
                p = end;
                while (*p == ' ' || *p == '\n')
                    p++;
            }
        } else if (n < 0 && child_pid > 0) {
            kill(child_pid, SIGKILL); /* /proc unreadable: at least the direct child */
        }
        pid_t reaped = waitpid(-1, NULL, any ? 0 : WNOHANG);
        if (reaped < 0 && errno == ECHILD)
            return;
        if (reaped == 0) {
            /* A child we did not list yet (an orphan reparented after the read): list again, shortly. */
            struct timespec ms = {0, 1000000};
            nanosleep(&ms, NULL);
        }
    }
}

static void exec_stage(char **stage_argv, int cap_last)
{
    static char *const empty_env[] = {NULL};
    raise_ambient(cap_last);
    if (fcntl(sync_fd, F_SETFD, 0) < 0) /* the stage reports its failures on it */
        fail("fcntl (sync socket)");
    execve(stage_argv[0], stage_argv, empty_env);
    fail("execve (the burrow stage)");
}

/* PID 1 of a new PID namespace: forks the stage, forwards signals to it, reaps every orphan, and
 * exits with the payload's status (which makes the kernel kill whatever is left in the namespace). */
static void run_init(char **stage_argv, int cap_last)
{
    block_forwarded(SIG_BLOCK);
    pid_t pid = fork();
    if (pid < 0)
        fail("fork (init)");
    if (pid == 0) {
        for (int i = 0; i < N_FORWARDED; i++)
            signal(forwarded_signals[i], SIG_DFL);
        block_forwarded(SIG_UNBLOCK);
        if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
            fail("prctl(PR_SET_PDEATHSIG)");
        exec_stage(stage_argv, cap_last);
    }
    child_pid = pid;
    for (int i = 0; i < N_FORWARDED; i++)
        install(forwarded_signals[i], on_forwarded);
    close_range(3, ~0U, 0);
    sync_fd = -1;
    harden_self(0, cap_last);
    block_forwarded(SIG_UNBLOCK);
    for (;;) {
        int status;
        pid_t got = waitpid(-1, &status, 0);
        if (got == pid)
            _exit(status_to_exit(status));
        if (got < 0 && errno == ECHILD)
            _exit(255);
    }
}

static int parse_fd(const char *s)
{
    char *end;
    long v = strtol(s, &end, 10);
    return (*s && !*end && v >= 0 && v < 1 << 20) ? (int)v : -1;
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        dprintf(2, "ERROR:   burrow-starter is started by burrow, not by hand\n");
        return 255;
    }
    sync_fd = parse_fd(argv[1]);
    pid_t engine = (pid_t)atol(argv[2]);
    const char *flags = argv[3];
    char **stage_argv = &argv[4];
    if (sync_fd < 0 || engine <= 0) {
        dprintf(2, "ERROR:   burrow-starter: bad arguments\n");
        return 255;
    }
    fcntl(sync_fd, F_SETFD, FD_CLOEXEC);

    block_forwarded(SIG_BLOCK);
    for (int i = 0; i < N_FORWARDED; i++)
        install(forwarded_signals[i], on_forwarded);
    install(PARENT_DIED_SIGNAL, on_parent_died);
    if (prctl(PR_SET_PDEATHSIG, PARENT_DIED_SIGNAL, 0, 0, 0) < 0)
        fail("prctl(PR_SET_PDEATHSIG)");
    if (getppid() != engine)
        _exit(255); /* the engine died before we could watch it */
    block_forwarded(SIG_UNBLOCK);

    int cap_last = last_cap();
    /* Opened now, while /proc is the host's and before pivot_root moves our root into the container. */
    children_dirfd = open("/proc/thread-self", O_PATH | O_DIRECTORY | O_CLOEXEC);

    int clone_flags = CLONE_NEWNS;
    int want_pid = 0, want_init = 0, want_network_helper = 0;
    for (const char *f = flags; *f; f++) {
        switch (*f) {
        case 'p': clone_flags |= CLONE_NEWPID; want_pid = 1; break;
        case 'i': clone_flags |= CLONE_NEWIPC; break;
        case 'u': clone_flags |= CLONE_NEWUTS; break;
        case 'n': clone_flags |= CLONE_NEWNET; break;
        case 't': want_init = 1; break;
        case 'h': want_network_helper = 1; break;
        case '-': break;
        default: errno = EINVAL; fail("namespace flags");
        }
    }

    if (unshare(CLONE_NEWUSER) < 0)
        fail("unshare(CLONE_NEWUSER)");
    if (send(sync_fd, "U", 1, MSG_NOSIGNAL) != 1)
        fail("send (user namespace ready)");
    char reply[8];
    ssize_t got = recv(sync_fd, reply, sizeof reply, 0);
    if (got != 1 || reply[0] != 'G')
        _exit(255); /* the engine failed to write the maps and reports it itself */

    if (unshare(clone_flags) < 0)
        fail(want_pid ? "unshare(mount, pid and other namespaces)" : "unshare(mount and other namespaces)");
    /* The network helper (pasta, slirp4netns) joins our new network namespace through /proc/PID/ns: it must
     * happen now, while this process is still dumpable (its namespaces are closed to others once it is not). */
    if (want_network_helper) {
        if (send(sync_fd, "N", 1, MSG_NOSIGNAL) != 1)
            fail("send (network namespace ready)");
        got = recv(sync_fd, reply, sizeof reply, 0);
        if (got != 1 || reply[0] != 'G')
            _exit(255); /* the engine could not start the helper and reports it itself */
    }
    if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
        fail("prctl(PR_SET_CHILD_SUBREAPER)");

    block_forwarded(SIG_BLOCK);
    /* Before the fork, so that the monitor is never dumpable, not even for the instant after it. The child's
     * exec of the stage makes the stage dumpable again; the payload's exec decides for the payload. */
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
        fail("prctl(PR_SET_DUMPABLE)");
    pid_t pid = fork();
    if (pid < 0)
        fail("fork");
    if (pid == 0) {
        for (int i = 0; i < N_FORWARDED; i++)
            signal(forwarded_signals[i], SIG_DFL);
        signal(PARENT_DIED_SIGNAL, SIG_DFL);
        block_forwarded(SIG_UNBLOCK);
        if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
            fail("prctl(PR_SET_PDEATHSIG)");
        if (want_pid && want_init)
            run_init(stage_argv, cap_last);
        exec_stage(stage_argv, cap_last);
    }

    /* The monitor: alone in a session and process group of its own (see the header). */
    child_pid = pid;
    if (setsid() < 0)
        fail("setsid (monitor)");
    harden_self(1ULL << CAP_KILL, cap_last);
    forward_pending();
    block_forwarded(SIG_UNBLOCK);
    for (;;) {
        int status;
        pid_t w = waitpid(-1, &status, 0);
        if (w == pid) {
            char msg[16];
            int code = status_to_exit(status);
            child_pid = 0; /* reaped: its pid may be reused, never signal it again */
            /* Whatever the payload left behind (background jobs, setsid daemons, reparented to us) dies
             * before burrow exits: nothing of the container outlives it. */
            kill_descendants();
            int n = snprintf(msg, sizeof msg, "S%d", code);
            send(sync_fd, msg, (size_t)n, MSG_NOSIGNAL);
            _exit(code);
        }
        if (w < 0 && errno == ECHILD)
            _exit(255);
    }
}

/*
 * burrow-starter: the small C piece between the engine (multi-threaded .NET, which cannot unshare a
 * user namespace) and the stage (the same .NET binary, run inside the namespaces).
 *
 *   burrow-starter SYNC_FD ENGINE_PID NSFLAGS STAGE_EXE [STAGE_ARGS...]
 *   burrow-starter SYNC_FD ENGINE_PID J PROC_DIR_FD SPEC_FD       (join a running instance)
 *
 * SYNC_FD is one end of an AF_UNIX SOCK_SEQPACKET pair whose other end the engine holds; NSFLAGS is
 * "-" or letters: p (new PID namespace), i (IPC), u (UTS), n (network), t (a tiny init as PID 1),
 * h (a network helper, pasta or slirp4netns, is to be attached to the new network namespace), S<fd> (the
 * image is served by the caller's shared server for it: fd is /proc/PID of the server's holder process, whose
 * user and mount namespaces the container joins instead of creating a user namespace; the image is mounted
 * there already, docs/ARCHITECTURE.md "One server per image").
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
 * Joining (NSFLAGS "J"): PROC_DIR_FD is /proc/PID of a process of the instance (opened by the engine, so a
 * reused pid finds nothing); the starter joins each of its namespaces that differs from ours, the user
 * namespace first, then sends "J" and waits for "G": by then the engine has written the payload's spec (ids,
 * capabilities, seccomp programs, cwd, argv, env; src/Burrow.Core/Runtime/Launch/JoinSpec.cs) into SPEC_FD.
 * The payload is exec'd by the starter's child itself, not by the stage: after setns(CLONE_NEWNS) the root is
 * the container's, where neither the .NET stage nor its libraries exist, and a multi-threaded process could not
 * have joined the mount namespace. The parent is the monitor, as for a new container.
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
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <grp.h>
#include <sys/stat.h>
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

/* The init's handler. A signal the kernel itself sent (si_code SI_KERNEL) for Ctrl-C, Ctrl-\ or a resize came from a
 * terminal whose foreground process group the init shares with burrow: burrow relays it through the monitor already,
 * or the payload, in the same group, got it too. Relaying this copy as well would deliver it twice. */
static void on_forwarded_by_init(int sig, siginfo_t *info, void *context)
{
    (void)context;
    if (info != NULL && info->si_code == SI_KERNEL && (sig == SIGINT || sig == SIGQUIT || sig == SIGWINCH))
        return;
    on_forwarded(sig);
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

static void install_with_info(int sig, void (*handler)(int, siginfo_t *, void *))
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = handler;
    sa.sa_flags = SA_SIGINFO;
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
        install_with_info(forwarded_signals[i], on_forwarded_by_init);
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

/* ---- joining a running instance ------------------------------------------------------------------ */

struct join_spec {
    uid_t uid;
    gid_t gid;
    int set_groups;
    size_t ngroups;
    gid_t *groups;
    unsigned long long bound, effective, permitted, inheritable, ambient;
    int no_new_privs, new_session, umask_value;
    char *cwd, *fallback_cwd;
    char **argv;
    char **envp;
    struct sock_fprog filter, profile;
};

/* Tells the engine that the payload cannot start, as the stage does ("F<code>\t<message>\t<hint>"), then exits. */
static void fail_payload(int code, const char *message, const char *subject, const char *hint) __attribute__((noreturn));
static void fail_payload(int code, const char *message, const char *subject, const char *hint)
{
    char buf[4096];
    int n = snprintf(buf, sizeof buf, "F%d\t%s%s\t%s", code, subject, message, hint);
    if (n > (int)sizeof buf - 1)
        n = (int)sizeof buf - 1;
    if (send(sync_fd, buf, (size_t)n, MSG_NOSIGNAL) < 0)
        dprintf(2, "ERROR:   %s%s\n", subject, message);
    _exit(code);
}

/* The spec is NUL-separated text fields, with each seccomp program as a length field followed by its raw bytes. */
struct cursor {
    char *p, *end;
};

static char *next_field(struct cursor *c)
{
    char *nul = c->p < c->end ? memchr(c->p, 0, (size_t)(c->end - c->p)) : NULL;
    if (nul == NULL) {
        errno = EINVAL;
        fail("the join spec (truncated)");
    }
    char *field = c->p;
    c->p = nul + 1;
    return field;
}

static unsigned long long next_number(struct cursor *c, int base)
{
    char *field = next_field(c), *end;
    errno = 0;
    unsigned long long v = strtoull(field, &end, base);
    if (*field == 0 || *end != 0 || errno != 0) {
        errno = EINVAL;
        fail("the join spec (a number)");
    }
    return v;
}

static char **next_strings(struct cursor *c)
{
    unsigned long long n = next_number(c, 10);
    if (n > (unsigned long long)(c->end - c->p)) {
        errno = EINVAL;
        fail("the join spec (a list)");
    }
    char **list = calloc((size_t)n + 1, sizeof *list);
    if (list == NULL)
        fail("calloc");
    for (unsigned long long i = 0; i < n; i++)
        list[i] = next_field(c);
    return list;
}

static void next_program(struct cursor *c, struct sock_fprog *prog)
{
    unsigned long long bytes = next_number(c, 10);
    if (bytes % sizeof(struct sock_filter) != 0 || bytes / sizeof(struct sock_filter) > BPF_MAXINSNS
        || bytes > (unsigned long long)(c->end - c->p)) {
        errno = EINVAL;
        fail("the join spec (a seccomp program)");
    }
    prog->len = (unsigned short)(bytes / sizeof(struct sock_filter));
    prog->filter = bytes ? malloc(bytes) : NULL;
    if (bytes && prog->filter == NULL)
        fail("malloc");
    memcpy(prog->filter, c->p, bytes);
    c->p += bytes;
}

static void read_spec(int fd, struct join_spec *spec)
{
    enum { MAX_SPEC = 64 << 20 };
    struct stat st;
    if (fstat(fd, &st) < 0)
        fail("fstat (the join spec)");
    if (st.st_size <= 0 || st.st_size > MAX_SPEC) {
        errno = EINVAL;
        fail("the join spec (its size)");
    }
    char *buf = malloc((size_t)st.st_size);
    if (buf == NULL)
        fail("malloc");
    for (off_t done = 0; done < st.st_size;) {
        ssize_t n = pread(fd, buf + done, (size_t)(st.st_size - done), done);
        if (n <= 0)
            fail("read (the join spec)");
        done += n;
    }
    close(fd);
    struct cursor c = {buf, buf + st.st_size};
    if (strcmp(next_field(&c), "burrow-join-1") != 0) {
        errno = EINVAL;
        fail("the join spec (its version)");
    }
    spec->uid = (uid_t)next_number(&c, 10);
    spec->gid = (gid_t)next_number(&c, 10);
    spec->set_groups = (int)next_number(&c, 10);
    char **groups = next_strings(&c);
    for (spec->ngroups = 0; groups[spec->ngroups]; spec->ngroups++)
        ;
    spec->groups = calloc(spec->ngroups + 1, sizeof(gid_t));
    if (spec->groups == NULL)
        fail("calloc");
    for (size_t i = 0; i < spec->ngroups; i++)
        spec->groups[i] = (gid_t)strtoul(groups[i], NULL, 10);
    spec->bound = next_number(&c, 16);
    spec->effective = next_number(&c, 16);
    spec->permitted = next_number(&c, 16);
    spec->inheritable = next_number(&c, 16);
    spec->ambient = next_number(&c, 16);
    spec->no_new_privs = (int)next_number(&c, 10);
    spec->new_session = (int)next_number(&c, 10);
    spec->umask_value = (int)next_number(&c, 8); /* 1000 (octal): leave the umask as it is */
    spec->cwd = next_field(&c);
    spec->fallback_cwd = next_field(&c);
    spec->argv = next_strings(&c);
    spec->envp = next_strings(&c);
    next_program(&c, &spec->filter);
    next_program(&c, &spec->profile);
    if (spec->argv[0] == NULL) {
        errno = EINVAL;
        fail("the join spec (no command)");
    }
}

static void install_program(const struct sock_fprog *prog, const char *what)
{
    if (prog->len > 0 && prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, prog, 0, 0) < 0)
        fail(what);
}

static const char *env_value(char **envp, const char *name)
{
    size_t len = strlen(name);
    const char *found = NULL;
    for (char **e = envp; *e; e++)
        if (strncmp(*e, name, len) == 0 && (*e)[len] == '=')
            found = *e + len + 1; /* the last one wins, as the stage's planner writes it */
    return found;
}

/* The joined payload's identity, capabilities, filters and exec: the order of the stage's PayloadLauncher. */
static void exec_joined(struct join_spec *spec, int cap_last)
{
    /* The caller's directory is the working directory when the instance has it; else the instance's own (unless --pwd). */
    if (chdir(spec->cwd) < 0 && (spec->fallback_cwd[0] == 0 || chdir(spec->fallback_cwd) < 0))
        fail_payload(1, ": no such directory in the instance's container", spec->cwd, "give --pwd a directory that exists in the instance");
    if (spec->umask_value != 01000)
        umask((mode_t)spec->umask_value);
    if (!spec->no_new_privs)
        install_program(&spec->filter, "seccomp (the payload's filter)");
    for (int cap = 0; cap <= cap_last; cap++)
        if (!(spec->bound & (1ULL << cap)) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
            fail("prctl(PR_CAPBSET_DROP)");
    if (spec->set_groups && setgroups(spec->ngroups, spec->groups) < 0)
        fail("setgroups");
    if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
        fail("prctl(PR_SET_KEEPCAPS)");
    if (setresgid(spec->gid, spec->gid, spec->gid) < 0)
        fail("setresgid");
    if (setresuid(spec->uid, spec->uid, spec->uid) < 0)
        fail("setresuid");
    if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
        fail("prctl(PR_SET_KEEPCAPS)");
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) /* cleared by the credential change */
        fail("prctl(PR_SET_PDEATHSIG)");
    struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2];
    data[0].effective = (unsigned)(spec->effective & 0xffffffffu);
    data[1].effective = (unsigned)(spec->effective >> 32);
    data[0].permitted = (unsigned)(spec->permitted & 0xffffffffu);
    data[1].permitted = (unsigned)(spec->permitted >> 32);
    data[0].inheritable = (unsigned)(spec->inheritable & 0xffffffffu);
    data[1].inheritable = (unsigned)(spec->inheritable >> 32);
    if (syscall(SYS_capset, &hdr, data) < 0)
        fail("capset (the payload)");
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
        fail("prctl(PR_CAP_AMBIENT_CLEAR_ALL)");
    for (int cap = 0; cap <= cap_last; cap++)
        if ((spec->ambient & (1ULL << cap)) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0)
            fail("prctl(PR_CAP_AMBIENT_RAISE)");
    if (spec->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        fail("prctl(PR_SET_NO_NEW_PRIVS)");
    if (spec->new_session && setsid() < 0)
        fail("setsid (the payload)");
    if (spec->no_new_privs)
        install_program(&spec->filter, "seccomp (the payload's filter)");
    close_range(3, ~0U, CLOSE_RANGE_CLOEXEC); /* the sync socket stays open until the exec succeeds */
    if (send(sync_fd, "P", 1, MSG_NOSIGNAL) != 1)
        fail("send (payload starting)");
    install_program(&spec->profile, "seccomp (the profile)");

    const char *command = spec->argv[0];
    if (strchr(command, '/') != NULL) {
        execve(command, spec->argv, spec->envp);
        fail_payload(errno == ENOENT || errno == ENOTDIR ? 127 : 126,
                     errno == ENOENT || errno == ENOTDIR ? ": no such file in the instance's container" : ": cannot execute in the instance's container",
                     command, "check the path inside the image");
    }
    const char *path = env_value(spec->envp, "PATH");
    if (path == NULL)
        path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    int first_error = 0;
    for (const char *dir = path;; ) {
        const char *colon = strchr(dir, ':');
        size_t dlen = colon ? (size_t)(colon - dir) : strlen(dir);
        char candidate[4096];
        int n = dlen == 0 ? snprintf(candidate, sizeof candidate, "./%s", command)
                          : snprintf(candidate, sizeof candidate, "%.*s/%s", (int)dlen, dir, command);
        if (n > 0 && n < (int)sizeof candidate) {
            execve(candidate, spec->argv, spec->envp);
            if (errno != ENOENT && errno != ENOTDIR) {
                if (first_error == 0)
                    first_error = errno;
                if (errno != EACCES && errno != EISDIR)
                    break;
            }
        }
        if (colon == NULL)
            break;
        dir = colon + 1;
    }
    if (first_error == 0)
        fail_payload(127, ": command not found in the instance's container", command, "check its name and the container's PATH");
    errno = first_error;
    fail_payload(126, ": cannot execute in the instance's container", command, "check that it is an executable file");
}

/* Joins every namespace of the process behind proc_dir that differs from ours; the user namespace first, which
 * gives the capabilities the others need (we own it: it is one of our instances). */
static void join_namespaces(int proc_dir)
{
    static const struct { const char *name; int type; } kinds[] = {
        {"user", CLONE_NEWUSER}, {"mnt", CLONE_NEWNS}, {"pid", CLONE_NEWPID}, {"net", CLONE_NEWNET},
        {"ipc", CLONE_NEWIPC}, {"uts", CLONE_NEWUTS}, {"cgroup", CLONE_NEWCGROUP},
    };
    enum { N_KINDS = sizeof kinds / sizeof kinds[0] };
    int fds[N_KINDS];
    char path[64];
    /* All opened before the first setns: opening checks our access with the host's credentials and /proc. */
    for (int i = 0; i < N_KINDS; i++) {
        snprintf(path, sizeof path, "ns/%s", kinds[i].name);
        fds[i] = openat(proc_dir, path, O_RDONLY | O_CLOEXEC);
        if (fds[i] < 0)
            fail(i == 0 ? "open (the instance's user namespace)" : "open (the instance's namespaces)");
        snprintf(path, sizeof path, "/proc/self/ns/%s", kinds[i].name);
        struct stat theirs, ours;
        if (fstat(fds[i], &theirs) < 0 || stat(path, &ours) < 0)
            fail("stat (namespaces)");
        if (theirs.st_ino == ours.st_ino && theirs.st_dev == ours.st_dev) {
            if (i == 0) {
                errno = EPERM;
                fail("the instance shares burrow's user namespace");
            }
            close(fds[i]);
            fds[i] = -1;
        }
    }
    close(proc_dir);
    for (int i = 0; i < N_KINDS; i++) {
        if (fds[i] < 0)
            continue;
        if (setns(fds[i], kinds[i].type) < 0) {
            snprintf(path, sizeof path, "setns (the instance's %s namespace)", kinds[i].name);
            fail(path);
        }
        close(fds[i]);
    }
}

/* Enters the user and mount namespaces of the shared image server's holder, the user namespace first. */
static void join_holder(int proc_dir)
{
    int user = openat(proc_dir, "ns/user", O_RDONLY | O_CLOEXEC);
    int mnt = openat(proc_dir, "ns/mnt", O_RDONLY | O_CLOEXEC);
    if (user < 0 || mnt < 0)
        fail("open (the image server's namespaces)");
    close(proc_dir);
    if (setns(user, CLONE_NEWUSER) < 0)
        fail("setns (the image server's user namespace)");
    if (setns(mnt, CLONE_NEWNS) < 0)
        fail("setns (the image server's mount namespace)");
    close(user);
    close(mnt);
}

/* Forks the container's first process; the caller stays as its monitor (a subreaper, signals blocked until run_monitor).
 * Returns 0 in the child, with default signal handling and a parent-death signal. */
static pid_t fork_payload(void)
{
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
    }
    return pid;
}

static void run_monitor(pid_t pid, int cap_last) __attribute__((noreturn));

static int join_main(int proc_dir, int spec_fd, int cap_last)
{
    join_namespaces(proc_dir);
    if (send(sync_fd, "J", 1, MSG_NOSIGNAL) != 1)
        fail("send (joined)");
    char reply[8];
    ssize_t got = recv(sync_fd, reply, sizeof reply, 0);
    if (got != 1 || reply[0] != 'G')
        _exit(255);
    struct join_spec spec;
    memset(&spec, 0, sizeof spec);
    read_spec(spec_fd, &spec);
    pid_t pid = fork_payload(); /* the child is in the instance's PID namespace, if it has one */
    if (pid == 0)
        exec_joined(&spec, cap_last);
    run_monitor(pid, cap_last);
}

/* The monitor: alone in a session and process group of its own (see the header). */
static void run_monitor(pid_t pid, int cap_last)
{
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

    if (strcmp(flags, "J") == 0) {
        int proc_dir = argc == 6 ? parse_fd(argv[4]) : -1, spec_fd = argc == 6 ? parse_fd(argv[5]) : -1;
        if (proc_dir < 0 || spec_fd < 0) {
            errno = EINVAL;
            fail("join arguments");
        }
        fcntl(proc_dir, F_SETFD, FD_CLOEXEC);
        fcntl(spec_fd, F_SETFD, FD_CLOEXEC);
        return join_main(proc_dir, spec_fd, cap_last);
    }

    int clone_flags = CLONE_NEWNS;
    int want_pid = 0, want_init = 0, want_network_helper = 0, holder_dir = -1;
    for (const char *f = flags; *f; f++) {
        switch (*f) {
        case 'S': {
            char *end;
            long fd = strtol(f + 1, &end, 10);
            if (end == f + 1 || fd < 0 || fd >= 1 << 20) {
                errno = EINVAL;
                fail("namespace flags (S)");
            }
            holder_dir = (int)fd;
            fcntl(holder_dir, F_SETFD, FD_CLOEXEC);
            f = end - 1;
            break;
        }
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

    char reply[8];
    ssize_t got;
    if (holder_dir >= 0) {
        /* The holder's user namespace has this container's maps already; its mount namespace has the image. */
        join_holder(holder_dir);
    } else {
        if (unshare(CLONE_NEWUSER) < 0)
            fail("unshare(CLONE_NEWUSER)");
        if (send(sync_fd, "U", 1, MSG_NOSIGNAL) != 1)
            fail("send (user namespace ready)");
        got = recv(sync_fd, reply, sizeof reply, 0);
        if (got != 1 || reply[0] != 'G')
            _exit(255); /* the engine failed to write the maps and reports it itself */
    }

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
    pid_t pid = fork_payload();
    if (pid == 0) {
        if (want_pid && want_init)
            run_init(stage_argv, cap_last);
        exec_stage(stage_argv, cap_last);
    }

    run_monitor(pid, cap_last);
}

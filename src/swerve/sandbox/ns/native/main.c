/* swerve namespace launcher: runs one command (or one file operation) in a sandbox.
 *
 * Compiled on first use by swerve.sandbox.ns.launcher (all *.c here, as one program) and cached; the Python side builds the
 * arguments. Modes:
 *
 *   run    new user, mount, pid, ipc, uts, cgroup (and net) namespaces; an init process (pid 1)
 *          builds the sandbox's file system view, forks the payload, and exits when the payload
 *          exits, which makes the kernel kill everything left in the pid namespace.
 *   init   the same namespaces and view, no payload: a long-lived init for a persistent sandbox.
 *   enter  join the namespaces of a persistent sandbox's init (setns) and fork the payload.
 *
 * The payload is a command (argv after "--") or a file operation (--fsop OP PATH). It runs as
 * uid 0 of the user namespace (mapped to the caller's uid) with a reduced capability set, no
 * CAP_SYS_ADMIN, and no_new_privs, so it cannot undo the mounts that hide the host.
 *
 * Every record the Python side needs goes to the status fd, one line each:
 *   pid N | ready | exit WSTATUS | timeout | quota BYTES | disk BYTES | fserr ERRNO
 *   error STAGE ERRNO MESSAGE
 */

#include "launcher.h"

/* -- process roles -------------------------------------------------------------------------- */

void block_signals(sigset_t *set) {
    sigemptyset(set);
    sigaddset(set, SIGCHLD);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGHUP);
    sigprocmask(SIG_BLOCK, set, NULL);
}

void init_main(int lifeline) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    struct pollfd pfd = {lifeline, POLLIN, 0};
    if (poll(&pfd, 1, 0) > 0) _exit(1); /* the launcher died before the death signal was set */
    close(lifeline);
    /* A persistent init must stay dumpable: a caller without root enters it through
     * /proc/PID/ns/*, which the kernel hides for non-dumpable processes. Commands cannot trace
     * it either way: it keeps capabilities they do not have. */
    if (strcmp(S.mode, "init") != 0) prctl(PR_SET_DUMPABLE, 0);
    int flags = CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP;
    if (!S.share_net && !S.fs_only) flags |= CLONE_NEWNET;
    if (unshare(flags) < 0) fail("namespaces", "unshare");
    setup_root();
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    pid_t child = -1;
    if (!strcmp(S.mode, "init")) {
        status("ready");
        close(status_fd);
        status_fd = -1;
    } else {
        child = fork();
        if (child < 0) fail("fork", "payload");
        if (child == 0) payload();
    }
    for (;;) {
        int st;
        pid_t p;
        while ((p = waitpid(-1, &st, WNOHANG)) > 0) {
            if (p == child) {
                status("exit %d", st);
                _exit(0); /* the kernel now kills whatever is left in the namespace */
            }
        }
        siginfo_t info;
        sigwaitinfo(&chld, &info);
    }
}

int wait_loop(pid_t child, int is_init) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    long long deadline = S.timeout_ms > 0 ? now_ms() + S.timeout_ms : -1;
    int watch_quota = S.quota > 0 && S.quota_dir;
    long long limit = S.quota, next_check = -1, walk_ms = 0;
    if (watch_quota) {
        long long t0 = now_ms();
        long long used = disk_usage();
        walk_ms = now_ms() - t0;
        if (used > limit) limit = used + (1LL << 20); /* already over: may shrink, may not grow */
        next_check = now_ms() + 10;
    }
    int killed = 0, st = 0;
    for (;;) {
        long long now = now_ms(), wake = -1;
        if (deadline >= 0) wake = deadline;
        if (next_check >= 0 && (wake < 0 || next_check < wake)) wake = next_check;
        siginfo_t info;
        int sig;
        if (wake < 0) {
            sig = sigwaitinfo(&set, &info);
        } else {
            long long ms = wake > now ? wake - now : 0;
            struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
            sig = sigtimedwait(&set, &info, &ts);
        }
        if (sig == SIGCHLD || (sig < 0 && errno == EINTR)) {
            pid_t p = waitpid(child, &st, WNOHANG);
            if (p == child) break;
            continue;
        }
        if (sig == SIGTERM || sig == SIGINT || sig == SIGHUP) {
            kill(child, SIGKILL);
            killed = 1;
            continue;
        }
        now = now_ms();
        if (!killed && deadline >= 0 && now >= deadline) {
            kill(child, SIGKILL);
            killed = 1;
            status("timeout");
            deadline = -1;
        }
        if (!killed && next_check >= 0 && now >= next_check) {
            long long t0 = now_ms();
            long long used = disk_usage();
            walk_ms = now_ms() - t0;
            if (used > limit) {
                kill(child, SIGKILL);
                killed = 1;
                status("quota %lld", used);
                next_check = -1;
                continue;
            }
            /* look again before the remaining room could be written at ~2 GB/s */
            long long interval = (limit - used) / (2LL << 20);
            long long cap = is_init ? 2000 : 1000;
            if (interval < 10) interval = 10;
            if (interval > cap) interval = cap;
            if (interval < 10 * walk_ms) interval = 10 * walk_ms;
            next_check = now_ms() + interval;
        }
        if (killed && deadline < 0) next_check = -1;
    }
    if (is_init) status("gone %d", st);
    if (watch_quota && !killed) status("disk %lld", disk_usage());
    return 0;
}

int run_outer(void) {
    parent_death_guard();
    join_cgroups();
    enter_new_userns();
    /* only the pid namespace here: the outer process stays in the host's mount namespace, so it
     * can still see the upper layer it measures; init makes the other namespaces itself */
    if (unshare(CLONE_NEWPID) < 0) fail("namespaces", "unshare(CLONE_NEWPID)");
    int life[2];
    if (pipe2(life, O_CLOEXEC) < 0) fail("pipe", "lifeline");
    sigset_t set;
    block_signals(&set);
    pid_t child = fork();
    if (child < 0) fail("fork", "init");
    if (child == 0) {
        close(life[1]);
        init_main(life[0]);
    }
    close(life[0]);
    status("pid %d", (int)child);
    return wait_loop(child, !strcmp(S.mode, "init"));
}

int same_ns(const char *name, pid_t target, int *fd_out) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/ns/%s", (int)target, name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    snprintf(path, sizeof path, "/proc/self/ns/%s", name);
    struct stat a, b;
    if (fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev) {
        close(fd);
        *fd_out = -1;
        return 1;
    }
    *fd_out = fd;
    return 0;
}

int enter_outer(void) {
    parent_death_guard();
    join_cgroups();
    static const char *names[] = {"user", "mnt", "pid", "net", "ipc", "uts", "cgroup", NULL};
    int fds[8];
    for (int i = 0; names[i]; i++)
        if (same_ns(names[i], S.target, &fds[i]) < 0) fail("enter", names[i]);
    for (int i = 0; names[i]; i++) {
        if (fds[i] < 0) continue;
        if (setns(fds[i], 0) < 0) fail("enter", names[i]);
        close(fds[i]);
    }
    if (chdir("/") < 0) fail("enter", "chdir /");
    sigset_t set;
    block_signals(&set);
    pid_t child = fork();
    if (child < 0) fail("fork", "payload");
    if (child == 0) payload();
    status("pid %d", (int)child);
    int st = 0;
    for (;;) {
        siginfo_t info;
        int sig = sigwaitinfo(&set, &info);
        if (sig == SIGCHLD) {
            if (waitpid(child, &st, WNOHANG) == child) break;
        } else if (sig > 0) {
            kill(child, SIGKILL);
        }
    }
    status("exit %d", st);
    return 0;
}

/* -- arguments ------------------------------------------------------------------------------ */

int rlimit_resource(const char *name) {
    static const struct {
        const char *n;
        int r;
    } t[] = {{"as", RLIMIT_AS},       {"cpu", RLIMIT_CPU},     {"fsize", RLIMIT_FSIZE},
             {"nofile", RLIMIT_NOFILE}, {"nproc", RLIMIT_NPROC}, {"core", RLIMIT_CORE},
             {"stack", RLIMIT_STACK}, {NULL, 0}};
    for (int i = 0; t[i].n; i++)
        if (!strcmp(t[i].n, name)) return t[i].r;
    return -1;
}

void usage(const char *msg) {
    status("error args 22 %s", msg);
    fprintf(stderr, "swerve-ns-launcher: %s\n", msg);
    _exit(125);
}

void parse(int argc, char **argv) {
    if (argc < 2) usage("missing mode");
    S.mode = argv[1];
    S.status_fd = 3;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
#define NEXT() (i + 1 < argc ? argv[++i] : (usage("missing value"), (char *)NULL))
        if (!strcmp(a, "--")) {
            S.argv = &argv[i + 1];
            break;
        } else if (!strcmp(a, "--status-fd")) {
            S.status_fd = atoi(NEXT());
        } else if (!strcmp(a, "--parent-pid")) {
            S.parent_pid = atoi(NEXT());
        } else if (!strcmp(a, "--newroot")) {
            S.newroot = NEXT();
        } else if (!strcmp(a, "--overlay")) {
            S.overlay_opts = NEXT();

        } else if (!strcmp(a, "--bind-rw")) {
            S.bind_rw = NEXT();
        } else if (!strcmp(a, "--at")) {
            S.at = NEXT();
        } else if (!strcmp(a, "--hide")) {
            if (S.nhides >= MAX_LIST) usage("too many --hide");
            S.hides[S.nhides++] = NEXT();
        } else if (!strcmp(a, "--ro-bind")) {
            if (S.nbinds >= MAX_LIST) usage("too many --ro-bind");
            S.bind_src[S.nbinds] = NEXT();
            S.bind_dst[S.nbinds++] = NEXT();
        } else if (!strcmp(a, "--cgroup")) {
            if (S.ncgroups >= 8) usage("too many --cgroup");
            S.cgroups[S.ncgroups++] = NEXT();
        } else if (!strcmp(a, "--rlimit")) {
            char *v = NEXT();
            char *eq = strchr(v, '=');
            if (!eq || S.nrl >= MAX_RLIMITS) usage("bad --rlimit");
            *eq = 0;
            int r = rlimit_resource(v);
            if (r < 0) usage("unknown rlimit");
            S.rl_res[S.nrl] = r;
            S.rl_val[S.nrl++] = (rlim_t)strtoull(eq + 1, NULL, 10);
        } else if (!strcmp(a, "--net")) {
            S.share_net = 1;
        } else if (!strcmp(a, "--setenv")) {
            if (S.nsetenvs >= 8) usage("too many --setenv");
            S.setenvs[S.nsetenvs++] = NEXT();
        } else if (!strcmp(a, "--fs-only")) {
            S.fs_only = 1;
        } else if (!strcmp(a, "--no-seccomp")) {
            S.no_seccomp = 1;
        } else if (!strcmp(a, "--same-uid")) {
            S.same_uid = 1;
        } else if (!strcmp(a, "--cwd")) {
            S.cwd = NEXT();
        } else if (!strcmp(a, "--timeout-ms")) {
            S.timeout_ms = atol(NEXT());
        } else if (!strcmp(a, "--quota")) {
            S.quota = atoll(NEXT());
        } else if (!strcmp(a, "--quota-dir")) {
            S.quota_dir = NEXT();
        } else if (!strcmp(a, "--tmp-size")) {
            S.tmp_size = NEXT();
        } else if (!strcmp(a, "--target")) {
            S.target = atoi(NEXT());
        } else if (!strcmp(a, "--hostname")) {
            S.hostname = NEXT();
        } else if (!strcmp(a, "--fsop")) {
            S.fsop = NEXT();
            S.fspath = NEXT();
        } else {
            usage(a);
        }
#undef NEXT
    }
}

int main(int argc, char **argv) {
    parse(argc, argv);
    status_fd = S.status_fd;
    if (!strcmp(S.mode, "version")) {
        printf("swerve-ns-launcher 1\n");
        return 0;
    }
    int is_enter = !strcmp(S.mode, "enter");
    if (!is_enter && !S.newroot) usage("--newroot is required");
    if (is_enter && S.target <= 0) usage("--target is required");
    if (!strcmp(S.mode, "init")) {
        if (S.fsop || S.argv) usage("init takes no payload");
    } else if (!S.fsop && (!S.argv || !S.argv[0])) {
        usage("missing command");
    }
    if (is_enter) return enter_outer();
    if (!strcmp(S.mode, "run") || !strcmp(S.mode, "init")) return run_outer();
    usage("unknown mode");
    return 125;
}


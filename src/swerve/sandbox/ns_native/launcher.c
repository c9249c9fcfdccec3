/* swerve namespace launcher: runs one command (or one file operation) in a sandbox.
 *
 * Compiled on first use by swerve.sandbox.ns_launcher and cached; the Python side builds the
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
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <linux/capability.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif
#ifndef SYS_openat2
#define SYS_openat2 437
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif
#ifndef CLONE_NEWCGROUP
#define CLONE_NEWCGROUP 0x02000000
#endif
#define SW_ATTR_RDONLY 0x1
#define SW_ATTR_NOSUID 0x2
#define SW_ATTR_NODEV 0x4
#define SW_RESOLVE_NO_MAGICLINKS 0x02
#define SW_RESOLVE_IN_ROOT 0x10

struct sw_mount_attr {
    uint64_t attr_set, attr_clr, propagation, userns_fd;
};
struct sw_open_how {
    uint64_t flags, mode, resolve;
};

#define MAX_LIST 256
#define MAX_RLIMITS 16

struct spec {
    const char *mode;
    int status_fd;
    pid_t parent_pid;
    const char *newroot;       /* empty directory: the sandbox root is built on a tmpfs here */
    const char *overlay_opts;  /* lowerdir=...,upperdir=...,workdir=... (already escaped) */
    const char *bind_rw;       /* project mode: host directory bound read-write at `at` */
    const char *at;            /* the workspace path inside the sandbox */
    const char *hides[MAX_LIST];
    int nhides;
    const char *bind_src[MAX_LIST], *bind_dst[MAX_LIST]; /* read-only binds: host SRC at DST */
    int nbinds;
    const char *cgroups[8];
    int ncgroups;
    int rl_res[MAX_RLIMITS];
    rlim_t rl_val[MAX_RLIMITS];
    int nrl;
    int share_net;
    int fs_only;  /* a file operation: no network namespace, no sysfs */
    int same_uid; /* inside, keep the caller's uid instead of becoming uid 0 */
    const char *cwd;
    long timeout_ms;
    long long quota;
    const char *quota_dir;
    const char *tmp_size;
    pid_t target;
    const char *fsop, *fspath;
    const char *hostname;
    char *setenvs[8]; /* NAME=VALUE set in the payload only (the launcher's own environment stays clean) */
    int nsetenvs;
    char **argv;
};

static struct spec S;
static int status_fd = -1;

/* -- small helpers ------------------------------------------------------------------------ */

static void status(const char *fmt, ...) {
    char buf[1024];
    va_list ap;
    if (status_fd < 0) return;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf - 1, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if (n > (int)sizeof buf - 2) n = sizeof buf - 2;
    buf[n++] = '\n';
    ssize_t w;
    do w = write(status_fd, buf, n);
    while (w < 0 && errno == EINTR);
}

static void fail(const char *stage, const char *what) {
    int e = errno;
    status("error %s %d %s: %s", stage, e, what ? what : "", strerror(e));
    _exit(125);
}

static int write_file(const char *path, const char *data) {
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    size_t len = strlen(data);
    ssize_t n = write(fd, data, len);
    int e = errno;
    close(fd);
    errno = e;
    return n == (ssize_t)len ? 0 : -1;
}

static long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void close_from(int lowfd) {
    if (syscall(SYS_close_range, lowfd, ~0U, 0) == 0) return;
    for (int fd = lowfd; fd < 4096; fd++) close(fd);
}

static void parent_death_guard(void) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (S.parent_pid > 0 && getppid() != S.parent_pid) _exit(1);
}

static void join_cgroups(void) {
    char pid[32];
    snprintf(pid, sizeof pid, "%d", (int)getpid());
    for (int i = 0; i < S.ncgroups; i++)
        if (write_file(S.cgroups[i], pid) < 0) fail("cgroup", S.cgroups[i]);
}

/* -- path resolution inside the new root --------------------------------------------------- */

static int newroot_fd = -1;
static dev_t our_devs[MAX_LIST + 16];
static int n_our_devs;

static void remember_dev(const char *path) {
    struct stat st;
    if (stat(path, &st) == 0 && n_our_devs < (int)(sizeof our_devs / sizeof our_devs[0]))
        our_devs[n_our_devs++] = st.st_dev;
}

static int is_our_dev(dev_t d) {
    for (int i = 0; i < n_our_devs; i++)
        if (our_devs[i] == d) return 1;
    return 0;
}

/* Open `path` (absolute, in the sandbox's view) relative to the new root, with symlinks
 * resolved as if the new root were "/". Returns an O_PATH fd or -1. */
static int open_in_root(const char *path, int extra_flags) {
    while (*path == '/') path++;
    if (!*path) path = ".";
    struct sw_open_how how = {.flags = O_PATH | O_CLOEXEC | extra_flags,
                              .resolve = SW_RESOLVE_IN_ROOT | SW_RESOLVE_NO_MAGICLINKS};
    int fd = syscall(SYS_openat2, newroot_fd, path, &how, sizeof how);
    if (fd < 0 && errno == ENOSYS) fd = openat(newroot_fd, path, O_PATH | O_CLOEXEC | extra_flags);
    return fd;
}

static void fd_path(int fd, char *buf, size_t len) { snprintf(buf, len, "/proc/self/fd/%d", fd); }

/* mkdir -p inside the new root, only where the deepest existing ancestor is a file system this
 * launcher mounted (never on a host directory). Returns an O_PATH fd of the directory or -1. */
static int mkdir_in_root(const char *path) {
    char buf[PATH_MAX];
    if (strlen(path) >= sizeof buf) {
        errno = ENAMETOOLONG;
        return -1;
    }
    strcpy(buf, path);
    int fd = open_in_root(buf, O_DIRECTORY);
    if (fd >= 0 || errno != ENOENT) return fd;
    char *slash = strrchr(buf, '/');
    if (!slash || slash == buf) {
        int parent = dup(newroot_fd);
        const char *name = slash ? slash + 1 : buf;
        struct stat st;
        if (fstat(parent, &st) < 0 || !is_our_dev(st.st_dev)) {
            close(parent);
            errno = EROFS;
            return -1;
        }
        if (mkdirat(parent, name, 0755) < 0 && errno != EEXIST) return -1;
        close(parent);
        return open_in_root(buf, O_DIRECTORY);
    }
    *slash = 0;
    int parent = mkdir_in_root(buf);
    if (parent < 0) return -1;
    struct stat st;
    if (fstat(parent, &st) < 0 || !is_our_dev(st.st_dev)) {
        close(parent);
        errno = EROFS;
        return -1;
    }
    if (mkdirat(parent, slash + 1, 0755) < 0 && errno != EEXIST) {
        int e = errno;
        close(parent);
        errno = e;
        return -1;
    }
    close(parent);
    *slash = '/';
    return open_in_root(buf, O_DIRECTORY);
}

/* -- mounts --------------------------------------------------------------------------------- */

static int set_tree_readonly(const char *target) {
    struct sw_mount_attr attr = {.attr_set = SW_ATTR_RDONLY | SW_ATTR_NOSUID | SW_ATTR_NODEV};
    if (syscall(SYS_mount_setattr, AT_FDCWD, target, AT_RECURSIVE, &attr, sizeof attr) == 0) return 0;
    if (errno != ENOSYS) return -1;
    /* old kernels: remount the top mount only, keeping the flags the kernel locked */
    struct statvfs sv;
    unsigned long flags = MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV;
    if (statvfs(target, &sv) == 0) {
        if (sv.f_flag & ST_NOEXEC) flags |= MS_NOEXEC;
        if (sv.f_flag & ST_NOATIME) flags |= MS_NOATIME;
        if (sv.f_flag & ST_NODIRATIME) flags |= MS_NODIRATIME;
        if (sv.f_flag & ST_RELATIME) flags |= MS_RELATIME;
    }
    return mount(NULL, target, NULL, flags, NULL);
}

static void bind_readonly(const char *src, const char *target, int recursive) {
    if (mount(src, target, NULL, MS_BIND | (recursive ? MS_REC : 0), NULL) < 0) fail("bind", src);
    if (set_tree_readonly(target) < 0) fail("readonly", src);
}

static int is_special_top(const char *name) {
    static const char *special[] = {"proc", "sys", "dev", "tmp", "run", NULL};
    for (int i = 0; special[i]; i++)
        if (!strcmp(name, special[i])) return 1;
    return 0;
}

static int is_hidden_top(const char *name) {
    for (int i = 0; i < S.nhides; i++) {
        const char *h = S.hides[i];
        if (h[0] != '/') continue;
        const char *rest = h + 1;
        size_t n = strcspn(rest, "/");
        if (rest[n] == 0 && n == strlen(name) && !strncmp(rest, name, n)) return 1;
    }
    return 0;
}

/* The host's top-level entries: directories bound read-only, symlinks copied, files bound. */
static void mirror_host_top(void) {
    DIR *d = opendir("/");
    if (!d) fail("mirror", "/");
    struct dirent *e;
    char src[PATH_MAX], dst[PATH_MAX];
    while ((e = readdir(d))) {
        const char *n = e->d_name;
        if (!strcmp(n, ".") || !strcmp(n, "..")) continue;
        snprintf(src, sizeof src, "/%s", n);
        snprintf(dst, sizeof dst, "%s/%s", S.newroot, n);
        struct stat st;
        if (lstat(src, &st) < 0) continue;
        if (is_special_top(n) || is_hidden_top(n)) {
            if (S_ISDIR(st.st_mode) || is_special_top(n)) mkdir(dst, 0755);
            continue;
        }
        if (S_ISLNK(st.st_mode)) {
            char target[PATH_MAX];
            ssize_t len = readlink(src, target, sizeof target - 1);
            if (len < 0) continue;
            target[len] = 0;
            if (symlink(target, dst) < 0) fail("mirror", dst);
        } else if (S_ISDIR(st.st_mode)) {
            if (mkdir(dst, st.st_mode & 07777) < 0) fail("mirror", dst);
            bind_readonly(src, dst, 1);
        } else if (S_ISREG(st.st_mode)) {
            int fd = open(dst, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
            if (fd < 0) fail("mirror", dst);
            close(fd);
            bind_readonly(src, dst, 0);
        }
    }
    closedir(d);
    for (const char **p = (const char *[]){"proc", "sys", "dev", "tmp", "run", NULL}; *p; p++) {
        snprintf(dst, sizeof dst, "%s/%s", S.newroot, *p);
        mkdir(dst, 0755);
    }
}

static void mount_tmpfs_at(int fd, const char *opts, const char *what) {
    char target[64];
    fd_path(fd, target, sizeof target);
    if (mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV, opts) < 0) fail("tmpfs", what);
    /* fd still names the directory under the new mount: look the path up again */
    int top = open_in_root(what, O_DIRECTORY);
    struct stat st;
    if (top >= 0 && fstat(top, &st) == 0 && n_our_devs < (int)(sizeof our_devs / sizeof our_devs[0]))
        our_devs[n_our_devs++] = st.st_dev;
    if (top >= 0) close(top);
}

/* Cover a path: an empty tmpfs over a directory, /dev/null over anything else. */
static void hide_path(const char *path) {
    int fd = open_in_root(path, O_NOFOLLOW);
    if (fd < 0) return; /* nothing there to hide */
    struct stat st;
    char target[64];
    fd_path(fd, target, sizeof target);
    if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        mount_tmpfs_at(fd, "mode=0755,size=256m", path);
    } else if (S_ISLNK(st.st_mode)) {
        close(fd);
        fd = open_in_root(path, 0); /* hide what the link points to, inside the sandbox */
        if (fd < 0) return;
        fd_path(fd, target, sizeof target);
        if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode))
            mount_tmpfs_at(fd, "mode=0755,size=256m", path);
        else if (mount("/dev/null", target, NULL, MS_BIND, NULL) < 0)
            fail("hide", path);
    } else if (mount("/dev/null", target, NULL, MS_BIND, NULL) < 0) {
        fail("hide", path);
    }
    close(fd);
}

static void ro_bind(const char *src, const char *path) {
    struct stat st;
    if (stat(src, &st) < 0) fail("ro-bind", src);
    int fd;
    if (S_ISDIR(st.st_mode)) {
        fd = mkdir_in_root(path);
    } else {
        char parent[PATH_MAX];
        snprintf(parent, sizeof parent, "%s", path);
        char *slash = strrchr(parent, '/');
        if (!slash) return;
        *slash = 0;
        int pfd = mkdir_in_root(parent[0] ? parent : "/");
        if (pfd < 0) fail("ro-bind", path);
        int f = openat(pfd, slash + 1, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
        if (f >= 0) close(f);
        close(pfd);
        fd = open_in_root(path, 0);
    }
    if (fd < 0) fail("ro-bind", path);
    char target[64];
    fd_path(fd, target, sizeof target);
    if (mount(src, target, NULL, MS_BIND | (S_ISDIR(st.st_mode) ? MS_REC : 0), NULL) < 0) fail("bind", src);
    close(fd);
    /* the old fd names the directory under the new mount: open the mount itself to change it */
    fd = open_in_root(path, 0);
    if (fd < 0) fail("ro-bind", path);
    fd_path(fd, target, sizeof target);
    if (set_tree_readonly(target) < 0) fail("readonly", path);
    close(fd);
}

static int under_at(const char *path) {
    if (!S.at) return 0;
    size_t n = strlen(S.at);
    return !strncmp(path, S.at, n) && (path[n] == '/' || path[n] == 0);
}

static void setup_proc(void) {
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/proc", S.newroot);
    if (mount("proc", p, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) fail("proc", p);
    static const char *ro[] = {"sys", "sysrq-trigger", "irq", "bus", "fs", NULL};
    for (int i = 0; ro[i]; i++) {
        snprintf(p, sizeof p, "%s/proc/%s", S.newroot, ro[i]);
        if (access(p, F_OK) < 0) continue;
        if (mount(p, p, NULL, MS_BIND | MS_REC, NULL) < 0) fail("proc-mask", p);
        if (set_tree_readonly(p) < 0) fail("proc-mask", p);
    }
    static const char *masked[] = {"kcore", "keys", "timer_list", "sched_debug", "latency_stats", NULL};
    for (int i = 0; masked[i]; i++) {
        snprintf(p, sizeof p, "%s/proc/%s", S.newroot, masked[i]);
        if (access(p, F_OK) < 0) continue;
        if (mount("/dev/null", p, NULL, MS_BIND, NULL) < 0) fail("proc-mask", p);
    }
}

static void setup_sys(void) {
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/sys", S.newroot);
    if (mount("sysfs", p, "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) == 0) return;
    bind_readonly("/sys", p, 1); /* shared network namespace: sysfs cannot be mounted anew */
}

static void setup_dev(void) {
    char dev[PATH_MAX], p[PATH_MAX];
    snprintf(dev, sizeof dev, "%s/dev", S.newroot);
    if (mount("tmpfs", dev, "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755,size=64k") < 0) fail("dev", dev);
    static const char *nodes[] = {"null", "zero", "full", "random", "urandom", "tty", NULL};
    for (int i = 0; nodes[i]; i++) {
        char src[64];
        snprintf(src, sizeof src, "/dev/%s", nodes[i]);
        if (access(src, F_OK) < 0) continue;
        snprintf(p, sizeof p, "%s/%s", dev, nodes[i]);
        int fd = open(p, O_CREAT | O_WRONLY | O_CLOEXEC, 0666);
        if (fd < 0) fail("dev", p);
        close(fd);
        if (mount(src, p, NULL, MS_BIND, NULL) < 0) fail("dev", src);
    }
    static const char *links[][2] = {{"fd", "/proc/self/fd"},     {"stdin", "/proc/self/fd/0"},
                                     {"stdout", "/proc/self/fd/1"}, {"stderr", "/proc/self/fd/2"},
                                     {"ptmx", "pts/ptmx"},          {NULL, NULL}};
    for (int i = 0; links[i][0]; i++) {
        snprintf(p, sizeof p, "%s/%s", dev, links[i][0]);
        if (symlink(links[i][1], p) < 0) fail("dev", p);
    }
    snprintf(p, sizeof p, "%s/pts", dev);
    mkdir(p, 0755);
    if (mount("devpts", p, "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620") < 0)
        fail("devpts", p);
    snprintf(p, sizeof p, "%s/shm", dev);
    mkdir(p, 01777);
    if (mount("tmpfs", p, "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777,size=64m") < 0) fail("shm", p);
}

static void setup_workspace(void) {
    if (!S.at || (!S.overlay_opts && !S.bind_rw)) return;
    int fd = mkdir_in_root(S.at);
    if (fd < 0) fail("workspace", S.at);
    char target[64];
    fd_path(fd, target, sizeof target);
    if (S.overlay_opts) {
        if (mount("overlay", target, "overlay", MS_NOSUID | MS_NODEV, S.overlay_opts) < 0)
            fail("overlay", S.at);
    } else {
        if (mount(S.bind_rw, target, NULL, MS_BIND | MS_REC, NULL) < 0) fail("bind", S.bind_rw);
        int top = open_in_root(S.at, O_DIRECTORY);
        if (top < 0) fail("bind", S.at);
        fd_path(top, target, sizeof target);
        struct sw_mount_attr attr = {.attr_set = SW_ATTR_NOSUID | SW_ATTR_NODEV};
        if (syscall(SYS_mount_setattr, AT_FDCWD, target, AT_RECURSIVE, &attr, sizeof attr) < 0 && errno != ENOSYS)
            fail("bind", S.at);
        close(top);
    }
    close(fd);
}

static void loopback_up(void) {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) fail("loopback", "socket");
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    strcpy(ifr.ifr_name, "lo");
    if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0) fail("loopback", "get flags");
    ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
    if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0) fail("loopback", "set flags");
    close(fd);
}

static void setup_root(void) {
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) fail("mount-private", "/");
    if (mount("tmpfs", S.newroot, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m,nr_inodes=65536") < 0)
        fail("root-tmpfs", S.newroot);
    newroot_fd = open(S.newroot, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (newroot_fd < 0) fail("root-tmpfs", S.newroot);
    remember_dev(S.newroot);
    mirror_host_top();

    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/tmp", S.newroot);
    char opts[128];
    snprintf(opts, sizeof opts, "mode=1777,size=%s", S.tmp_size ? S.tmp_size : "1g");
    if (mount("tmpfs", p, "tmpfs", MS_NOSUID | MS_NODEV, opts) < 0) fail("tmp", p);
    remember_dev(p);
    snprintf(p, sizeof p, "%s/run", S.newroot);
    if (mount("tmpfs", p, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=64m") < 0) fail("run", p);
    remember_dev(p);
    setup_proc();
    if (!S.fs_only) setup_sys();
    setup_dev();

    for (int i = 0; i < S.nhides; i++)
        if (!under_at(S.hides[i])) hide_path(S.hides[i]);
    setup_workspace();
    for (int i = 0; i < S.nhides; i++)
        if (under_at(S.hides[i])) hide_path(S.hides[i]);
    for (int i = 0; i < S.nbinds; i++) ro_bind(S.bind_src[i], S.bind_dst[i]);

    if (mount(NULL, S.newroot, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) < 0)
        fail("root-readonly", S.newroot);
    if (fchdir(newroot_fd) < 0) fail("pivot", "chdir");
    if (syscall(SYS_pivot_root, ".", ".") < 0) fail("pivot", "pivot_root");
    if (umount2(".", MNT_DETACH) < 0) fail("pivot", "detach old root");
    if (chdir("/") < 0) fail("pivot", "chdir /");
    close(newroot_fd);
    newroot_fd = -1;

    const char *host = S.hostname ? S.hostname : "sandbox";
    sethostname(host, strlen(host));
    if (!S.share_net && !S.fs_only) loopback_up();
}

/* -- user namespace ------------------------------------------------------------------------ */

static void enter_new_userns(void) {
    uid_t uid = geteuid();
    gid_t gid = getegid();
    if (unshare(CLONE_NEWUSER) < 0) fail("userns", "unshare(CLONE_NEWUSER)");
    char map[64];
    if (write_file("/proc/self/setgroups", "deny") < 0 && errno != ENOENT) fail("userns", "setgroups");
    snprintf(map, sizeof map, "%u %u 1", S.same_uid ? (unsigned)uid : 0, (unsigned)uid);
    if (write_file("/proc/self/uid_map", map) < 0) fail("userns", "uid_map");
    snprintf(map, sizeof map, "%u %u 1", S.same_uid ? (unsigned)gid : 0, (unsigned)gid);
    if (write_file("/proc/self/gid_map", map) < 0) fail("userns", "gid_map");
}

/* -- payload -------------------------------------------------------------------------------- */

#define KEEP_CAPS                                                                                  \
    ((1ULL << CAP_CHOWN) | (1ULL << CAP_DAC_OVERRIDE) | (1ULL << CAP_FOWNER) | (1ULL << CAP_FSETID) | \
     (1ULL << CAP_KILL) | (1ULL << CAP_SETGID) | (1ULL << CAP_SETUID) |                             \
     (1ULL << CAP_NET_BIND_SERVICE) | (1ULL << CAP_SYS_CHROOT))

static void drop_caps(void) {
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) fail("caps", "no_new_privs");
    for (int cap = 0; cap < 64; cap++)
        if (!(KEEP_CAPS & (1ULL << cap)) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
            fail("caps", "bounding set");
    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
    struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2];
    memset(data, 0, sizeof data);
    data[0].effective = data[0].permitted = data[0].inheritable = (uint32_t)KEEP_CAPS;
    data[1].effective = data[1].permitted = data[1].inheritable = (uint32_t)(KEEP_CAPS >> 32);
    if (syscall(SYS_capset, &hdr, data) < 0) fail("caps", "capset");
}

static int copy_fd(int in, int out) {
    char buf[65536];
    for (;;) {
        ssize_t n = read(in, buf, sizeof buf);
        if (n == 0) return 0;
        if (n < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(out, buf + off, n - off);
            if (w < 0) {
                if (errno == EINTR) continue;
                return -1;
            }
            off += w;
        }
    }
}

static int mkdir_parents(const char *path) {
    char buf[PATH_MAX];
    if (strlen(path) >= sizeof buf) {
        errno = ENAMETOOLONG;
        return -1;
    }
    strcpy(buf, path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(buf, 0777) < 0 && errno != EEXIST) return -1;
        *p = '/';
    }
    return 0;
}

/* realpath that, like Python's os.path.realpath, keeps a missing tail as it is */
static int soft_realpath(const char *path, char *out) {
    if (realpath(path, out)) return 0;
    if (errno != ENOENT && errno != ENOTDIR) return -1;
    char parent[PATH_MAX];
    snprintf(parent, sizeof parent, "%s", path);
    char *slash = strrchr(parent, '/');
    if (!slash) return -1;
    const char *tail = path + (slash - parent) + 1;
    if (slash == parent) {
        snprintf(out, PATH_MAX, "/%s", tail);
        return 0;
    }
    *slash = 0;
    char resolved[PATH_MAX];
    if (soft_realpath(parent, resolved) < 0) return -1;
    if (!*tail || !strcmp(tail, ".")) {
        snprintf(out, PATH_MAX, "%s", resolved);
    } else if (!strcmp(tail, "..")) {
        char *s = strrchr(resolved, '/');
        if (s && s != resolved) *s = 0;
        else strcpy(resolved, "/");
        snprintf(out, PATH_MAX, "%s", resolved);
    } else {
        snprintf(out, PATH_MAX, "%s%s%s", resolved, strcmp(resolved, "/") ? "/" : "", tail);
    }
    return 0;
}

static char type_char(mode_t m) {
    return S_ISDIR(m) ? 'd' : S_ISREG(m) ? 'f' : S_ISLNK(m) ? 'l' : 'o';
}

static int fs_operation(void) {
    const char *op = S.fsop, *path = S.fspath;
    if (!strcmp(op, "read")) {
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
        if (fd < 0) return errno;
        struct stat st;
        if (fstat(fd, &st) < 0) return errno;
        if (S_ISDIR(st.st_mode)) return EISDIR;
        if (!S_ISREG(st.st_mode)) return EINVAL;
        if (copy_fd(fd, 1) < 0) return errno;
        return 0;
    }
    if (!strcmp(op, "write")) {
        if (mkdir_parents(path) < 0) return errno;
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
        if (fd < 0) return errno;
        if (copy_fd(0, fd) < 0) return errno;
        if (close(fd) < 0) return errno;
        return 0;
    }
    if (!strcmp(op, "list")) {
        DIR *d = opendir(path);
        if (!d) return errno;
        struct dirent *e;
        char line[PATH_MAX + 64];
        while ((e = readdir(d))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
            struct stat lst, st;
            int is_link = fstatat(dirfd(d), e->d_name, &lst, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(lst.st_mode);
            int is_dir = 0;
            long long size = 0;
            if (fstatat(dirfd(d), e->d_name, &st, 0) == 0) {
                is_dir = S_ISDIR(st.st_mode);
                size = is_dir ? 0 : (long long)st.st_size;
            }
            int n = snprintf(line, sizeof line, "%d%d%lld/%s", is_dir, is_link, size, e->d_name);
            if (write(1, line, n + 1) < 0) return errno; /* the record ends with its NUL */
        }
        closedir(d);
        return 0;
    }
    if (!strcmp(op, "stat")) {
        struct stat st;
        if (lstat(path, &st) < 0) return errno;
        char line[128];
        int n = snprintf(line, sizeof line, "%c %lld %lld.%09ld", type_char(st.st_mode), (long long)st.st_size,
                         (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
        if (write(1, line, n) < 0) return errno;
        return 0;
    }
    if (!strcmp(op, "realpath")) {
        char out[PATH_MAX];
        if (soft_realpath(path, out) < 0) return errno;
        if (write(1, out, strlen(out)) < 0) return errno;
        return 0;
    }
    return EINVAL;
}

static void payload(void) {
    sigset_t none;
    sigemptyset(&none);
    for (int sig = 1; sig < NSIG; sig++)
        if (sig != SIGKILL && sig != SIGSTOP) signal(sig, SIG_DFL); /* e.g. SIGPIPE, ignored by Python */
    sigprocmask(SIG_SETMASK, &none, NULL);
    setsid();
    umask(022);
    for (int i = 0; i < S.nrl; i++) {
        struct rlimit rl = {S.rl_val[i], S.rl_val[i]};
        struct rlimit cur;
        if (getrlimit(S.rl_res[i], &cur) == 0 && cur.rlim_max != RLIM_INFINITY && rl.rlim_max > cur.rlim_max)
            rl.rlim_cur = rl.rlim_max = cur.rlim_max;
        if (setrlimit(S.rl_res[i], &rl) < 0) fail("rlimit", "setrlimit");
    }
    if (S.cwd && chdir(S.cwd) < 0) fail("cwd", S.cwd);
    drop_caps();
    if (S.fsop) {
        int e = fs_operation();
        if (e) status("fserr %d", e);
        _exit(e ? 1 : 0);
    }
    for (int i = 0; i < S.nsetenvs; i++) putenv(S.setenvs[i]);
    close(status_fd);
    close_from(3);
    execvp(S.argv[0], S.argv);
    fprintf(stderr, "swerve sandbox: cannot run %s: %s\n", S.argv[0], strerror(errno));
    _exit(127);
}

/* -- disk usage of the upper layer ---------------------------------------------------------- */

static long long du_total;
static int du_visit(const char *p, const struct stat *st, int flag, struct FTW *f) {
    (void)p, (void)flag, (void)f;
    du_total += (long long)st->st_blocks * 512;
    return 0;
}

static long long disk_usage(void) {
    du_total = 0;
    if (nftw(S.quota_dir, du_visit, 16, FTW_PHYS | FTW_MOUNT) < 0 && errno == ENAMETOOLONG)
        return LLONG_MAX; /* deeper than anyone can account for: treat as over quota */
    return du_total;
}

/* -- process roles -------------------------------------------------------------------------- */

static void block_signals(sigset_t *set) {
    sigemptyset(set);
    sigaddset(set, SIGCHLD);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGHUP);
    sigprocmask(SIG_BLOCK, set, NULL);
}

static void init_main(int lifeline) {
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

static int wait_loop(pid_t child, int is_init) {
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

static int run_outer(void) {
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

static int same_ns(const char *name, pid_t target, int *fd_out) {
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

static int enter_outer(void) {
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

static int rlimit_resource(const char *name) {
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

static void usage(const char *msg) {
    status("error args 22 %s", msg);
    fprintf(stderr, "swerve-ns-launcher: %s\n", msg);
    _exit(125);
}

static void parse(int argc, char **argv) {
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

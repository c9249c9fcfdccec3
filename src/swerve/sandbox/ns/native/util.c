/* Small helpers of the namespace launcher: status records, failures, files, time, fds. */

#include "launcher.h"

struct spec S;
int status_fd = -1;

/* -- small helpers ------------------------------------------------------------------------ */

void status(const char *fmt, ...) {
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

void fail(const char *stage, const char *what) {
    int e = errno;
    status("error %s %d %s: %s", stage, e, what ? what : "", strerror(e));
    _exit(125);
}

int write_file(const char *path, const char *data) {
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    size_t len = strlen(data);
    ssize_t n = write(fd, data, len);
    int e = errno;
    close(fd);
    errno = e;
    return n == (ssize_t)len ? 0 : -1;
}

long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void close_from(int lowfd) {
    if (syscall(SYS_close_range, lowfd, ~0U, 0) == 0) return;
    for (int fd = lowfd; fd < 4096; fd++) close(fd);
}

void parent_death_guard(void) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (S.parent_pid > 0 && getppid() != S.parent_pid) _exit(1);
}

void join_cgroups(void) {
    char pid[32];
    snprintf(pid, sizeof pid, "%d", (int)getpid());
    for (int i = 0; i < S.ncgroups; i++)
        if (write_file(S.cgroups[i], pid) < 0) fail("cgroup", S.cgroups[i]);
}

/* -- path resolution inside the new root --------------------------------------------------- */

int newroot_fd = -1;
dev_t our_devs[MAX_LIST + 16];
int n_our_devs;

void remember_dev(const char *path) {
    struct stat st;
    if (stat(path, &st) == 0 && n_our_devs < (int)(sizeof our_devs / sizeof our_devs[0]))
        our_devs[n_our_devs++] = st.st_dev;
}

int is_our_dev(dev_t d) {
    for (int i = 0; i < n_our_devs; i++)
        if (our_devs[i] == d) return 1;
    return 0;
}

/* Open `path` (absolute, in the sandbox's view) relative to the new root, with symlinks
 * resolved as if the new root were "/". Returns an O_PATH fd or -1. */
int open_in_root(const char *path, int extra_flags) {
    while (*path == '/') path++;
    if (!*path) path = ".";
    struct sw_open_how how = {.flags = O_PATH | O_CLOEXEC | extra_flags,
                              .resolve = SW_RESOLVE_IN_ROOT | SW_RESOLVE_NO_MAGICLINKS};
    int fd = syscall(SYS_openat2, newroot_fd, path, &how, sizeof how);
    if (fd < 0 && errno == ENOSYS) fd = openat(newroot_fd, path, O_PATH | O_CLOEXEC | extra_flags);
    return fd;
}

void fd_path(int fd, char *buf, size_t len) { snprintf(buf, len, "/proc/self/fd/%d", fd); }

/* mkdir -p inside the new root, only where the deepest existing ancestor is a file system this
 * launcher mounted (never on a host directory). Returns an O_PATH fd of the directory or -1. */
int mkdir_in_root(const char *path) {
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


/* The payload: capabilities, file operations, the command, and the upper layer's disk usage. */

#include "launcher.h"

/* -- payload -------------------------------------------------------------------------------- */

#define KEEP_CAPS                                                                                  \
    ((1ULL << CAP_CHOWN) | (1ULL << CAP_DAC_OVERRIDE) | (1ULL << CAP_FOWNER) | (1ULL << CAP_FSETID) | \
     (1ULL << CAP_KILL) | (1ULL << CAP_SETGID) | (1ULL << CAP_SETUID) |                             \
     (1ULL << CAP_NET_BIND_SERVICE) | (1ULL << CAP_SYS_CHROOT))

void drop_caps(void) {
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

int copy_fd(int in, int out) {
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

int mkdir_parents(const char *path) {
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
int soft_realpath(const char *path, char *out) {
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

char type_char(mode_t m) {
    return S_ISDIR(m) ? 'd' : S_ISREG(m) ? 'f' : S_ISLNK(m) ? 'l' : 'o';
}

int fs_operation(void) {
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

void payload(void) {
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
    if (!S.no_seccomp) install_seccomp();
    close(status_fd);
    close_from(3);
    execvp(S.argv[0], S.argv);
    fprintf(stderr, "swerve sandbox: cannot run %s: %s\n", S.argv[0], strerror(errno));
    _exit(127);
}

/* -- disk usage of the upper layer ---------------------------------------------------------- */

static long long du_total;
int du_visit(const char *p, const struct stat *st, int flag, struct FTW *f) {
    (void)p, (void)flag, (void)f;
    du_total += (long long)st->st_blocks * 512;
    return 0;
}

long long disk_usage(void) {
    du_total = 0;
    if (nftw(S.quota_dir, du_visit, 16, FTW_PHYS | FTW_MOUNT) < 0 && errno == ENAMETOOLONG)
        return LLONG_MAX; /* deeper than anyone can account for: treat as over quota */
    return du_total;
}


/* The sandbox's file system view: mounts, hidden paths, /proc, /sys, /dev, the user namespace. */

#include "launcher.h"

/* -- mounts --------------------------------------------------------------------------------- */

int set_tree_readonly(const char *target) {
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

void bind_readonly(const char *src, const char *target, int recursive) {
    if (mount(src, target, NULL, MS_BIND | (recursive ? MS_REC : 0), NULL) < 0) fail("bind", src);
    if (set_tree_readonly(target) < 0) fail("readonly", src);
}

int is_special_top(const char *name) {
    static const char *special[] = {"proc", "sys", "dev", "tmp", "run", NULL};
    for (int i = 0; special[i]; i++)
        if (!strcmp(name, special[i])) return 1;
    return 0;
}

int is_hidden_top(const char *name) {
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
void mirror_host_top(void) {
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

void mount_tmpfs_at(int fd, const char *opts, const char *what) {
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
void hide_path(const char *path) {
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

void ro_bind(const char *src, const char *path) {
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

int under_at(const char *path) {
    if (!S.at) return 0;
    size_t n = strlen(S.at);
    return !strncmp(path, S.at, n) && (path[n] == '/' || path[n] == 0);
}

void setup_proc(void) {
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

void setup_sys(void) {
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/sys", S.newroot);
    if (mount("sysfs", p, "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) == 0) return;
    bind_readonly("/sys", p, 1); /* shared network namespace: sysfs cannot be mounted anew */
}

void setup_dev(void) {
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

void setup_workspace(void) {
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

void loopback_up(void) {
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

/* 10.255.255.1 is the address tests use for "a host that never answers" (requests' TARPIT): with
   only loopback a connect to it fails at once (network unreachable); routed to lo, the SYN goes
   nowhere and the connect times out, as on a real network. Best effort: a failure changes nothing. */
static void route_to_nowhere(const char *address) {
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd < 0) return;
    struct {
        struct nlmsghdr nh;
        struct rtmsg rt;
        char attrs[64];
    } req;
    memset(&req, 0, sizeof req);
    req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct rtmsg));
    req.nh.nlmsg_type = RTM_NEWROUTE;
    req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK;
    req.rt.rtm_family = AF_INET;
    req.rt.rtm_dst_len = 32;
    req.rt.rtm_table = RT_TABLE_MAIN;
    req.rt.rtm_protocol = RTPROT_BOOT;
    req.rt.rtm_scope = RT_SCOPE_LINK;
    req.rt.rtm_type = RTN_UNICAST;
    struct in_addr dst;
    int oif = (int)if_nametoindex("lo");
    if (inet_pton(AF_INET, address, &dst) != 1 || oif <= 0) {
        close(fd);
        return;
    }
    struct rtattr *a = (struct rtattr *)((char *)&req + NLMSG_ALIGN(req.nh.nlmsg_len));
    a->rta_type = RTA_DST;
    a->rta_len = RTA_LENGTH(sizeof dst);
    memcpy(RTA_DATA(a), &dst, sizeof dst);
    req.nh.nlmsg_len = NLMSG_ALIGN(req.nh.nlmsg_len) + RTA_ALIGN(a->rta_len);
    a = (struct rtattr *)((char *)&req + req.nh.nlmsg_len);
    a->rta_type = RTA_OIF;
    a->rta_len = RTA_LENGTH(sizeof oif);
    memcpy(RTA_DATA(a), &oif, sizeof oif);
    req.nh.nlmsg_len += RTA_ALIGN(a->rta_len);
    struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
    if (sendto(fd, &req, req.nh.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof kernel) >= 0) {
        char ack[256];
        (void)recv(fd, ack, sizeof ack, 0); /* the kernel's answer; an error leaves no route */
    }
    close(fd);
}

void setup_root(void) {
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
    if (!S.share_net && !S.fs_only) {
        loopback_up();
        route_to_nowhere("10.255.255.1");
    }
}

/* -- user namespace ------------------------------------------------------------------------ */

void enter_new_userns(void) {
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


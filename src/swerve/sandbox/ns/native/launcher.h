/* Shared declarations of the namespace launcher's translation units (see main.c). */
#ifndef SWERVE_LAUNCHER_H
#define SWERVE_LAUNCHER_H

#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <linux/capability.h>
#include <arpa/inet.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
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
    int no_seccomp; /* leave the payload without the system-call filter */
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

extern struct spec S;
extern int status_fd;
extern int newroot_fd;
extern dev_t our_devs[MAX_LIST + 16];
extern int n_our_devs;

void status(const char *fmt, ...);
void fail(const char *stage, const char *what);
int write_file(const char *path, const char *data);
long long now_ms(void);
void close_from(int lowfd);
void parent_death_guard(void);
void join_cgroups(void);
void remember_dev(const char *path);
void fd_path(int fd, char *buf, size_t len);
int open_in_root(const char *path, int extra_flags);
int is_our_dev(dev_t d);
int mkdir_in_root(const char *path);
int set_tree_readonly(const char *target);
void bind_readonly(const char *src, const char *target, int recursive);
int is_special_top(const char *name);
int is_hidden_top(const char *name);
void mirror_host_top(void);
void mount_tmpfs_at(int fd, const char *opts, const char *what);
void hide_path(const char *path);
void ro_bind(const char *src, const char *path);
int under_at(const char *path);
void setup_proc(void);
void setup_sys(void);
void setup_dev(void);
void setup_workspace(void);
void loopback_up(void);
void setup_root(void);
void install_seccomp(void);
void enter_new_userns(void);
void drop_caps(void);
int copy_fd(int in, int out);
int mkdir_parents(const char *path);
int soft_realpath(const char *path, char *out);
char type_char(mode_t m);
int fs_operation(void);
void payload(void);
int du_visit(const char *p, const struct stat *st, int flag, struct FTW *f);
long long disk_usage(void);
void block_signals(sigset_t *set);
void init_main(int lifeline);
int wait_loop(pid_t child, int is_init);
int run_outer(void);
int same_ns(const char *name, pid_t target, int *fd_out);
int enter_outer(void);
int rlimit_resource(const char *name);
void usage(const char *msg);
void parse(int argc, char **argv);

#endif

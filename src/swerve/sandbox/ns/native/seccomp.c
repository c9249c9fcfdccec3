/* The payload's system-call filter: what a sandboxed command may not ask the kernel for.
 *
 * Blocked with EPERM: the calls docker's default profile refuses to a container without
 * CAP_SYS_ADMIN that still mean something inside a user namespace: the kernel keyring, BPF,
 * perf events, kexec and modules, every mount call (old and new API), pivot_root, swap, reboot,
 * the kernel log, process accounting, the clocks, file handles, setns, userfaultfd, quotas,
 * io_uring (which bypasses the rest), and new namespaces from clone or unshare. clone3 answers
 * ENOSYS, so libc falls back to clone, whose flags the filter can see. Another architecture's
 * calls (x32 on x86_64) are refused; a foreign audit arch kills the process. */

#include "launcher.h"

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>

#if defined(__x86_64__)
#define SW_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define SW_AUDIT_ARCH AUDIT_ARCH_AARCH64
#endif

#define NS_FLAGS                                                                                     \
    (CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWIPC |       \
     CLONE_NEWCGROUP)
#define SW_CLONE_NEWTIME 0x00000080 /* unshare only: in clone's flags these bits are the signal */

static const int blocked[] = {
#ifdef __NR_keyctl
    __NR_keyctl, __NR_add_key, __NR_request_key,
#endif
#ifdef __NR_bpf
    __NR_bpf,
#endif
#ifdef __NR_perf_event_open
    __NR_perf_event_open,
#endif
#ifdef __NR_kexec_load
    __NR_kexec_load,
#endif
#ifdef __NR_kexec_file_load
    __NR_kexec_file_load,
#endif
    __NR_init_module, __NR_finit_module, __NR_delete_module,
#ifdef __NR_create_module
    __NR_create_module,
#endif
    __NR_mount, __NR_umount2, __NR_pivot_root,
#ifdef __NR_open_tree
    __NR_open_tree, __NR_move_mount, __NR_fsopen, __NR_fsconfig, __NR_fsmount, __NR_fspick,
#endif
    SYS_mount_setattr,
    __NR_swapon, __NR_swapoff, __NR_reboot, __NR_syslog, __NR_acct,
    __NR_settimeofday, __NR_clock_settime, __NR_clock_adjtime, __NR_adjtimex,
    __NR_open_by_handle_at, __NR_name_to_handle_at, __NR_setns,
#ifdef __NR_userfaultfd
    __NR_userfaultfd,
#endif
    __NR_quotactl,
#ifdef __NR_lookup_dcookie
    __NR_lookup_dcookie,
#endif
#ifdef __NR_uselib
    __NR_uselib,
#endif
    __NR_vhangup,
#ifdef __NR_iopl
    __NR_iopl, __NR_ioperm,
#endif
#ifdef __NR_io_uring_setup
    __NR_io_uring_setup, __NR_io_uring_enter, __NR_io_uring_register,
#endif
    __NR_fanotify_init,
};

#define NBLOCKED (sizeof blocked / sizeof blocked[0])
#define ERRNO(e) (SECCOMP_RET_ERRNO | ((e) & SECCOMP_RET_DATA))
#define STMT(code, k) ((struct sock_filter)BPF_STMT(code, k))
#define JUMP(code, k, t, f) ((struct sock_filter)BPF_JUMP(code, k, t, f))
#define LOAD(field) STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, field))
#define LOAD_ARG0_LOW STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0]))

/* Refuse a call whose first argument has any of `flags` (the accumulator holds the number). */
static int flag_check(struct sock_filter *f, int nr, unsigned flags) {
    f[0] = JUMP(BPF_JMP | BPF_JEQ | BPF_K, nr, 0, 4);
    f[1] = LOAD_ARG0_LOW;
    f[2] = JUMP(BPF_JMP | BPF_JSET | BPF_K, flags, 0, 1);
    f[3] = STMT(BPF_RET | BPF_K, ERRNO(EPERM));
    f[4] = STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    return 5;
}

void install_seccomp(void) {
#ifdef SW_AUDIT_ARCH
    struct sock_filter f[2 * NBLOCKED + 32];
    int n = 0;
    f[n++] = LOAD(arch);
    f[n++] = JUMP(BPF_JMP | BPF_JEQ | BPF_K, SW_AUDIT_ARCH, 1, 0);
    f[n++] = STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
    f[n++] = LOAD(nr);
#if defined(__x86_64__)
    f[n++] = JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000, 0, 1); /* x32 */
    f[n++] = STMT(BPF_RET | BPF_K, ERRNO(EPERM));
#endif
    for (size_t i = 0; i < NBLOCKED; i++) {
        f[n++] = JUMP(BPF_JMP | BPF_JEQ | BPF_K, blocked[i], 0, 1);
        f[n++] = STMT(BPF_RET | BPF_K, ERRNO(EPERM));
    }
#ifdef __NR_clone3
    f[n++] = JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone3, 0, 1);
    f[n++] = STMT(BPF_RET | BPF_K, ERRNO(ENOSYS));
#endif
    n += flag_check(f + n, __NR_clone, NS_FLAGS);
    n += flag_check(f + n, __NR_unshare, NS_FLAGS | SW_CLONE_NEWTIME);
    f[n++] = STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    struct sock_fprog prog = {(unsigned short)n, f};
    if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) < 0) fail("seccomp", "install the filter");
#endif
}

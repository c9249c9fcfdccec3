"""The namespace launcher in pure Python (ctypes): used where no C compiler is available.

Same arguments, same behaviour and same status reports as ``ns_native/launcher.c`` (read that
file for the design); about 20 ms slower per command because a Python interpreter starts each
time. Run as a script (``python -S -E ns_pylauncher.py MODE ...``), it imports nothing of swerve.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import os
import platform
import resource
import select
import signal
import socket
import stat
import struct
import sys
import time

# everything is imported up front: after pivot_root the standard library may be out of sight

libc = ctypes.CDLL(None, use_errno=True)
_ARCH = platform.machine()
SYS = {
    "x86_64": {"pivot_root": 155, "capset": 126},
    "aarch64": {"pivot_root": 41, "capset": 91},
}.get(_ARCH, {"pivot_root": 155, "capset": 126})
SYS_OPENAT2, SYS_MOUNT_SETATTR = 437, 442
CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x20000, 0x4000000, 0x8000000
CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWCGROUP = 0x10000000, 0x20000000, 0x40000000, 0x02000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
MNT_DETACH = 2
AT_FDCWD, AT_RECURSIVE = -100, 0x8000
ATTR_RDONLY, ATTR_NOSUID, ATTR_NODEV = 1, 2, 4
O_PATH = 0o10000000
RESOLVE_NO_MAGICLINKS, RESOLVE_IN_ROOT = 0x02, 0x10
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS, PR_CAP_AMBIENT = 1, 4, 24, 38, 47
KEEP_CAPS = sum(1 << c for c in (0, 1, 3, 4, 5, 6, 7, 10, 18))
RLIMITS = {
    "as": "RLIMIT_AS",
    "cpu": "RLIMIT_CPU",
    "fsize": "RLIMIT_FSIZE",
    "nofile": "RLIMIT_NOFILE",
    "nproc": "RLIMIT_NPROC",
    "core": "RLIMIT_CORE",
    "stack": "RLIMIT_STACK",
}

for name, argtypes in {
    "mount": [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p],
    "umount2": [ctypes.c_char_p, ctypes.c_int],
    "unshare": [ctypes.c_int],
    "setns": [ctypes.c_int, ctypes.c_int],
    "sethostname": [ctypes.c_char_p, ctypes.c_size_t],
}.items():
    getattr(libc, name).argtypes = argtypes
libc.syscall.restype = ctypes.c_long
libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]


class Spec:
    def __init__(self) -> None:
        self.mode = ""
        self.status_fd = 3
        self.parent_pid = 0
        self.newroot = self.overlay = self.bind_rw = self.at = self.cwd = None
        self.hides: list[str] = []
        self.binds: list[tuple[str, str]] = []
        self.cgroups: list[str] = []
        self.rlimits: list[tuple[int, int]] = []
        self.setenvs: list[str] = []
        self.share_net = self.fs_only = self.same_uid = False
        self.timeout_ms = 0
        self.quota = 0
        self.quota_dir = None
        self.tmp_size = "1g"
        self.target = 0
        self.fsop = self.fspath = None
        self.hostname = "sandbox"
        self.argv: list[str] = []


S = Spec()


class Fail(Exception):
    def __init__(self, stage: str, what: str, err: int | None = None) -> None:
        self.stage, self.what = stage, what
        self.err = ctypes.get_errno() if err is None else err


def status(line: str) -> None:
    if S.status_fd >= 0:
        try:
            os.write(S.status_fd, (line + "\n").encode())
        except OSError:
            pass


def die(exc: Fail) -> None:
    status(f"error {exc.stage} {exc.err} {exc.what}: {os.strerror(exc.err)}")
    os._exit(125)


def check(ret: int, stage: str, what: str) -> int:
    if ret < 0:
        raise Fail(stage, what)
    return ret


def b(s: str | None) -> bytes | None:
    return None if s is None else os.fsencode(s)


def mount(src: str | None, target: str, fstype: str | None, flags: int, data: str | None, stage: str) -> None:
    check(libc.mount(b(src), b(target), b(fstype), flags, b(data)), stage, target)


def set_tree_readonly(target: str) -> None:
    attr = struct.pack("QQQQ", ATTR_RDONLY | ATTR_NOSUID | ATTR_NODEV, 0, 0, 0)
    buf = ctypes.create_string_buffer(attr, len(attr))
    ret = libc.syscall(SYS_MOUNT_SETATTR, AT_FDCWD, b(target), AT_RECURSIVE, buf, len(attr))
    if ret == 0:
        return
    if ctypes.get_errno() != errno.ENOSYS:
        raise Fail("readonly", target)
    mount(None, target, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, None, "readonly")


def bind_readonly(src: str, target: str, recursive: bool) -> None:
    mount(src, target, None, MS_BIND | (MS_REC if recursive else 0), None, "bind")
    set_tree_readonly(target)


# -- resolution inside the new root ------------------------------------------------------------

newroot_fd = -1
our_devs: set[int] = set()


def open_in_root(path: str, extra: int = 0) -> int:
    rel = path.lstrip("/") or "."
    how = struct.pack("QQQ", O_PATH | os.O_CLOEXEC | extra, 0, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)
    buf = ctypes.create_string_buffer(how, len(how))
    fd = libc.syscall(SYS_OPENAT2, newroot_fd, b(rel), buf, len(how))
    if fd < 0 and ctypes.get_errno() == errno.ENOSYS:
        try:
            return os.open(rel, O_PATH | os.O_CLOEXEC | extra, dir_fd=newroot_fd)
        except OSError as exc:
            ctypes.set_errno(exc.errno or errno.EIO)
            return -1
    return fd


def fd_path(fd: int) -> str:
    return f"/proc/self/fd/{fd}"


def mkdir_in_root(path: str) -> int:
    fd = open_in_root(path, os.O_DIRECTORY)
    if fd >= 0 or ctypes.get_errno() != errno.ENOENT:
        return fd
    parent_path, name = os.path.split(path.rstrip("/"))
    parent = os.dup(newroot_fd) if parent_path in ("", "/") else mkdir_in_root(parent_path)
    if parent < 0:
        return -1
    try:
        if os.fstat(parent).st_dev not in our_devs:
            ctypes.set_errno(errno.EROFS)
            return -1
        try:
            os.mkdir(name, 0o755, dir_fd=parent)
        except FileExistsError:
            pass
        except OSError as exc:
            ctypes.set_errno(exc.errno or errno.EIO)
            return -1
    finally:
        os.close(parent)
    return open_in_root(path, os.O_DIRECTORY)


def remember_dev(path: str) -> None:
    our_devs.add(os.stat(path).st_dev)


# -- the view ------------------------------------------------------------------------------------

SPECIAL = ("proc", "sys", "dev", "tmp", "run")


def hidden_top(name: str) -> bool:
    return any(h.startswith("/") and h[1:] == name for h in S.hides)


def mirror_host_top() -> None:
    for name in os.listdir("/"):
        src, dst = "/" + name, os.path.join(S.newroot, name)
        try:
            st = os.lstat(src)
        except OSError:
            continue
        if name in SPECIAL or hidden_top(name):
            if stat.S_ISDIR(st.st_mode) or name in SPECIAL:
                os.makedirs(dst, 0o755, exist_ok=True)
            continue
        if stat.S_ISLNK(st.st_mode):
            os.symlink(os.readlink(src), dst)
        elif stat.S_ISDIR(st.st_mode):
            os.mkdir(dst, stat.S_IMODE(st.st_mode))
            bind_readonly(src, dst, True)
        elif stat.S_ISREG(st.st_mode):
            os.close(os.open(dst, os.O_CREAT | os.O_WRONLY | os.O_CLOEXEC, 0o644))
            bind_readonly(src, dst, False)
    for name in SPECIAL:
        os.makedirs(os.path.join(S.newroot, name), 0o755, exist_ok=True)


def tmpfs_at(fd: int, opts: str, what: str) -> None:
    mount("tmpfs", fd_path(fd), "tmpfs", MS_NOSUID | MS_NODEV, opts, "tmpfs")
    top = open_in_root(what, os.O_DIRECTORY)  # fd still names the directory under the new mount
    if top >= 0:
        our_devs.add(os.fstat(top).st_dev)
        os.close(top)


def hide_path(path: str) -> None:
    fd = open_in_root(path, os.O_NOFOLLOW)
    if fd < 0:
        return
    st = os.fstat(fd)
    if stat.S_ISLNK(st.st_mode):
        os.close(fd)
        fd = open_in_root(path)
        if fd < 0:
            return
        st = os.fstat(fd)
    if stat.S_ISDIR(st.st_mode):
        tmpfs_at(fd, "mode=0755,size=256m", path)
    else:
        mount("/dev/null", fd_path(fd), None, MS_BIND, None, "hide")
    os.close(fd)


def ro_bind(src: str, path: str) -> None:
    try:
        st = os.stat(src)
    except OSError as exc:
        raise Fail("ro-bind", src, exc.errno) from None
    if stat.S_ISDIR(st.st_mode):
        fd = mkdir_in_root(path)
    else:
        pfd = mkdir_in_root(os.path.dirname(path) or "/")
        if pfd < 0:
            raise Fail("ro-bind", path)
        try:
            os.close(
                os.open(os.path.basename(path), os.O_CREAT | os.O_WRONLY | os.O_CLOEXEC, 0o644, dir_fd=pfd)
            )
        except OSError:
            pass
        os.close(pfd)
        fd = open_in_root(path)
    if fd < 0:
        raise Fail("ro-bind", path)
    mount(src, fd_path(fd), None, MS_BIND | (MS_REC if stat.S_ISDIR(st.st_mode) else 0), None, "bind")
    os.close(fd)
    fd = open_in_root(path)  # the old fd names the directory under the new mount
    if fd < 0:
        raise Fail("ro-bind", path)
    set_tree_readonly(fd_path(fd))
    os.close(fd)


def under_at(path: str) -> bool:
    return bool(S.at) and (path == S.at or path.startswith(S.at.rstrip("/") + "/"))


def setup_proc() -> None:
    p = os.path.join(S.newroot, "proc")
    mount("proc", p, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None, "proc")
    for name in ("sys", "sysrq-trigger", "irq", "bus", "fs"):
        q = os.path.join(p, name)
        if os.path.exists(q):
            mount(q, q, None, MS_BIND | MS_REC, None, "proc-mask")
            set_tree_readonly(q)
    for name in ("kcore", "keys", "timer_list", "sched_debug", "latency_stats"):
        q = os.path.join(p, name)
        if os.path.exists(q):
            mount("/dev/null", q, None, MS_BIND, None, "proc-mask")


def setup_sys() -> None:
    p = os.path.join(S.newroot, "sys")
    if libc.mount(b"sysfs", b(p), b"sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, None) == 0:
        return
    bind_readonly("/sys", p, True)


def setup_dev() -> None:
    dev = os.path.join(S.newroot, "dev")
    mount("tmpfs", dev, "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755,size=64k", "dev")
    for name in ("null", "zero", "full", "random", "urandom", "tty"):
        if not os.path.exists("/dev/" + name):
            continue
        p = os.path.join(dev, name)
        os.close(os.open(p, os.O_CREAT | os.O_WRONLY | os.O_CLOEXEC, 0o666))
        mount("/dev/" + name, p, None, MS_BIND, None, "dev")
    for name, target in (
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
        ("ptmx", "pts/ptmx"),
    ):
        os.symlink(target, os.path.join(dev, name))
    os.mkdir(os.path.join(dev, "pts"), 0o755)
    mount(
        "devpts",
        os.path.join(dev, "pts"),
        "devpts",
        MS_NOSUID | MS_NOEXEC,
        "newinstance,ptmxmode=0666,mode=0620",
        "devpts",
    )
    os.mkdir(os.path.join(dev, "shm"), 0o1777)
    mount("tmpfs", os.path.join(dev, "shm"), "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777,size=64m", "shm")


def setup_workspace() -> None:
    if not S.at or not (S.overlay or S.bind_rw):
        return
    fd = mkdir_in_root(S.at)
    if fd < 0:
        raise Fail("workspace", S.at)
    if S.overlay:
        mount("overlay", fd_path(fd), "overlay", MS_NOSUID | MS_NODEV, S.overlay, "overlay")
    else:
        mount(S.bind_rw, fd_path(fd), None, MS_BIND | MS_REC, None, "bind")
        top = open_in_root(S.at, os.O_DIRECTORY)
        attr = struct.pack("QQQQ", ATTR_NOSUID | ATTR_NODEV, 0, 0, 0)
        buf = ctypes.create_string_buffer(attr, len(attr))
        libc.syscall(SYS_MOUNT_SETATTR, AT_FDCWD, b(fd_path(top)), AT_RECURSIVE, buf, len(attr))
        os.close(top)
    os.close(fd)


def loopback_up() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        req = struct.pack("16sH14x", b"lo", 0)
        flags = struct.unpack("16sH14x", fcntl.ioctl(sock.fileno(), 0x8913, req))[1]  # SIOCGIFFLAGS
        fcntl.ioctl(sock.fileno(), 0x8914, struct.pack("16sH14x", b"lo", flags | 0x1 | 0x40))  # SIOCSIFFLAGS


def setup_root() -> None:
    global newroot_fd
    mount(None, "/", None, MS_REC | MS_PRIVATE, None, "mount-private")
    mount(
        "tmpfs", S.newroot, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m,nr_inodes=65536", "root-tmpfs"
    )
    newroot_fd = os.open(S.newroot, O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    remember_dev(S.newroot)
    mirror_host_top()
    tmp = os.path.join(S.newroot, "tmp")
    mount("tmpfs", tmp, "tmpfs", MS_NOSUID | MS_NODEV, f"mode=1777,size={S.tmp_size}", "tmp")
    remember_dev(tmp)
    run = os.path.join(S.newroot, "run")
    mount("tmpfs", run, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=64m", "run")
    remember_dev(run)
    setup_proc()
    if not S.fs_only:
        setup_sys()
    setup_dev()
    for h in S.hides:
        if not under_at(h):
            hide_path(h)
    setup_workspace()
    for h in S.hides:
        if under_at(h):
            hide_path(h)
    for src, dst in S.binds:
        ro_bind(src, dst)
    mount(
        None, S.newroot, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, None, "root-readonly"
    )
    os.fchdir(newroot_fd)
    check(libc.syscall(SYS["pivot_root"], b".", b"."), "pivot", "pivot_root")
    check(libc.umount2(b".", MNT_DETACH), "pivot", "detach old root")
    os.chdir("/")
    os.close(newroot_fd)
    libc.sethostname(S.hostname.encode(), len(S.hostname))
    if not S.share_net and not S.fs_only:
        try:
            loopback_up()
        except OSError as exc:
            raise Fail("loopback", "lo", exc.errno) from None


def write_file(path: str, data: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
    try:
        os.write(fd, data.encode())
    finally:
        os.close(fd)


def enter_new_userns() -> None:
    uid, gid = os.geteuid(), os.getegid()
    check(libc.unshare(CLONE_NEWUSER), "userns", "unshare(CLONE_NEWUSER)")
    try:
        write_file("/proc/self/setgroups", "deny")
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise Fail("userns", "setgroups", exc.errno) from None
    for path, inside, outside in (("uid_map", uid, uid), ("gid_map", gid, gid)):
        try:
            write_file(f"/proc/self/{path}", f"{inside if S.same_uid else 0} {outside} 1")
        except OSError as exc:
            raise Fail("userns", path, exc.errno) from None


# -- payload ---------------------------------------------------------------------------------------


def drop_caps() -> None:
    check(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "caps", "no_new_privs")
    for cap in range(64):
        dropped = KEEP_CAPS & (1 << cap) or libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == 0
        if not dropped and ctypes.get_errno() != errno.EINVAL:
            raise Fail("caps", "bounding set")
    libc.prctl(PR_CAP_AMBIENT, 4, 0, 0, 0)  # PR_CAP_AMBIENT_CLEAR_ALL
    header = struct.pack("Ii", 0x20080522, 0)
    low, high = KEEP_CAPS & 0xFFFFFFFF, KEEP_CAPS >> 32
    data = struct.pack("IIIIII", low, low, low, high, high, high)
    hbuf, dbuf = ctypes.create_string_buffer(header, 8), ctypes.create_string_buffer(data, 24)
    check(libc.syscall(SYS["capset"], hbuf, dbuf), "caps", "capset")


def soft_realpath(path: str) -> str:
    return os.path.realpath(path)


def fs_operation() -> int:
    op, path = S.fsop, S.fspath
    try:
        if op == "read":
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK)
            st = os.fstat(fd)
            if stat.S_ISDIR(st.st_mode):
                return errno.EISDIR
            if not stat.S_ISREG(st.st_mode):
                return errno.EINVAL
            while chunk := os.read(fd, 1 << 20):
                os.write(1, chunk)
        elif op == "write":
            parent = os.path.dirname(path)
            if parent:
                os.makedirs(parent, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o666)
            while chunk := os.read(0, 1 << 20):
                view = memoryview(chunk)
                while view:
                    view = view[os.write(fd, view) :]
            os.close(fd)
        elif op == "list":
            out = bytearray()
            with os.scandir(path) as it:
                for e in it:
                    is_link = e.is_symlink()
                    try:
                        is_dir = e.is_dir()
                        size = 0 if is_dir else e.stat().st_size
                    except OSError:
                        is_dir, size = False, 0
                    out += b"%d%d%d/" % (is_dir, is_link, size) + os.fsencode(e.name) + b"\0"
            os.write(1, bytes(out))
        elif op == "stat":
            st = os.lstat(path)
            mode = st.st_mode
            kind = (
                "d"
                if stat.S_ISDIR(mode)
                else "f"
                if stat.S_ISREG(mode)
                else "l"
                if stat.S_ISLNK(mode)
                else "o"
            )
            os.write(
                1, f"{kind} {st.st_size} {st.st_mtime_ns // 10**9}.{st.st_mtime_ns % 10**9:09d}".encode()
            )
        elif op == "realpath":
            os.write(1, os.fsencode(soft_realpath(path)))
        else:
            return errno.EINVAL
    except OSError as exc:
        return exc.errno or errno.EIO
    return 0


def payload() -> None:
    try:
        for sig in signal.valid_signals():
            if sig not in (signal.SIGKILL, signal.SIGSTOP):
                try:
                    signal.signal(sig, signal.SIG_DFL)
                except (OSError, ValueError, RuntimeError):
                    pass
        signal.pthread_sigmask(signal.SIG_SETMASK, [])
        os.setsid()
        os.umask(0o022)
        for res, value in S.rlimits:
            _, hard = resource.getrlimit(res)
            if hard != resource.RLIM_INFINITY and value > hard:
                value = hard
            try:
                resource.setrlimit(res, (value, value))
            except (OSError, ValueError) as exc:
                raise Fail("rlimit", "setrlimit", getattr(exc, "errno", None) or errno.EINVAL) from None
        if S.cwd:
            try:
                os.chdir(S.cwd)
            except OSError as exc:
                raise Fail("cwd", S.cwd, exc.errno) from None
        drop_caps()
    except Fail as exc:
        die(exc)
    if S.fsop:
        e = fs_operation()
        if e:
            status(f"fserr {e}")
        os._exit(1 if e else 0)
    env = dict(os.environ)
    for item in S.setenvs:
        k, _, v = item.partition("=")
        env[k] = v
    os.closerange(3, 65536)
    try:
        os.execvpe(S.argv[0], S.argv, env)
    except OSError as exc:
        os.write(2, f"swerve sandbox: cannot run {S.argv[0]}: {exc.strerror}\n".encode())
    os._exit(127)


# -- roles -------------------------------------------------------------------------------------------

WAIT_SIGNALS = {signal.SIGCHLD, signal.SIGTERM, signal.SIGINT, signal.SIGHUP}


def disk_usage() -> int:
    total = 0
    for dirpath, dirnames, filenames in os.walk(S.quota_dir):
        for name in dirnames + filenames:
            try:
                total += os.lstat(os.path.join(dirpath, name)).st_blocks * 512
            except OSError:
                pass
    return total


def init_main(lifeline: int) -> None:
    try:
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if select.select([lifeline], [], [], 0)[0]:
            os._exit(1)
        os.close(lifeline)
        if S.mode != "init":  # a persistent init must stay enterable (see launcher.c)
            libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
        flags = CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP
        if not S.share_net and not S.fs_only:
            flags |= CLONE_NEWNET
        check(libc.unshare(flags), "namespaces", "unshare")
        try:
            setup_root()
        except OSError as exc:
            raise Fail("setup", str(exc), exc.errno or errno.EIO) from None
        except Fail:
            raise
        except Exception as exc:  # a bug here must still produce a report
            raise Fail("setup", repr(exc), errno.EIO) from None
    except Fail as exc:
        die(exc)
    child = -1
    if S.mode == "init":
        status("ready")
        os.close(S.status_fd)
        S.status_fd = -1
    else:
        child = os.fork()
        if child == 0:
            payload()
    while True:
        while True:
            try:
                pid, st = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            if pid == child:
                status(f"exit {st}")
                os._exit(0)
        signal.sigwaitinfo({signal.SIGCHLD})


def wait_loop(child: int, is_init: bool) -> None:
    deadline = time.monotonic() + S.timeout_ms / 1000 if S.timeout_ms > 0 else None
    watch = S.quota > 0 and S.quota_dir
    limit = S.quota
    next_check = None
    if watch:
        used = disk_usage()
        if used > limit:
            limit = used + (1 << 20)
        next_check = time.monotonic() + 0.01
    killed, st = False, 0
    while True:
        wakes = [t for t in (deadline, next_check) if t is not None]
        if wakes:
            info = signal.sigtimedwait(WAIT_SIGNALS, max(0.0, min(wakes) - time.monotonic()))
        else:
            info = signal.sigwaitinfo(WAIT_SIGNALS)
        if info is not None and info.si_signo == signal.SIGCHLD:
            pid, st = os.waitpid(child, os.WNOHANG)
            if pid == child:
                break
            continue
        if info is not None:
            os.kill(child, signal.SIGKILL)
            killed = True
            continue
        now = time.monotonic()
        if not killed and deadline is not None and now >= deadline:
            os.kill(child, signal.SIGKILL)
            killed = True
            status("timeout")
            deadline = None
        if not killed and next_check is not None and now >= next_check:
            used = disk_usage()
            if used > limit:
                os.kill(child, signal.SIGKILL)
                killed = True
                status(f"quota {used}")
                next_check = None
                continue
            interval = min(max((limit - used) / (2 << 30), 0.01), 2.0 if is_init else 1.0)
            next_check = time.monotonic() + interval
        if killed and deadline is None:
            next_check = None
    if is_init:
        status(f"gone {st}")
    if watch and not killed:
        status(f"disk {disk_usage()}")


def parent_death_guard() -> None:
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if S.parent_pid and os.getppid() != S.parent_pid:
        os._exit(1)


def join_cgroups() -> None:
    for path in S.cgroups:
        try:
            write_file(path, str(os.getpid()))
        except OSError as exc:
            raise Fail("cgroup", path, exc.errno) from None


def run_outer() -> None:
    parent_death_guard()
    try:
        join_cgroups()
        enter_new_userns()
        check(libc.unshare(CLONE_NEWPID), "namespaces", "unshare(CLONE_NEWPID)")
    except Fail as exc:
        die(exc)
    r, w = os.pipe()
    signal.pthread_sigmask(signal.SIG_BLOCK, WAIT_SIGNALS)
    child = os.fork()
    if child == 0:
        os.close(w)
        init_main(r)
    os.close(r)
    status(f"pid {child}")
    wait_loop(child, S.mode == "init")


def enter_outer() -> None:
    parent_death_guard()
    try:
        join_cgroups()
        fds = []
        for name in ("user", "mnt", "pid", "net", "ipc", "uts", "cgroup"):
            try:
                theirs = os.stat(f"/proc/{S.target}/ns/{name}")
                ours = os.stat(f"/proc/self/ns/{name}")
            except OSError as exc:
                raise Fail("enter", name, exc.errno) from None
            if (theirs.st_ino, theirs.st_dev) != (ours.st_ino, ours.st_dev):
                fds.append((name, os.open(f"/proc/{S.target}/ns/{name}", os.O_RDONLY | os.O_CLOEXEC)))
        for name, fd in fds:
            check(libc.setns(fd, 0), "enter", name)
            os.close(fd)
        os.chdir("/")
    except Fail as exc:
        die(exc)
    signal.pthread_sigmask(signal.SIG_BLOCK, WAIT_SIGNALS)
    child = os.fork()
    if child == 0:
        payload()
    status(f"pid {child}")
    st = 0
    while True:
        info = signal.sigwaitinfo(WAIT_SIGNALS)
        if info.si_signo == signal.SIGCHLD:
            pid, st = os.waitpid(child, os.WNOHANG)
            if pid == child:
                break
        else:
            os.kill(child, signal.SIGKILL)
    status(f"exit {st}")


def usage(msg: str) -> None:
    status(f"error args 22 {msg}")
    sys.stderr.write(f"swerve-ns-launcher: {msg}\n")
    os._exit(125)


def parse(argv: list[str]) -> None:
    if len(argv) < 2:
        usage("missing mode")
    S.mode = argv[1]
    i = 2
    while i < len(argv):
        a = argv[i]

        def nxt() -> str:
            nonlocal i
            i += 1
            if i >= len(argv):
                usage("missing value")
            return argv[i]

        if a == "--":
            S.argv = argv[i + 1 :]
            break
        elif a == "--status-fd":
            S.status_fd = int(nxt())
        elif a == "--parent-pid":
            S.parent_pid = int(nxt())
        elif a in (
            "--newroot",
            "--overlay",
            "--bind-rw",
            "--at",
            "--cwd",
            "--quota-dir",
            "--tmp-size",
            "--hostname",
        ):
            setattr(S, a[2:].replace("-", "_"), nxt())
        elif a == "--hide":
            S.hides.append(nxt())
        elif a == "--ro-bind":
            src = nxt()
            S.binds.append((src, nxt()))
        elif a == "--cgroup":
            S.cgroups.append(nxt())
        elif a == "--rlimit":
            name, _, value = nxt().partition("=")
            if name not in RLIMITS:
                usage("unknown rlimit")
            S.rlimits.append((getattr(resource, RLIMITS[name]), int(value)))
        elif a == "--setenv":
            S.setenvs.append(nxt())
        elif a == "--net":
            S.share_net = True
        elif a == "--fs-only":
            S.fs_only = True
        elif a == "--same-uid":
            S.same_uid = True
        elif a == "--timeout-ms":
            S.timeout_ms = int(nxt())
        elif a == "--quota":
            S.quota = int(nxt())
        elif a == "--target":
            S.target = int(nxt())
        elif a == "--fsop":
            S.fsop = nxt()
            S.fspath = nxt()
        else:
            usage(a)
        i += 1


def main(argv: list[str]) -> None:
    parse(argv)
    if S.mode == "version":
        print("swerve-ns-launcher 1 (python)")
        return
    if S.mode == "enter":
        if S.target <= 0:
            usage("--target is required")
        enter_outer()
    elif S.mode in ("run", "init"):
        if not S.newroot:
            usage("--newroot is required")
        if S.mode == "run" and not S.fsop and not S.argv:
            usage("missing command")
        run_outer()
    else:
        usage("unknown mode")


if __name__ == "__main__":
    main(sys.argv)

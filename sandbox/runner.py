"""koderz sandbox runner: runs a batch of untrusted Python programs and judges each one.

It runs inside the Docker sandbox (as the container's first process) and under the process
sandbox alike. The interpreter is started once per batch and imports numpy and common modules
before forking, so each program pays forks, not an interpreter start.

Protocol, one JSON object per line:
  argv[1]  config: {"workers", "memoryBytes", "outputBytes", "fileSizeBytes", "maxProcesses",
           "workRoot", "programUidBase"}
  stdin    programs: {"id", "source", "timeout", "check"?, "judgeSetup"?, "entryPoint"?}, or
           {"stop": true} to start no more of them; end of input means no more programs.
  stdout   first {"ready": true, ...}, then one
           {"id", "status", "result", "durationMs", "output"} per program, as each finishes;
           "result" is cut at RESULT_CHARS.

Who decides a verdict. Each program has two parts:
  - the CANDIDATE runs the untrusted `source` (prompt + completion) under a uid of its own
    (one per worker slot, drawn at random per runner), with no channel to the runner: it only
    answers calls from its judge. It is forked from a zygote that was forked before any program
    was read, so its memory holds no test, no other program, no reporter and no secret.
  - the JUDGE, a trusted thread of the runner, sends it the source, then runs the trusted `check`
    code (the hidden test + "check(entry_point)") itself, in a namespace it builds from the
    program's trusted parts alone: the real builtins, its own copy of the prompt's helpers
    (`judgeSetup`, run there first) and, of the program, only `entryPoint`, as a proxy. A
    completion that defines `abs` or `zip`, or redefines a helper, changes its own namespace.
    A call crosses to the candidate as data in the wire encoding (JSON with typed tags, never
    pickle); what comes back is decoded in time linear in its size, with caps on size, depth and
    keys of one hash, and rebuilt as exact builtin types. A loop of the check whose calls are known
    before it starts (HumanEval+'s) sends them ahead in one message, and the candidate answers each
    as it returns (see "Planned calls"). An object of the program's that is not
    plain data stays in the candidate and reaches the judge as a handle (its methods, len(),
    iteration are calls back into the candidate); a function of the judge's passed to the
    program stays in the judge and is called back. No object of the program's ever runs code in
    the judge, and "passed" means `check` returned in the judge. A thread, not a process: a fork
    costs milliseconds on a virtual machine, and the candidate's fork is the one a program must pay.
    A program with no `check` passes when its source runs to its end: such a program judges
    itself, and only its author's trust goes with it.
Each candidate has an IPC namespace of its own where the runner may make one (root with
CAP_SYS_ADMIN: its SysV objects and POSIX queues are unseen by every other program and die with
it), and a seccomp filter that refuses its program namespaces, mounts and other kernel surface
no program needs (see ProgramIsolation). After a program ends, its slot's reaper (root: the
program's uid cannot signal, renice or pin it) sends a short-lived sweeper that kills everything
of the slot's uid and removes its files (and, without a namespace of its own, its SysV IPC
objects); the slot is used again only once its uid owns no process at all, zombies included.
Each program's work dir is made by root with a random name.

Verdicts follow openai/human-eval's execution.py: the candidate's code runs through exec() in a
fresh globals dict, with the same reliability guard; "failed: {e}" for any exception, "timed
out" past the wall-clock limit. Where the two must differ: a candidate's return value is
compared as plain data, so an object that claims to equal everything does not pass here; the
test sees the real builtins and the prompt's own helpers, whatever the completion redefines;
an answer nested deeper than ANSWER_DEPTH_LIMIT, over FRAME_LIMIT_BYTES, or a set or dict with
more than SAME_HASH_LIMIT keys of one hash is refused; a verdict's text is cut at RESULT_CHARS.
"""

import os
import sys

# Before numpy loads: BLAS thread pools would multiply every worker by the core count.
for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_name] = "1"

import _random
import array
import ast
import _signal
import builtins
import errno
import fcntl
import gc
import io
import itertools
import json
import operator
import re
import resource
import selectors
import shutil
import signal
import socket
import stat
import struct
import tempfile
import threading
import time
from collections import Counter, deque
from queue import SimpleQueue

# Imported once in the warm parent so that children get them for free.
WARM_MODULES = (
    "numpy", "math", "re", "string", "collections", "itertools", "functools", "heapq",
    "bisect", "typing", "hashlib", "random", "statistics", "fractions", "decimal", "copy",
    "operator", "datetime", "subprocess", "faulthandler", "io", "contextlib", "builtins",
)

DEFAULT_CONFIG = {
    "workers": 2,
    "memoryBytes": 1 << 30,
    "outputBytes": 4096,
    "fileSizeBytes": 16 << 20,
    "maxProcesses": 64,
    "workRoot": None,
    "programUidBase": None,
}

# Bound before the launcher's reliability guard sets them to None in os: candidates use them.
SETUID, CHDIR, PUTENV = os.setuid, os.chdir, os.putenv

# Largest call or answer that crosses between a judge and its candidate.
FRAME_LIMIT_BYTES = 64 << 20
FORK_RETRY_SECONDS = 0.05
READ_CHUNK = 65536
# Pipes between a judge and its candidate hold this much: HumanEval+'s answers run to megabytes
# (string_sequence's 7 MB), and a 64 KiB pipe moves them in a hundred hand-offs each.
CALL_PIPE_BYTES = 1 << 20
# Candidates kept ready per slot: two, so that a batch of a few programs more than the slots (an
# agent's Tester run) does not wait for a fork and a candidate's set-up after its first programs.
CANDIDATES_AHEAD = 2
# Idle this long, the runner has its waiting candidates rehearse (see rehearse()): agents call
# seconds apart, between model turns, while back-to-back batches (an evaluation, a script) come
# a few milliseconds apart, and a rehearsal then would only take the CPU from their programs.
REHEARSE_AFTER_SECONDS = 0.02
REHEARSE_FRAME = b'["rehearse"]'
# A slot's sweeper runs with real uid slot uid + this, a uid no program has.
REAPER_UID_OFFSET = 2048
# Places a program can leave files in, besides its work dir; emptied of its uid's files after it.
SHARED_TEMP_DIRS = ("/tmp", "/var/tmp", "/dev/shm")


def main():
    config = dict(DEFAULT_CONFIG)
    if len(sys.argv) > 1:
        config.update(json.loads(sys.argv[1]))
    warm = warm_up()
    uid_base = usable_uid_base(config.get("programUidBase"))
    # Neither programs of our own uid nor anyone else may read our memory or fds through /proc.
    make_undumpable()
    vsize_bytes = mapped_bytes()
    ISOLATION.prepare()
    if has_capability(CAP_SYS_ADMIN) and not ISOLATION.syscall_filter:
        # The sandbox gave us CAP_SYS_ADMIN for the programs' IPC namespaces, which (in Docker)
        # opens namespaces and mounts to every process: without the filter, programs would have them.
        sys.stderr.write("koderz runner: refusing to run programs: CAP_SYS_ADMIN is held but the syscall filter cannot be installed (libseccomp.so.2 is missing here)\n")
        sys.exit(3)
    # Forked before any program is read: candidates come from the launcher and inherit no test;
    # the zygote starts the reapers that clean up after them.
    launcher = Launcher(config, uid_base, vsize_bytes)
    zygote = Zygote(config, uid_base)
    capabilities_without(CAP_SYS_ADMIN)()  # the launcher's alone, for its candidates
    # A program signalling its parent must not end the batch; the host stops us with SIGKILL.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    gc.freeze()  # keeps the warm heap out of the collector, so children copy fewer pages
    # Judges run in our threads: what a hidden test prints goes to its program's output, and an
    # answer rebuilt in a judge cannot take more memory than the programs' own budgets.
    sys.stdout, sys.stderr = JudgeOutput(None), JudgeOutput(sys.stderr)
    workers = max(1, int(config["workers"]))
    resource.setrlimit(resource.RLIMIT_AS, (vsize_bytes + workers * int(config["memoryBytes"]),) * 2)
    runner = Runner(config, launcher, zygote, uid_base)
    emit({
        "ready": True,
        "python": sys.version.split()[0],
        "warm": warm,
        "uid": os.getuid(),
        "programUids": uid_base is not None,
        "pid1": os.getpid() == 1,
        "programIpc": ISOLATION.ipc_namespace,
        "syscallFilter": ISOLATION.syscall_filter,
    })
    try:
        runner.loop()
    except BrokenPipeError:
        # Whoever reads our verdicts is gone: nothing we run can matter any more.
        runner.abandon()


def warm_up():
    loaded = []
    for name in WARM_MODULES:
        try:
            __import__(name)
            loaded.append(name)
        except Exception:
            pass
    return loaded


def usable_uid_base(uid):
    """The first of the uids programs run as (one per worker slot), when we are root and such a
    uid can still read the stdlib (a Python under /root, as pyenv installs it, is out of reach).
    The configured base only says that programs get uids; the runner draws its own at random in
    [2^24, 2^31): two runners on one host (a Docker container and a process sandbox share the
    host's uids) never share a program uid, so one's sweep (kill(-1) as that uid) cannot end the
    other's programs, and no user of the host has it."""
    if uid is None or os.getuid() != 0:
        return None
    uid = (1 << 24) + int.from_bytes(os.urandom(4), "big") % ((1 << 31) - (1 << 24) - 4096) // 4096 * 4096
    path = os.path.dirname(os.__file__)
    while True:
        mode = os.stat(path).st_mode
        if not (mode & stat.S_IXOTH and mode & stat.S_IROTH):
            return None
        parent = os.path.dirname(path)
        if parent == path:
            return uid
        path = parent


def make_undumpable():
    try:
        import ctypes

        prctl = ctypes.CDLL(None, use_errno=True).prctl
        prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE, 0
        # PR_SET_CHILD_SUBREAPER: orphans of programs become ours to reap (as they are when we
        # are pid 1), so their zombies end, and a slot whose uid still has one waits for that.
        prctl(36, 1, 0, 0, 0)
    except Exception:
        pass


# ---------------------------------------------------------------------------------------------
# What each program gets of its own besides its uid: an IPC namespace, and a syscall filter.

CLONE_NEWIPC = 0x08000000
# The namespace flags of clone(2) and unshare(2).
CLONE_NAMESPACES = (
    0x00020000,  # CLONE_NEWNS
    0x02000000,  # CLONE_NEWCGROUP
    0x04000000,  # CLONE_NEWUTS
    CLONE_NEWIPC,
    0x10000000,  # CLONE_NEWUSER
    0x20000000,  # CLONE_NEWPID
    0x40000000,  # CLONE_NEWNET
)
CAP_SYS_ADMIN = 21
# Syscalls a program is refused (EPERM), whatever the sandbox around it allows. Making an IPC
# namespace per program needs CAP_SYS_ADMIN in the runner, and Docker's default seccomp profile
# then opens these to every process of the container: with them an unprivileged program makes a
# user namespace, holds every capability in it and mounts, builds namespaces or loads BPF, all
# kernel surface no program needs. So each candidate installs this filter before its program:
# namespaces (unshare, setns, and clone with a namespace flag), mounts, and what else Docker
# opens only with CAP_SYS_ADMIN or shuts for everyone (keyrings, io_uring, modules, reboot).
DENIED_SYSCALLS = (
    "unshare", "setns", "mount", "umount2", "pivot_root", "chroot", "move_mount", "open_tree",
    "fsopen", "fsconfig", "fsmount", "fspick", "mount_setattr", "bpf", "perf_event_open",
    "fanotify_init", "lookup_dcookie", "name_to_handle_at", "open_by_handle_at", "quotactl",
    "quotactl_fd", "setdomainname", "sethostname", "syslog", "keyctl", "add_key", "request_key",
    "userfaultfd", "io_uring_setup", "io_uring_enter", "io_uring_register", "kexec_load",
    "kexec_file_load", "init_module", "finit_module", "delete_module", "acct", "swapon",
    "swapoff", "reboot",
)
SCMP_ACT_ALLOW = 0x7FFF0000
SCMP_ACT_ERRNO = 0x00050000
SCMP_CMP_MASKED_EQ = 7
PR_SET_SECCOMP, SECCOMP_MODE_FILTER, PR_SET_NO_NEW_PRIVS = 22, 2, 38


class ProgramIsolation:
    """What the runner found it can give each program here, probed once at its start (a fork):
    an IPC namespace of its own (unshare(CLONE_NEWIPC) needs CAP_SYS_ADMIN: the Docker sandbox
    and the process sandbox run as root grant it to the runner; as another user there is none),
    and the syscall filter (libseccomp builds it once; each candidate loads it with two prctl
    calls). Candidates do both right after their fork, off their program's clock; a candidate
    that cannot, where the probe could, fails its program rather than run it with less."""

    def __init__(self):
        self.ipc_namespace = False
        self.syscall_filter = False
        self._unshare = self._prctl = self._program = self._get_errno = None
        self._drop_sys_admin = lambda: None

    def prepare(self):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
        except Exception:
            return self
        self._unshare = libc.unshare
        self._prctl = libc.prctl
        self._prctl.argtypes = (ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong)
        self._get_errno = ctypes.get_errno
        self._program = syscall_filter_program(ctypes)
        self._address = ctypes.addressof(self._program) if self._program is not None else 0
        self._drop_sys_admin = capabilities_without(CAP_SYS_ADMIN)
        # The probe: what a candidate will do, in a child that then ends.
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                if self._unshare(CLONE_NEWIPC) == 0:
                    code |= 1
                if self._program is not None:
                    self.confine()
                    code |= 2
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        code = os.waitstatus_to_exitcode(status)
        self.syscall_filter = code >= 0 and bool(code & 2)
        # Never an IPC namespace without the filter: CAP_SYS_ADMIN alone opens too much (above).
        self.ipc_namespace = code >= 0 and bool(code & 1) and self.syscall_filter
        return self

    def enter(self):
        """In a fresh candidate, still the runner's uid: its own IPC namespace, then the filter."""
        if self.ipc_namespace and self._unshare(CLONE_NEWIPC) != 0:
            raise OSError(self._get_errno(), "could not give the program an IPC namespace of its own")
        # Its program gets none of it (nor, from bubblewrap, an inheritable set); the setuid to
        # the slot's uid then clears the rest.
        self._drop_sys_admin()
        if self.syscall_filter:
            self.confine()

    def confine(self):
        prctl = self._prctl
        if prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 or prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, self._address, 0, 0) != 0:
            raise OSError(self._get_errno(), "could not install the program's syscall filter")


def syscall_filter_program(ctypes):
    """DENIED_SYSCALLS as a classic BPF program (struct sock_fprog), built by libseccomp for this
    machine's architecture (a syscall of another ABI, as x32's on x86-64, is killed); None where
    libseccomp is missing."""
    try:
        seccomp = ctypes.CDLL("libseccomp.so.2")
    except OSError:
        return None

    class ArgCompare(ctypes.Structure):
        _fields_ = [("arg", ctypes.c_uint), ("op", ctypes.c_int), ("datum_a", ctypes.c_uint64), ("datum_b", ctypes.c_uint64)]

    class Program(ctypes.Structure):
        _fields_ = [("length", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    seccomp.seccomp_init.restype = ctypes.c_void_p
    seccomp.seccomp_init.argtypes = (ctypes.c_uint32,)
    seccomp.seccomp_release.argtypes = (ctypes.c_void_p,)
    seccomp.seccomp_syscall_resolve_name.argtypes = (ctypes.c_char_p,)
    seccomp.seccomp_rule_add_array.argtypes = (ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int, ctypes.c_uint, ctypes.c_void_p)
    seccomp.seccomp_export_bpf.argtypes = (ctypes.c_void_p, ctypes.c_int)
    context = seccomp.seccomp_init(SCMP_ACT_ALLOW)
    if not context:
        return None
    read_end = write_end = None
    try:
        def deny(name, action=SCMP_ACT_ERRNO | errno.EPERM, masks=(None,)):
            number = seccomp.seccomp_syscall_resolve_name(name.encode())
            if number < 0:
                return  # not a syscall of this architecture
            for mask in masks:
                compare = None if mask is None else ctypes.byref(ArgCompare(0, SCMP_CMP_MASKED_EQ, mask, mask))
                if seccomp.seccomp_rule_add_array(context, action, number, 0 if mask is None else 1, compare) != 0:
                    raise OSError(errno.EINVAL, f"libseccomp refused the rule for {name}")

        for name in DENIED_SYSCALLS:
            deny(name)
        # clone(2) with any namespace flag; clone3(2) keeps its flags in memory a filter cannot
        # read, so it is "not implemented", and the C library falls back to clone (as in Docker).
        deny("clone", masks=CLONE_NAMESPACES)
        deny("clone3", action=SCMP_ACT_ERRNO | errno.ENOSYS)
        read_end, write_end = os.pipe()
        if seccomp.seccomp_export_bpf(context, write_end) != 0:
            return None
        os.close(write_end)
        write_end = None
        code = b""
        while True:
            chunk = os.read(read_end, 65536)
            if not chunk:
                break
            code += chunk
    except OSError:
        return None
    finally:
        seccomp.seccomp_release(context)
        for fd in (read_end, write_end):
            if fd is not None:
                os.close(fd)
    if not code or len(code) % 8:
        return None
    instructions = ctypes.create_string_buffer(code, len(code))
    program = Program(len(code) // 8, ctypes.addressof(instructions))
    program.instructions = instructions  # kept alive with it
    return program


def has_capability(number):
    try:
        with open("/proc/self/status") as status:
            line = next(line for line in status if line.startswith("CapEff:"))
        return bool(int(line.split()[1], 16) >> number & 1)
    except (OSError, StopIteration, ValueError):
        return False


def capabilities_without(number):
    """A call that takes one capability out of this process's effective and permitted sets, and
    empties its inheritable set (bubblewrap fills it), for good; prepared here so that a fresh
    candidate pays one capset(2). A no-op where capabilities cannot be read."""
    try:
        import ctypes

        class Header(ctypes.Structure):
            _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

        class Data(ctypes.Structure):
            _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]

        libc = ctypes.CDLL(None, use_errno=True)
        header, data = Header(0x20080522, 0), (Data * 2)()  # _LINUX_CAPABILITY_VERSION_3
        if libc.capget(ctypes.byref(header), data) != 0:
            return lambda: None
        word, bit = divmod(number, 32)
        data[word].effective &= ~(1 << bit)
        data[word].permitted &= ~(1 << bit)
        for half in data:
            half.inheritable = 0
        capset, header_ref = libc.capset, ctypes.byref(header)
        return lambda: capset(header_ref, data)
    except Exception:
        return lambda: None


# Set by main() before the launcher and the zygote are forked.
ISOLATION = ProgramIsolation()


def mapped_bytes():
    """What the warm interpreter maps already; programs get their memory budget on top of it."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return 0


def emit(message):
    """Writes one protocol line; the only writer of our stdout (children get their own)."""
    data = (json.dumps(message) + "\n").encode()
    while data:
        data = data[os.write(1, data):]


# ---------------------------------------------------------------------------------------------
# The launcher starts candidates; the zygote starts the reapers that clean up after them.


class Launcher:
    """A clean fork of the warm runner, made before any program was read, that forks candidates.
    What every candidate would do after its fork and before its program (the reference harness's
    reliability guard, its own stdin, stdout and stderr, signal dispositions, a frozen heap) is
    done here once, so a candidate pays little beyond the fork: on a virtual machine each page a
    fresh child writes costs a fault of 10-20 us. It is trusted; candidates cannot signal it
    (another uid) nor read it, and hold no channel to it."""

    def __init__(self, config, uid_base, vsize_bytes):
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        if os.fork() == 0:
            ours.close()
            launcher_main(theirs, config, uid_base, vsize_bytes)
        theirs.close()
        self.socket = ours

    def request(self, slot, fds):
        """Asks for a candidate for the slot, handing it (request_r, answer_w, output_w)."""
        socket.send_fds(self.socket, [struct.pack(">I", slot)], list(fds))

    def collect(self):
        """The pid of the candidate asked for first of those not yet collected."""
        answer = self.socket.recv(16)
        if not answer:
            raise OSError(errno.EPIPE, "the sandbox's launcher is gone")
        pid, error = struct.unpack(">qi", answer)
        if error:
            raise OSError(error, os.strerror(error))
        return pid


def launcher_main(sock, config, uid_base, vsize_bytes):
    try:
        # The runner's protocol channel is the runner's alone; a candidate gets its own fds.
        null = os.open(os.devnull, os.O_RDWR)
        os.dup2(null, 0)
        os.dup2(null, 1)
        os.close(null)
        close_fds_except({sock.fileno()})
        # Out of the runner's process group, so Ctrl-C at a terminal does not reach us, we keep
        # Python's default SIGINT and SIGTERM for the candidates. Children end unwaited-for and
        # leave no zombie (of a slot's uid) behind; a candidate restores the default.
        os.setpgid(0, 0)
        signal.signal(signal.SIGCHLD, signal.SIG_IGN)
        # One budget for both streams: a byte past it would be dropped by the runner anyway.
        budget = [int(config["outputBytes"]) + 1]
        sys.stdout, sys.stderr = CappedOutput(1, budget), CappedOutput(2, budget)
        sys.stdin = UnreadableInput()
        sys.argv = [""]
        fork = plain_fork()
        reliability_guard()
        gc.freeze()  # the warm heap: never scanned by a candidate's collections, never copied by them
        receive, reply, close = socket.recv_fds, sock.send, os.close
        pack, unpack = struct.pack, struct.unpack
        while True:
            try:
                data, fds, _, _ = receive(sock, 16, 3)
            except OSError:
                break
            if not data:
                break  # the runner is gone
            if len(fds) != 3:
                for fd in fds:
                    close(fd)
                reply(pack(">qi", 0, errno.EINVAL))
                continue
            try:
                pid = fork()
            except OSError as error:
                pid = -1
                failure = error.errno or errno.EIO
            if pid == 0:
                run_candidate(*fds, *unpack(">I", data), config, uid_base, vsize_bytes)
            for fd in fds:
                close(fd)
            reply(pack(">qi", pid, 0) if pid > 0 else pack(">qi", 0, failure))
    finally:
        os._exit(0)


def plain_fork():
    """fork(2) without Python's at-fork hooks. os.fork() runs them in every child: threading's
    alone (numpy imports threading) rebuilds its locks and thread table and writes some 140
    pages, each a copy-on-write fault. The launcher is single-threaded, so the child needs none
    of that; random's hook (a fresh seed) the candidate does itself."""
    try:
        import ctypes

        libc_fork = ctypes.PyDLL(None).fork  # PyDLL: the GIL stays held across the fork
        libc_fork.restype = ctypes.c_int
        libc_fork.argtypes = ()
    except Exception:
        return os.fork

    def fork():
        pid = libc_fork()
        if pid < 0:
            number = ctypes.get_errno() or errno.EAGAIN
            raise OSError(number, os.strerror(number))
        return pid

    return fork


class Zygote:
    """A clean fork of the warm runner, made before any program was read, that starts each slot's
    reaper when the runner asks over a private socket. It is trusted; candidates cannot signal
    it (another uid) nor read it."""

    def __init__(self, config, uid_base):
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        if os.fork() == 0:
            ours.close()
            zygote_main(theirs, config, uid_base)
        theirs.close()
        self.socket = ours

    def reaper(self, slot):
        """The slot's reaper's channel (done_r, requests_w): the runner talks to it directly."""
        self.socket.send(struct.pack(">I", slot))
        answer, fds, _, _ = socket.recv_fds(self.socket, 65536, 2)
        if not answer:
            raise OSError(errno.EPIPE, "the sandbox's zygote is gone")
        reply = json.loads(answer)
        if "error" in reply:
            raise OSError(reply.get("errno") or errno.EIO, reply["error"])
        return tuple(fds)


def zygote_main(sock, config, uid_base):
    try:
        capabilities_without(CAP_SYS_ADMIN)()  # its reapers need none of it
        # The runner's protocol channel is the runner's alone.
        null = os.open(os.devnull, os.O_RDWR)
        os.dup2(null, 0)
        os.dup2(null, 1)
        os.close(null)
        for number in (signal.SIGINT, signal.SIGTERM):
            signal.signal(number, signal.SIG_IGN)
        # A reaper that dies is reaped at once, not at the next request.
        signal.signal(signal.SIGCHLD, lambda signum, frame: reap_children())
        while True:
            try:
                data = sock.recv(65536)
            except OSError:
                break
            if not data:
                break  # the runner is gone
            handed = []
            try:
                handed = start_reaper(struct.unpack(">I", data)[0], config, uid_base)
                reply = {}
            except OSError as error:
                reply = {"error": str(error), "errno": error.errno}
            socket.send_fds(sock, [json.dumps(reply).encode()], handed)
            for fd in handed:
                os.close(fd)  # the runner has them now
    finally:
        os._exit(0)


def reap_children():
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def slot_uid(slot, uid_base):
    return None if uid_base is None else uid_base + slot


def work_root(config):
    return config["workRoot"] or tempfile.gettempdir()


def workdir_prefix(slot):
    """Each program's work dir is this and a random part: its slot's reaper removes them all."""
    return f"program-{slot}-"


def start_reaper(slot, config, uid_base):
    """Starts the reaper of a slot, kept for the batch (a fork per program saved) and driven by
    the runner over the returned pipes [done_r, requests_w]. The reaper keeps the runner's
    uids (root's, where programs have uids of their own): a program's uid can neither signal
    it, nor renice, reschedule or pin it. It takes the slot's uid only in the short-lived
    child that does each sweep (see clear_uid)."""
    requests_r, requests_w = os.pipe()
    done_r, done_w = os.pipe()
    try:
        pid = fork_with_retry()
    except OSError:
        for fd in (requests_r, requests_w, done_r, done_w):
            os.close(fd)
        raise
    if pid == 0:
        os.close(requests_w)
        os.close(done_r)
        run_reaper(requests_r, done_w, slot, config, uid_base)
    os.close(requests_r)
    os.close(done_w)
    return [done_r, requests_w]


def run_reaper(requests_r, done_w, slot, config, uid_base):
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # its sweepers are its own to wait for
        uid = slot_uid(slot, uid_base)
        root = work_root(config)
        roots = [path for path in (root,) + SHARED_TEMP_DIRS if writable_mount(path)]
        while True:
            request = read_exactly(requests_r, 8)
            if request is None:
                break
            if uid is None:
                # No uid of its own (not root): its session is what we can find of it.
                kill_group(struct.unpack(">q", request)[0])
                for path in program_workdirs(root, slot):
                    shutil.rmtree(path, onerror=make_removable)
            else:
                clear_uid(uid, roots + program_workdirs(root, slot))
                for path in program_workdirs(root, slot):
                    try:
                        os.rmdir(path)  # root's, emptied by the sweep
                    except OSError:
                        pass
            os.write(done_w, b".")
    finally:
        os._exit(0)


def program_workdirs(root, slot):
    prefix = workdir_prefix(slot)
    try:
        return [os.path.join(root, name) for name in os.listdir(root) if name.startswith(prefix)]
    except OSError:
        return []


def clear_uid(uid, roots):
    """Returns once the slot's uid owns no process at all, zombies included, no file in `roots`
    and no SysV IPC object. A sweeper child takes the uid as its effective uid (its real and
    saved uids another, unused one, so the uid's processes cannot signal it) to kill them all
    with kill(-1) (the sandboxes hold no CAP_KILL: only a process of the uid may signal it)
    until none is left alive, then removes the uid's files and IPC objects. The reaper, root,
    watches /proc until the zombies are gone too (the runner, their parent as pid 1 or
    subreaper, reaps them), and sends a new sweeper if a process of the uid is still alive:
    however late a busy machine lets the killed ones die, the slot is not used before."""
    pause = 0.0005
    sweep = True
    while True:
        if sweep:
            run_sweeper(uid, roots)
        left = processes_of(uid)
        if not left:
            return
        sweep = any(not zombie for zombie in left.values())
        time.sleep(pause)
        pause = min(pause * 2, 0.02)


def run_sweeper(uid, roots):
    try:
        pid = fork_with_retry()
    except OSError:
        time.sleep(FORK_RETRY_SECONDS)
        return
    if pid == 0:
        try:
            os.setgroups([])
            os.setresgid(uid, uid, uid)
            os.setresuid(uid + REAPER_UID_OFFSET, uid, uid + REAPER_UID_OFFSET)
            me = os.getpid()
            pause = 0.0002
            while True:
                try:
                    os.kill(-1, signal.SIGKILL)  # every process of this uid but us
                except OSError:
                    pass  # nothing of this uid is left
                if not any(not zombie for pid, zombie in processes_of(uid).items() if pid != me):
                    break
                time.sleep(pause)
                pause = min(pause * 2, 0.01)
            for root in roots:
                remove_owned_by(root, uid)
            if not ISOLATION.ipc_namespace:  # else they died with the program's own namespace
                remove_ipc_objects(uid)
        finally:
            os._exit(0)
    while True:
        try:
            os.waitpid(pid, 0)
            return
        except InterruptedError:
            continue
        except ChildProcessError:
            return


def processes_of(uid):
    """{pid: is a zombie} of every process any of whose uids (real, effective, saved, fs) is
    `uid`; /proc's status files are readable whatever a process does to itself."""
    wanted = str(uid).encode()
    found = {}
    try:
        names = os.listdir("/proc")
    except OSError:
        return found
    for name in names:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/status", "rb") as status:
                text = status.read()
        except OSError:
            continue  # gone meanwhile
        start = text.find(b"\nUid:")
        if start < 0:
            continue
        end = text.find(b"\n", start + 1)
        if wanted in text[start + 5:end].split():
            state = text.find(b"\nState:")
            found[int(name)] = state >= 0 and text[state + 7:state + 10].strip().startswith(b"Z")
    return found


IPC_RMID = 0
SYSV_IPC_KINDS = (("shm", "shmctl"), ("msg", "msgctl"), ("sem", "semctl"))


def remove_ipc_objects(uid):
    """Removes the SysV shared memory, queues and semaphores `uid` owns or made: without an IPC
    namespace of the program's own, they would outlive it (and hold the sandbox's memory)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
    except Exception:
        return
    for kind, control in SYSV_IPC_KINDS:
        try:
            with open(f"/proc/sysvipc/{kind}") as table:
                header, *rows = table.read().splitlines()
        except OSError:
            continue
        columns = header.split()
        try:
            at_id, at_uid, at_cuid = columns.index("shmid" if kind == "shm" else "msqid" if kind == "msg" else "semid"), columns.index("uid"), columns.index("cuid")
        except ValueError:
            continue
        for row in rows:
            fields = row.split()
            if len(fields) <= max(at_id, at_uid, at_cuid):
                continue
            if str(uid) not in (fields[at_uid], fields[at_cuid]):
                continue
            if kind == "sem":
                libc.semctl(int(fields[at_id]), 0, IPC_RMID)
            else:
                getattr(libc, control)(int(fields[at_id]), IPC_RMID, None)


def writable_mount(path):
    """Whether files can be left in `path` at all (the process sandbox's host /tmp is read-only)."""
    try:
        return not os.statvfs(path).f_flag & os.ST_RDONLY
    except OSError:
        return False


def fork_with_retry(seconds=2.0):
    """A fork that waits out a moment of pid exhaustion (a fork bomb being killed elsewhere)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return os.fork()
        except OSError as error:
            if error.errno != errno.EAGAIN or time.monotonic() > deadline:
                raise
            time.sleep(FORK_RETRY_SECONDS)


def remove_owned_by(root, uid):
    try:
        names = os.listdir(root)
    except OSError:
        return
    for name in names:
        path = os.path.join(root, name)
        try:
            info = os.lstat(path)
        except OSError:
            continue
        if info.st_uid != uid:
            continue
        if stat.S_ISDIR(info.st_mode):
            shutil.rmtree(path, onerror=make_removable)
        else:
            try:
                os.unlink(path)
            except OSError:
                pass


def make_removable(function, path, _):
    """A program may leave directories it made unreadable: open them up and try again."""
    try:
        os.chmod(os.path.dirname(path), 0o700)
        os.chmod(path, 0o700)
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path, onerror=lambda *args: None)
        else:
            function(path)
    except OSError:
        pass


# ---------------------------------------------------------------------------------------------
# The runner: starts each program's candidate and judge, collects verdicts and output.


class Judged:
    """A program in flight: its slot, its candidate, and the judge thread deciding it."""

    def __init__(self, program, slot, candidate_pid, output_fd, output_bytes):
        self.program = program
        self.slot = slot
        self.candidate_pid = candidate_pid
        self.output_fd = output_fd
        self.started = time.monotonic()
        self.deadline = self.started + float(program["timeout"])
        self.output = bytearray()
        self.output_bytes = output_bytes
        self.result = None  # set by the judge thread, last of all it does
        self.timed_out = False
        self.released = False  # its slot's reaper was asked to clean up after it
        self.reaped = False  # ... and said it has
        self.reaper_died = False  # a reaper died on it (it should not): a new one was asked once

    def add_output(self, data):
        room = self.output_bytes - len(self.output)
        if room > 0:
            self.output += data[:room]


class Runner:
    def __init__(self, config, launcher, zygote, uid_base):
        self.config = config
        self.launcher = launcher
        self.zygote = zygote
        self.uid_base = uid_base
        self.workers = max(1, int(config["workers"]))
        self.free_slots = list(range(self.workers))
        self.spawned = {slot: deque() for slot in range(self.workers)}  # slot -> candidates waiting for its next programs
        self.spawning = deque()  # (slot, our fds) of each candidate asked of the launcher, in order
        self.spawn_errors = {}  # slot -> why its last candidate could not be started
        self.unrehearsed = set()  # request_w of each waiting candidate not yet told to rehearse
        self.idle_since = None  # since when no program runs or waits
        self.judges = {}  # slot -> (its judge thread, the queue of programs it judges)
        self.reapers = {}  # slot -> (done_r, requests_w) of its reaper
        self.reaping = {}  # slot -> the program its reaper is cleaning up after
        self.pending = deque()
        self.running = {}
        self.input_buffer = bytearray()
        self.input_open = True
        self.stopped = False
        self.retry_at = None
        self.fork_failing_since = None
        self.selector = selectors.DefaultSelector()
        try:
            self.selector.register(0, selectors.EVENT_READ, ("input", None))
            os.set_blocking(0, False)
        except PermissionError:
            # A file or /dev/null on stdin (a manual run): epoll refuses those, and all is there.
            while self.input_open:
                self.read_input()
        # A judge thread that decided, and SIGCHLD (orphans reparented to us), wake select().
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_r, False)
        os.set_blocking(self.wake_w, False)
        self.selector.register(self.wake_r, selectors.EVENT_READ, ("wake", None))
        self.selector.register(self.launcher.socket, selectors.EVENT_READ, ("launcher", None))
        signal.set_wakeup_fd(self.wake_w)
        signal.signal(signal.SIGCHLD, lambda signum, frame: None)

    def loop(self):
        while True:
            self.start_pending()
            if not self.input_open and not self.pending and not self.running and not self.reaping:
                return
            self.spawn_ahead()
            self.rehearse_when_idle()
            for key, _ in self.selector.select(self.select_timeout()):
                kind, judged = key.data
                if kind == "input":
                    self.read_input()
                elif kind == "wake":
                    drain(self.wake_r, None, 0)
                elif kind == "launcher":
                    if self.spawning:
                        self.collect_spawn()
                    else:  # end of file with nothing asked: the launcher is gone, and spawn() will say so
                        self.selector.unregister(self.launcher.socket)
                elif kind == "reaped":
                    self.collect_reap(judged)
                elif drain(judged.output_fd, judged.output, judged.output_bytes):
                    self.close_output(judged)
            reap_children()  # as a container's first process, orphans are ours to reap
            self.enforce_deadlines()
            for judged in [judged for judged in self.running.values() if judged.result is not None]:
                self.finish(judged)

    def abandon(self):
        for judged in list(self.running.values()):
            self.release(judged)
        for judged in list(self.reaping.values()):
            while not judged.reaped:
                self.collect_reap(judged)  # blocks: we exit once everything is cleaned up

    def release(self, judged):
        """Asks the slot's reaper to end everything of the candidate's slot, leaving the slot
        clean (its judge then ends), and does not wait: the reaper answers through the selector
        (collect_reap), and the slot is used again only once it has, and its program finished.
        Meanwhile the main loop emits verdicts and starts programs on the other slots."""
        if judged.released:
            return
        judged.released = True
        for _ in range(2):  # a reaper that died (it should not) is replaced once
            try:
                channel = self.reapers.get(judged.slot) or self.zygote.reaper(judged.slot)
            except OSError:
                break  # the zygote is gone (killed by a program that shares our uid): the next start says so
            self.reapers[judged.slot] = channel
            try:
                os.write(channel[1], struct.pack(">q", judged.candidate_pid))
            except OSError:
                self.drop_reaper(judged.slot)
                continue
            self.reaping[judged.slot] = judged
            self.selector.register(channel[0], selectors.EVENT_READ, ("reaped", judged))
            return
        self.reaped(judged)  # nobody to clean up after it: as before the reapers, the slot goes on

    def collect_reap(self, judged):
        """The reaper's answer: the slot is clean (or its reaper died, and a new one is asked)."""
        channel = self.reapers[judged.slot]
        self.selector.unregister(channel[0])
        del self.reaping[judged.slot]
        try:
            done = os.read(channel[0], 1)
        except OSError:
            done = b""
        if done:
            reap_children()  # its orphans were ours, as the container's first process
            self.reaped(judged)
            return
        self.drop_reaper(judged.slot)
        if judged.reaper_died:
            self.reaped(judged)  # a reaper that keeps dying: as before the reapers, the slot goes on
            return
        judged.reaper_died = True
        judged.released = False
        self.release(judged)

    def drop_reaper(self, slot):
        for fd in self.reapers.pop(slot):
            os.close(fd)

    def reaped(self, judged):
        judged.reaped = True
        if judged.slot not in self.running:  # finished, and now clean: the slot may be used again
            self.free_slots.append(judged.slot)

    def select_timeout(self):
        moments = [judged.deadline for judged in self.running.values() if not judged.timed_out]
        if self.retry_at is not None:
            moments.append(self.retry_at)
        if self.idle_since is not None and self.unrehearsed:
            moments.append(self.idle_since + REHEARSE_AFTER_SECONDS)
        if not moments:
            return None
        return max(0.0, min(moments) - time.monotonic())

    def read_input(self):
        try:
            chunk = os.read(0, READ_CHUNK)
        except BlockingIOError:
            return
        if not chunk:
            self.input_open = False
            if 0 in self.selector.get_map():
                self.selector.unregister(0)
            chunk = b"\n"
        self.input_buffer += chunk
        *lines, rest = self.input_buffer.split(b"\n")
        self.input_buffer = bytearray(rest)
        for line in lines:
            if not line.strip():
                continue
            message = json.loads(line)
            if message.get("stop"):
                # The caller aborted: start nothing more, finish what runs.
                self.stopped = True
                self.pending.clear()
            elif not self.stopped:
                self.pending.append(message)

    def start_pending(self):
        if self.retry_at is not None:
            if time.monotonic() < self.retry_at:
                return
            self.retry_at = None
        while self.pending and self.free_slots:
            program = self.pending[0]
            slot = next((slot for slot in self.free_slots if self.spawned[slot] or slot in self.spawn_errors), None)
            if slot is None:
                self.spawn_ahead()  # a candidate is on its way for each free slot: wait for one
                return
            error = self.spawn_errors.pop(slot, None)
            if error is not None:
                self.start_failed(program, error)
                return
            self.free_slots.remove(slot)
            self.pending.popleft()
            self.fork_failing_since = None
            self.running[slot] = self.start(program, slot)

    def start_failed(self, program, error):
        """Out of pids, memory or tmpfs space: wait a little, then give up on this program."""
        now = time.monotonic()
        if self.fork_failing_since is None:
            self.fork_failing_since = now
        transient = error.errno in (errno.EAGAIN, errno.ENOMEM, errno.ENOSPC, errno.EMFILE, errno.ENFILE)
        if not transient or now - self.fork_failing_since > max(1.0, float(program["timeout"])):
            self.pending.popleft()
            self.fork_failing_since = None
            emit(verdict(program, "failed", f"failed: sandbox could not start the program: {error}", 0, ""))
            self.retry_at = now  # go on with the next program at once
            return
        self.retry_at = now + FORK_RETRY_SECONDS

    def start(self, program, slot):
        candidate_pid, request_w, answer_r, output_r = self.spawned[slot].popleft()
        self.unrehearsed.discard(request_w)
        judged = Judged(program, slot, candidate_pid, output_r, int(self.config["outputBytes"]))
        os.set_blocking(output_r, False)
        self.selector.register(output_r, selectors.EVENT_READ, ("output", judged))
        thread, work = self.judges.get(slot) or self.start_judge(slot)
        thread.judged = judged  # where what its hidden test prints goes
        work.put((judged, request_w, answer_r, self.wake_w))
        return judged

    def start_judge(self, slot):
        """The slot's judge thread, kept for the batch: starting a thread per program would make
        the runner wait for each one to start, a handshake that takes milliseconds on a busy machine."""
        work = SimpleQueue()
        thread = threading.Thread(target=judge_each, args=(work,), daemon=True)
        thread.start()
        self.judges[slot] = (thread, work)
        return thread, work

    def spawn(self, slot):
        """Asks the launcher for a fresh candidate for the slot, and does not wait: its pid comes
        back through the selector (collect_spawn), so a fork never holds up a verdict."""
        pipes = []
        try:
            for _ in range(3):
                pipes.extend(os.pipe())
            request_r, request_w, answer_r, answer_w, output_r, output_w = pipes
            for fd in (request_w, answer_w):
                try:
                    fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, CALL_PIPE_BYTES)
                except (OSError, AttributeError):
                    pass  # over this user's pipe budget, or an older Python: the default size works
            self.launcher.request(slot, (request_r, answer_w, output_w))
        except OSError as error:
            for fd in pipes:
                os.close(fd)
            self.spawn_errors[slot] = error
            return
        for fd in (request_r, answer_w, output_w):
            os.close(fd)
        self.spawning.append((slot, (request_w, answer_r, output_r)))

    def collect_spawn(self):
        slot, (request_w, answer_r, output_r) = self.spawning.popleft()
        try:
            pid = self.launcher.collect()
        except OSError as error:
            for fd in (request_w, answer_r, output_r):
                os.close(fd)
            self.spawn_errors[slot] = error
            return
        self.spawned[slot].append((pid, request_w, answer_r, output_r))
        self.unrehearsed.add(request_w)

    def spawn_ahead(self):
        """Gives every slot its next CANDIDATES_AHEAD candidates, so a program starts without
        waiting for a fork. A waiting candidate is not yet of the slot's uid: cleaning up after
        the slot's current program does not touch it. Only once no program runs, though: on two
        cores a fork and a candidate's set-up (some 200 page faults) take the CPU from the
        programs running and from their verdicts. While programs wait, each slot keeps one
        candidate ready or on its way, so that a long batch does not wait for a fork after each
        program."""
        if not self.input_open and not self.pending:
            return
        if self.running and not self.pending:
            return
        ahead = 1 if self.pending else CANDIDATES_AHEAD
        on_the_way = Counter(slot for slot, _ in self.spawning)
        for slot in range(self.workers):
            while slot not in self.spawn_errors and len(self.spawned[slot]) + on_the_way[slot] < ahead:
                self.spawn(slot)
                on_the_way[slot] += 1

    def rehearse_when_idle(self):
        """Has the waiting candidates rehearse once the runner has been idle a while: a program
        then starts on a candidate that has taken its first faults (see rehearse()). Told so
        when they are forked, they rehearsed between back-to-back batches too, where that costs
        more than it saves (some 100 of the faults are the rehearsal's own). A program arriving
        meanwhile waits in the candidate's request pipe for the rest of the rehearsal."""
        if self.pending or self.running or not self.input_open:
            self.idle_since = None
            return
        now = time.monotonic()
        if self.idle_since is None:
            self.idle_since = now
        if not self.unrehearsed or now < self.idle_since + REHEARSE_AFTER_SECONDS:
            return
        for request_w in self.unrehearsed:
            try:
                write_frame(request_w, REHEARSE_FRAME)  # the pipe is empty: it takes the frame at once
            except OSError:
                pass  # the candidate is gone: its program will say so
        self.unrehearsed.clear()

    def close_output(self, judged):
        self.selector.unregister(judged.output_fd)
        os.close(judged.output_fd)
        judged.output_fd = None

    def enforce_deadlines(self):
        now = time.monotonic()
        for judged in self.running.values():
            if not judged.timed_out and judged.result is None and now >= judged.deadline:
                judged.timed_out = True
                self.release(judged)  # its judge then sees the candidate gone, and ends

    def finish(self, judged):
        del self.running[judged.slot]
        duration_ms = round((time.monotonic() - judged.started) * 1000)
        if judged.output_fd is not None:
            # What the candidate wrote before its judge decided is in the pipe, dead writer or not.
            drain(judged.output_fd, judged.output, judged.output_bytes)
        result = "timed out" if judged.timed_out else judged.result
        status_word = "passed" if result == "passed" else "timed out" if result == "timed out" else "failed"
        output = judged.output.decode("utf-8", "replace")
        if len(judged.output) >= judged.output_bytes:
            output += f"\n[output cut at {judged.output_bytes} bytes]"
        emit(verdict(judged.program, status_word, result, duration_ms, output))
        if judged.output_fd is not None:
            self.close_output(judged)
        if judged.reaped:  # at its deadline, and its reaper is done already
            self.free_slots.append(judged.slot)
        else:
            # Before the slot is used again: nothing of this program may be left for the next.
            self.release(judged)


def verdict(program, status, result, duration_ms, output):
    return {"id": program["id"], "status": status, "result": result, "durationMs": duration_ms, "output": output}


def drain(fd, sink, limit):
    """Reads what is available; returns True at end of file. Keeps at most `limit` bytes and
    discards the rest as fast as it comes, so a flood of output costs the flooder, not us."""
    while True:
        try:
            chunk = os.read(fd, READ_CHUNK)
        except BlockingIOError:
            return False
        except OSError:
            return True
        if not chunk:
            return True
        if sink is not None and len(sink) < limit:
            sink += chunk[: limit - len(sink)]


def kill_group(pid):
    for kill in (os.killpg, os.kill):
        try:
            kill(pid, signal.SIGKILL)
        except OSError:
            pass

# ---------------------------------------------------------------------------------------------
# Frames between a judge and its candidate: a 4-byte length, then JSON text in the wire encoding.


def write_frame(fd, payload):
    if len(payload) < READ_CHUNK:
        data = memoryview(struct.pack(">I", len(payload)) + payload)  # one write
    else:  # a long answer: no copy of it, and each write takes the next part
        write_all(fd, memoryview(struct.pack(">I", len(payload))))
        data = memoryview(payload)
    write_all(fd, data)


def write_all(fd, data):
    while data:
        data = data[os.write(fd, data):]


def read_exactly(fd, size):
    data = bytearray()
    while len(data) < size:
        chunk = os.read(fd, min(CALL_PIPE_BYTES, size - len(data)))
        if not chunk:
            return None
        data += chunk
    return bytes(data)


def read_frame(fd):
    """The next frame's bytes; None at end of file; ValueError for a frame over the limit."""
    header = read_exactly(fd, 4)
    if header is None:
        return None
    (size,) = struct.unpack(">I", header)
    check_frame_size(size)
    return read_exactly(fd, size)


def check_frame_size(size):
    if size > FRAME_LIMIT_BYTES:
        raise ValueError(f"an answer of {size} bytes is over the sandbox's limit of {FRAME_LIMIT_BYTES}")


class FrameReader:
    """The judge's end of an answer pipe: reads what the pipe holds (up to CALL_PIPE_BYTES) at
    once and cuts frames from it, so that the answers a candidate streams for planned calls
    cost a read per pipe-full, not two per answer."""

    def __init__(self, fd):
        self.fd = fd
        self.buffer = bytearray()
        self.start = 0  # where the next frame begins in buffer

    def frame(self):
        """The next frame's bytes; None at end of file; ValueError for a frame over the limit."""
        while True:
            held = len(self.buffer) - self.start
            wanted = 4
            if held >= 4:
                size = int.from_bytes(self.buffer[self.start:self.start + 4], "big")
                check_frame_size(size)
                wanted = 4 + size
                if held >= wanted:
                    with memoryview(self.buffer) as view:
                        payload = bytes(view[self.start + 4:self.start + wanted])
                    self.start += wanted
                    return payload
            if self.start:  # each byte of a frame is moved once at most
                del self.buffer[:self.start]
                self.start = 0
            # What a small frame needs comes in one read of READ_CHUNK (a heap allocation); a
            # long one's rest in reads of up to a pipe-full.
            chunk = os.read(self.fd, min(max(READ_CHUNK, wanted - held), CALL_PIPE_BYTES))
            if not chunk:
                return None
            self.buffer += chunk


# The wire encoding (not pickle: nothing in it names a type to build or a function to call).
# JSON's own scalars (int, float with NaN and infinities, str, bool, None) and lists stand for
# themselves; every other plain type is a one-key object: {"t": [...]} a tuple, {"s": [...]} a
# set, {"f": [...]} a frozenset, {"d": [[key, value], ...]} a dict, {"b": "latin-1 text"} bytes,
# {"y": ...} a bytearray, {"c": [real, imag]} a complex, {"i": "hex"} an int too long for JSON;
# {"L": [[...], ...]} a list of tuples, {"m": [keys, values]} a dict of scalars, {"R": [run, ...]}
# a list of ints and floats as its runs (see number_runs), and {"Q": n}, {"D": n}, {"S": n} the
# raw blocks after the frame's NUL (see wire_text).
# The judge decodes what a candidate sends in time linear in its size: json.loads, then one
# walk that rebuilds the exact builtin types, refusing an answer nested deeper than
# ANSWER_DEPTH_LIMIT or a set or dict whose keys share one hash more than SAME_HASH_LIMIT times
# (such keys make every insertion scan all the others: quadratic time).

WIRE_SCALARS = frozenset((int, float, str, bool, type(None)))
# Lists of ints (within 64 bits) or floats this long cross as raw 8-byte numbers: JSON's
# decimal digits cost several times pickle's time on HumanEval+'s answers of a million numbers.
BLOB_MIN_ITEMS = 64
BLOB_MIN_CHARS = 4096  # and strings this long as UTF-8: JSON escapes each character
ANSWER_DEPTH_LIMIT = 256
SAME_HASH_LIMIT = 64
# Ints of more bits than this cross as hex: JSON's decimal digits take quadratic time to read
# and write, and Python refuses more than 4300 of them.
LONG_INT_BITS = 8192
# An exception's message as it crosses, and a verdict's text: a 60 MB message is a program's
# way to make its verdict the caller's problem.
MESSAGE_CHARS = 4096
RESULT_CHARS = 4096


class NotPlainData(TypeError):
    pass


class AnswerRefused(ValueError):
    pass


def to_wire(value, exact=False, refer=None, blobs=None):
    """`value` as a tree json.dumps writes, in the wire encoding. Subclasses of the builtin
    types (namedtuple, OrderedDict, Counter, numpy's scalars...) go as their base type, as an
    honest answer in the shape the judge accepts. `exact`: a list of scalars is checked item by
    item (an int too long for JSON among them). `refer(value)` encodes what is not plain data
    (a reference to an object that stays where it is); without it, such a value is refused.
    `blobs`: where a long list of ints or of floats goes as raw 8-byte numbers (see wire_text)."""
    kind = type(value)
    if kind is list:
        # Lists of scalars, as most answers are, are checked at C speed: HumanEval+ returns
        # lists of a million numbers, and a Python call per item cost seconds.
        kinds = set(map(type, value))
        if blobs is not None and len(value) >= BLOB_MIN_ITEMS and len(kinds) == 1:
            code = "q" if int in kinds else "d" if float in kinds else None
            if code is not None:
                try:
                    blobs.append(array.array(code, value).tobytes())
                    return {code.upper(): len(value)}
                except OverflowError:
                    pass  # an int past 64 bits: as JSON
        if blobs is not None and len(value) >= BLOB_MIN_ITEMS and kinds == NUMBER_KINDS:
            runs = number_runs(value, exact, blobs)
            if runs is not None:
                return {"R": runs}
        if not exact and WIRE_SCALARS.issuperset(kinds):
            return value
        if kinds == {tuple} and all(WIRE_SCALARS.issuperset(map(type, item)) for item in value):
            # A list of tuples of scalars (pairs, coordinates): one tag for the list, not one per tuple.
            return {"L": [to_wire(list(item), exact, refer, blobs) for item in value]}
        return [to_wire(item, exact, refer, blobs) for item in value]
    if kind is int:
        return {"i": format(value, "x")} if value.bit_length() > LONG_INT_BITS else value
    if kind is str:
        if blobs is not None and len(value) >= BLOB_MIN_CHARS:
            blobs.append(value.encode("utf-8", "surrogatepass"))
            return {"S": len(blobs[-1])}
        return value
    if kind is float or kind is bool or value is None:
        return value
    if kind is tuple:
        return {"t": [to_wire(item, exact, refer, blobs) for item in value]}
    if kind is dict:
        keys, items = list(value), list(value.values())
        if WIRE_SCALARS.issuperset(map(type, keys)) and WIRE_SCALARS.issuperset(map(type, items)):
            # Scalars to scalars: two lists, checked and rebuilt at C speed.
            return {"m": [to_wire(keys, exact, refer, blobs), to_wire(items, exact, refer, blobs)]}
        return {"d": [[to_wire(key, exact, refer, blobs), to_wire(item, exact, refer, blobs)] for key, item in value.items()]}
    if kind is set:
        return {"s": [to_wire(item, exact, refer, blobs) for item in value]}
    if kind is frozenset:
        return {"f": [to_wire(item, exact, refer, blobs) for item in value]}
    if kind is bytes:
        return {"b": value.decode("latin-1")}
    if kind is bytearray:
        return {"y": value.decode("latin-1")}
    if kind is complex:
        return {"c": [value.real, value.imag]}
    if kind.__module__ == "numpy" and hasattr(value, "item") and getattr(value, "ndim", None) == 0:
        return to_wire(value.item(), exact, refer, blobs)
    for base in (bool, int, float, str, bytes, bytearray, complex, tuple, list, dict, frozenset, set):
        if isinstance(value, base):
            return to_wire(base(value), exact, refer, blobs)
    if refer is not None:
        return refer(value)
    raise NotPlainData(f"the program's answer is not plain data: {kind.__name__}")


NUMBER_KINDS = frozenset((int, float))


def number_runs(value, exact, blobs):
    """A list of ints and floats (HumanEval+'s tri answers a million of them, two ints first) as
    its runs of one type: each run of BLOB_MIN_ITEMS or more as raw 8-byte numbers, the short
    ones between them as JSON. None where that saves nothing (no long run) or a long run of ints
    does not fit 64 bits; `blobs` is then as it was."""
    mark = len(blobs)
    runs = []
    inline = None  # the JSON run being added to
    for kind, items in itertools.groupby(value, type):
        items = list(items)
        if len(items) >= BLOB_MIN_ITEMS:
            code = "q" if kind is int else "d"
            try:
                blobs.append(array.array(code, items).tobytes())
            except OverflowError:
                del blobs[mark:]
                return None
            runs.append({code.upper(): len(items)})
            inline = None
            continue
        if exact:  # ints too long for JSON's digits among them (see wire_text)
            items = [to_wire(item, True) for item in items]
        if inline is None:
            inline = items
            runs.append(inline)
        else:
            inline.extend(items)
    if len(blobs) == mark:
        return None
    return runs


WIRE_ENCODER = json.JSONEncoder(separators=(",", ":"), check_circular=False)


def wire_text(head, values=(), refer=None):
    """The bytes of a frame: the message `head` (JSON as it is) followed by `values` in the
    wire encoding; then, if a long list of ints or floats was among them, a NUL (which JSON text
    never holds) and their raw 8-byte numbers, in the order their {"Q": n} or {"D": n} tags
    come in the text."""
    for exact in (False, True):
        blobs = []
        try:
            text = WIRE_ENCODER.encode(head + [to_wire(value, exact, refer, blobs) for value in values]).encode()
        except ValueError:
            if exact:
                raise
            continue  # an int too long for JSON hid in a list of scalars: the slow path looks at each item
        return text + b"\0" + b"".join(blobs) if blobs else text


def wire_value(value, blobs):
    """One plain value's JSON text in the wire encoding, its raw blocks added to `blobs`;
    NotPlainData (a TypeError) for anything else."""
    for exact in (False, True):
        mark = len(blobs)
        try:
            return WIRE_ENCODER.encode(to_wire(value, exact, None, blobs)).encode()
        except ValueError:
            del blobs[mark:]
            if exact:
                raise


def from_wire(tree, depth=0, resolve=None):
    """The plain value a wire tree stands for; AnswerRefused for what no honest encoder writes.
    `resolve(tag, payload)` rebuilds a reference ("h" an object of the candidate's, "k" a
    function of the judge's); without it, a reference is refused."""
    kind = type(tree)
    if kind is list:
        if WIRE_SCALARS.issuperset(map(type, tree)):
            return tree
        if depth >= ANSWER_DEPTH_LIMIT:
            raise AnswerRefused(f"the program's answer is nested deeper than {ANSWER_DEPTH_LIMIT} levels")
        return [from_wire(item, depth + 1, resolve) for item in tree]
    if kind is not dict:
        return tree  # a scalar: json.loads makes nothing else
    if len(tree) != 1:
        raise AnswerRefused("the program's answer is not in the sandbox's encoding")
    if depth >= ANSWER_DEPTH_LIMIT:
        raise AnswerRefused(f"the program's answer is nested deeper than {ANSWER_DEPTH_LIMIT} levels")
    ((tag, payload),) = tree.items()
    try:
        if tag in ("b", "y") and type(payload) is str:
            data = payload.encode("latin-1")
            return data if tag == "b" else bytearray(data)
        if tag == "i" and type(payload) is str:
            return int(payload, 16)
        if tag == "c" and type(payload) is list and len(payload) == 2 and all(type(part) in (int, float) for part in payload):
            return complex(*payload)
        if tag in ("h", "k", "x") and resolve is not None and type(payload) in (list, str):
            return resolve(tag, payload)
        if type(payload) is list:
            if tag == "L":
                rows = from_wire(payload, depth, resolve)
                if not all(type(row) is list for row in rows):
                    raise AnswerRefused("the program's answer is not in the sandbox's encoding")
                return list(map(tuple, rows))
            if tag == "t":
                return tuple(from_wire(payload, depth, resolve))
            if tag == "R":  # runs of numbers, each a list (raw blocks are lists by now: parse_message)
                items = []
                for run in payload:
                    if type(run) is not list:
                        raise AnswerRefused("the program's answer is not in the sandbox's encoding")
                    items += from_wire(run, depth + 1, resolve)
                return items
            if tag in ("s", "f"):
                items = from_wire(payload, depth, resolve)
                few_per_hash(items)
                return set(items) if tag == "s" else frozenset(items)
            if tag == "m" and len(payload) == 2:
                keys, items = from_wire(payload[0], depth + 1, resolve), from_wire(payload[1], depth + 1, resolve)
                if not (type(keys) is list and type(items) is list and len(keys) == len(items)):
                    raise AnswerRefused("the program's answer is not in the sandbox's encoding")
                few_per_hash(keys)
                return dict(zip(keys, items))
            if tag == "d":
                pairs = from_wire(payload, depth, resolve)
                if not all(type(pair) is list and len(pair) == 2 for pair in pairs):
                    raise AnswerRefused("the program's answer is not in the sandbox's encoding")
                few_per_hash([pair[0] for pair in pairs])
                return dict(pairs)
    except (TypeError, ValueError) as error:  # an unhashable key, a bad hex digit, latin-1 out of range
        if isinstance(error, AnswerRefused):
            raise
        raise AnswerRefused(f"the program's answer is not plain data: {describe_exception(error)}") from None
    raise AnswerRefused("the program's answer is not in the sandbox's encoding")


def few_per_hash(keys):
    """Refuses keys many of which share one hash: hashing is linear, and so is counting the
    hashes (equal ints are the only ints that collide as dict keys)."""
    if len(keys) > SAME_HASH_LIMIT:
        most = Counter(map(hash, keys)).most_common(1)
        if most and most[0][1] > SAME_HASH_LIMIT:
            raise AnswerRefused(f"the program's answer holds {most[0][1]} keys of one hash (over the limit of {SAME_HASH_LIMIT})")


def parse_message(payload):
    """A frame's JSON, with each {"Q": n} or {"D": n} replaced by the list of n numbers it
    stands for and each {"S": n} by the string of n UTF-8 bytes, taken in turn from the raw part
    after the NUL: each byte of it is read once, so what is rebuilt is never more than the
    frame's bytes allow."""
    end = payload.find(b"\0")
    if end < 0:
        return json.loads(payload)
    raw = memoryview(payload)[end + 1:]
    taken = [0]

    def numbers(tree):
        if len(tree) != 1:
            return tree
        ((tag, count),) = tree.items()
        if tag not in ("Q", "D", "S"):
            return tree
        size = count if tag == "S" else 8 * count
        if type(count) is not int or count < 0 or taken[0] + size > len(raw):
            raise AnswerRefused("the program's answer is not in the sandbox's encoding")
        if tag == "S":
            try:
                return str(raw[taken[0]:taken[0] + size], "utf-8", "surrogatepass")
            except UnicodeDecodeError:
                raise AnswerRefused("the program's answer is not in the sandbox's encoding") from None
            finally:
                taken[0] += size
        items = array.array(tag.lower())
        items.frombytes(raw[taken[0]:taken[0] + 8 * count])
        taken[0] += 8 * count
        return items.tolist()

    return json.loads(payload[:end], object_hook=numbers)


def cut(text, limit):
    return text if len(text) <= limit else text[:limit] + f"... [cut at {limit} characters]"


# ---------------------------------------------------------------------------------------------
# The judge: trusted; runs `check` and reports.


class CandidateGone(Exception):
    pass


class Candidate:
    """The judge's end of the calls to its candidate. What crosses is data; an object of the
    program's that is not plain data stays in the candidate and reaches the judge as a
    RemoteObject (its methods, len(), iter()... are calls back into the candidate); a function
    of the judge's passed to the program (a callback, a function to decorate) stays in the judge,
    and the candidate calls it back through the judge. Either way, no code of the program ever
    runs in the judge, and every verdict is decided here."""

    def __init__(self, request_w, answer_r):
        self.request_w = request_w
        self.answers = FrameReader(answer_r)
        self.lock = threading.RLock()  # one conversation at a time; a callback nests in its caller's
        self.callbacks = []
        self.plan = None  # the PlannedCalls of the loop the check is in, if it planned one

    def refer(self, value):
        if isinstance(value, RemoteObject) and value._candidate is self:
            return {"h": [value._handle, ""]}
        if isinstance(value, type) and getattr(builtins, value.__name__, None) is value:
            return {"x": value.__name__}  # a builtin type (exceptions to catch, say): the candidate's own
        if callable(value):
            self.callbacks.append(value)
            name = str(getattr(value, "__name__", "callback"))[:200]
            # Its docstring goes along as data, so a decorator's functools.wraps keeps it.
            doc = value.__doc__[:MESSAGE_CHARS] if isinstance(getattr(value, "__doc__", None), str) else None
            return {"k": [len(self.callbacks) - 1, name, is_coroutine_function(value), doc]}
        raise NotPlainData(f"the check passed the program something that is not plain data: {type(value).__name__}")

    def resolve(self, tag, payload):
        if tag == "h" and type(payload) is list and len(payload) in (2, 3) and type(payload[0]) is int and type(payload[1]) is str:
            if len(payload) == 3 and payload[2] is True:
                return self.coroutine_function(payload[0], payload[1][:200])
            return RemoteObject(self, payload[0], payload[1][:200])
        raise AnswerRefused("the program's answer is not in the sandbox's encoding")

    def ask(self, head, values=()):
        """Sends a request and returns the candidate's answer, a list whose first item says what
        it is; raises the program's exception for "raise". Calls back the judge's functions the
        program calls meanwhile."""
        with self.lock:
            self.send(wire_text(head, values, self.refer))
            return self.answer()

    def answer(self):
        """The answer to the request sent last (see ask)."""
        answer = self.receive()
        if answer[0] == "raise":
            raise remote_exception(answer)
        if answer[0] == "more":  # only planned calls stream
            raise CandidateGone("the program broke the sandbox's call protocol")
        return answer

    def receive(self):
        """The candidate's next message but a callback (those it runs on the way), as JSON not
        yet decoded from the wire encoding."""
        while True:
            try:
                payload = self.answers.frame()
                answer = None if payload is None else parse_message(payload)
            except (ValueError, RecursionError) as error:  # over the frame limit, not JSON, nested too deep for JSON
                raise AnswerRefused(cut(f"the program's answer is refused: {describe_exception(error)}", MESSAGE_CHARS)) from None
            if answer is None:
                raise CandidateGone("the program ended before check() returned")
            if not (type(answer) is list and answer and answer[0] in ("loaded", "ok", "more", "raise", "callback")):
                raise CandidateGone("the program broke the sandbox's call protocol")
            if answer[0] != "callback":
                return answer
            self.call_back(answer)

    def send(self, payload):
        try:
            write_frame(self.request_w, payload)
        except BrokenPipeError:
            raise CandidateGone("the program ended before check() returned") from None

    def call_back(self, request):
        if not (len(request) == 4 and type(request[1]) is int and 0 <= request[1] < len(self.callbacks)):
            raise CandidateGone("the program broke the sandbox's call protocol")
        args = from_wire(request[2], 0, self.resolve)
        kwargs = from_wire(request[3], 0, self.resolve)
        if not (type(args) is list and type(kwargs) is dict and all(type(key) is str for key in kwargs)):
            raise AnswerRefused("the program broke the sandbox's call protocol")
        try:
            function = self.callbacks[request[1]]
            result = run_coroutine(function(*args, **kwargs)) if is_coroutine_function(function) else function(*args, **kwargs)
            reply = wire_text(["ok"], [result], self.refer)
        except (CandidateGone, AnswerRefused):
            raise
        except Exception as error:
            reply = wire_text(["raise", type(error).__name__, cut(describe_exception(error), MESSAGE_CHARS)])
        self.send(reply)

    def value(self, answer):
        if answer[0] != "ok" or len(answer) != 2:
            raise CandidateGone("the program broke the sandbox's call protocol")
        return from_wire(answer[1], 0, self.resolve)

    def send_load(self, source, timeout):
        """Has the candidate run the program's source; loaded() waits for it to be done."""
        self.send(wire_text(["load", source, timeout]))

    def loaded(self):
        """The names of the functions the program defined."""
        with self.lock:
            answer = self.answer()
        names = answer[1] if answer[0] == "loaded" and len(answer) == 2 else None
        if not (type(names) is list and all(type(name) is str for name in names)):
            raise CandidateGone("the program broke the sandbox's call protocol")
        return names

    def function(self, name):
        def call_in_candidate(*args, **kwargs):
            return self.call(name, call_in_candidate, args, kwargs)

        call_in_candidate.__name__ = call_in_candidate.__qualname__ = name
        return call_in_candidate

    def call(self, name, function, args, kwargs):
        """A call of a program's function: from the answers of the check's planned calls when
        it is the one planned next, else across to the candidate on its own."""
        plan = self.plan
        if plan is not None:
            if plan.function is function and not kwargs and plan.next < plan.end and same_objects(args, plan.calls[plan.next]):
                answer = self.planned_answer(plan)
                if answer is not None:
                    return answer[0]
            self.drop_plan()
        return self.value(self.ask(["call", name], [list(args), kwargs]))

    def planner(self, function, name, scope):
        """The check's PLAN_FUNCTION (see plan_check): called just before a loop that will call
        `function` once on each of `inputs` in order (as many as `limit` has, when given)."""

        def plan_calls(candidate, inputs, limit=None):
            if candidate is not function or self.plan is not None:
                return
            # The loop's enumerate and zip are the real ones (plan_check saw no code rebind them).
            if scope.get("__builtins__") is not builtins or "enumerate" in scope or "zip" in scope:
                return
            if builtins.enumerate is not BUILTIN_ENUMERATE or builtins.zip is not BUILTIN_ZIP:
                return
            if type(inputs) is not list or not (limit is None or type(limit) in (list, tuple)):
                return
            calls = inputs if limit is None else inputs[:len(limit)]
            if all(type(args) in (list, tuple) for args in calls):
                self.plan = PlannedCalls(function, name, calls)

        return plan_calls

    def planned_answer(self, plan):
        """The answer to the plan's next call, as (value,); raises the program's exception. None
        if that call cannot be sent ahead (an argument that is not plain data): it goes live."""
        with self.lock:
            if plan.in_flight == 0 and not self.send_calls(plan):
                return None
            answer = self.receive()
            kind = answer[0]
            if kind == "more" and plan.in_flight > 1:
                plan.in_flight -= 1
            elif kind in ("ok", "raise"):
                plan.in_flight = 0  # the last call sent, or one after which the candidate stopped
            else:
                raise CandidateGone("the program broke the sandbox's call protocol")
            plan.next += 1
            if plan.next == plan.end:
                self.plan = None
        if kind == "raise":
            raise remote_exception(answer)
        return (self.value(["ok", *answer[1:]]),)

    def send_calls(self, plan):
        """Sends the candidate the arguments of the plan's next calls, up to PLAN_CHUNK_BYTES of
        them; returns how many. The next call's arguments are all plain data, or none is sent."""
        texts, blobs, size = [], [], 0
        end = plan.next
        while end < plan.end and size < PLAN_CHUNK_BYTES:
            mark = len(blobs)
            try:
                texts.append(wire_value(list(plan.calls[end]), blobs))
            except (TypeError, ValueError):  # not plain data: the plan ends before this call
                del blobs[mark:]
                plan.end = end
                break
            size += len(texts[-1]) + sum(map(len, blobs[mark:]))
            end += 1
        if end == plan.next:
            return 0
        payload = b'["batch",' + json.dumps(plan.name).encode() + b",[" + b",".join(texts) + b"]]"
        self.send(payload + b"\0" + b"".join(blobs) if blobs else payload)
        plan.in_flight = end - plan.next
        return plan.in_flight

    def drop_plan(self):
        """Forgets the plan, once the calls sent ahead are answered. Only a check that calls the
        program otherwise than plan_check read in its loop gets here, and plan_check plans no
        such check; a plan that ran to its end is gone already."""
        plan, self.plan = self.plan, None
        if plan is None:
            return
        with self.lock:
            while plan.in_flight > 0:
                kind = self.receive()[0]
                if kind == "more" and plan.in_flight > 1:
                    plan.in_flight -= 1
                elif kind in ("ok", "raise"):
                    plan.in_flight = 0
                else:
                    raise CandidateGone("the program broke the sandbox's call protocol")

    def operate(self, operation, handle, *args, **kwargs):
        return self.value(self.ask(["op", operation, handle], [list(args), kwargs]))

    def coroutine_function(self, handle, name):
        """A coroutine function of the program's: a coroutine function here too (so a check can
        tell it is one), whose call the candidate runs to its end in an event loop of its own."""
        operate = self.operate

        async def call_in_candidate(*args, **kwargs):
            return operate("await", handle, *args, **kwargs)

        call_in_candidate.__name__ = call_in_candidate.__qualname__ = name
        return call_in_candidate


def is_coroutine_function(value):
    import inspect

    return inspect.iscoroutinefunction(value)


def run_coroutine(coroutine):
    """Runs a coroutine to its end in a thread of its own: the caller's thread may be inside an
    event loop already (a check's asyncio.run, waiting on the candidate that called back)."""
    import asyncio

    outcome = {}

    def run():
        try:
            outcome["value"] = asyncio.run(coroutine)
        except BaseException as error:
            outcome["error"] = error

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


# What functools.wraps keeps of a function, asked of the candidate like any attribute (the answer
# is data or another handle); every other dunder stays the judge's own.
REMOTE_DUNDERS = frozenset({"__name__", "__qualname__", "__wrapped__"})


class RemoteObject:
    # An object of the program's, in the judge: every use is a call into the candidate, whose
    # answer comes back as data (or as another RemoteObject). It equals only itself: a program
    # cannot answer with an object that claims to equal the expected value. (A comment, not a
    # docstring: `__doc__` is the program object's own, below.)

    __slots__ = ("_candidate", "_handle", "_type_name")

    @property
    def __doc__(self):
        return self._candidate.operate("getattr", self._handle, "__doc__")

    def __init__(self, candidate, handle, type_name):
        object.__setattr__(self, "_candidate", candidate)
        object.__setattr__(self, "_handle", handle)
        object.__setattr__(self, "_type_name", type_name)

    def __getattr__(self, name):
        if name.startswith("__") and name not in REMOTE_DUNDERS:
            raise AttributeError(name)
        return self._candidate.operate("getattr", self._handle, name)

    def __setattr__(self, name, value):
        self._candidate.operate("setattr", self._handle, name, value)

    def __call__(self, *args, **kwargs):
        return self._candidate.operate("call", self._handle, *args, **kwargs)

    def __len__(self):
        return self._candidate.operate("len", self._handle)

    def __bool__(self):
        return self._candidate.operate("bool", self._handle)

    def __iter__(self):
        return self._candidate.operate("iter", self._handle)

    def __next__(self):
        return self._candidate.operate("next", self._handle)

    def __getitem__(self, key):
        return self._candidate.operate("getitem", self._handle, key)

    def __setitem__(self, key, value):
        self._candidate.operate("setitem", self._handle, key, value)

    def __contains__(self, item):
        return self._candidate.operate("contains", self._handle, item)

    def __eq__(self, other):
        return self is other

    def __hash__(self):
        return id(self)

    def __repr__(self):
        return f"<the program's {self._type_name} object>"


def remote_exception(answer):
    """The program's exception, rebuilt as a builtin exception type of the same name (so that a
    test catching ValueError still does) whose message is the program's, word for word up to
    MESSAGE_CHARS."""
    if len(answer) != 3 or not all(type(part) is str for part in answer[1:]) or not answer[1].isidentifier() or len(answer[1]) > 200:
        return CandidateGone("the program broke the sandbox's call protocol")
    _, type_name, message = answer
    message = cut(message, MESSAGE_CHARS)
    base = getattr(builtins, type_name, None)
    if not (isinstance(base, type) and issubclass(base, Exception)):
        base = Exception
    for kind in (base, Exception):
        try:
            error_type = type(type_name, (kind,), {"__str__": lambda self: message, "__module__": "builtins"})
            return error_type()
        except TypeError:
            continue
    return Exception(message)


# The judge's copies of what a check starts from (a task's prompt: its imports and helpers),
# compiled once per text: an evaluation runs the same prompts over and over.
SETUP_CODE = {}
SETUP_CODE_KEPT = 512
SETUP_LOCK = threading.Lock()


def setup_code(text):
    with SETUP_LOCK:
        code = SETUP_CODE.get(text)
    if code is None:
        code = compile_prompt(text)
        with SETUP_LOCK:
            if len(SETUP_CODE) >= SETUP_CODE_KEPT:
                SETUP_CODE.clear()
            SETUP_CODE[text] = code
    return code


def compile_prompt(text, flags=0):
    """A prompt may end in the entry point's bare signature (`def f(x):`, no docstring), which
    does not compile alone; the judge then gives that def a `pass` body (its own name is the
    program's proxy anyway), so the prompt's imports and helpers still reach the test."""
    try:
        return compile(text, "<prompt>", "exec", flags)
    except SyntaxError as error:
        stripped = text.rstrip()
        if not stripped.endswith(":"):
            raise
        indent = len(stripped.splitlines()[-1]) - len(stripped.splitlines()[-1].lstrip())
        try:
            return compile(stripped + "\n" + " " * (indent + 4) + "pass\n", "<prompt>", "exec", flags)
        except SyntaxError:
            raise error from None


def judge_namespace(program, names, candidate):
    """Where `check` runs: built by the judge from the program's trusted parts alone. The real
    builtins; the judge's own copy of the prompt's helpers (its `judgeSetup`, run here); and of
    the program, only its entry point, as a proxy. A program that defines `abs` or `zip`, or
    redefines a helper its prompt gives, changes its own namespace, never this one. Without an
    entry point named, every function the program defined is reachable, but never under the
    name of a builtin or of something the setup defined."""
    scope = {"__name__": "__main__", "__builtins__": builtins}
    setup = program.get("judgeSetup")
    if setup:
        exec(setup_code(setup), scope)
    entry = program.get("entryPoint")
    if entry is not None:
        if entry in names:
            scope[entry] = candidate.function(entry)
        else:
            scope.pop(entry, None)  # check(entry) then fails as the reference harness's would: NameError
        return scope
    for name in names:
        if name not in scope and not hasattr(builtins, name):
            scope[name] = candidate.function(name)
    return scope


# ---------------------------------------------------------------------------------------------
# Planned calls. Every call a check makes of the program crosses to the candidate and back, some
# 100 us of two processes handing the CPU to each other; HumanEval+'s checks make 124 000 of them,
# each task's in one loop over a literal list:
#     for i, (inp, exp) in enumerate(zip(inputs, results)):
#         assertion(candidate(*inp), exp, 0)
# Where a check's code shows that a loop calls the program exactly once per item, in order, with
# each item's elements as arguments, and that nothing else can call it while the loop runs, the
# judge sends the candidate the arguments of the calls to come in one message, and the candidate
# answers each call as it returns, while the judge checks the answers before. The program sees
# the same calls in the same order; an answer is served only to the call whose arguments are
# those very objects; a call that raises ends the batch, as it ends the check; so does an answer
# holding an object that stays in the candidate (the judge may ask about it before the next call).
# A program that runs out of time on a call does so as it would on the live call; one whose
# answer the check refuses fails on it, while the candidate may be a few calls further on (what
# those print may join its output). Any other check makes every call live.

PLAN_FUNCTION = "__koderz_plan__"
PLAN_CHUNK_BYTES = 1 << 20  # arguments sent ahead at a time: what a candidate holds beyond a live call's
BUILTIN_ENUMERATE, BUILTIN_ZIP = enumerate, zip
# Names through which code reaches what it does not name (frames, scopes, the builtins module): a
# check or prompt holding one is not planned.
INDIRECT_NAMES = frozenset({
    "globals", "locals", "vars", "eval", "exec", "compile", "getattr", "setattr", "delattr",
    "__import__", "__builtins__", "builtins", "sys", "inspect", "gc", "importlib", "ctypes",
    "_getframe", "f_back", "f_globals", "f_locals", "tb_frame", "gi_frame", "cr_frame", "ag_frame",
    "__dict__", "__globals__", "__closure__", "__code__", "__class__", "__subclasses__",
})
# HumanEval+ writes each task's inputs and results on one line of 10-500 KB: parsing those into
# Python's ast objects would cost twice what compiling them does, so the judge reads the check's
# outline with such a line's right-hand side as None, where the line is a plain `name = literal`.
LONG_LINE_CHARS = 256
PLAIN_ASSIGNMENT = re.compile(r"([ \t]*[A-Za-z_]\w*[ \t]*=)(?!=)(.*)\Z", re.S)
ONE_LINE_STRING = re.compile(r"""'[^'\\\n]*(?:\\.[^'\\\n]*)*'|"[^"\\\n]*(?:\\.[^"\\\n]*)*\"""")
# A name: a letter or _ after no letter, digit or _ (the e of 1e-05, the x of 0x1f are no names).
WORD = re.compile(r"[A-Za-z_](?<!\w[A-Za-z_])\w*")
ATTRIBUTE = re.compile(r"\.\s*[A-Za-z_]")
LITERAL_WORDS = frozenset({"True", "False", "None"})
TRIPLE_QUOTES = ("'" * 3, '"' * 3)


class PlannedCalls:
    """The calls a check's loop will make of one of the program's functions, in order."""

    __slots__ = ("function", "name", "calls", "next", "end", "in_flight")

    def __init__(self, function, name, calls):
        self.function = function  # the judge's proxy of the program's function
        self.name = name
        self.calls = calls  # the argument list of each call: the check's own objects
        self.next = 0  # the call the check makes next
        self.end = len(calls)  # past the last call that may be sent ahead
        self.in_flight = 0  # calls sent ahead and not yet answered


def same_objects(args, planned):
    return len(args) == len(planned) and all(map(operator.is_, args, planned))


def plan_check(text, entry, setup):
    """The code of a check (`text`, run in the judge's namespace), and whether it plans its
    loops' calls: if so, each loop planned_loops accepts gets a call of PLAN_FUNCTION just before
    it, on a line of its own, and the namespace must hold candidate.planner(...) by that name."""
    plain = lambda: (compile(text, "<string>", "exec"), False)  # noqa: E731
    if entry is None or "(*" not in text or "__koderz_" in text:
        return plain()
    lines = text.split("\n")
    outline = [short_assignment(line) if len(line) >= LONG_LINE_CHARS else line for line in lines]
    try:
        module = ast.parse("\n".join(outline))
    except (SyntaxError, ValueError):
        return plain()  # which raises the check's own error
    loops = planned_loops(module, entry, setup)
    if not loops:
        return plain()
    for line, column, names in sorted(loops, reverse=True):
        indent = lines[line - 1][:column]
        if indent.strip():
            return plain()
        lines.insert(line - 1, f"{indent}{PLAN_FUNCTION}({', '.join(names)})")
    try:
        code = compile("\n".join(lines), "<string>", "exec")
    except SyntaxError:
        return plain()
    # Each inserted line is a call in the check (not, say, text inside a string), or none is used.
    check_name = module.body[-1].value.func.id
    functions = [const for const in code.co_consts if isinstance(const, type(code)) and const.co_name == check_name]
    if len(functions) != 1 or PLAN_FUNCTION not in functions[0].co_names:
        return plain()
    return code, True


def short_assignment(line):
    """`name = None` for a line `name = literal`, where the literal is one line of numbers,
    strings, True, False and None in brackets (so it names nothing, calls nothing, and ends
    with its line); any other line as it is."""
    match = PLAIN_ASSIGNMENT.match(line)
    if match is None or "\r" in line or any(quotes in line for quotes in TRIPLE_QUOTES):
        return line
    rest = ONE_LINE_STRING.sub("0", match.group(2))
    if not rest.isascii() or any(mark in rest for mark in ("'", '"', "#", ";", "\\")):
        return line  # an identifier of other letters, a string left open, a comment, a second statement
    if ATTRIBUTE.search(rest) or not LITERAL_WORDS.issuperset(WORD.findall(rest)):
        return line
    if not all(rest.count(opening) == rest.count(closing) for opening, closing in ("()", "[]", "{}")):
        return line
    return match.group(1) + " None"


def planned_loops(module, entry, setup):
    """Where a check's calls can be planned: (line, column, names for PLAN_FUNCTION) of each
    such loop. The module must end in `check(entry)` and name neither anywhere else, hold nothing
    that reaches names indirectly and nothing that rebinds enumerate or zip. A loop planned is a
    statement of check's own body (so an exception in it ends the check) of the form
        for [i, ](x[, e]) in [enumerate(][zip(]inputs[, results])[)]:
            <one expression or assert that evaluates candidate(*x) once, unconditionally>
    where inputs and results are locals of `check`, named nowhere but in their assignments and
    the loop; before its last planned loop, `check` names its parameter only in those calls, and
    never but to call it."""
    if not module.body or not setup_is_plain(setup, entry):
        return []
    final = module.body[-1]
    if not (isinstance(final, ast.Expr) and is_call(final.value, None, 1) and isinstance(final.value.args[0], ast.Name) and final.value.args[0].id == entry):
        return []
    check_name = final.value.func.id
    defined = [node for node in module.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name == check_name]
    if len(defined) != 1 or not isinstance(defined[0], ast.FunctionDef) or defined[0].decorator_list:
        return []
    check = defined[0]
    arguments = check.args
    if arguments.posonlyargs or arguments.vararg or arguments.kwonlyargs or arguments.kwarg or arguments.defaults or len(arguments.args) != 1:
        return []
    parameter = arguments.args[0].arg
    if parameter in (entry, check_name, "enumerate", "zip"):
        return []
    if not names_plain(module, {entry, check_name, "enumerate", "zip"}, {entry: 1, check_name: 1}, {check_name}):
        return []
    parents = {child: node for node in ast.walk(check) for child in ast.iter_child_nodes(node)}
    loops = []
    for index, statement in enumerate(check.body):
        shape = loop_shape(statement, parameter, parents) if isinstance(statement, ast.For) else None
        if shape is not None:
            loops.append((index, statement, *shape))
    if not loops:
        return []
    planned_calls = {call for _, _, call, _ in loops}
    lists = {name for _, _, _, names in loops for name in names}
    for index, statement in enumerate(check.body):
        for node in ast.walk(statement):
            if isinstance(node, ast.Name) and node.id == parameter:
                call = parents.get(node)
                if not (isinstance(call, ast.Call) and call.func is node) or (index <= loops[-1][0] and call not in planned_calls):
                    return []
            elif isinstance(node, (ast.Global, ast.Nonlocal)) and lists.intersection(node.names):
                return []
    assignments = [(index, target) for index, statement in enumerate(check.body) if isinstance(statement, ast.Assign) for target in statement.targets]
    for index, loop, _, names in loops:
        if not {target.id for before, target in assignments if before < index and isinstance(target, ast.Name)}.issuperset(names):
            return []
        allowed = {id(target) for _, target in assignments} | {id(node) for node in ast.walk(loop.iter)}
        if any(isinstance(node, ast.Name) and node.id in names and id(node) not in allowed for node in ast.walk(check)):
            return []
    return [(loop.lineno, loop.col_offset, [parameter, *names]) for _, loop, _, names in loops]


def loop_shape(loop, parameter, parents):
    """(the call of `parameter`, [inputs] or [inputs, results]) of a loop planned_loops plans."""
    if loop.orelse or len(loop.body) != 1 or not isinstance(loop.body[0], (ast.Expr, ast.Assert)):
        return None
    statement = loop.body[0]
    if isinstance(statement, ast.Assert) and not __debug__:
        return None
    target, source, bound = loop.target, loop.iter, []
    if is_call(source, "enumerate", 1):
        if not (isinstance(target, ast.Tuple) and len(target.elts) == 2 and isinstance(target.elts[0], ast.Name)):
            return None
        bound.append(target.elts[0].id)
        target, source = target.elts[1], source.args[0]
    if is_call(source, "zip", 2) and all(isinstance(item, ast.Name) for item in source.args):
        if not (isinstance(target, ast.Tuple) and len(target.elts) == 2 and all(isinstance(item, ast.Name) for item in target.elts)):
            return None
        lists = [item.id for item in source.args]
        bound += [item.id for item in target.elts]
        item = target.elts[0].id
    elif isinstance(source, ast.Name) and isinstance(target, ast.Name):
        lists = [source.id]
        item = target.id
        bound.append(item)
    else:
        return None
    if len(set(bound)) != len(bound) or set(bound) & {parameter, *lists}:
        return None
    uses = [node for node in ast.walk(statement) if isinstance(node, ast.Name) and node.id == parameter]
    if len(uses) != 1 or any(isinstance(node, (ast.NamedExpr, ast.Lambda, ast.Yield, ast.YieldFrom, ast.Await)) for node in ast.walk(statement)):
        return None
    call = parents.get(uses[0])
    if not (isinstance(call, ast.Call) and call.func is uses[0] and not call.keywords and len(call.args) == 1):
        return None
    spread = call.args[0]
    if not (isinstance(spread, ast.Starred) and isinstance(spread.value, ast.Name) and spread.value.id == item):
        return None
    node = call
    while node is not statement:  # every step from the statement down to the call is evaluated
        parent = parents[node]
        if not always_evaluated(parent, node):
            return None
        node = parent
    return call, lists


def always_evaluated(parent, child):
    """Whether evaluating `parent` always evaluates `child` (once), short of an exception."""
    if isinstance(parent, (ast.Expr, ast.Call, ast.Starred, ast.keyword, ast.UnaryOp, ast.BinOp, ast.Attribute, ast.Subscript, ast.Slice, ast.Tuple, ast.List, ast.Set, ast.Dict, ast.JoinedStr, ast.FormattedValue)):
        return True
    if isinstance(parent, ast.Assert):
        return child is parent.test
    if isinstance(parent, ast.Compare):
        return child is parent.left or child is parent.comparators[0]
    if isinstance(parent, ast.BoolOp):
        return child is parent.values[0]
    if isinstance(parent, ast.IfExp):
        return child is parent.test
    return False


def is_call(node, name, count):
    """Whether `node` is a call of a plain name (`name`, or any when None) with `count`
    positional arguments and nothing else."""
    return (
        isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and (name is None or node.func.id == name)
        and len(node.args) == count and not node.keywords and not any(isinstance(arg, ast.Starred) for arg in node.args)
    )


def setup_is_plain(setup, entry):
    """Whether the prompt's helpers (run in the judge's namespace) neither name the entry point
    (the program's function there) nor reach names indirectly."""
    if not setup:
        return True
    try:
        module = compile_prompt(setup, ast.PyCF_ONLY_AST)
    except (SyntaxError, ValueError):
        return False
    return names_plain(module, {entry}, {entry: 0}, {entry})


def names_plain(module, guarded, counted, defined):
    """Whether `module` names each of `guarded` only to read it (never binds it, but by a def
    of a name in `defined`), reads each of `counted` exactly that many times and never as an
    attribute or a string, holds none of INDIRECT_NAMES and imports nothing with a star."""
    seen = dict.fromkeys(counted, 0)
    for node in ast.walk(module):
        if isinstance(node, ast.Name):
            if node.id in INDIRECT_NAMES or (node.id in guarded and not isinstance(node.ctx, ast.Load)):
                return False
            if node.id in seen:
                seen[node.id] += 1
        elif isinstance(node, ast.Attribute):
            if node.attr in INDIRECT_NAMES or node.attr in counted:
                return False
        elif isinstance(node, ast.Constant):
            if type(node.value) is str and node.value in counted:
                return False
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            if node.name in guarded and node.name not in defined:
                return False
        elif isinstance(node, ast.arg):
            if node.arg in guarded:
                return False
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in INDIRECT_NAMES:
                return False
            for alias in node.names:
                bound = alias.asname or alias.name.split(".")[0]
                if alias.name == "*" or bound in guarded or bound in INDIRECT_NAMES or alias.name.split(".")[0] in INDIRECT_NAMES:
                    return False
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            if guarded.intersection(node.names):
                return False
        elif isinstance(node, ast.ExceptHandler):
            if node.name in guarded:
                return False
        elif isinstance(node, (ast.MatchAs, ast.MatchStar, ast.MatchMapping)):
            return False  # patterns bind names
    return seen == counted


def judge_each(work):
    """A slot's judge thread: judges its programs one after another."""
    while True:
        judge(*work.get())


def judge(judged, request_w, answer_r, wake_w):
    """A judge thread: runs the program's check against its candidate and sets the result."""
    result = "failed: the sandbox's judge could not start"
    try:
        program = judged.program
        candidate = Candidate(request_w, answer_r)
        candidate.send_load(program["source"], program["timeout"])
        check, entry = program.get("check"), program.get("entryPoint")
        # Compiled while the candidate runs the program's source (HumanEval+'s longest test takes
        # 30 ms); an error in the check counts only once the program and the setup ran.
        prepared = failure = None
        if check is not None:
            try:
                prepared = plan_check(check, entry, program.get("judgeSetup"))
            except BaseException as error:
                failure = error
        names = candidate.loaded()
        if check is not None:
            scope = judge_namespace(program, names, candidate)
            if failure is not None:
                raise failure
            code, planned = prepared
            if planned:
                scope[PLAN_FUNCTION] = candidate.planner(scope.get(entry), entry, scope)
            exec(code, scope)
        result = "passed"
    except BaseException as error:
        result = "failed: " + describe_exception(error)
    finally:
        for fd in (request_w, answer_r):
            os.close(fd)
        judged.result = cut(result, RESULT_CHARS)
        try:
            os.write(wake_w, b".")
        except OSError:
            pass  # the pipe is full: the runner is awake already


class JudgeOutput(io.TextIOBase):
    """The runner's sys.stdout and sys.stderr: what a judge thread's hidden test prints joins its
    program's output. Anything else goes to `elsewhere` (None: dropped, as our fd 1 carries
    verdicts and nothing else)."""

    encoding = "utf-8"

    def __init__(self, elsewhere):
        super().__init__()
        self.elsewhere = elsewhere

    def writable(self):
        return True

    def write(self, text):
        judged = getattr(threading.current_thread(), "judged", None)
        if judged is not None:
            judged.add_output(str(text).encode("utf-8", "backslashreplace"))
        elif self.elsewhere is not None:
            self.elsewhere.write(text)
            self.elsewhere.flush()
        return len(text)


def describe_exception(error):
    try:
        return str(error)
    except BaseException:
        return type(error).__name__


# ---------------------------------------------------------------------------------------------
# The candidate: untrusted; runs the program's source and answers its judge's calls.


class UnreadableInput:
    """What the reference harness puts on stdin: any read raises OSError (its WriteOnlyStringIO)."""

    def read(self, *args, **kwargs):
        raise IOError

    readline = read
    readlines = read

    def readable(self):
        return False


class CappedOutput(io.TextIOBase):
    """The program's sys.stdout and sys.stderr: the first bytes go to the runner for feedback,
    the rest is dropped here, in memory, as the reference harness swallows output, so a
    program that prints 100 MB pays for a string, not for 100 MB through a pipe."""

    encoding = "utf-8"

    def __init__(self, fd, budget):
        super().__init__()
        self.fd = fd
        self.budget = budget

    def writable(self):
        return True

    def write(self, text):
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        if self.budget[0] > 0:
            data = text[: self.budget[0]].encode("utf-8", "backslashreplace")[: self.budget[0]]
            self.budget[0] -= len(data)
            while data:
                data = data[os.write(self.fd, data):]
        return len(text)


def run_candidate(request_r, answer_w, output_w, slot, config, uid_base, vsize_bytes):
    """In the candidate, just forked by the launcher before its program is known: isolate, then
    serve the judge. Its program's arrival drops it to the slot's uid, directory and limits
    before any of the program runs; the setup before that is off the program's clock. What all
    candidates share (stdio, the reliability guard) the launcher did already. Never returns."""
    try:
        os.setsid()
        # _signal and _random, not signal and random: their Python wrappers touch (and copy)
        # dozens of pages more.
        _signal.signal(_signal.SIGCHLD, _signal.SIG_DFL)
        os.dup2(output_w, 1)
        os.dup2(output_w, 2)
        close_fds_except({request_r, answer_w})
        # Its own IPC namespace and the syscall filter, before anything of a program can run.
        ISOLATION.enter()
        try:
            adj = os.open("/proc/self/oom_score_adj", os.O_WRONLY)
            try:
                os.write(adj, b"1000")  # if the sandbox runs out of memory, a program dies, not the runner
            finally:
                os.close(adj)
        except OSError:
            pass
        # What os.fork() would have done (the launcher forks without Python's at-fork hooks):
        # each program draws its own random numbers, as under the reference harness.
        random_module = sys.modules.get("random")
        if random_module is not None:
            _random.Random.seed(random_module._inst, None)
    except BaseException as error:
        try:
            write_frame(answer_w, wire_text(["raise", "OSError", f"sandbox could not set up the program: {error!r}"]))
        except BaseException:
            pass
        os._exit(0)
    serve(
        request_r,
        answer_w,
        lambda timeout: enter_slot(slot, timeout, config, uid_base, vsize_bytes),
        lambda: rehearse(work_root(config)),
    )


# A program's first steps, taken by a candidate while it waits for one, when the runner is idle
# (Runner.rehearse_when_idle): after a fork every page a process first writes is a copy-on-write
# fault, 15-70 us each on a virtual machine, and running a program's path once (compile, exec, a
# call, pickling, plain(), the environment and limit calls of enter_slot) takes some 200 of them
# here, off the program's clock instead of on it.
REHEARSAL = """
import math
from typing import List


def rehearsal(numbers: List[int], text: str) -> dict:
    seen = {}
    for index, number in enumerate(sorted(numbers)):
        seen[str(number)] = [index, number * 2.5, text[index % len(text)]]
    return {key: tuple(value) for key, value in seen.items() if math.isfinite(value[1])}
"""


def rehearse(workdir):
    """Trusted code only, and nothing a program could see: the same calls a program's arrival
    makes, on the values enter_slot then sets again (HOME and TMPDIR) or that change nothing
    (each limit set to what it is)."""
    try:
        scope = {}
        exec(REHEARSAL, scope)
        request = parse_message(wire_text(["call", "rehearsal"], [[[3, 1, 2], "abc"], {}]))
        wire_text(["ok"], [scope[request[1]](*from_wire(request[2]), **from_wire(request[3]))])
        os.urandom(8).hex()
        os.putenv = PUTENV
        os.environ["HOME"] = workdir
        os.environ["TMPDIR"] = workdir
        os.putenv = None
        resource.getrusage(resource.RUSAGE_SELF)
        for which in (resource.RLIMIT_CPU, resource.RLIMIT_AS, resource.RLIMIT_FSIZE, resource.RLIMIT_NPROC, resource.RLIMIT_CORE):
            resource.setrlimit(which, resource.getrlimit(which))
    except Exception:
        pass  # a rehearsal that fails costs the program its faults, nothing else


def enter_slot(slot, timeout, config, uid_base, vsize_bytes):
    """What the program runs as: the slot's uid (its candidate has its IPC namespace and syscall
    filter already, see ProgramIsolation), a fresh directory of its own, and its limits. The directory's name is
    unpredictable, so no program can make the next one's in advance; with program uids it is
    made by root (owner root, group the slot's: the program writes in it, cannot remove,
    rename or replace it)."""
    uid = slot_uid(slot, uid_base)
    workdir = os.path.join(work_root(config), f"{workdir_prefix(slot)}{os.urandom(12).hex()}")
    if uid is not None:
        os.setgroups([])
        os.setgid(uid)
        mask = os.umask(0o007)
        try:
            os.mkdir(workdir, 0o770)
        finally:
            os.umask(mask)
        SETUID(uid)
    else:
        os.mkdir(workdir, 0o700)
    CHDIR(workdir)
    os.putenv = PUTENV  # os.environ writes through it; the guard has set it to None
    os.environ["HOME"] = workdir
    os.environ["TMPDIR"] = workdir
    os.putenv = None
    tempfile.tempdir = None
    limit_resources(timeout, config, vsize_bytes)


# What a judge may do with an object of the program's (RemoteObject): each is one call here.
OPERATIONS = {
    "getattr": getattr,
    "setattr": setattr,
    "call": lambda target, *args, **kwargs: target(*args, **kwargs),
    "len": len,
    "bool": bool,
    "iter": iter,
    "next": next,
    "getitem": lambda target, key: target[key],
    "setitem": lambda target, key, value: target.__setitem__(key, value),
    "contains": lambda target, item: item in target,
    "await": lambda target, *args, **kwargs: run_coroutine(target(*args, **kwargs)),
}


class Conversation:
    """The candidate's end of the calls: runs the judge's requests in the program's scope and
    answers. Objects of the program's that are not plain data stay here as handles; a function
    of the judge's becomes a stub that calls back through the judge."""

    def __init__(self, request_r, answer_w, enter, rehearse_now):
        # Bound before the program runs: a program that rebinds these only breaks its own
        # answers, and its answers are only ever data the judge decodes with its own code.
        self.read, self.write, self.exit_now, self.parse = read_frame, write_frame, os._exit, parse_message
        self.request_r, self.answer_w = request_r, answer_w
        self.enter, self.rehearse_now = enter, rehearse_now
        self.streams = (sys.stdout, sys.stderr)
        self.scope = {}
        self.entered = False
        self.handles = []

    def refer(self, value):
        self.handles.append(value)
        return {"h": [len(self.handles) - 1, type(value).__name__[:200], is_coroutine_function(value)]}

    def resolve(self, tag, payload):
        if tag == "x":
            return getattr(builtins, payload)
        if tag == "h" and type(payload[0]) is int and 0 <= payload[0] < len(self.handles):
            return self.handles[payload[0]]
        if tag == "k" and type(payload[0]) is int:
            stub = self.stub(payload[0], str(payload[1]) if len(payload) > 1 else "callback")
            if len(payload) > 3 and type(payload[3]) is str:
                stub.__doc__ = payload[3]
            if len(payload) > 2 and payload[2] is True:

                async def coroutine_stub(*args, **kwargs):
                    return stub(*args, **kwargs)

                coroutine_stub.__name__ = coroutine_stub.__qualname__ = stub.__name__
                coroutine_stub.__doc__ = stub.__doc__
                return coroutine_stub
            return stub
        raise ValueError("not a reference the judge sent")

    def stub(self, number, name):
        conversation = self

        def callback(*args, **kwargs):
            conversation.answer(wire_text(["callback", number], [list(args), kwargs], conversation.refer))
            return conversation.serve(waiting=True)

        callback.__name__ = callback.__qualname__ = name
        return callback

    def answer(self, payload):
        try:
            self.write(self.answer_w, payload)
        except BaseException:
            self.exit_now(0)

    def serve(self, waiting=False):
        """Answers requests until the end (or, `waiting` for a callback's result, returns it)."""
        while True:
            payload = self.read(self.request_r)
            if payload is None:
                self.exit_now(0)
            request = self.parse(payload)
            kind = request[0]
            if waiting and kind in ("ok", "raise"):
                if kind == "ok":
                    return from_wire(request[1], 0, self.resolve)
                error_type = getattr(builtins, str(request[1]), None)
                if not (isinstance(error_type, type) and issubclass(error_type, Exception)):
                    error_type = Exception
                raise error_type(request[2])
            if kind == "rehearse":
                if not self.entered:  # the runner's, sent before any program (and none sends it later)
                    self.rehearse_now()
                continue
            if kind == "load" and not self.entered:
                try:
                    self.enter(request[2])
                    self.entered = True
                except BaseException as error:
                    self.answer(wire_text(["raise", "OSError", f"sandbox could not set up the program: {error!r}"]))
                    self.exit_now(0)
            if kind == "batch":
                self.run_batch(request)
                continue
            self.answer(self.reply(request))

    def run_batch(self, request):
        """Planned calls (see PlannedCalls): runs a function on each argument list of the batch
        in order, as the judge's live calls would, and writes each answer as its call returns:
        ["more", value] while more follow, ["ok", value] for the last. A call that raises
        ends the batch with its ["raise", ...]; so does an answer holding an object that stays
        here (["ok", value]), which the judge may use before it makes the next call."""
        try:
            target = self.scope[request[1]]
            batch = from_wire(request[2], 0, self.resolve)
            if not (type(batch) is list and batch and all(type(args) is list for args in batch)):
                raise ValueError("not a batch of calls")
        except BaseException as error:
            self.answer(wire_text(["raise", type(error).__name__, cut(describe_exception(error), MESSAGE_CHARS)]))
            return
        last = len(batch) - 1
        for index, args in enumerate(batch):
            more = index < last
            handles = len(self.handles)
            try:
                value = target(*args)
                try:
                    reply = wire_text(["more" if more else "ok"], [value], self.refer)
                    if more and len(self.handles) > handles:
                        more = False
                        reply = wire_text(["ok"], [value], self.refer)
                except ValueError as error:
                    more = False
                    reply = wire_text(["raise", "TypeError", cut(f"the program's answer is not plain data: {describe_exception(error)}", MESSAGE_CHARS)])
            except BaseException as error:
                more = False
                reply = wire_text(["raise", type(error).__name__, cut(describe_exception(error), MESSAGE_CHARS)])
            self.flush_streams()
            self.answer(reply)
            if not more:
                return

    def reply(self, request):
        try:
            kind = request[0]
            if kind == "load":
                exec(request[1], self.scope)
                names = [name for name, value in self.scope.items() if callable(value) and not name.startswith("__")]
                reply = wire_text(["loaded", names])
            else:
                if kind == "call":
                    target = self.scope[request[1]]
                else:  # "op": an operation on an object the judge holds a handle to
                    operation, handle = OPERATIONS[request[1]], self.handles[request[2]]
                    target = lambda *args, **kwargs: operation(handle, *args, **kwargs)  # noqa: E731
                args, kwargs = from_wire(request[-2], 0, self.resolve), from_wire(request[-1], 0, self.resolve)
                value = target(*args, **kwargs)
                try:
                    reply = wire_text(["ok"], [value], self.refer)
                except ValueError as error:
                    reply = wire_text(["raise", "TypeError", cut(f"the program's answer is not plain data: {describe_exception(error)}", MESSAGE_CHARS)])
        except BaseException as error:
            reply = wire_text(["raise", type(error).__name__, cut(describe_exception(error), MESSAGE_CHARS)])
        self.flush_streams()
        return reply

    def flush_streams(self):
        for stream in self.streams:
            try:
                stream.flush()
            except BaseException:
                pass


def serve(request_r, answer_w, enter, rehearse_now):
    Conversation(request_r, answer_w, enter, rehearse_now).serve()


def close_fds_except(keep):
    # Listing our fds beats os.closerange over the whole fd table, which costs a millisecond
    # per program where Python was built without the close_range syscall.
    try:
        names = os.listdir("/proc/self/fd")
    except OSError:  # no /proc: close the whole table instead
        previous = 2
        for fd in sorted(keep) + [os.sysconf("SC_OPEN_MAX")]:
            os.closerange(previous + 1, fd)
            previous = fd
        return
    for name in names:
        fd = int(name)
        if fd > 2 and fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass


def limit_resources(timeout, config, vsize_bytes):
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu_seconds = int(usage.ru_utime + usage.ru_stime + float(timeout)) + 2
    limits = (
        (resource.RLIMIT_CPU, cpu_seconds),
        # Address space: what the warm interpreter already maps, plus the program's budget.
        (resource.RLIMIT_AS, vsize_bytes + int(config["memoryBytes"])),
        (resource.RLIMIT_FSIZE, int(config["fileSizeBytes"])),
        (resource.RLIMIT_NPROC, int(config["maxProcesses"])),
        (resource.RLIMIT_CORE, 0),
    )
    for which, value in limits:
        resource.setrlimit(which, (value, value))


def reliability_guard():
    """The reference harness's reliability_guard, as is, so verdicts match it: a program that
    calls os.remove or subprocess fails here exactly as it fails there. Not a security fence:
    the sandbox around the runner is."""
    import faulthandler
    import shutil as shutil_module
    import subprocess

    faulthandler.disable()
    builtins.exit = None
    builtins.quit = None
    os.environ["OMP_NUM_THREADS"] = "1"
    for name in (
        "kill", "system", "putenv", "remove", "removedirs", "rmdir", "fchdir", "setuid", "fork",
        "forkpty", "killpg", "rename", "renames", "truncate", "replace", "unlink", "fchmod",
        "fchown", "chmod", "chown", "chroot", "lchflags", "lchmod", "lchown", "getcwd", "chdir",
    ):
        setattr(os, name, None)
    shutil_module.rmtree = None
    shutil_module.move = None
    shutil_module.chown = None
    subprocess.Popen = None
    builtins.help = None
    for name in ("ipdb", "joblib", "resource", "psutil", "tkinter"):
        sys.modules[name] = None


if __name__ == "__main__":
    main()

"""koderz sandbox runner: runs a batch of untrusted Python programs, one forked child each.

It runs inside the Docker sandbox (as the container's only process) and under the process
sandbox alike. The interpreter is started once per batch and imports numpy and common modules
before forking, so each program pays a fork, not an interpreter start.

Protocol, one JSON object per line:
  argv[1]  config: {"workers", "memoryBytes", "outputBytes", "fileSizeBytes", "maxProcesses",
           "workRoot", "dropToUid"}
  stdin    programs: {"id", "source", "timeout"}, or {"stop": true} to start no more of them;
           end of input means no more programs.
  stdout   first {"ready": true, ...}, then one
           {"id", "status", "result", "durationMs", "output"} per program, as each finishes.

Verdicts follow openai/human-eval's execution.py: the program runs through exec() in a fresh
globals dict, with the same reliability guard; "passed" when exec returned, "failed: {e}" for
any exception, "timed out" past the wall-clock limit. A program passes only when its child
reports so over a private pipe, with a per-program random nonce and its own pid, after exec
returned: exiting early, imitating output, closing fds or killing the runner all end as failed.
"""

import os
import sys

# Before numpy loads: BLAS thread pools would multiply every worker by the core count.
for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_name] = "1"

import errno
import gc
import json
import resource
import selectors
import shutil
import signal
import stat
import tempfile
import time
from collections import deque

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
    "dropToUid": None,
}

REPORT_LIMIT_BYTES = 1 << 20
# Exit status of a child whose report could not be written (the program closed or replaced it).
REPORT_LOST_STATUS = 86
FORK_RETRY_SECONDS = 0.05
READ_CHUNK = 65536


def main():
    config = dict(DEFAULT_CONFIG)
    if len(sys.argv) > 1:
        config.update(json.loads(sys.argv[1]))
    warm = warm_up()
    drop_uid = usable_drop_uid(config.get("dropToUid"))
    # A program signalling its parent must not end the batch; the host stops us with SIGKILL.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    gc.freeze()  # keeps the warm heap out of the collector, so children copy fewer pages
    runner = Runner(config, drop_uid)
    emit({
        "ready": True,
        "python": sys.version.split()[0],
        "warm": warm,
        "uid": os.getuid(),
        "droppedToUid": drop_uid,
        "pid1": os.getpid() == 1,
    })
    try:
        runner.loop()
    except BrokenPipeError:
        # Whoever reads our verdicts is gone: nothing we run can matter any more.
        for pid in list(runner.running):
            kill_group(pid)


def warm_up():
    loaded = []
    for name in WARM_MODULES:
        try:
            __import__(name)
            loaded.append(name)
        except Exception:
            pass
    return loaded


def usable_drop_uid(uid):
    """The uid to run programs as, when we are root and that uid can still read the stdlib
    (a Python under /root, as pyenv installs it, is out of reach of an unprivileged uid)."""
    if uid is None or os.getuid() != 0:
        return None
    path = os.path.dirname(os.__file__)
    while True:
        mode = os.stat(path).st_mode
        if not (mode & stat.S_IXOTH and mode & stat.S_IROTH):
            return None
        parent = os.path.dirname(path)
        if parent == path:
            return uid
        path = parent


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


class Child:
    def __init__(self, program, pid, workdir, output_fd, report_fd, nonce):
        self.program = program
        self.pid = pid
        self.workdir = workdir
        self.output_fd = output_fd
        self.report_fd = report_fd
        self.nonce = nonce
        self.started = time.monotonic()
        self.deadline = self.started + float(program["timeout"])
        self.output = bytearray()
        self.output_cut = False
        self.report = bytearray()
        self.timed_out = False


class Runner:
    def __init__(self, config, drop_uid):
        self.config = config
        self.drop_uid = drop_uid
        self.workers = max(1, int(config["workers"]))
        self.work_root = config["workRoot"] or tempfile.gettempdir()
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
        # SIGCHLD wakes select() through this pipe, so a finished child is reaped at once.
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_r, False)
        os.set_blocking(self.wake_w, False)
        self.selector.register(self.wake_r, selectors.EVENT_READ, ("wake", None))
        signal.set_wakeup_fd(self.wake_w)
        signal.signal(signal.SIGCHLD, lambda signum, frame: None)
        self.vsize_bytes = mapped_bytes()

    def loop(self):
        while True:
            self.start_pending()
            if not self.input_open and not self.pending and not self.running:
                return
            for key, _ in self.selector.select(self.select_timeout()):
                kind, child = key.data
                if kind == "input":
                    self.read_input()
                elif kind == "wake":
                    drain(self.wake_r, None, 0)
                else:
                    self.read_child(child, kind)
            self.reap()
            self.enforce_deadlines()

    def select_timeout(self):
        moments = [child.deadline for child in self.running.values() if not child.timed_out]
        if self.retry_at is not None:
            moments.append(self.retry_at)
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
        while self.pending and len(self.running) < self.workers:
            program = self.pending[0]
            try:
                child = self.fork(program)
            except OSError as error:
                self.fork_failed(program, error)
                return
            self.pending.popleft()
            self.fork_failing_since = None
            self.running[child.pid] = child

    def fork_failed(self, program, error):
        """Out of pids or tmpfs space, usually left by a program that escaped its group."""
        now = time.monotonic()
        if self.fork_failing_since is None:
            self.fork_failing_since = now
        if not self.running and os.getpid() == 1:
            # We are the container's init and nothing of ours runs: whatever is left is debris
            # of earlier programs. kill(-1) reaches only our own namespace.
            try:
                os.kill(-1, signal.SIGKILL)
            except OSError:
                pass
        transient = error.errno in (errno.EAGAIN, errno.ENOMEM, errno.ENOSPC, errno.EMFILE, errno.ENFILE)
        if not transient or now - self.fork_failing_since > max(1.0, float(program["timeout"])):
            self.pending.popleft()
            self.fork_failing_since = None
            emit(verdict(program, "failed", f"failed: sandbox could not start the program: {error}", 0, ""))
            self.retry_at = now  # go on with the next program at once
            return
        self.retry_at = now + FORK_RETRY_SECONDS

    def fork(self, program):
        workdir = tempfile.mkdtemp(prefix="program-", dir=self.work_root)
        pipes = []
        try:
            if self.drop_uid is not None:
                os.chown(workdir, self.drop_uid, self.drop_uid)
            output_r, output_w = os.pipe()
            pipes += [output_r, output_w]
            report_r, report_w = os.pipe()
            pipes += [report_r, report_w]
            nonce = os.urandom(16).hex()
            pid = os.fork()
        except OSError:
            for fd in pipes:
                os.close(fd)
            shutil.rmtree(workdir, ignore_errors=True)
            raise
        if pid == 0:
            run_child(program, workdir, output_w, report_w, nonce, self.config, self.drop_uid, self.vsize_bytes)
        os.close(output_w)
        os.close(report_w)
        try:
            os.setpgid(pid, pid)  # also done in the child; whichever runs first wins the race
        except OSError:
            pass
        child = Child(program, pid, workdir, output_r, report_r, nonce)
        for fd, kind in ((output_r, "output"), (report_r, "report")):
            os.set_blocking(fd, False)
            self.selector.register(fd, selectors.EVENT_READ, (kind, child))
        return child

    def read_child(self, child, kind):
        fd = child.output_fd if kind == "output" else child.report_fd
        if fd is not None and drain(fd, *self.sink(child, kind)):
            self.close_pipe(child, kind)

    def sink(self, child, kind):
        if kind == "report":
            return child.report, REPORT_LIMIT_BYTES
        return child.output, int(self.config["outputBytes"])

    def close_pipe(self, child, kind):
        fd = child.output_fd if kind == "output" else child.report_fd
        self.selector.unregister(fd)
        os.close(fd)
        if kind == "output":
            child.output_fd = None
        else:
            child.report_fd = None

    def reap(self):
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            child = self.running.pop(pid, None)
            if child is not None:  # else an orphan reparented to us as init: reaping is enough
                self.finish(child, status)

    def enforce_deadlines(self):
        now = time.monotonic()
        for child in self.running.values():
            if not child.timed_out and now >= child.deadline:
                child.timed_out = True
                kill_group(child.pid)

    def finish(self, child, status):
        # Synchronously after reaping, before any new fork, so the group id cannot be reused yet.
        kill_group(child.pid)
        for kind in ("output", "report"):
            fd = child.output_fd if kind == "output" else child.report_fd
            if fd is not None:
                drain(fd, *self.sink(child, kind))
                self.close_pipe(child, kind)
        if len(child.output) >= int(self.config["outputBytes"]):
            child.output_cut = True
        shutil.rmtree(child.workdir, ignore_errors=True)
        result = reported_result(child)
        if result is None:
            result = "timed out" if child.timed_out else f"failed: {describe_exit(status)}"
        status_word = "passed" if result == "passed" else "timed out" if result == "timed out" else "failed"
        output = child.output.decode("utf-8", "replace")
        if child.output_cut:
            output += f"\n[output cut at {self.config['outputBytes']} bytes]"
        duration_ms = round((time.monotonic() - child.started) * 1000)
        emit(verdict(child.program, status_word, result, duration_ms, output))


def verdict(program, status, result, duration_ms, output):
    return {"id": program["id"], "status": status, "result": result, "durationMs": duration_ms, "output": output}


def drain(fd, sink, limit):
    """Reads what is available; returns True at end of file. Keeps at most `limit` bytes."""
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


def reported_result(child):
    """The result the child itself sent after exec returned, if it carries our nonce and its pid."""
    expected = f"{child.nonce} {child.pid} "
    for line in bytes(child.report).decode("utf-8", "replace").split("\n"):
        if line.startswith(expected):
            try:
                result = json.loads(line[len(expected):])
            except ValueError:
                return None
            return result if isinstance(result, str) else None
    return None


def describe_exit(status):
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = str(number)
        why = {"SIGKILL": " (out of memory or killed)", "SIGXCPU": " (CPU time limit)", "SIGXFSZ": " (file size limit)"}
        return f"program was killed by {name}{why.get(name, '')} before check() returned"
    code = os.WEXITSTATUS(status)
    if code == REPORT_LOST_STATUS:
        return "program closed or replaced the sandbox's report pipe, so its verdict never arrived"
    return f"program exited with status {code} before check() returned"


class UnreadableInput:
    """What the reference harness puts on stdin: any read raises OSError (its WriteOnlyStringIO)."""

    def read(self, *args, **kwargs):
        raise IOError

    readline = read
    readlines = read

    def readable(self):
        return False


def run_child(program, workdir, output_w, report_w, nonce, config, drop_uid, vsize_bytes):
    """In the forked child: isolate, run the program, report over the private pipe. Never returns."""
    # Bound before the program runs, so that monkey-patching os, json or builtins cannot
    # rewrite the report (it can only break it, which reads as failed).
    write, getpid, exit_now, dumps = os.write, os.getpid, os._exit, json.dumps

    def report(result):
        data = f"{nonce} {getpid()} {dumps(result)}\n".encode()
        try:
            while data:
                data = data[write(report_w, data):]
        except BaseException:
            exit_now(REPORT_LOST_STATUS)
        exit_now(0)

    try:
        os.setpgid(0, 0)
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(output_w, 1)
        os.dup2(output_w, 2)
        # Everything else the runner holds (its own stdin/stdout, other children's pipes) goes.
        close_fds_except(report_w)
        os.chdir(workdir)
        os.environ["HOME"] = workdir
        os.environ["TMPDIR"] = workdir
        tempfile.tempdir = None
        limit_resources(program, config, vsize_bytes)
        try:
            with open("/proc/self/oom_score_adj", "w") as adj:
                adj.write("1000")  # if the sandbox runs out of memory, a program dies, not the runner
        except OSError:
            pass
        if drop_uid is not None:
            os.setgroups([])
            os.setgid(drop_uid)
            os.setuid(drop_uid)
        sys.stdout = open(1, "w", buffering=1, encoding="utf-8", errors="backslashreplace", closefd=False)
        sys.stderr = open(2, "w", buffering=1, encoding="utf-8", errors="backslashreplace", closefd=False)
        sys.stdin = UnreadableInput()
        sys.argv = [""]
        reliability_guard()
    except BaseException as error:
        report(f"failed: sandbox could not set up the program: {error!r}")
    stdout, stderr = sys.stdout, sys.stderr

    try:
        exec(program["source"], {})
        result = "passed"
    except BaseException as error:
        try:
            result = f"failed: {error}"
        except BaseException:
            result = "failed: " + type(error).__name__
    for stream in (stdout, stderr):
        try:
            stream.flush()
        except BaseException:
            pass
    report(result)


def close_fds_except(keep):
    # Listing our fds beats os.closerange over the whole fd table, which costs a millisecond
    # per program where Python was built without the close_range syscall.
    try:
        names = os.listdir("/proc/self/fd")
    except OSError:  # no /proc: close the whole table instead
        os.closerange(3, keep)
        os.closerange(keep + 1, os.sysconf("SC_OPEN_MAX"))
        return
    for name in names:
        fd = int(name)
        if fd > 2 and fd != keep:
            try:
                os.close(fd)
            except OSError:
                pass


def limit_resources(program, config, vsize_bytes):
    cpu_seconds = int(float(program["timeout"])) + 2
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
    import builtins
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

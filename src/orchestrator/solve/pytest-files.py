"""koderz: pytest on each test file of a suite, in the workspace container.

pytest is imported once; each file then runs in a forked child of its own (its own process
group, its output in a file), a few at a time, and a child that runs past the time limit is
killed with its whole group. A hung file costs its limit and nothing more, and a large suite
does not pay Python's and pytest's start-up once per file.

argv[1] is JSON: {"args": [pytest arguments before the file], "files": [...], "timeout": s,
"parallel": n}. For each file, stdout gets a line "@@koderz-file {json}" (file, exitCode,
timedOut, seconds), the end of what the file printed, then "@@koderz-end".
"""
import json
import os
import signal
import sys
import tempfile
import time

OUTPUT_TAIL = 200_000
NO_PYTEST = 97


def main() -> int:
    config = json.loads(sys.argv[1])
    try:
        import pytest  # noqa: F401 -- imported before the forks, so each child starts warm
    except ImportError:
        print("No module named pytest", file=sys.stderr)
        return NO_PYTEST
    warm_up()
    pending = list(config["files"])
    running = {}
    logs = tempfile.mkdtemp(prefix="koderz-files-")
    count = 0
    while pending or running:
        while pending and len(running) < config["parallel"]:
            count += 1
            log = os.path.join(logs, f"{count}.log")
            file = pending.pop(0)
            running[start(config["args"], file, log)] = (file, time.monotonic(), log)
        pid, status = os.waitpid(-1, os.WNOHANG)
        if pid == 0:
            now = time.monotonic()
            for child, (file, started, log) in list(running.items()):
                if now - started > config["timeout"]:
                    try:
                        os.killpg(child, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                    os.waitpid(child, 0)
                    del running[child]
                    report(file, 124, True, now - started, log)
            time.sleep(0.02)
            continue
        if pid not in running:
            continue
        file, started, log = running.pop(pid)
        report(file, os.waitstatus_to_exitcode(status), False, time.monotonic() - started, log)
    return 0


def warm_up():
    """Imports pytest's own plugins too: each child would import them again otherwise."""
    import importlib

    try:
        from _pytest.config import default_plugins
    except ImportError:
        return
    for name in default_plugins:
        try:
            importlib.import_module(f"_pytest.{name}")
        except Exception:  # a plugin that does not import here is loaded (or not) by pytest itself
            pass


def start(args, file, log):
    pid = os.fork()
    if pid:
        return pid
    code = 3
    try:
        os.setsid()
        fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        import pytest

        code = int(pytest.main([*args, file]))
    except BaseException:  # the child must never return into the parent's loop
        import traceback

        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def report(file, exit_code, timed_out, seconds, log):
    try:
        with open(log, encoding="utf-8", errors="replace") as handle:
            text = handle.read()
        os.unlink(log)
    except OSError:
        text = ""
    meta = {"file": file, "exitCode": exit_code, "timedOut": timed_out, "seconds": round(seconds, 3)}
    sys.stdout.write(f"@@koderz-file {json.dumps(meta)}\n{text[-OUTPUT_TAIL:]}\n@@koderz-end\n")
    sys.stdout.flush()


if __name__ == "__main__":
    sys.exit(main())

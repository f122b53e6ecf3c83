"""The lean baseline bench:harness measures koderz against (issue 27 item 8): what running each
sample costs with nothing around it.

WORKERS single-threaded warm Pythons (numpy and the common modules imported once), each forking
one child per program, which runs prompt + completion + "\n" + test + "\n" + check(entry_point)
through exec() in fresh globals, its output swallowed, as the reference harness does. No sandbox,
no judge, no thread pool feeding multiprocessing (a child forked from a threaded process can
deadlock), no Manager: the child's verdict comes back through a pipe, and the parent takes the
next program as soon as one ends. The parent waits TIMEOUT seconds for a child, then kills it.

usage: lean-baseline.py PROBLEMS.jsonl[.gz] SAMPLES.jsonl WORKERS TIMEOUT
prints: {"passed": N, "total": N, "seconds": S}   (S: from the first fork to the last verdict)
"""

import gzip
import io
import json
import os
import select
import signal
import sys
import time

WARM_MODULES = ("numpy", "math", "re", "string", "collections", "itertools", "functools", "heapq", "bisect", "typing", "hashlib", "random")


def read_jsonl(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def run_child(program, verdict_w):
    """In the forked child: run the program, write its verdict, exit without cleanup."""
    outcome = "passed"
    try:
        sys.stdout = sys.stderr = io.StringIO()
        exec(program, {})
    except BaseException as error:
        outcome = f"failed: {error}"[:200]
    try:
        os.write(verdict_w, outcome.encode("utf-8", "replace"))
    finally:
        os._exit(0)


def judge_one(program, timeout):
    """Forks a child for one program and returns its verdict (or "timed out")."""
    verdict_r, verdict_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(verdict_r)
        run_child(program, verdict_w)
    os.close(verdict_w)
    deadline = time.monotonic() + timeout
    chunks = []
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([verdict_r], [], [], left)[0]:
            os.kill(pid, signal.SIGKILL)
            chunks = [b"timed out"]
            break
        chunk = os.read(verdict_r, 4096)
        if not chunk:
            break
        chunks.append(chunk)
    os.close(verdict_r)
    os.waitpid(pid, 0)
    return b"".join(chunks).decode("utf-8", "replace") or "failed: no verdict"


def worker(programs, timeout, jobs_r, results_w):
    """A warm, single-threaded Python: takes an index, answers with its verdict, until EOF."""
    jobs = os.fdopen(jobs_r, "r")
    results = os.fdopen(results_w, "w")
    for line in jobs:
        index = int(line)
        results.write(json.dumps([index, judge_one(programs[index], timeout)]) + "\n")
        results.flush()
    os._exit(0)


def main():
    problems_path, samples_path, workers, timeout = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    problems = {problem["task_id"]: problem for problem in read_jsonl(problems_path)}
    programs = []
    for sample in read_jsonl(samples_path):
        problem = problems[sample["task_id"]]
        programs.append(problem["prompt"] + sample["completion"] + "\n" + problem["test"] + "\n" + f"check({problem['entry_point']})")
    for name in WARM_MODULES:
        __import__(name)
    pool = []
    for _ in range(max(1, workers)):
        jobs_r, jobs_w = os.pipe()
        results_r, results_w = os.pipe()
        if os.fork() == 0:
            os.close(jobs_w)
            os.close(results_r)
            worker(programs, timeout, jobs_r, results_w)
        os.close(jobs_r)
        os.close(results_w)
        pool.append((os.fdopen(jobs_w, "w"), os.fdopen(results_r, "r")))
    started = time.monotonic()
    verdicts = {}
    following = 0
    idle = list(pool)
    busy = {}
    while len(verdicts) < len(programs):
        while idle and following < len(programs):
            jobs, results = idle.pop()
            jobs.write(f"{following}\n")
            jobs.flush()
            busy[results.fileno()] = (jobs, results)
            following += 1
        for fd in select.select(list(busy), [], [])[0]:
            jobs, results = busy.pop(fd)
            index, outcome = json.loads(results.readline())
            verdicts[index] = outcome
            idle.append((jobs, results))
    seconds = time.monotonic() - started
    for jobs, _ in pool:
        jobs.close()
    passed = sum(1 for outcome in verdicts.values() if outcome == "passed")
    print(json.dumps({"passed": passed, "total": len(programs), "seconds": seconds}))


if __name__ == "__main__":
    main()

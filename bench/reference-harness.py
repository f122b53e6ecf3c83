"""The reference HumanEval harness's method, for bench:harness to measure koderz against.

openai/human-eval's evaluate_functional_correctness runs each sample as prompt + completion +
test + "check(entry_point)" in a fresh multiprocessing.Process (forked from a warm Python), a
Manager list carrying the result, `n_workers` threads feeding them, and no sandbox. This script
does the same, so that both harnesses run in the same run on the same machine; it is written for
koderz's benchmark, not copied from the harness.

usage: reference-harness.py PROBLEMS.jsonl[.gz] SAMPLES.jsonl WORKERS TIMEOUT
prints: {"passed": N, "total": N, "seconds": S}
"""

import contextlib
import gzip
import io
import json
import multiprocessing
import sys
import time
from concurrent.futures import ThreadPoolExecutor


def read_jsonl(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def unsafe_execute(program, timeout, result):
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            exec(program, {})
        result.append("passed")
    except BaseException as error:
        result.append(f"failed: {error}")


def check_correctness(problem, completion, timeout, manager):
    program = problem["prompt"] + completion + "\n" + problem["test"] + "\n" + f"check({problem['entry_point']})"
    result = manager.list()
    process = multiprocessing.Process(target=unsafe_execute, args=(program, timeout, result))
    process.start()
    process.join(timeout=timeout + 1)
    if process.is_alive():
        process.kill()
    return result[0] if result else "timed out"


def main():
    problems_path, samples_path, workers, timeout = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    problems = {problem["task_id"]: problem for problem in read_jsonl(problems_path)}
    samples = read_jsonl(samples_path)
    multiprocessing.set_start_method("fork")
    started = time.monotonic()
    with multiprocessing.Manager() as manager, ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(lambda sample: check_correctness(problems[sample["task_id"]], sample["completion"], timeout, manager), samples))
    seconds = time.monotonic() - started
    print(json.dumps({"passed": results.count("passed"), "total": len(results), "seconds": seconds}))


if __name__ == "__main__":
    main()

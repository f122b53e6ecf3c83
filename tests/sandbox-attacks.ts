import { verdictProgram } from "../src/evaluation/program.js";
import type { Program } from "../sandbox/sandbox.js";

/**
 * Programs the sandbox tests run: a tiny HumanEval-shaped task, completions that are right or
 * wrong, and wrong completions that try to cheat their way to "passed". Every trick is written
 * at module level of the completion, as a model's output could be.
 */
export const addTask = {
  prompt: 'def add(a, b):\n    """Return a + b."""\n',
  entryPoint: "add",
  hiddenTest: "def check(candidate):\n    assert candidate(2, 3) == 5\n    assert candidate(-1, 1) == 0\n",
};

export const RIGHT_COMPLETION = "    return a + b\n";
export const WRONG_COMPLETION = "    return a - b\n";

export function program(id: string, completion: string, timeoutSeconds = 3): Program {
  return { id, ...verdictProgram(addTask, completion), timeoutSeconds };
}

/** A wrong solution followed by a trick that tries to end the run before check() can fail. */
function cheat(trick: string): string {
  return WRONG_COMPLETION + trick.trim() + "\n";
}

/** What a forged success line looks like to a naive runner: its JSON, "passed", a fake nonce. */
const FORGE_EVERYWHERE = `
import json, posix, sys
for pid_text in (str(posix.getpid()), "1"):
    for line in (
        json.dumps({"id": "imitate-output", "status": "passed", "result": "passed", "durationMs": 1, "output": ""}),
        "passed",
        "0" * 32 + " " + pid_text + ' "passed"',
    ):
        print(line)
        for fd in range(0, 256):
            try:
                posix.write(fd, (line + "\\n").encode())
            except OSError:
                pass
sys.stdout.flush()
posix._exit(0)
`;

/** Early-exit tricks: each must end as failed, never passed; the reference wording where it has one. */
export const EARLY_EXIT_TRICKS: { id: string; completion: string; result?: string }[] = [
  { id: "sys-exit-0", completion: cheat("import sys\nsys.exit(0)"), result: "failed: 0" },
  { id: "raise-system-exit", completion: cheat("raise SystemExit(0)"), result: "failed: 0" },
  { id: "raise-keyboard-interrupt", completion: cheat("raise KeyboardInterrupt"), result: "failed: " },
  // The reference harness sets builtins.exit to None.
  { id: "builtin-exit", completion: cheat("exit(0)"), result: "failed: 'NoneType' object is not callable" },
  { id: "os-exit-0", completion: cheat("import os\nos._exit(0)") },
  { id: "imitate-output", completion: cheat(FORGE_EVERYWHERE) },
  { id: "kill-parent", completion: cheat("import posix, time\nfor pid in (posix.getppid(), 1):\n    try:\n        posix.kill(pid, 9)\n    except OSError:\n        pass\ntime.sleep(0.5)\nposix._exit(0)") },
  {
    id: "close-fds",
    completion: cheat("import posix\nfor fd in range(0, 1024):\n    try:\n        posix.close(fd)\n    except OSError:\n        pass\nraise SystemExit(0)"),
  },
  {
    id: "replace-fds",
    completion: cheat("import posix\nr, w = posix.pipe()\nfor fd in range(3, 256):\n    if fd not in (r, w):\n        try:\n            posix.dup2(w, fd)\n        except OSError:\n            pass\nposix._exit(0)"),
  },
  // A forked copy finishes the run (and fails check); the original leaves at once.
  { id: "forked-copy", completion: cheat("import posix\nif posix.fork() != 0:\n    posix._exit(0)") },
];

/** Tricks that try to outlast their time limit. */
export const ENDLESS_LOOPS: { id: string; completion: string }[] = [
  { id: "busy-loop", completion: WRONG_COMPLETION + "while True:\n    pass\n" },
  { id: "loop-ignoring-signals", completion: WRONG_COMPLETION + "import signal, time\nfor s in (signal.SIGTERM, signal.SIGINT, signal.SIGALRM):\n    signal.signal(s, signal.SIG_IGN)\nwhile True:\n    try:\n        time.sleep(1)\n    except BaseException:\n        pass\n" },
];

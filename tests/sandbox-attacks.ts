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

/**
 * Tasks whose test leans on names a completion can also define: the builtins the test calls
 * (`abs`, `range`, `tuple`, and HumanEval+'s assertion loop's `enumerate` and `zip`) and a
 * helper the prompt gives. In the reference harness the test shares the program's globals, so
 * a completion that redefines them decides what the test checks; the judge's namespace is its own.
 */
export const helperTask = {
  prompt: 'def encode(s):\n    return s[::-1]\n\n\ndef decode(s):\n    """Undo encode."""\n',
  entryPoint: "decode",
  hiddenTest: 'def check(candidate):\n    for word in ("abc", "koderz"):\n        assert candidate(encode(word)) == word\n',
};
export const plusStyleTask = {
  prompt: addTask.prompt,
  entryPoint: "add",
  hiddenTest: [
    "def check(candidate):",
    "    inputs = [[2, 3], [-1, 1], [10, 5]]",
    "    results = [5, 0, 15]",
    "    for i, (inp, exp) in enumerate(zip(inputs, results)):",
    "        assert abs(candidate(*inp) - exp) < 1e-6",
    "    assert tuple(candidate(a, a) for a in range(3)) == (0, 2, 4)",
    "",
  ].join("\n"),
};

/** Wrong completions that redefine what the test calls; each must fail, the honest ones pass. */
export const NAMESPACE_CHEATS: { id: string; task: typeof addTask; completion: string }[] = [
  { id: "shadow-abs-range-tuple", task: plusStyleTask, completion: "    return 0\ndef abs(x):\n    return 0\ndef range(n):\n    return []\ndef tuple(x):\n    return (0, 2, 4)\n" },
  { id: "shadow-enumerate-zip", task: plusStyleTask, completion: "    return 0\ndef zip(*lists):\n    return []\ndef enumerate(items):\n    return []\ndef tuple(x):\n    return (0, 2, 4)\n" },
  { id: "shadow-through-builtins", task: plusStyleTask, completion: "    return 0\nimport builtins\nbuiltins.abs = lambda x: 0\nbuiltins.range = lambda n: []\nbuiltins.tuple = lambda x: (0, 2, 4)\n" },
  { id: "redefine-helper", task: helperTask, completion: "    return s\ndef encode(s):\n    return s\n" },
  { id: "redefine-check", task: plusStyleTask, completion: "    return 0\ndef check(candidate):\n    pass\n" },
];
export const NAMESPACE_HONEST: { id: string; task: typeof addTask; completion: string }[] = [
  { id: "honest-plus-style", task: plusStyleTask, completion: RIGHT_COMPLETION },
  // An honest completion may define names of its own, builtins' included: it changes nothing but itself.
  { id: "honest-with-own-abs", task: plusStyleTask, completion: "    return abs(a) * 0 + a + b\ndef abs(x):\n    return x\n" },
  { id: "honest-helper", task: helperTask, completion: "    return s[::-1]\n" },
  { id: "honest-redefines-helper-alike", task: helperTask, completion: "    return encode(s)\ndef encode(s):\n    return s[::-1]\n" },
];

export function taskProgram(id: string, task: typeof addTask, completion: string, timeoutSeconds = 3): Program {
  return { id, ...verdictProgram(task, completion), timeoutSeconds };
}

/**
 * A completion that writes its own answer frame, bypassing the candidate's encoder, to every
 * descriptor it has (its answer pipe among them), then waits: the judge must decode whatever
 * arrives in bounded time, or refuse it, and go on.
 */
function forgedAnswer(body: string): string {
  return [
    "    import posix, time",
    `    data = (${body}).encode()`,
    "    frame = len(data).to_bytes(4, 'big') + data",
    "    for fd in [int(name) for name in posix.listdir('/proc/self/fd')]:",
    "        try:",
    "            posix.write(fd, frame)",
    "        except OSError:",
    "            pass",
    "    time.sleep(5)",
    "",
  ].join("\n");
}

/** Answers the judge cannot afford to decode naively: each must fail in bounded time. */
export const ANSWER_BOMBS: { id: string; completion: string }[] = [
  { id: "colliding-int-set", completion: forgedAnswer(`'["ok",{"s":[' + ','.join(str(i * (2**61 - 1)) for i in range(100000)) + ']}]'`) },
  { id: "colliding-int-dict", completion: forgedAnswer(`'["ok",{"d":[' + ','.join('[%d,1]' % (i * (2**61 - 1)) for i in range(100000)) + ']}]'`) },
  { id: "deep-tuple", completion: forgedAnswer(`'["ok",' + '{"t":[' * 2000000 + ']}' * 2000000 + ']'`) },
  { id: "deep-list", completion: forgedAnswer(`'["ok",' + '[' * 2000000 + ']' * 2000000 + ']'`) },
  // One raw block of numbers named by a thousand tags: each byte may be read once.
  { id: "reused-number-block", completion: forgedAnswer(`'["ok",[' + ','.join(['{"Q":100000}'] * 1000) + ']]\\x00' + 'x' * 800000`) },
  { id: "pickle-bomb", completion: forgedAnswer(`'\\x80\\x04cposix\\nsystem\\n'`) },
  { id: "huge-exception", completion: "    raise ValueError('x' * 60_000_000)\n" },
];

/** Honest answers of every plain type, one of them an int too long for JSON's digits. */
export const PLAIN_TYPES_TASK = {
  prompt: 'def plain(n):\n    """Answers of every plain type."""\n',
  entryPoint: "plain",
  hiddenTest: [
    "def check(candidate):",
    "    want = [1, -2.5, float('inf'), 'é\\udcff', b'\\x00\\xff', bytearray(b'ab'), 3 + 4j, None, True, (1, (2,)), {1, 2}, frozenset({'a'}), {(1, 2): [3], 'k': {'v': None}}, 7 ** 20000, list(range(-50, 50)) + [2 ** 70], [i / 3 for i in range(100)] + [-0.0, False], 'ü' * 5000 + '\\udcff', [(i, str(i)) for i in range(100)], {str(i): i for i in range(100)}]",
    "    got = candidate(0)",
    "    assert got == want and [type(x) for x in got] == [type(x) for x in want]",
    "    assert candidate(1) != candidate(0)",
    "",
  ].join("\n"),
};
export const PLAIN_TYPES_COMPLETION = [
  "    import collections",
  "    point = collections.namedtuple('point', 'x y')",
  "    if n:",
  "        return []",
  "    return [1, -2.5, float('inf'), 'é\\udcff', b'\\x00\\xff', bytearray(b'ab'), 3 + 4j, None, True, point(1, (2,)), {1, 2}, frozenset({'a'}), collections.OrderedDict([((1, 2), [3]), ('k', {'v': None})]), 7 ** 20000, list(range(-50, 50)) + [2 ** 70], [i / 3 for i in range(100)] + [-0.0, False], 'ü' * 5000 + '\\udcff', [(i, str(i)) for i in range(100)], collections.Counter({str(i): i for i in range(100)})]",
  "",
].join("\n");

/**
 * A rubric's executable criteria, run as the rubric scorer runs them: by the judge, driving the
 * program's class through handles and handing it the judge's own functions as callbacks.
 */
export const STACK_PROMPT = "class Stack:\n    \"\"\"A LIFO stack: push, pop, peek, is_empty and len().\"\"\"\n";
export const STACK_CRITERION = [
  "__s = Stack()",
  "assert __s.is_empty() and len(__s) == 0",
  "for __v in (1, 'two', 3.0):",
  "    __s.push(__v)",
  "assert len(__s) == 3 and __s.peek() == 3.0",
  "assert __s.pop() == 3.0 and __s.pop() == 'two' and __s.pop() == 1",
  "for __method in ('pop', 'peek'):",
  "    try:",
  "        getattr(Stack(), __method)()",
  "    except IndexError:",
  "        pass",
  "    else:",
  "        raise AssertionError(__method + ' on an empty stack must raise IndexError')",
  "__seen = []",
  "__t = Stack()",
  "__t.push(5)",
  "__t.each(lambda item: __seen.append(item * 2))",
  "assert __seen == [10], __seen",
  "",
].join("\n");
export const RIGHT_STACK = [
  "    def __init__(self):",
  "        self._items = []",
  "    def push(self, item):",
  "        self._items.append(item)",
  "    def pop(self):",
  "        if not self._items:",
  "            raise IndexError('pop from an empty stack')",
  "        return self._items.pop()",
  "    def peek(self):",
  "        if not self._items:",
  "            raise IndexError('peek at an empty stack')",
  "        return self._items[-1]",
  "    def is_empty(self):",
  "        return not self._items",
  "    def __len__(self):",
  "        return len(self._items)",
  "    def each(self, visit):",
  "        for item in self._items:",
  "            visit(item)",
  "",
].join("\n");
/** Empty classes whose module tries to turn any failure into a pass from inside the program's process. */
export const STACK_CHEATS: { id: string; completion: string }[] = [
  { id: "empty-class", completion: "    pass\n" },
  {
    id: "patched-encoder",
    completion: "    pass\nimport json\n_encode = json.JSONEncoder.encode\njson.JSONEncoder.encode = lambda self, o: '[\"ok\",true]' if o and o[0] == 'raise' else _encode(self, o)\n",
  },
  {
    id: "patched-frames",
    completion: "    pass\nimport sys\n_main = sys.modules['__main__']\nfor _name in ('wire_text', 'answer_with', 'cut'):\n    if hasattr(_main, _name):\n        setattr(_main, _name, lambda *a, **k: b'[\"ok\",true]')\n",
  },
  { id: "settrace-skip", completion: "    pass\nimport sys\nsys.settrace(lambda *a: None)\nclass _Any:\n    def __getattr__(self, name):\n        return lambda *a, **k: True\n    def __len__(self):\n        return 0\nStack = _Any\n" },
];

export function criterionProgram(id: string, completion: string): Program {
  const source = STACK_PROMPT + completion;
  return { id, source, check: STACK_CRITERION, judgeSetup: STACK_PROMPT, entryPoint: "Stack", timeoutSeconds: 5 };
}

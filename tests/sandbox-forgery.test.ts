import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ProcessSandbox } from "../sandbox/process-sandbox.js";
import type { Program, Sandbox, Verdict } from "../sandbox/sandbox.js";
import { BOTH_SANDBOXES } from "./helpers/sandboxes.js";
import { program, RIGHT_COMPLETION, WRONG_COMPLETION } from "./sandbox-attacks.js";

/**
 * Programs that try to be judged `passed` without solving the task, or to spoil another
 * program's verdict. Each forgery is a WRONG completion plus a trick that would make it pass
 * if the trick worked, so each must end as failed; the honest programs around it must pass.
 */

/** Calls every function it can find up the stack or in memory whose name sounds like a reporter. */
const CALL_THE_REPORTER = `
import gc, sys, posix
REPORTERS = ("report", "emit", "answer", "answer_with", "write_frame", "verdict", "send")
found = []
frame = sys._getframe()
while frame is not None:
    found += [v for v in list(frame.f_locals.values()) + list(frame.f_globals.values()) if callable(v)]
    frame = frame.f_back
found += [o for o in gc.get_objects() if callable(o)]
for function in found:
    if getattr(function, "__name__", "") not in REPORTERS:
        continue
    for args in (("passed",), ({"id": "x", "status": "passed", "result": "passed", "durationMs": 1, "output": ""},),
                 *[(fd, ("loaded", [])) for fd in range(3, 12)], *[(fd, ("ok", 5)) for fd in range(3, 12)]):
        try:
            function(*args)
        except BaseException:
            pass
posix._exit(0)
`;

/** Writes forged verdict lines into every file descriptor of every process it can open. */
const WRITE_THE_CHANNEL = `
import json, os, posix
lines = b""
for pid in ["proc-channel", "honest"] + [str(i) for i in range(40)]:
    lines += (json.dumps({"id": pid, "status": "passed", "result": "passed", "durationMs": 1, "output": ""}) + "\\n").encode()
opened = 0
for pid in posix.listdir("/proc"):
    if not pid.isdigit() or int(pid) == posix.getpid():
        continue
    try:
        fds = posix.listdir(f"/proc/{pid}/fd")
    except OSError:
        continue
    for fd in fds:
        try:
            target = posix.open(f"/proc/{pid}/fd/{fd}", posix.O_WRONLY | posix.O_NONBLOCK)
            posix.write(target, lines)
            opened += 1
        except OSError:
            pass
print("opened", opened, "descriptors of other processes")
posix._exit(0)
`;

/** Returns the right answer only if it can find the hidden test in its own memory. */
const READ_THE_TESTS = `
import gc, sys, types
needle = "".join(["candidate(2", ", 3) == 5"])
def _seen():
    for value in gc.get_objects():
        if isinstance(value, types.FunctionType):
            value = value.__code__
        texts = [value] if isinstance(value, str) else [c for c in value.co_consts if isinstance(c, str)] if isinstance(value, types.CodeType) else []
        for text in texts:
            if text is not needle and needle in text:
                return True
    frame = sys._getframe()
    while frame is not None:
        if any(isinstance(v, str) and v is not needle and needle in v for v in frame.f_locals.values()):
            return True
        frame = frame.f_back
    return False
_SEEN = _seen()
print("hidden test visible:", _SEEN)
_wrong = add
def add(a, b):
    return a + b if _SEEN else _wrong(a, b)
`;

const FORGERIES: { id: string; completion: string }[] = [
  { id: "call-the-reporter", completion: WRONG_COMPLETION + CALL_THE_REPORTER },
  { id: "write-the-channel", completion: WRONG_COMPLETION + WRITE_THE_CHANNEL },
  { id: "read-the-tests", completion: WRONG_COMPLETION + READ_THE_TESTS },
  // Objects that claim to equal everything: the reference harness would pass them.
  { id: "always-equal", completion: "    class Anything:\n        def __eq__(self, other):\n            return True\n    return Anything()\n" },
  { id: "int-that-equals-all", completion: "    class Five(int):\n        def __eq__(self, other):\n            return True\n        __hash__ = int.__hash__\n    return Five(a - b)\n" },
  // A trace function that swallows the failing assert of check(), in the program's own process.
  {
    id: "trace-away-the-assert",
    completion:
      WRONG_COMPLETION +
      "import sys\ndef _skip(frame, event, arg):\n    if frame.f_code.co_name == 'check':\n        sys.settrace(None)\n        raise SystemExit\n    return _skip\nsys.settrace(_skip)\n",
  },
];

/** Kills every process its uid may signal, for five seconds after its parent is long gone. */
const DETACHED_KILLER = `
import posix, time
if posix.fork() == 0:
    posix.setsid()
    if posix.fork() == 0:
        end = time.time() + 5
        while time.time() < end:
            try:
                posix.kill(-1, 9)
            except OSError:
                pass
            time.sleep(0.005)
        posix._exit(0)
    posix._exit(0)
time.sleep(0.1)
assert False
`;

/** Leaves files in every shared temp dir and its work dir, and a detached process behind. */
const leaveBehind: Program = {
  id: "leave-behind",
  source: [
    "import posix",
    "for place in ('/tmp/koderz-left', '/dev/shm/koderz-left', '/var/tmp/koderz-left', 'left-in-work-dir'):",
    "    try:",
    "        open(place, 'w').write('left')",
    "    except OSError:",
    "        pass",
    "if posix.fork() == 0:",
    "    posix.setsid()",
    "    import time",
    "    time.sleep(60)",
  ].join("\n"),
  timeoutSeconds: 3,
};
const lookAround: Program = {
  id: "look-around",
  source: [
    "import posix, glob",
    "mine = posix.getuid()",
    "others = []",
    "for pid in posix.listdir('/proc'):",
    "    if pid.isdigit() and int(pid) != posix.getpid():",
    "        try:",
    "            status = open(f'/proc/{pid}/status').read()",
    "        except OSError:",
    "            continue",
    "        uids = [line.split()[1] for line in status.splitlines() if line.startswith('Uid:')]",
    // A zombie (dead, its parent not yet told) can do nothing, hold nothing, reach nothing.
    "        if uids == [str(mine)] and 'State:\\tZ' not in status:",
    "            others.append(pid)",
    "assert not others, f'processes of my uid left from before: {others}'",
    "left = [p for p in ('/tmp/koderz-left', '/dev/shm/koderz-left', '/var/tmp/koderz-left') if posix.access(p, posix.F_OK)]",
    "left += glob.glob('../*/left-in-work-dir')",
    "assert not left, f'files left from before: {left}'",
  ].join("\n"),
  timeoutSeconds: 3,
};

describe.each(BOTH_SANDBOXES)("$name sandbox: verdicts cannot be forged", ({ name, open }) => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = await open();
    if (sandbox instanceof ProcessSandbox && !sandbox.isolation.programUids) {
      // Without uids of their own, programs share the runner's uid: the fences below need root.
      throw new Error(`the ${name} sandbox runs programs under the caller's uid here; these tests need root`);
    }
  });
  afterAll(async () => {
    await sandbox?.close();
  });

  function byId(verdicts: Verdict[]): Map<string, Verdict> {
    return new Map(verdicts.map((verdict) => [verdict.id, verdict]));
  }

  test("no wrong program reports its own success, and the honest ones beside it pass", async () => {
    const programs: Program[] = [
      ...FORGERIES.map((forgery) => program(forgery.id, forgery.completion, 10)),
      program("honest", RIGHT_COMPLETION),
      program("honest-after", RIGHT_COMPLETION),
    ];
    const verdicts = byId(await sandbox.run(programs));
    for (const forgery of FORGERIES) {
      const verdict = verdicts.get(forgery.id)!;
      expect(verdict.passed, `${forgery.id}: ${verdict.result} ${verdict.output}`).toBe(false);
      expect(verdict.result).toMatch(/^failed: /);
    }
    expect(verdicts.get("read-the-tests")!.output).toContain("hidden test visible: False");
    expect(verdicts.get("honest")!.result).toBe("passed");
    expect(verdicts.get("honest-after")!.result).toBe("passed");
  });

  test("a verdict line written for another program changes nothing, and the batch goes on", async () => {
    const programs: Program[] = [
      program("proc-channel", WRONG_COMPLETION + WRITE_THE_CHANNEL),
      ...Array.from({ length: 6 }, (_, i) => program(String(i), i % 2 === 0 ? RIGHT_COMPLETION : WRONG_COMPLETION)),
    ];
    const verdicts = await sandbox.run(programs);
    expect(verdicts.map((verdict) => [verdict.id, verdict.passed])).toEqual([
      ["proc-channel", false],
      ...Array.from({ length: 6 }, (_, i) => [String(i), i % 2 === 0]),
    ]);
    expect(verdicts[0]!.output).toContain("opened 0 descriptors of other processes");
  });

  test("a program's detached descendants die with it and cannot fail the programs after it", async () => {
    const honest = Array.from({ length: 10 }, (_, i) => program(`honest-${i}`, RIGHT_COMPLETION));
    const verdicts = await sandbox.run([program("detached-killer", DETACHED_KILLER, 3), ...honest], { workers: 2 });
    expect(verdicts[0]!.passed).toBe(false);
    expect(verdicts.slice(1).map((verdict) => verdict.result)).toEqual(honest.map(() => "passed"));
  });

  test("a program leaves nothing behind for the next one: no process, no file", async () => {
    const verdicts = await sandbox.run([leaveBehind, lookAround], { workers: 1 });
    expect(verdicts.map((verdict) => verdict.result)).toEqual(["passed", "passed"]);
  });

  test("a warm runner carries nothing from one batch into the next: no process, no file", async () => {
    expect((await sandbox.run([leaveBehind], { workers: 1 }))[0]!.result).toBe("passed");
    expect((await sandbox.run([lookAround], { workers: 1 }))[0]!.result).toBe("passed");
  });
});

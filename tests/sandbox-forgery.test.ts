import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { Program, Sandbox, Verdict } from "../sandbox/sandbox.js";
import { BOTH_SANDBOXES, openWithProgramUids } from "./helpers/sandboxes.js";
import {
  ANSWER_BOMBS,
  criterionProgram,
  RIGHT_STACK,
  STACK_CHEATS,
  NAMESPACE_CHEATS,
  NAMESPACE_HONEST,
  PLAIN_TYPES_COMPLETION,
  PLAIN_TYPES_TASK,
  program,
  RIGHT_COMPLETION,
  taskProgram,
  WRONG_COMPLETION,
} from "./sandbox-attacks.js";

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
    "    posix._exit(0)  # a zombie: its parent never waits for it",
    "if posix.fork() == 0:",
    "    if posix.fork() == 0:",
    "        posix._exit(0)  # a zombie under a live parent",
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
    "        uids = [uid for line in status.splitlines() if line.startswith('Uid:') for uid in line.split()[1:]]",
    // Zombies included: a slot is used again only once its uid owns no process at all.
    "        if str(mine) in uids:",
    "            others.append(pid)",
    "assert not others, f'processes of my uid left from before: {others}'",
    "left = [p for p in ('/tmp/koderz-left', '/dev/shm/koderz-left', '/var/tmp/koderz-left') if posix.access(p, posix.F_OK)]",
    "left += glob.glob('../*/left-in-work-dir')",
    "assert not left, f'files left from before: {left}'",
  ].join("\n"),
  timeoutSeconds: 3,
};

/** Makes work dirs where the next programs' could be: their names must not be guessable. */
const PRECREATE_WORKDIRS: Program = {
  id: "precreate-workdirs",
  source: [
    "import posix",
    "root = posix.getcwd().rsplit('/', 1)[0]",
    "made = 0",
    "for slot in range(4):",
    "    for name in [f'program-{slot}'] + [f'program-{slot}-{i:024x}' for i in range(50)]:",
    "        try:",
    "            posix.mkdir(f'{root}/{name}', 0o777)",
    "            made += 1",
    "        except OSError:",
    "            pass",
    "print('made', made)",
  ].join("\n"),
  timeoutSeconds: 3,
};

/** SysV shared memory, a queue and a semaphore set, made and left: they must die with the program. */
const SYSV_KEY = 0x6b6f0000;
const LEAVE_SYSV: Program = {
  id: "leave-sysv",
  source: [
    "import ctypes",
    "libc = ctypes.CDLL(None, use_errno=True)",
    "for i in range(4):",
    `    assert libc.shmget(${SYSV_KEY} + i, 16 << 20, 0o1600) >= 0, ctypes.get_errno()`,
    `assert libc.msgget(${SYSV_KEY} + 10, 0o1600) >= 0`,
    `assert libc.semget(${SYSV_KEY} + 11, 1, 0o1600) >= 0`,
  ].join("\n"),
  timeoutSeconds: 3,
};
const FIND_SYSV: Program = {
  id: "find-sysv",
  source: [
    "left = []",
    "for kind in ('shm', 'msg', 'sem'):",
    "    try:",
    "        rows = open(f'/proc/sysvipc/{kind}').read().splitlines()[1:]",
    "    except OSError:",
    "        continue",
    `    left += [row for row in rows if ${SYSV_KEY} <= int(row.split()[0]) < ${SYSV_KEY} + 16]`,
    "assert not left, f'SysV objects left from before: {left}'",
  ].join("\n"),
  timeoutSeconds: 3,
};

/** Tries to renice, pin, idle, stop or signal every process not of its own uid (its reaper's among them). */
const TOUCH_OTHERS: Program = {
  id: "touch-others",
  source: [
    "import os, posix",
    "mine = str(posix.getuid())",
    "touched = []",
    "for pid in posix.listdir('/proc'):",
    "    if not pid.isdigit() or int(pid) == posix.getpid():",
    "        continue",
    "    try:",
    "        status = open(f'/proc/{pid}/status').read()",
    "    except OSError:",
    "        continue",
    "    uids = [uid for line in status.splitlines() if line.startswith('Uid:') for uid in line.split()[1:]]",
    "    if mine in uids:",
    "        continue",
    "    for what, act in (",
    "        ('renice', lambda p: os.setpriority(os.PRIO_PROCESS, p, 19)),",
    "        ('pin', lambda p: os.sched_setaffinity(p, {0})),",
    "        ('idle', lambda p: os.sched_setscheduler(p, os.SCHED_IDLE, os.sched_param(0))),",
    "        ('signal', lambda p: posix.kill(p, 0)),",
    "    ):",
    "        try:",
    "            act(int(pid))",
    "            touched.append((what, pid, uids))",
    "        except OSError:",
    "            pass",
    "assert not touched, f'touched processes of other uids: {touched}'",
  ].join("\n"),
  timeoutSeconds: 5,
};

describe.each(BOTH_SANDBOXES)("$name sandbox: verdicts cannot be forged", (sandboxKind) => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = await openWithProgramUids(sandboxKind);
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

  test("the judge's namespace is its own: builtins and prompt helpers a completion redefines change nothing", async () => {
    const programs = [...NAMESPACE_CHEATS, ...NAMESPACE_HONEST].map((item) => taskProgram(item.id, item.task, item.completion));
    const verdicts = byId(await sandbox.run(programs));
    for (const cheat of NAMESPACE_CHEATS) {
      const verdict = verdicts.get(cheat.id)!;
      expect(verdict.passed, `${cheat.id}: ${verdict.result}`).toBe(false);
    }
    for (const honest of NAMESPACE_HONEST) expect(verdicts.get(honest.id)!.result, honest.id).toBe("passed");
  });

  test("answers the judge cannot afford to decode fail in bounded time, and honest answers of every plain type pass", async () => {
    const programs: Program[] = [
      ...ANSWER_BOMBS.map((bomb) => program(bomb.id, bomb.completion, 20)),
      taskProgram("every-plain-type", PLAIN_TYPES_TASK, PLAIN_TYPES_COMPLETION),
      program("honest", RIGHT_COMPLETION),
    ];
    const verdicts = byId(await sandbox.run(programs));
    for (const bomb of ANSWER_BOMBS) {
      const verdict = verdicts.get(bomb.id)!;
      // Refused, never passed, and decided before the program's own limit ran out.
      expect(verdict.status, `${bomb.id}: ${verdict.result.slice(0, 200)}`).toBe("failed");
      expect(verdict.result.length, bomb.id).toBeLessThan(4200);
    }
    expect(verdicts.get("colliding-int-set")!.result).toContain("keys of one hash");
    expect(verdicts.get("deep-tuple")!.result).toMatch(/refused|nested deeper/);
    expect(verdicts.get("huge-exception")!.result).toMatch(/^failed: x+\.\.\. \[cut at 4096 characters\]$/);
    expect(verdicts.get("every-plain-type")!.result).toBe("passed");
    expect(verdicts.get("honest")!.result).toBe("passed");
  });

  test("a program cannot make the next one's work dir, keep SysV objects, or touch its reaper", async () => {
    const honest = Array.from({ length: 4 }, (_, i) => program(`honest-${i}`, RIGHT_COMPLETION));
    const verdicts = await sandbox.run([PRECREATE_WORKDIRS, LEAVE_SYSV, TOUCH_OTHERS, FIND_SYSV, ...honest], { workers: 1 });
    expect(verdicts.map((verdict) => [verdict.id, verdict.result])).toEqual([
      ["precreate-workdirs", "passed"],
      ["leave-sysv", "passed"],
      ["touch-others", "passed"],
      ["find-sysv", "passed"],
      ...honest.map((item) => [item.id, "passed"]),
    ]);
    // Two slots: the work dirs of the other slot's programs are no easier to guess.
    const both = await sandbox.run([PRECREATE_WORKDIRS, ...honest], { workers: 2 });
    expect(both.map((verdict) => verdict.result)).toEqual(["passed", ...honest.map(() => "passed")]);
  });

  test("an executable rubric criterion is decided by the judge: a program that patches its replies cannot pass it", async () => {
    const verdicts = byId(await sandbox.run([...STACK_CHEATS.map((cheat) => criterionProgram(cheat.id, cheat.completion)), criterionProgram("right-stack", RIGHT_STACK)]));
    for (const cheat of STACK_CHEATS) expect(verdicts.get(cheat.id)!.passed, `${cheat.id}: ${verdicts.get(cheat.id)!.result}`).toBe(false);
    expect(verdicts.get("right-stack")!.result).toBe("passed");
  });
});

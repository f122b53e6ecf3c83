/**
 * npm run bench:cli — how fast `koderz` answers when it has nothing to run: --help, and a usage
 * error of each kind (an unknown flag, flags that cannot be combined, a bad value, a bad
 * argument). Each is timed end to end as a user's shell sees it (Node's start included), against
 * a bare `node -e 0` measured in the same run, interleaved, so the ratio holds when the machine is
 * busy. Target: < 0.3 s each. Prints figures; asserts nothing. Options: --repeat N (default 7:
 * the median is shown).
 */
import { spawnSync } from "node:child_process";
import { availableParallelism, loadavg } from "node:os";
import path from "node:path";
import { benchArgs, REPO_ROOT } from "./bench-args.js";

const args = benchArgs();
const repeat = Math.max(1, Number(args.get("repeat") ?? 7));
const say = (line = ""): void => void process.stdout.write(line + "\n");
const CLI = path.join(REPO_ROOT, "dist/src/cli/main.js");

const CASES: Array<{ what: string; argv: string[] }> = [
  { what: "bare node (baseline)", argv: ["-e", "0"] },
  { what: "koderz --help", argv: [CLI, "--help"] },
  ...["benchmark", "run", "evaluate", "results", "compare", "report", "view", "train-meta", "solve", "speed-test", "sandbox", "worker", "mcp"].map((command) => ({
    what: `${command} --no-such-flag`,
    argv: [CLI, command, "--no-such-flag"],
  })),
  { what: "benchmark --resume A --replay B", argv: [CLI, "benchmark", "--resume", "A", "--replay", "B"] },
  { what: "benchmark 0 5 --concurrency x", argv: [CLI, "benchmark", "0", "5", "--concurrency", "x"] },
  { what: "benchmark 5 0", argv: [CLI, "benchmark", "5", "0"] },
  { what: "solve not-a-url", argv: [CLI, "solve", "not-a-url"] },
  { what: "solve --repo . (no issue)", argv: [CLI, "solve", "--repo", "."] },
  { what: "train-meta --episodes x", argv: [CLI, "train-meta", "--episodes", "x"] },
];

say(`koderz bench:cli — time to answer without running anything, median of ${repeat}, interleaved`);
say(`load average ${loadavg().map((load) => load.toFixed(1)).join(" ")} on ${availableParallelism()} cores`);
const times = CASES.map(() => [] as number[]);
for (let round = 0; round < repeat; round++) {
  CASES.forEach(({ argv }, i) => {
    const started = performance.now();
    spawnSync(process.execPath, argv, { stdio: "ignore", cwd: REPO_ROOT });
    times[i]!.push(performance.now() - started);
  });
}
const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const baseline = median(times[0]!);
for (const [i, { what }] of CASES.entries()) {
  const ms = median(times[i]!);
  const verdict = i === 0 ? "" : ms < 300 ? "met" : "MISSED";
  say(`${what.padEnd(36)} ${(ms / 1000).toFixed(3)} s   ${(ms / baseline).toFixed(2)}x bare node   ${verdict}`);
}
say("target: < 0.300 s each (koderz's own share: the time over bare node)");

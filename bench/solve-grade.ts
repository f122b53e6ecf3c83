/**
 * `npm run bench:grade`: how long `koderz solve`'s grade takes on a large suite with one test
 * file that never finishes (pydicom's suite offline waits forever on data downloads), against a
 * lean baseline measured in the same run: one pytest process over the same files, without the
 * hung one (what a user who knew which file hangs would run by hand).
 *
 * The fixture is built here: FILES test files of TESTS tests each, in a git repository, copied
 * into a koderz-workspace container as a solve copies it. Printed: the lean run, the grade's
 * baseline (every file on its own, the hung one stopped at its limit), the run after a change
 * (the hung file, which had nothing passing to keep, is not run again), and their ratios.
 *
 *   npm run bench:grade -- --files 40 --tests 10 --file-timeout 20
 */
import { execaSync } from "execa";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import path from "node:path";
import { Workspace } from "../sandbox/workspace.js";
import { SuiteTests } from "../src/orchestrator/solve/suite-tests.js";
import { suiteTotals } from "../src/orchestrator/solve/suite-outcomes.js";
import { givenTestCommand } from "../src/orchestrator/solve/test-command.js";

function flag(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  const value = at >= 0 ? Number(process.argv[at + 1]) : fallback;
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a whole number >= 1`);
  return value;
}

const files = flag("files", 40);
const testsPerFile = flag("tests", 10);
const fileTimeout = flag("file-timeout", 20);

function buildFixture(): { dir: string; commit: string } {
  const dir = path.join(mkdtempSync(path.join(tmpdir(), "koderz-bench-grade-")), "big");
  mkdirSync(path.join(dir, "pkg"), { recursive: true });
  mkdirSync(path.join(dir, "tests"), { recursive: true });
  writeFileSync(path.join(dir, "pkg", "__init__.py"), "def double(x):\n    return 2 * x\n");
  for (let f = 0; f < files; f += 1) {
    const body = Array.from({ length: testsPerFile }, (_, t) => `def test_double_${t}():\n    assert double(${t}) == ${2 * t}\n`).join("\n\n");
    writeFileSync(path.join(dir, "tests", `test_part_${String(f).padStart(3, "0")}.py`), `from pkg import double\n\n\n${body}`);
  }
  // The hung file: it waits on a download that never comes.
  writeFileSync(path.join(dir, "tests", "test_download.py"), "import time\n\n\ndef test_fetch_data():\n    time.sleep(3600)\n");
  const git = (...args: string[]) => execaSync("git", args, { cwd: dir }).stdout.trim();
  git("init", "-q", "-b", "main");
  git("add", "-A");
  git("-c", "user.name=Bench", "-c", "user.email=bench@example.com", "commit", "-q", "-m", "fixture");
  return { dir, commit: git("rev-parse", "HEAD") };
}

async function main(): Promise<void> {
  const fixture = buildFixture();
  const workspace = await Workspace.open({ repoPath: fixture.dir, commit: fixture.commit });
  try {
    const test = givenTestCommand("python3 -m pytest -q");
    const lean = performance.now();
    const leanRun = await workspace.shell("python3 -m pytest -q -p no:cacheprovider --ignore=tests/test_download.py tests", { timeoutSeconds: 600 });
    const leanSeconds = (performance.now() - lean) / 1000;
    if (leanRun.exitCode !== 0) throw new Error(`the lean run failed: ${leanRun.stdout.slice(-500)}`);

    const suite = new SuiteTests(workspace, test, { fileTimeoutSeconds: fileTimeout, commit: fixture.commit, imageId: workspace.imageId, log: (m) => process.stderr.write(`${m}\n`) });
    const base = await suite.baseline();
    const baseTotals = suiteTotals(base.suite);
    await workspace.writeFile("pkg/__init__.py", "def double(x):\n    return x + x\n");
    const after = await suite.afterChange(["pkg/__init__.py"], []);
    const afterTotals = suiteTotals(after.suite);

    const load = loadavg()[0]!.toFixed(1);
    console.log(`fixture: ${files} test files x ${testsPerFile} tests + 1 file that hangs; per-file limit ${fileTimeout} s; load average ${load}`);
    console.log(`lean: one pytest over ${files} files (the hung one left out by hand)   ${leanSeconds.toFixed(1)} s`);
    console.log(`grade baseline: ${baseTotals.tests} tests in ${baseTotals.files} files, ${baseTotals.timedOutFiles.length} timed out   ${base.suite.seconds.toFixed(1)} s   ratio ${(base.suite.seconds / leanSeconds).toFixed(2)}`);
    console.log(`grade after the change: ${afterTotals.tests} tests in ${afterTotals.files} files (not run again: ${after.skipped.join(", ") || "none"})   ${after.suite.seconds.toFixed(1)} s   ratio ${(after.suite.seconds / leanSeconds).toFixed(2)}`);
  } finally {
    await workspace.close();
  }
}

await main();

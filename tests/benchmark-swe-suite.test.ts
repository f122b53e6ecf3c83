import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectEngine, inspectImage } from "../sandbox/engine.js";
import { buildWorkspaceImage, WORKSPACE_IMAGE } from "../sandbox/workspace-image.js";
import { openStore } from "../src/store/index.js";
import { koderz, spawnKoderz } from "./fixtures/koderz-cli.js";
import { sweFixture, type SweFixture } from "./fixtures/repos/swe-fixture.js";
import { teamScript } from "./fixtures/repos/solve-team-script.js";
import type { ScriptedModelServer } from "./fixtures/scripted-model-server.js";
import { startModelWorkDir } from "./fixtures/team-workdir.js";
import { startTestPostgres } from "./helpers/postgres.js";

// `koderz benchmark --suite instances.jsonl --repos DIR`: two SWE-bench-style instances of one
// tiny repository, solved by the scripted team in koderz-workspace containers and graded as the
// SWE-bench harness grades them. The team's fix (the minus sign) resolves the first instance and
// not the second (a plus sign), so the verdicts are the grader's, not the script's.

let server: ScriptedModelServer;
let workDir: string;
let reposDir: string;
let fixture: SweFixture;
let instancesFile: string;
const env = { MOONSHOT_API_KEY: "test-key" };
const PLUS_ISSUE = "leading_number ignores a plus sign";
let holdPlusInstance = true;
/** The local run's outcome per instance, for the queued run to match. */
let localOutcome: unknown[][] = [];

beforeAll(async () => {
  if (!(await inspectImage(connectEngine(), WORKSPACE_IMAGE))) await buildWorkspaceImage();
  fixture = sweFixture();
  const team = teamScript({ fix: fixture.fix }).script;
  // The second instance's first model call hangs while holdPlusInstance is set, so the run can be killed mid-way.
  ({ server, workDir } = await startModelWorkDir({
    script: (chat, index) => (holdPlusInstance && chat.prompt.includes(PLUS_ISSUE) ? { text: "too late", delayMs: 600_000 } : team(chat, index)),
    tempPrefix: "koderz-swe-suite-",
  }));
  reposDir = path.join(workDir, "repos");
  mkdirSync(reposDir);
  await execa("git", ["clone", "-q", fixture.dir, path.join(reposDir, "acme__leadnum")]);
  const plus = {
    ...fixture.instance,
    instance_id: "acme__leadnum-2",
    problem_statement: `${PLUS_ISSUE}\n\n\`leading_number("+5 up")\` returns None; it should return 5.\n`,
    test_patch: await testPatchAdding("\n\ndef test_plus():\n    assert leading_number('+5 up') == 5\n"),
    FAIL_TO_PASS: JSON.stringify(["tests/test_numbers.py::test_plus"]),
  };
  instancesFile = path.join(workDir, "instances.jsonl");
  writeFileSync(instancesFile, [fixture.instance, plus].map((instance) => JSON.stringify(instance)).join("\n") + "\n");
}, 300_000);

afterAll(async () => {
  await server?.close();
});

/** The diff that appends `text` to the fixture's test file, made with git in a scratch clone. */
async function testPatchAdding(text: string): Promise<string> {
  const scratch = path.join(mkdtempSync(path.join(tmpdir(), "koderz-swe-plus-")), "copy");
  await execa("git", ["clone", "-q", fixture.dir, scratch]);
  const file = path.join(scratch, "tests/test_numbers.py");
  writeFileSync(file, readFileSync(file, "utf8") + text);
  return (await execa("git", ["diff"], { cwd: scratch })).stdout + "\n";
}

function outcomeOf(store: ReturnType<typeof openStore>, runId: string): unknown[][] {
  return store.experiments(runId).map((e) => [e.problemId, e.success, e.verdict, e.finalCode]);
}

function storeAt() {
  return openStore({ path: path.join(workDir, "results", "koderz.db"), mustExist: true });
}

describe("koderz benchmark --suite instances.jsonl --repos DIR", () => {
  it("stores one experiment per instance with the harness's verdict; a killed run resumes without redoing a finished instance, and replays with no model call", async () => {
    const args = ["benchmark", "--suite", instancesFile, "--repos", reposDir, "--mode", "standard", "--concurrency", "1"];
    const first = spawnKoderz(args, { cwd: workDir, env });
    // Killed once the second instance's first model call has arrived: the first one is stored by then.
    while (!server.chatRequests.some((chat) => chat.prompt.includes(PLUS_ISSUE))) {
      if (first.exitCode !== null) throw new Error(`the run ended early:\n${String((await first).stderr)}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    first.kill("SIGKILL");
    const killed = await first;
    const runId = /run (bench_[0-9a-f]{8}_\d{8}_\d{6})/.exec(String(killed.stderr))?.[1];
    expect(runId, String(killed.stderr)).toBeDefined();
    let store = storeAt();
    const before = store.experiments(runId!);
    store.close();
    expect(before.map((e) => [e.problemId, e.success])).toEqual([["acme__leadnum-1", true]]);

    holdPlusInstance = false;
    const chatsBeforeResume = server.chatRequests.length;
    const resumed = await koderz(["benchmark", "--resume", runId!], { cwd: workDir, env });
    expect(resumed.exitCode, resumed.stderr).toBe(0);
    expect(resumed.stderr).toContain("(1 already done)");
    // Nothing of the finished instance is asked again.
    const resumedChats = server.chatRequests.slice(chatsBeforeResume);
    expect(resumedChats.length).toBeGreaterThan(0);
    for (const chat of resumedChats) expect(chat.prompt).not.toContain("ignores the minus sign");

    store = storeAt();
    try {
      const experiments = store.experiments(runId!);
      expect(experiments.map((e) => [e.problemId, e.success, e.verdict])).toEqual([
        ["acme__leadnum-1", true, "passed: FAIL_TO_PASS 2/2, PASS_TO_PASS 3/3"],
        ["acme__leadnum-2", false, "failed: FAIL_TO_PASS 0/1, PASS_TO_PASS 3/3"],
      ]);
      for (const e of experiments) {
        expect([e.arm, e.suite, e.category]).toEqual(["standard", "instances", "acme/leadnum"]);
        expect(e.inputTokens + e.outputTokens).toBeGreaterThan(0);
        expect(e.wallSeconds).toBeGreaterThan(0);
        expect(e.finalCode).toContain("+++ b/leadnum/__init__.py");
        expect(store.steps(e.experimentId).some((s) => s.agent === "Coder")).toBe(true);
      }
      // The finished instance's record is the one written before the kill, to the wall second.
      expect(experiments[0]).toEqual(before[0]);
      expect(store.getRun(runId!).status).toBe("finished");
    } finally {
      store.close();
    }
    expect(resumed.stdout).toMatch(/standard\s+2\s+1\s+50\.0%/);
    // The patches in the SWE-bench harness's predictions format, for grading in its own images.
    const predictions = readFileSync(path.join(workDir, "results", `${runId}.predictions.jsonl`), "utf8").trim().split("\n").map((line) => JSON.parse(line) as Record<string, string>);
    expect(predictions.map((p) => p.instance_id)).toEqual(["acme__leadnum-1", "acme__leadnum-2"]);
    expect(predictions[0]!.model_patch).toContain("sign = -1 if text.startswith('-') else 1");
    const shown = await koderz(["results", "show", runId!], { cwd: workDir, env });
    expect(shown.stdout).toContain("acme__leadnum-2");

    // --replay solves both instances again with every model call answered from the run's log:
    // the same patches and grades, and no model asked.
    const chatsBeforeReplay = server.chatRequests.length;
    const replayed = await koderz(["benchmark", "--replay", runId!], { cwd: workDir, env });
    expect(replayed.exitCode, replayed.stderr).toBe(0);
    expect(server.chatRequests.length).toBe(chatsBeforeReplay);
    const replayRunId = /run (bench_[0-9a-f]{8}_\d{8}_\d{6})/.exec(replayed.stderr)?.[1];
    expect(replayRunId, replayed.stderr).toBeDefined();
    expect(replayRunId).not.toBe(runId);
    store = storeAt();
    try {
      localOutcome = outcomeOf(store, runId!);
      expect(outcomeOf(store, replayRunId!)).toEqual(localOutcome);
    } finally {
      store.close();
    }
    // The replay environment reads the instances' issue texts from the run's own suite: both
    // instances become replayable tasks. Two are too few for a study (it cross-validates on at
    // least two training tasks and holds one out), which it says in one error.
    const replay = await koderz(["train-meta", "--env", "replay", "--runs", runId!, "--episodes", "20", "--seeds", "1", "--out", "replay.json"], { cwd: workDir, env });
    expect(replay.exitCode, replay.stderr).toBe(1);
    expect(replay.stderr).toMatch(/needs at least 2 training tasks and 1 held-out task; the log has 2\b/);
    expect(replay.stderr).not.toMatch(/skipped \d+ experiments/);
  }, 480_000);

  it("--queue: a worker on PostgreSQL solves and grades each instance as the local run did, in the repository's --image-for image, an instance error included, each committed once", async () => {
    expect(localOutcome, "the local run's test runs first").toHaveLength(2);
    server.reset();
    // The repository's own environment image: here the workspace image under another name.
    await connectEngine().getImage(WORKSPACE_IMAGE).tag({ repo: "koderz-test-env", tag: "leadnum" });
    const postgres = await startTestPostgres();
    try {
      const broken = { ...fixture.instance, instance_id: "acme__leadnum-7", test_patch: fixture.testPatch.replaceAll("tests/test_numbers.py", "tests/test_missing.py") };
      const file = path.join(workDir, "queued.jsonl");
      writeFileSync(file, [fixture.instance, broken].map((instance) => JSON.stringify(instance)).join("\n") + "\n");
      const queued = await koderz(["benchmark", "--suite", file, "--repos", reposDir, "--image-for", "acme/leadnum=koderz-test-env:leadnum", "--mode", "standard", "--queue", postgres.url], { cwd: workDir, env });
      expect(queued.exitCode, queued.stderr).toBe(0);
      expect(queued.stderr).toContain("2 experiments (0 already done, 2 queued)");
      const runId = queued.stdout.trim();

      const worker = await koderz(["worker", "--queue", postgres.url, "--exit-when-idle"], { cwd: workDir, env });
      expect(worker.exitCode, worker.stderr).toBe(0);
      expect(worker.stderr).toContain("2 committed, 0 failed attempts");
      expect(worker.stderr).toMatch(/\[acme__leadnum-1\] copying [0-9a-f]{12} into a koderz-test-env:leadnum container/);
      const followed = await koderz(["benchmark", "--queue", postgres.url, "--resume", runId, "--follow"], { cwd: workDir, env });
      expect(followed.exitCode, followed.stderr).toBe(0);
      expect(followed.stdout).toMatch(/standard\s+2\s+1\s+50\.0%/);
      const predictions = readFileSync(path.join(workDir, "results", `${runId}.predictions.jsonl`), "utf8").trim().split("\n");
      expect(predictions).toHaveLength(2);

      const store = openStore({ path: postgres.url });
      try {
        const outcome = outcomeOf(store, runId);
        expect(outcome[0]).toEqual(localOutcome[0]);
        expect(outcome[1]!.slice(0, 3)).toEqual(["acme__leadnum-7", false, expect.stringMatching(/^error: the instance's test_patch does not apply/)]);
        expect(store.experiments(runId).map((e) => e.category)).toEqual(["acme/leadnum", "acme/leadnum"]);
        expect(store.getRun(runId).status).toBe("finished");
      } finally {
        store.close();
      }
    } finally {
      await postgres.stop();
      await connectEngine().getImage("koderz-test-env:leadnum").remove();
    }
  }, 300_000);

  it("a misshapen instances file, a missing clone or a flag without its partner is one clear error before any model call", async () => {
    server.reset();
    const bad = path.join(workDir, "bad.jsonl");
    const { base_commit: _dropped, ...noCommit } = fixture.instance;
    writeFileSync(bad, `${JSON.stringify(fixture.instance)}\n${JSON.stringify({ ...noCommit, instance_id: "acme__leadnum-9" })}\n`);
    const misshapen = await koderz(["benchmark", "--suite", bad, "--repos", reposDir], { cwd: workDir, env });
    expect(misshapen.exitCode).toBe(1);
    expect(misshapen.stderr).toContain(`${bad}:2: field "base_commit"`);

    const elsewhere = path.join(workDir, "elsewhere.jsonl");
    writeFileSync(elsewhere, JSON.stringify({ ...fixture.instance, instance_id: "acme__widgets-3", repo: "acme/widgets" }) + "\n");
    const noClone = await koderz(["benchmark", "--suite", elsewhere, "--repos", reposDir, "--mode", "fast"], { cwd: workDir, env });
    expect(noClone.exitCode).toBe(1);
    expect(noClone.stderr).toContain(`instance acme__widgets-3 needs a clone of acme/widgets at ${path.join(reposDir, "acme__widgets")}`);

    const noImage = await koderz(["benchmark", "--suite", instancesFile, "--repos", reposDir, "--image-for", "acme/leadnum=koderz-no-such-image"], { cwd: workDir, env });
    expect(noImage.exitCode).toBe(1);
    expect(noImage.stderr).toContain("the workspace image koderz-no-such-image does not exist");
    for (const [value, message] of [
      ["acme/leadnum", "--image-for acme/leadnum is not OWNER/NAME=IMAGE"],
      ["acme/widgets=koderz-workspace", `--image-for names acme/widgets, which no instance of ${instancesFile} is in`],
    ]) {
      const result = await koderz(["benchmark", "--suite", instancesFile, "--repos", reposDir, "--image-for", value!], { cwd: workDir, env });
      expect(result.exitCode, value).toBe(2);
      expect(result.stderr, value).toContain(message);
    }

    const noRepos = await koderz(["benchmark", "--suite", instancesFile], { cwd: workDir, env });
    expect(noRepos.exitCode).toBe(2);
    expect(noRepos.stderr).toContain("add --repos DIR");
    const wrongMode = await koderz(["benchmark", "--suite", instancesFile, "--repos", reposDir, "--mode", "comparative"], { cwd: workDir, env });
    expect(wrongMode.exitCode).toBe(2);
    expect(wrongMode.stderr).toContain("pass --mode fast, standard, deep");
    const noSuite = await koderz(["benchmark", "0", "2", "--repos", reposDir], { cwd: workDir, env });
    expect(noSuite.exitCode).toBe(2);
    expect(noSuite.stderr).toContain("add --suite INSTANCES.jsonl");
    expect(server.chatRequests).toHaveLength(0);
  }, 120_000);

  it("an instance whose test patch does not apply is stored as unresolved with its error, and the run goes on", async () => {
    server.reset();
    const broken = { ...fixture.instance, instance_id: "acme__leadnum-7", test_patch: fixture.testPatch.replaceAll("tests/test_numbers.py", "tests/test_missing.py") };
    const file = path.join(workDir, "broken.jsonl");
    writeFileSync(file, JSON.stringify(broken) + "\n");
    const result = await koderz(["benchmark", "--suite", file, "--repos", reposDir, "--mode", "fast"], { cwd: workDir, env });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stderr).toContain("[acme__leadnum-7] error: the instance's test_patch does not apply to its base commit");
    const runId = /run (bench_[0-9a-f]{8}_\d{8}_\d{6})/.exec(result.stderr)![1]!;
    const store = storeAt();
    try {
      const [experiment] = store.experiments(runId);
      expect(experiment?.success).toBe(false);
      expect(experiment?.verdict).toMatch(/^error: the instance's test_patch does not apply/);
      expect(store.getRun(runId).status).toBe("finished");
    } finally {
      store.close();
    }
    expect(server.chatRequests).toHaveLength(0);
  }, 120_000);
});

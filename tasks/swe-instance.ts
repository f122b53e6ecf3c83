import { readFile } from "node:fs/promises";
import { z } from "zod";
import { KoderzError } from "../src/errors.js";
import { cloneCheckout, localCheckout, type RepoCheckout, type RepoTask, type TestFramework } from "./repo-task.js";

/**
 * A SWE-bench instance as the dataset ships it. FAIL_TO_PASS and PASS_TO_PASS are JSON-encoded
 * lists in the published files and plain lists in some exports: both are accepted. The gold
 * `patch` is deliberately not read, so it can never reach a prompt.
 */
const TestList = z.preprocess(
  (value) => (typeof value === "string" ? (parseJson(value) ?? value) : value),
  z.array(z.string(), { error: "must be a list of test names, or a JSON string holding one" }),
);

export const SweInstanceSchema = z.object({
  instance_id: z.string().min(1),
  repo: z.string().regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, "must be OWNER/NAME"),
  base_commit: z.string().regex(/^[0-9a-f]{7,40}$/, "must be a commit sha"),
  problem_statement: z.string().min(1),
  test_patch: z.string().default(""),
  FAIL_TO_PASS: TestList,
  PASS_TO_PASS: TestList.default([]),
  hints_text: z.string().optional(),
});
export type SweInstance = z.infer<typeof SweInstanceSchema>;

export interface SweInstanceOptions {
  /** A .json file with one instance or a list of them, or a .jsonl file. */
  file: string;
  /** Which instance, when the file holds more than one. */
  instanceId?: string;
  /** A local clone of the instance's repository; else it is cloned from GitHub. */
  repoPath?: string;
  token?: string;
}

export async function loadSweInstance(options: SweInstanceOptions): Promise<RepoTask> {
  const instance = pickInstance(await readInstances(options.file), options);
  const checkout = options.repoPath
    ? await localCheckout(options.repoPath, instance.base_commit)
    : await cloneCheckout({ url: `https://github.com/${instance.repo}.git`, displayName: instance.repo, commit: instance.base_commit, token: options.token });
  return sweRepoTask(instance, checkout);
}

/** The instance as a repository task on a checkout of its base commit. */
export function sweRepoTask(instance: SweInstance, checkout: RepoCheckout): RepoTask {
  return {
    id: instance.instance_id,
    source: "swe-instance",
    title: instance.problem_statement.trim().split("\n", 1)[0]!.slice(0, 120),
    issueText: instance.problem_statement.trim(),
    checkout,
    failToPass: instance.FAIL_TO_PASS,
    passToPass: instance.PASS_TO_PASS,
    ...(instance.test_patch.trim() ? { hiddenTestPatch: instance.test_patch } : {}),
    testFramework: testFrameworkOf(instance.repo),
  };
}

/** The repositories whose tests the SWE-bench harness runs with their own runner; every other one uses pytest. */
const OWN_RUNNERS: Record<string, TestFramework> = { "django/django": "django", "sympy/sympy": "sympy" };

export function testFrameworkOf(repo: string): TestFramework {
  return OWN_RUNNERS[repo.toLowerCase()] ?? "pytest";
}

async function readInstances(file: string): Promise<unknown[]> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === "ENOENT";
    throw new KoderzError(missing ? "not_found" : "bad_input", missing ? `instance file ${file} does not exist` : `cannot read ${file}: ${(error as Error).message}`, "pass --swe-instance FILE: a SWE-bench instance as JSON or JSONL");
  }
  const whole = parseJson(text);
  if (Array.isArray(whole)) return whole;
  if (whole !== undefined) return [whole];
  return text.split("\n").flatMap((line, index) => {
    if (!line.trim()) return [];
    const value = parseJson(line);
    if (value === undefined) throw new KoderzError("bad_input", `${file} line ${index + 1} is not valid JSON`, "the file must be one JSON instance, a JSON list, or JSONL (one instance per line)");
    return [value];
  });
}

function pickInstance(raw: unknown[], options: SweInstanceOptions): SweInstance {
  const ids = raw.map((item) => z.object({ instance_id: z.string() }).safeParse(item).data?.instance_id);
  if (raw.length === 0) throw new KoderzError("bad_input", `${options.file} holds no instance`, "pass a file with a SWE-bench instance as JSON or JSONL");
  let index = 0;
  if (options.instanceId !== undefined) {
    index = ids.indexOf(options.instanceId);
    if (index < 0) throw new KoderzError("not_found", `${options.file} has no instance ${options.instanceId}`, `it holds ${ids.filter(Boolean).slice(0, 5).join(", ")}${ids.length > 5 ? ", ..." : ""}`);
  } else if (raw.length !== 1) {
    throw new KoderzError("usage", `${options.file} holds ${raw.length} instances`, "choose one with --instance-id ID");
  }
  const parsed = SweInstanceSchema.safeParse(raw[index]);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new KoderzError("bad_input", `${options.file}: ${issue.path.join(".") || "the instance"} ${issue.message}`, "a SWE-bench instance needs instance_id, repo, base_commit, problem_statement, test_patch, FAIL_TO_PASS and PASS_TO_PASS");
  }
  return parsed.data;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { KoderzError } from "../src/errors.js";
import { readJsonlFile } from "./jsonl.js";
import { localCheckout, type RepoTask } from "./repo-task.js";
import { SweInstanceSchema, sweRepoTask, type SweInstance } from "./swe-instance.js";
import type { PublicTask } from "./task.js";

/**
 * A repository suite: a SWE-bench instances file (JSONL, optionally gzipped, or JSON holding one
 * instance or a list), run by `koderz benchmark --suite FILE --repos DIR`. Every instance is
 * solved on a local clone of its repository at DIR/OWNER__NAME (SWE-bench's own spelling of a
 * repository in instance ids, e.g. astropy__astropy for astropy/astropy-12907), never cloned
 * from the network, so a run works offline and a clone serves every instance of its repository.
 */
export interface SweSuite {
  /** The file's name without its extension, e.g. "swe-bench-lite". */
  name: string;
  /** Absolute path of the instances file. */
  file: string;
  instances: SweInstance[];
}

const EACH_INSTANCE = "a SWE-bench instance: instance_id, repo, base_commit, problem_statement, test_patch, FAIL_TO_PASS, PASS_TO_PASS";

/** Reads and checks every instance; a bad one is an error naming the file, the line (or list index) and the field. */
export async function readSweSuite(file: string): Promise<SweSuite> {
  const absolute = path.resolve(file);
  if (!existsSync(absolute)) throw new KoderzError("not_found", `no instances file at ${absolute}`, "pass --suite FILE: SWE-bench instances as JSONL or JSON");
  const instances = path.extname(absolute).toLowerCase() === ".json" ? parseJsonInstances(absolute) : (await readJsonlFile(absolute, SweInstanceSchema, EACH_INSTANCE)).map((record) => record.value);
  if (instances.length === 0) throw new KoderzError("bad_input", `${absolute} holds no instance`, `each line must be ${EACH_INSTANCE}`);
  const seen = new Set<string>();
  for (const instance of instances) {
    if (seen.has(instance.instance_id)) throw new KoderzError("bad_input", `${absolute}: instance_id ${instance.instance_id} appears twice`, "each instance may appear once in a suite");
    seen.add(instance.instance_id);
  }
  const name = path.basename(absolute).replace(/\.jsonl(\.gz)?$|\.json$/i, "").toLowerCase().replace(/[^a-z0-9+._-]+/g, "-");
  return { name: name || "swe", file: absolute, instances };
}

/** A .json file: one instance or a list; checked as JSONL lines are, naming the list index. */
function parseJsonInstances(file: string): SweInstance[] {
  let whole: unknown;
  try {
    whole = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new KoderzError("bad_input", `${file}: not valid JSON (${(error as Error).message})`, "give one JSON instance, a JSON list of them, or a .jsonl file (one instance per line)");
  }
  const list = Array.isArray(whole) ? whole : [whole];
  return list.map((item, index) => {
    const parsed = SweInstanceSchema.safeParse(item);
    if (parsed.success) return parsed.data;
    const issue = parsed.error.issues[0]!;
    const where = Array.isArray(whole) ? `${file}: instance [${index}]` : file;
    const field = issue.path.length ? `field "${issue.path.join(".")}": ` : "";
    throw new KoderzError("bad_input", `${where}: ${field}${issue.message}`, `each instance must be ${EACH_INSTANCE}`);
  });
}

/** Where `--repos DIR` must hold the clone of OWNER/NAME. */
export function cloneDirFor(reposDir: string, repo: string): string {
  return path.join(path.resolve(reposDir), repo.replace("/", "__"));
}

/**
 * The instances as repository tasks on their clones. Every clone and base commit is checked
 * before anything runs: a missing one names the instance and the path it was looked for at.
 */
export async function sweSuiteTasks(instances: readonly SweInstance[], reposDir: string): Promise<RepoTask[]> {
  if (!existsSync(reposDir)) throw new KoderzError("not_found", `--repos ${path.resolve(reposDir)} does not exist`, "pass --repos DIR: a folder holding a clone of each repository, named OWNER__NAME");
  const missing = instances.filter((instance) => !existsSync(cloneDirFor(reposDir, instance.repo)));
  if (missing.length) {
    const lines = missing.slice(0, 5).map((instance) => `instance ${instance.instance_id} needs a clone of ${instance.repo} at ${cloneDirFor(reposDir, instance.repo)}`);
    const more = missing.length > 5 ? `\n(and ${missing.length - 5} more instances)` : "";
    const first = missing[0]!;
    throw new KoderzError("not_found", `${lines.join("\n")}${more}`, `clone each repository into --repos, named OWNER__NAME: git clone https://github.com/${first.repo} ${cloneDirFor(reposDir, first.repo)}`);
  }
  const tasks: RepoTask[] = [];
  for (const instance of instances) {
    const dir = cloneDirFor(reposDir, instance.repo);
    const checkout = await localCheckout(dir, instance.base_commit).catch((error: unknown) => {
      if (!(error instanceof KoderzError)) throw error;
      const hint = error.code === "not_found" ? `the clone at ${dir} must hold base_commit ${instance.base_commit}: fetch it there (git -C ${dir} fetch --all)` : error.hint;
      throw new KoderzError(error.code, `instance ${instance.instance_id}: ${error.message}`, hint);
    });
    tasks.push(sweRepoTask(instance, checkout));
  }
  return tasks;
}

/**
 * What the policy may read of each instance (train-meta's replay of a repository suite run): the
 * issue's text, as solve's auto mode gives it; an issue has no entry point or docstring examples.
 */
export async function sweSuitePublicTasks(file: string): Promise<PublicTask[]> {
  return (await readSweSuite(file)).instances.map((instance) => {
    // The text alone, worded as solve words it: no clone is needed, so none is opened.
    const task = sweRepoTask(instance, { path: "", commit: instance.base_commit, temporary: false, dispose: async () => undefined });
    return { id: task.id, prompt: `${task.title}\n\n${task.issueText}`, entryPoint: "", visibleExamples: [] };
  });
}

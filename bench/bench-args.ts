import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** `--name value` pairs from the command line. */
export function benchArgs(argv: string[] = process.argv.slice(2)): Map<string, string> {
  const args = new Map<string, string>();
  for (let i = 0; i < argv.length; i += 2) args.set(argv[i]!.replace(/^--/, ""), argv[i + 1] ?? "");
  return args;
}

/** The repository's root, from bench/ or dist/bench/. */
export const REPO_ROOT = fileURLToPath(new URL(import.meta.url.includes("/dist/") ? "../../" : "../", import.meta.url));

/** The shared datasets folder: $KODERZ_DATA_DIR, else ../shared/datasets beside the repository. */
export function datasetsDir(): string {
  return process.env.KODERZ_DATA_DIR ?? path.resolve(REPO_ROOT, "../shared/datasets");
}

/** --dataset, else HumanEval from the shared datasets when it is there (else loadSuite's default). */
export function benchDataset(args: Map<string, string>): string | undefined {
  if (args.has("dataset")) return args.get("dataset");
  const beside = path.join(datasetsDir(), "HumanEval.jsonl.gz");
  return existsSync(beside) ? beside : undefined;
}

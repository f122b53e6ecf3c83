import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import { z } from "zod";
import type { SuiteRun } from "./suite-run.js";

/**
 * The suite's run on the base commit, kept on disk: the same commit, test command, image and
 * time limit always give the same baseline, so a second solve of the same issue (a retry, another
 * mode) pays for it once. A ladder's rungs share one solve's baseline anyway.
 */
export interface BaselineKey {
  commit: string;
  command: string;
  image: string;
  fileTimeoutSeconds: number;
}

const FORMAT = 1;

const FileRunSchema = z.object({
  file: z.string(),
  command: z.string(),
  exitCode: z.number(),
  timedOut: z.boolean(),
  seconds: z.number(),
  tests: z.record(z.string(), z.enum(["passed", "failed", "skipped"])),
  tail: z.string().optional(),
});

const CachedBaselineSchema = z.object({
  format: z.literal(FORMAT),
  key: z.object({ commit: z.string(), command: z.string(), image: z.string(), fileTimeoutSeconds: z.number() }),
  suite: z.object({ command: z.string(), fileTimeoutSeconds: z.number(), files: z.array(FileRunSchema), seconds: z.number() }),
});

export function baselineFile(dir: string, key: BaselineKey): string {
  const digest = createHash("sha256").update(JSON.stringify([FORMAT, key.commit, key.command, key.image, key.fileTimeoutSeconds])).digest("hex");
  return path.join(dir, `${digest.slice(0, 24)}.json`);
}

/** The cached baseline, or undefined when there is none (or it is unreadable: it is then run again). */
export function readBaseline(dir: string, key: BaselineKey): SuiteRun | undefined {
  let text: string;
  try {
    text = readFileSync(baselineFile(dir, key), "utf8");
  } catch {
    return undefined;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined;
  }
  const parsed = CachedBaselineSchema.safeParse(json);
  if (!parsed.success) return undefined;
  const same = parsed.data.key;
  return same.commit === key.commit && same.command === key.command && same.image === key.image && same.fileTimeoutSeconds === key.fileTimeoutSeconds ? parsed.data.suite : undefined;
}

export function writeBaseline(dir: string, key: BaselineKey, suite: SuiteRun): string {
  mkdirSync(dir, { recursive: true });
  const file = baselineFile(dir, key);
  const partial = `${file}.${process.pid}.tmp`;
  writeFileSync(partial, JSON.stringify({ format: FORMAT, key, suite }) + "\n");
  renameSync(partial, file);
  return file;
}

import { existsSync, readFileSync } from "node:fs";
import path from "node:path";

/** True for a file `--suite` should read as SWE-bench instances: .jsonl(.gz), or .json holding objects with an instance_id. */
export function isSweInstancesFile(file: string): boolean {
  if (/\.jsonl(\.gz)?$/i.test(file)) return true;
  if (path.extname(file).toLowerCase() !== ".json" || !existsSync(file)) return false;
  try {
    const whole: unknown = JSON.parse(readFileSync(file, "utf8"));
    const first: unknown = Array.isArray(whole) ? whole[0] : whole;
    return typeof first === "object" && first !== null && "instance_id" in first;
  } catch {
    return false;
  }
}

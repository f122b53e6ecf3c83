import type { z } from "zod";
import { KoderzError } from "../errors.js";

/** Validates parsed flags with zod; a failure is a usage error naming the flag and what it needs. */
export function parseOptions<S extends z.ZodType>(schema: S, raw: unknown): z.infer<S> {
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const where = issue.path.length ? `--${String(issue.path[0]).replace(/[A-Z]/g, (c) => "-" + c.toLowerCase())}` : "arguments";
  throw new KoderzError("usage", `${where}: ${issue.message}`, "run the command with --help to see what each option takes");
}

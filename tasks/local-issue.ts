import { readFile } from "node:fs/promises";
import path from "node:path";
import { KoderzError } from "../src/errors.js";
import { localCheckout, type RepoTask } from "./repo-task.js";

export interface LocalIssueOptions {
  repoPath: string;
  /** A text or Markdown file; its first line (without a leading "#") is the title. */
  issueFile: string;
  commit?: string;
  failToPass?: string[];
  passToPass?: string[];
}

/** `--repo PATH --issue FILE`: an issue written by the user about their own repository. */
export async function loadLocalIssue(options: LocalIssueOptions): Promise<RepoTask> {
  const text = await readIssueFile(options.issueFile);
  const checkout = await localCheckout(options.repoPath, options.commit);
  return {
    id: `local:${path.basename(checkout.path)}:${path.basename(options.issueFile)}`,
    source: "local-issue",
    title: issueTitle(text),
    issueText: text.trim(),
    checkout,
    failToPass: options.failToPass ?? [],
    passToPass: options.passToPass ?? [],
  };
}

async function readIssueFile(file: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === "ENOENT";
    throw new KoderzError(missing ? "not_found" : "bad_input", missing ? `issue file ${file} does not exist` : `cannot read issue file ${file}: ${(error as Error).message}`, "pass --issue FILE: a text or Markdown file describing the problem");
  }
  if (text.trim() === "") throw new KoderzError("bad_input", `issue file ${file} is empty`, "describe the problem in it: what happens, what should happen");
  return text;
}

export function issueTitle(text: string): string {
  const first = text.trim().split("\n", 1)[0] ?? "";
  return first.replace(/^#+\s*/, "").trim().slice(0, 120);
}

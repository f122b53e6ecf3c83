import type { Workspace } from "../../../sandbox/workspace.js";

const MAX_FILES = 300;
const MAX_SYMBOLS_PER_FILE = 12;
// Top-level definitions in the common languages: enough for a Planner to know where to look.
const DEFINITION = "^(class|def|async def|function|export (default )?(async )?(function|class|const)|func|pub fn|fn) ";

/**
 * The Planner's map of the repository: its files, each with its top-level definitions. Built
 * from the workspace (git ls-files and git grep), so it costs no tool calls.
 */
export async function repositoryMap(workspace: Workspace): Promise<string> {
  const listed = await workspace.exec(["git", "-c", "core.quotepath=false", "ls-files"]);
  const files = listed.stdout.split("\n").filter(Boolean);
  const grep = await workspace.exec(["git", "-c", "core.quotepath=false", "grep", "-n", "-I", "-E", DEFINITION]);
  const symbols = new Map<string, string[]>();
  for (const line of grep.stdout.split("\n")) {
    const match = /^([^:]+):(\d+):(.*)$/.exec(line);
    if (!match) continue;
    const list = symbols.get(match[1]!) ?? [];
    if (list.length < MAX_SYMBOLS_PER_FILE) list.push(`${match[2]}: ${match[3]!.trim().slice(0, 100)}`);
    symbols.set(match[1]!, list);
  }
  const lines: string[] = [];
  for (const file of files.slice(0, MAX_FILES)) {
    lines.push(file);
    for (const symbol of symbols.get(file) ?? []) lines.push(`    ${symbol}`);
  }
  if (files.length > MAX_FILES) lines.push(`... and ${files.length - MAX_FILES} more files (list_files shows them)`);
  return lines.join("\n");
}

import { edit } from "./edit.js";
import { listFiles } from "./list-files.js";
import { readFile } from "./read-file.js";
import { runCommand } from "./run-command.js";
import { runTests } from "./run-tests.js";
import { search } from "./search.js";
import type { RepoTool } from "./tool.js";

export * from "./tool.js";
export { edit, listFiles, readFile, runCommand, runTests, search };

/** For agents that look but never change anything (Planner, Reviewer). */
export const READ_TOOLS: readonly RepoTool[] = [listFiles, readFile, search];

/** Every tool: for agents that change the repository and run it (Coder, Tester, Debugger). */
export const ALL_TOOLS: readonly RepoTool[] = [listFiles, readFile, search, edit, runTests, runCommand];

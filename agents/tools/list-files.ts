import { z } from "zod";
import { defineTool, failure, repoPath, success } from "./tool.js";

const MAX_ENTRIES = 400;

export const listFiles = defineTool({
  name: "list_files",
  description: "List the repository's files (tracked and new, without ignored ones), optionally under one directory.",
  schema: z.object({
    path: z.string().optional().describe("a directory relative to the repository root; the whole repository when omitted"),
  }),
  async run(args, { workspace }) {
    const dir = repoPath(args.path ?? ".", { allowRoot: true });
    const result = await workspace.exec(["git", "-c", "core.quotepath=false", "ls-files", "--cached", "--others", "--exclude-standard", "--", dir]);
    if (result.exitCode !== 0) return failure(`cannot list ${dir}: ${result.stderr.trim()}`);
    const files = [...new Set(result.stdout.split("\n").filter(Boolean))].sort();
    if (files.length === 0) return failure(`no files under ${dir}`);
    const shown = files.slice(0, MAX_ENTRIES).join("\n");
    const more = files.length > MAX_ENTRIES ? `\n... and ${files.length - MAX_ENTRIES} more; list a subdirectory to see them` : "";
    return success(`${files.length} files under ${dir}:\n${shown}${more}`);
  },
});

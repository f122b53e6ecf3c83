import { z } from "zod";
import { defineTool, failure, repoPath, success } from "./tool.js";

const DEFAULT_MAX_RESULTS = 50;

export const search = defineTool({
  name: "search",
  description: "Search the repository's files for a text or a regular expression (git grep); answers path:line: text.",
  schema: z.object({
    pattern: z.string().min(1).describe("the text to find"),
    regex: z.boolean().optional().describe("treat pattern as an extended regular expression (default: plain text)"),
    path: z.string().optional().describe("only under this file or directory"),
    case_insensitive: z.boolean().optional(),
    max_results: z.coerce.number().int().min(1).max(500).optional().describe(`default ${DEFAULT_MAX_RESULTS}`),
  }),
  async run(args, { workspace }) {
    const where = repoPath(args.path ?? ".", { allowRoot: true });
    const argv = ["git", "-c", "core.quotepath=false", "grep", "-n", "-I", "--untracked", "--no-color", args.regex ? "-E" : "-F"];
    if (args.case_insensitive) argv.push("-i");
    argv.push("-e", args.pattern, "--", where);
    const result = await workspace.exec(argv);
    // git grep: 1 means no match, more means a bad pattern or path.
    if (result.exitCode === 1 && !result.stderr.trim()) return success(`no matches for ${JSON.stringify(args.pattern)} under ${where}`);
    if (result.exitCode !== 0) return failure(`search failed: ${result.stderr.trim() || `exit ${result.exitCode}`}`);
    const lines = result.stdout.split("\n").filter(Boolean);
    const limit = args.max_results ?? DEFAULT_MAX_RESULTS;
    const shown = lines.slice(0, limit).map((line) => (line.length > 300 ? `${line.slice(0, 300)}...` : line));
    const more = lines.length > limit ? `\n... ${lines.length - limit} more matches; narrow the pattern or the path` : "";
    return success(`${lines.length} matches:\n${shown.join("\n")}${more}`);
  },
});

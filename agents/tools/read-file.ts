import { z } from "zod";
import { defineTool, failure, repoPath, success } from "./tool.js";

const MAX_LINES = 400;
const lineNumber = z.coerce.number().int().min(1);

export const readFile = defineTool({
  name: "read_file",
  description: `Read a file with line numbers, optionally only lines start_line..end_line (at most ${MAX_LINES} lines per call).`,
  schema: z.object({
    path: z.string().describe("file path relative to the repository root"),
    start_line: lineNumber.optional().describe("first line to show, from 1"),
    end_line: lineNumber.optional().describe("last line to show (inclusive)"),
  }),
  async run(args, { workspace }) {
    const file = repoPath(args.path);
    const text = await workspace.readFile(file);
    if (text === undefined) return failure(`there is no file ${file}; list_files shows the files that exist`);
    const lines = text.split("\n");
    if (lines.at(-1) === "") lines.pop();
    const start = args.start_line ?? 1;
    if (lines.length === 0) return success(`${file} is empty`);
    if (start > lines.length) return failure(`${file} has only ${lines.length} lines`);
    const end = Math.min(args.end_line ?? lines.length, lines.length, start + MAX_LINES - 1);
    if (end < start) return failure(`end_line ${args.end_line} is before start_line ${start}`);
    const width = String(end).length;
    const body = lines
      .slice(start - 1, end)
      .map((line, i) => `${String(start + i).padStart(width)}| ${line}`)
      .join("\n");
    const rest = end < lines.length ? `\n(lines ${end + 1}-${lines.length} not shown; read them with start_line=${end + 1})` : "";
    return success(`${file} lines ${start}-${end} of ${lines.length}:\n${body}${rest}`);
  },
});

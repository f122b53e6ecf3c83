import { z } from "zod";
import { defineTool, failure, repoPath, success, ToolInputError } from "./tool.js";

/**
 * Search-and-replace, one block per call: the search text must occur exactly once, so an edit
 * can never land in the wrong place. An empty search creates a new file.
 */
export const edit = defineTool({
  name: "edit",
  description:
    "Replace one block of text in a file: `search` must match the file's current text exactly once (copy it from read_file, indentation included, without line numbers). " +
    "Give enough lines to be unique. To create a new file, pass an empty search and the whole file as replace. Call edit again for each further block.",
  schema: z.object({
    path: z.string().describe("file path relative to the repository root"),
    search: z.string().describe("the exact text to replace; empty to create a new file"),
    replace: z.string().describe("the new text"),
  }),
  async run(args, { workspace }) {
    const file = repoPath(args.path);
    const current = await workspace.readFile(file);
    if (args.search === "") {
      if (current !== undefined) return failure(`${file} already exists; to change it, pass the text to replace as search`);
      await workspace.writeFile(file, args.replace);
      return success(`created ${file} (${lineCount(args.replace)} lines)`);
    }
    if (current === undefined) return failure(`there is no file ${file}; to create it, pass an empty search`);
    const { search, replace } = matchLineEndings(current, args.search, args.replace);
    const at = findUnique(current, search, file);
    const next = current.slice(0, at) + replace + current.slice(at + search.length);
    await workspace.writeFile(file, next);
    const line = lineOf(current, at);
    return success(`edited ${file} at line ${line}: ${lineCount(search)} lines replaced by ${lineCount(replace)}`);
  },
});

function findUnique(text: string, search: string, file: string): number {
  const positions: number[] = [];
  for (let at = text.indexOf(search); at >= 0; at = text.indexOf(search, at + 1)) positions.push(at);
  if (positions.length === 1) return positions[0]!;
  if (positions.length > 1) {
    const lines = positions.slice(0, 5).map((at) => lineOf(text, at));
    throw new ToolInputError(`the search text occurs ${positions.length} times in ${file} (at lines ${lines.join(", ")}); include more surrounding lines so it matches exactly once`);
  }
  throw new ToolInputError(`the search text is not in ${file}${nearMiss(text, search)}; read_file ${file} again and copy the lines exactly (without line numbers)`);
}

/** A hint for the commonest miss: the right lines with different indentation or spacing. */
function nearMiss(text: string, search: string): string {
  const squeeze = (s: string) => s.replace(/\s+/g, " ").trim();
  const wanted = squeeze(search);
  if (wanted && squeeze(text).includes(wanted)) return " (it matches only when whitespace is ignored: check the indentation)";
  if (/^\s*\d+\| /m.test(search)) return " (it contains read_file's line numbers, which are not part of the file)";
  return "";
}

/** Models write \n; a file with \r\n line endings keeps them. */
function matchLineEndings(current: string, search: string, replace: string): { search: string; replace: string } {
  if (!current.includes("\r\n") || search.includes("\r\n")) return { search, replace };
  const crlf = (s: string) => s.replace(/\r?\n/g, "\r\n");
  return { search: crlf(search), replace: crlf(replace) };
}

function lineOf(text: string, at: number): number {
  return text.slice(0, at).split("\n").length;
}

function lineCount(text: string): number {
  if (text === "") return 0;
  return text.split("\n").length - (text.endsWith("\n") ? 1 : 0);
}

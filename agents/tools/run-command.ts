import { z } from "zod";
import { defineTool, success } from "./tool.js";

export const MAX_COMMAND_SECONDS = 300;

export const runCommand = defineTool({
  name: "run",
  description: `Run a shell command in the repository root inside the container (no network unless the user allowed it), with a time limit (default 60 s, at most ${MAX_COMMAND_SECONDS} s). Answers the exit code and output.`,
  schema: z.object({
    command: z.string().min(1).describe("a sh command line, e.g. python3 -c 'import pkg; print(pkg.f(2))'"),
    timeout_seconds: z.coerce.number().int().min(1).max(MAX_COMMAND_SECONDS).optional(),
  }),
  async run(args, { workspace }) {
    const result = await workspace.exec(["sh", "-c", args.command], { timeoutSeconds: args.timeout_seconds ?? 60 });
    const status = result.timedOut ? `timed out after ${args.timeout_seconds ?? 60} s` : `exit ${result.exitCode}`;
    const output = [result.stdout, result.stderr].filter((s) => s.trim()).join("\n--- stderr ---\n");
    return success(`${status}\n${output || "(no output)"}`, output);
  },
});

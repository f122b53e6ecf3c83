import { z } from "zod";
import { defineTool, success } from "./tool.js";

export const runTests = defineTool({
  name: "run_tests",
  description: "Run the repository's test command, or only the named tests (e.g. pytest node ids or test files). Answers pass/fail and the output.",
  schema: z.object({
    tests: z.array(z.string().min(1)).optional().describe("test ids or files to run; the whole suite when omitted"),
  }),
  async run(args, { runTests: run }) {
    const report = await run(args.tests?.length ? args.tests : undefined);
    const verdict = report.timedOut ? "TIMED OUT" : report.passed ? "PASSED" : `FAILED (exit ${report.exitCode})`;
    return success(`$ ${report.command}\n${verdict}\n${report.output}`, report.output);
  },
});

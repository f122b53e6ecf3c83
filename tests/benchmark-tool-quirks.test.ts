import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectEngine, inspectImage } from "../sandbox/engine.js";
import { buildWorkspaceImage, WORKSPACE_IMAGE } from "../sandbox/workspace-image.js";
import { openStore } from "../src/store/index.js";
import { readSuiteFile, resolveSuiteFile } from "../tasks/suite-file.js";
import type { ReferenceCall } from "../tasks/suite-schema.js";
import { koderz } from "./fixtures/koderz-cli.js";
import { withQuirk } from "./fixtures/model-quirks.js";
import type { ReceivedChat, ScriptedModelServer, ScriptedReply } from "./fixtures/scripted-model-server.js";
import { benchmarkRunIdFrom, startModelWorkDir, TEAM_ENV as env } from "./fixtures/team-workdir.js";

// `koderz benchmark --suite mixed` on its first agentic case through servers whose tool parser is
// off: the Coder's known-good tool calls arrive as text, in Qwen3-Coder's XML form or as Hermes
// JSON (formats and their documentation in tests/fixtures/model-quirks.ts). koderz must read
// them, run the same tools in the koderz-workspace container, score the case as passed, store
// non-zero tokens, and say in the trajectory that the calls were read from the text.

interface AgenticCase {
  goal: string;
  calls: ReferenceCall[];
}

let agentic: AgenticCase;
let first: number;
const servers: ScriptedModelServer[] = [];

function script(chat: ReceivedChat): ScriptedReply {
  if (!chat.prompt.includes(agentic.goal.trim())) return { text: "I cannot tell which case this is." };
  const role = /You are the (\w+)/.exec(chat.messages[0]?.content ?? "")?.[1];
  if (role !== "Coder") return { text: "Change what the goal names, then run the program." };
  if (chat.messages.at(-1)?.role === "tool") return { text: "Done." };
  return { text: "I will make the changes.", toolCalls: agentic.calls.map((call) => ({ name: call.tool, arguments: call.arguments })) };
}

beforeAll(async () => {
  if (!(await inspectImage(connectEngine(), WORKSPACE_IMAGE))) await buildWorkspaceImage();
  const all = readSuiteFile(resolveSuiteFile("mixed")).cases ?? [];
  first = all.findIndex((c) => c.workspace !== undefined);
  agentic = { goal: all[first]!.goal!, calls: all[first]!.reference_calls! };
}, 300_000);

afterAll(async () => {
  await Promise.all(servers.map((server) => server.close()));
});

describe.each([
  ["qwen3-xml-tools", "Qwen3-Coder's XML form"],
  ["hermes-tools", "Hermes JSON"],
] as const)("koderz benchmark through a %s server", (quirk, formatName) => {
  it("reads the calls from the text, runs them and scores the case", async () => {
    const { server, workDir } = await startModelWorkDir({ script: withQuirk(quirk, script), tempPrefix: `koderz-${quirk}-` });
    servers.push(server);
    const result = await koderz(["benchmark", "--suite", "mixed", String(first), String(first + 1), "--mode", "fast", "--sandbox", "process"], { cwd: workDir, env });
    expect(result.exitCode, result.stderr).toBe(0);

    const store = openStore({ path: path.join(workDir, "results", "koderz.db"), mustExist: true });
    try {
      const [experiment] = store.experiments(benchmarkRunIdFrom(result.stderr));
      expect(experiment!.success, experiment!.verdict).toBe(true);
      const steps = store.steps(experiment!.experimentId);
      expect(steps.filter((s) => s.action !== "model" && s.agent !== "koderz").map((s) => s.action)).toEqual(agentic.calls.map((call) => call.tool));
      // The calls came as text (the note says koderz read them there), and the text form is gone from the answer.
      const coderCall = steps.find((s) => s.agent === "Coder" && s.action === "model")!;
      expect(coderCall.response).toContain(`[koderz: tool calls read from the text (${formatName}): the server's tool parser is off]`);
      expect(coderCall.response).not.toContain("<tool_call>");
      for (const step of steps.filter((s) => s.action === "model")) expect(step.inputTokens + step.outputTokens).toBeGreaterThan(0);
    } finally {
      store.close();
    }
  }, 300_000);
});

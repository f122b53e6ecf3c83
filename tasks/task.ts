import type { ScoringSpec } from "./suite-schema.js";

/** A visible example taken from a problem's docstring: `>>> call` followed by the expected value. */
export interface DocstringExample {
  /** A Python expression, e.g. `has_close_elements([1.0, 2.0], 0.5)`. */
  call: string;
  /** The expected value as a Python expression, e.g. `False`. */
  expected: string;
}

/** The HumanEval-format datasets koderz knows by name (see dataset-location.ts). */
export type SuiteName = "humaneval" | "humaneval+";

/**
 * One function-synthesis problem. `hiddenTest` is the grader's test code and must never
 * be put into a prompt: agents see only `prompt` and `visibleExamples`.
 */
export interface Task {
  /** e.g. "HumanEval/0" */
  id: string;
  /** Position in its suite, so a range `0 164` means indices [0, 164). */
  index: number;
  /** The suite it came from: "humaneval", "humaneval+" or a suite file's name (tasks/suites/). */
  suite: string;
  /** The kind of work (coding, math, reasoning, ...): results are reported per category. */
  category?: string;
  /** A difficulty tier such as T1-T3, for tier summaries. */
  tier?: string;
  /** How the final answer is scored; without it, by the hidden test as HumanEval does. */
  scoring?: ScoringSpec;
  /** The grader's time limit in seconds when the suite sets one (long-input cases). */
  timeoutSeconds?: number;
  prompt: string;
  entryPoint: string;
  canonicalSolution: string;
  visibleExamples: DocstringExample[];
  /** Defines `check(candidate)`; the verdict program ends with `check(<entryPoint>)`. */
  hiddenTest: string;
  /** Agentic cases only: the agents work on the goal (`prompt`) with tools in a workspace holding these files. */
  workspace?: WorkspaceSetup;
}

/** Where an agentic case starts: the workspace's files, and what the agents are told and allowed. */
export interface WorkspaceSetup {
  /** Path (relative) -> text, written into a koderz-workspace container before the agents start. */
  files: Record<string, string>;
  /** The command the agents' run_tests tool and the orchestrator's checks run, when the case has one. */
  testCommand?: string;
  /** Tool calls all agents together may make. */
  maxToolCalls: number;
}

/**
 * What an agent (and the policy) may see of a task. Hidden tests and the canonical solution are
 * removed here, by type and by value, so no prompt can ever contain them: feedback comes only from
 * the docstring's examples and the Tester's own tests, which keeps iterative scores honest.
 */
export type PublicTask = Pick<Task, "id" | "prompt" | "entryPoint" | "visibleExamples">;

export function publicView(task: Task): PublicTask {
  return { id: task.id, prompt: task.prompt, entryPoint: task.entryPoint, visibleExamples: task.visibleExamples };
}

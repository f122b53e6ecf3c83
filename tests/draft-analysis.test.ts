import { describe, expect, it } from "vitest";
import { analyseDrafts, codeSimilarity, heavyModeFigures, type DraftStep } from "../src/store/index.js";
import { makeExperiment } from "./fixtures/store-fixtures.js";

// Heavy mode's K drafts, read from stored steps: how alike they are, whether they converge, what
// the hybrid and best-of-K bought.

const SUM = "def add_all(xs):\n    total = 0\n    for x in xs:\n        total += x\n    return total\n";
const SUM_RENAMED = "def add_all(xs):\n    # running sum\n    acc = 0\n    for item in xs:\n        acc  +=  item\n    return acc\n";
const SUM_BUILTIN = "def add_all(xs):\n    return sum(xs)\n";

function draft(code: string, visiblePassFraction?: number): DraftStep {
  return { agent: "Coder", code, prompt: "Complete the following Python function", visiblePassFraction };
}
const hybrid = (code: string, visiblePassFraction: number): DraftStep => ({ agent: "Coder", code, prompt: "Two candidates passed the most tests. Candidate A: ...", visiblePassFraction });
const planner: DraftStep = { agent: "Planner", prompt: "plan" };
const debuggerStep = (visiblePassFraction: number): DraftStep => ({ agent: "Debugger", code: SUM, prompt: "fix", visiblePassFraction });

describe("code similarity", () => {
  it("is 1 for the same code, and for the same code with other local names, comments and spacing", () => {
    expect(codeSimilarity(SUM, SUM)).toBe(1);
    expect(codeSimilarity(SUM, SUM_RENAMED)).toBe(1);
  });

  it("is lower for another way of writing the function, and keeps called builtins apart", () => {
    const other = codeSimilarity(SUM, SUM_BUILTIN);
    expect(other).toBeLessThan(0.6);
    expect(other).toBeGreaterThan(0);
    expect(codeSimilarity("def f(x):\n    return len(x)\n", "def f(x):\n    return max(x)\n")).toBeLessThan(1);
  });
});

describe("draft analysis", () => {
  it("two identical drafts converge with similarity 1, and best-of-K does not beat the first", () => {
    const analysis = analyseDrafts([planner, draft(SUM, 1), draft(SUM, 1)], { drafts: { inputs: 3, outputs: [["a", "b", "c"], ["a", "b", "c"]] } })!;
    expect(analysis).toMatchObject({ drafts: 2, codeSimilarity: 1, codeConverged: true, behaviourAgreement: 1, behaviourConverged: true, bestBeatsFirst: false });
    expect(analysis.hybridGain).toBeUndefined();
  });

  it("different drafts: mean pairwise similarity and agreement, the best beating the first, and the hybrid's gain over the best draft", () => {
    const steps = [planner, draft(SUM, 0.25), draft(SUM_RENAMED, 0.5), draft(SUM_BUILTIN, 0.75), debuggerStep(0.75), hybrid(SUM, 1)];
    const behaviour = { inputs: 4, outputs: [["1", "2", "3", "4"], ["1", "2", "3", "4"], ["1", "2", "!TypeError", "!TypeError"]] };
    const analysis = analyseDrafts(steps, { drafts: behaviour })!;
    expect(analysis.drafts).toBe(3);
    const expected = (1 + codeSimilarity(SUM, SUM_BUILTIN) + codeSimilarity(SUM_RENAMED, SUM_BUILTIN)) / 3;
    expect(analysis.codeSimilarity).toBeCloseTo(expected, 10);
    expect(analysis.codeConverged).toBe(false);
    // pairs: (0,1) agree on 4/4, (0,2) and (1,2) on 2/4.
    expect(analysis.behaviourAgreement).toBeCloseTo((1 + 0.5 + 0.5) / 3, 10);
    expect(analysis.behaviourConverged).toBe(false);
    expect(analysis).toMatchObject({ firstDraftScore: 0.25, bestDraftScore: 0.75, bestBeatsFirst: true });
    expect(analysis.hybridGain).toBeCloseTo(0.25, 10);
  });

  it("a run with one draft per Coder step (fast, standard) has nothing to analyse", () => {
    expect(analyseDrafts([planner, draft(SUM, 0.5), debuggerStep(1), draft(SUM, 1)].slice(0, 3))).toBeUndefined();
    expect(analyseDrafts([])).toBeUndefined();
  });

  it("an arm's figures: convergence and best-of-K rates in percent, the hybrid's mean gain over the runs that had one", () => {
    const a = makeExperiment({ runId: "bench_0000abcd_20250101_100000", arm: "deep", problemId: "HumanEval/0", success: true });
    const b = makeExperiment({ runId: "bench_0000abcd_20250101_100000", arm: "deep", problemId: "HumanEval/1", success: true });
    const c = makeExperiment({ runId: "bench_0000abcd_20250101_100000", arm: "deep", problemId: "HumanEval/2", success: true });
    const steps: Record<string, DraftStep[]> = {
      [a.experimentId]: [draft(SUM, 1), draft(SUM, 1)],
      [b.experimentId]: [draft(SUM, 0), draft(SUM_BUILTIN, 0.5), hybrid(SUM, 0.5)],
      [c.experimentId]: [draft(SUM, 1)],
    };
    const figures = heavyModeFigures([a, b, c], (id) => steps[id]!)!;
    expect(figures).toMatchObject({ experiments: 2, meanDrafts: 2, codeConvergenceRate: 0.5, behaviourMeasured: 0, meanBehaviourAgreement: null, hybridRuns: 1, meanHybridGain: 0, bestOfKBeatsFirstRate: 0.5 });
    // Runs recorded before drafts were scored have no verdict figures, and say so with nulls.
    expect(figures).toMatchObject({ verdictsMeasured: 0, verdictBestOfKBeatsFirstRate: null, verdictHybridGain: null });
    expect(heavyModeFigures([c], (id) => steps[id]!)).toBeUndefined();
  });

  it("by the scorer's verdicts on the drafts: best-of-K rescues a failed first draft, and the hybrid's gain over the best draft", () => {
    const run = "bench_0000abcd_20250101_100000";
    const rescued = makeExperiment({ runId: run, arm: "deep", problemId: "HumanEval/0", success: true, measures: { draftVerdicts: { drafts: [false, true], hybrid: true } } });
    const lost = makeExperiment({ runId: run, arm: "deep", problemId: "HumanEval/1", success: false, measures: { draftVerdicts: { drafts: [true, true], hybrid: false } } });
    const none = makeExperiment({ runId: run, arm: "deep", problemId: "HumanEval/2", success: false, measures: { draftVerdicts: { drafts: [false, false] } } });
    const steps: Record<string, DraftStep[]> = {
      [rescued.experimentId]: [draft(SUM, 1), draft(SUM_BUILTIN, 1), hybrid(SUM, 1)],
      [lost.experimentId]: [draft(SUM, 1), draft(SUM_BUILTIN, 1), hybrid(SUM, 1)],
      [none.experimentId]: [draft(SUM, 0), draft(SUM_BUILTIN, 0)],
    };
    const figures = heavyModeFigures([rescued, lost, none], (id) => steps[id]!)!;
    // The visible examples saw no difference anywhere; the verdicts did.
    expect(figures).toMatchObject({ bestOfKBeatsFirstRate: 0, meanHybridGain: 0 });
    expect(figures.verdictsMeasured).toBe(3);
    expect(figures.verdictBestOfKBeatsFirstRate).toBeCloseTo(1 / 3, 10);
    // Hybrids: +0 where the best draft passed and the hybrid too, -1 where the hybrid broke it.
    expect(figures.verdictHybridGain).toBeCloseTo(-0.5, 10);
  });
});

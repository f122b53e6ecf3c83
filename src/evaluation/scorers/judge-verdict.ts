import { z } from "zod";

/**
 * The judge model's answer for a rubric: one 1-5 score and a reason per criterion it was asked
 * about. Checked with zod: an answer that is not this shape, leaves a criterion out or scores off
 * the scale decides nothing (the criterion counts 0 and the case cannot pass).
 */
export const JudgeVerdictSchema = z.strictObject({
  criteria: z.array(
    z.strictObject({
      name: z.string(),
      score: z.number().int("must be a whole number").min(1, "must be 1 to 5").max(5, "must be 1 to 5"),
      reason: z.string(),
    }),
  ),
});
export type JudgeVerdict = z.infer<typeof JudgeVerdictSchema>;

export type JudgeReading = { ok: true; scores: Map<string, { score: number; reason: string }> } | { ok: false; error: string };

/** Reads the judge's text (bare JSON or one fenced block) against the criteria it was asked about. */
export function readJudgeVerdict(text: string, asked: readonly string[]): JudgeReading {
  const body = /```(?:json)?\s*\n([\s\S]*?)```/.exec(text)?.[1] ?? text;
  let json: unknown;
  try {
    json = JSON.parse(body.trim());
  } catch {
    return { ok: false, error: `the judge's answer is not JSON: ${JSON.stringify(text.slice(0, 120))}` };
  }
  const parsed = JudgeVerdictSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return { ok: false, error: `the judge's answer does not fit the verdict format at ${issue.path.join(".") || "(top)"}: ${issue.message}` };
  }
  const scores = new Map(parsed.data.criteria.map((c) => [c.name, { score: c.score, reason: c.reason }]));
  const missing = asked.filter((name) => !scores.has(name));
  if (missing.length) return { ok: false, error: `the judge's answer has no score for ${missing.map((m) => JSON.stringify(m)).join(", ")}` };
  return { ok: true, scores };
}

/**
 * Known mistakes in published dataset files, corrected when loading. Each fix applies only where
 * the exact wrong text is found, so a corrected upstream file passes through untouched.
 * docs/dataset-errata.md lists every corrected task and what changed.
 */
export interface Erratum {
  taskId: string;
  wrong: string;
  right: string;
  why: string;
}

/**
 * HumanEvalPlus-OriginFmt's `assertion` helper compares a float answer (or a list of floats) with
 * np.allclose alone, and np.allclose broadcasts: an answer of `[]` against an expected 3.5 is
 * vacuously close, `[3.5]` is close to 3.5, one number is close to a list of equal numbers. On
 * HumanEval+ 2, 4 and 45 every expected value is a float, so `return []` passed the whole test.
 * EvalPlus's own evaluator checks type and length before np.allclose; the correction checks the
 * shape only, the smallest change that refuses a wrong-shaped answer (a list where a tuple is
 * expected keeps the reference's verdict).
 */
const ALLCLOSE_WRONG = "    if not exact_match and atol != 0:\n        assert np.allclose(out, exp, rtol=1e-07, atol=atol)";
const ALLCLOSE_RIGHT =
  "    if not exact_match and atol != 0:\n" +
  "        assert np.shape(out) == np.shape(exp), \"the answer's shape differs from the expected value's\"\n" +
  "        assert np.allclose(out, exp, rtol=1e-07, atol=atol)";

/**
 * The HumanEval+ tasks whose test reaches np.allclose for at least one input (an expected float,
 * list or tuple of floats, the empty list included, or a non-zero atol): only there can the
 * correction change a verdict. Found by running each test's check() with `assertion` recording
 * its arguments; docs/dataset-errata.md has how many inputs of each reach it.
 */
export const ALLCLOSE_TASKS = [
  1, 2, 4, 5, 6, 7, 9, 14, 17, 20, 21, 22, 26, 29, 30, 33, 34, 35, 37, 42, 45, 47, 58, 62, 68, 70, 71, 74, 81, 87, 88, 96, 101, 104, 105, 106,
  113, 116, 117, 120, 137, 145, 148, 149, 152, 163,
].map((n) => `HumanEval/${n}`);

export const ERRATA: readonly Erratum[] = [
  {
    taskId: "HumanEval/32",
    wrong: "assert _poly(*candidate(*inp), inp) <= 0.0001",
    right: "assert abs(_poly(*inp, candidate(*inp))) <= 0.0001",
    why:
      "HumanEvalPlus-OriginFmt v0.1.10 unpacks the float find_zero returns (a TypeError for every " +
      "solution, the canonical one included); EvalPlus's own oracle checks abs(_poly(*inp, out)) <= atol, atol 1e-4",
  },
  ...ALLCLOSE_TASKS.map((taskId) => ({
    taskId,
    wrong: ALLCLOSE_WRONG,
    right: ALLCLOSE_RIGHT,
    why: "HumanEvalPlus-OriginFmt's assertion() lets np.allclose broadcast a wrong-shaped answer (`[]` is close to any float); the answer's shape must now be the expected value's",
  })),
];

/** The hidden test of a task with any known erratum corrected. */
export function correctedTest(taskId: string, test: string): string {
  let corrected = test;
  for (const erratum of ERRATA) {
    if (erratum.taskId === taskId) corrected = corrected.split(erratum.wrong).join(erratum.right);
  }
  return corrected;
}

/**
 * Known mistakes in published dataset files, corrected when loading. Each fix applies only where
 * the exact wrong text is found, so a corrected upstream file passes through untouched.
 */
interface Erratum {
  taskId: string;
  wrong: string;
  right: string;
  why: string;
}

const ERRATA: Erratum[] = [
  {
    taskId: "HumanEval/32",
    wrong: "assert _poly(*candidate(*inp), inp) <= 0.0001",
    right: "assert abs(_poly(*inp, candidate(*inp))) <= 0.0001",
    why:
      "HumanEvalPlus-OriginFmt v0.1.10 unpacks the float find_zero returns (a TypeError for every " +
      "solution, the canonical one included); EvalPlus's own oracle checks abs(_poly(*inp, out)) <= atol, atol 1e-4",
  },
];

/** The hidden test of a task with any known erratum corrected. */
export function correctedTest(taskId: string, test: string): string {
  let corrected = test;
  for (const erratum of ERRATA) {
    if (erratum.taskId === taskId) corrected = corrected.split(erratum.wrong).join(erratum.right);
  }
  return corrected;
}

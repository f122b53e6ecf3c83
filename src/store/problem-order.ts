/**
 * Problems in the order a person expects: HumanEval/2 before HumanEval/10. Every listing and
 * the summary JSON use it, so output does not depend on the order concurrent workers finished in.
 */
const collator = new Intl.Collator("en", { numeric: true });

export function compareProblemIds(a: string, b: string): number {
  return collator.compare(a, b) || (a < b ? -1 : a > b ? 1 : 0);
}

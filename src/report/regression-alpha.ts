/** Significance level of `compare --fail-on-regression` (McNemar's p), in a module of its own so that the command's help names it without loading the store. */
export const DEFAULT_REGRESSION_ALPHA = 0.05;

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

/**
 * A directory, for this test run only, where test files share the reference harness's verdicts on
 * the same programs (several files compare against the oracle on the GPT-4 samples; each file runs
 * in its own worker, so an in-memory cache would not reach the others). Workers start after this
 * and inherit the variable; the directory goes at the end of the run.
 */
export default function oracleCache(): () => void {
  const dir = mkdtempSync(path.join(tmpdir(), "koderz-oracle-cache-"));
  process.env.KODERZ_TEST_ORACLE_CACHE = dir;
  return () => rmSync(dir, { recursive: true, force: true });
}

import { execa } from "execa";
import { repoRoot } from "../fixtures/datasets.js";

/** End-to-end tests run the real `koderz` binary from dist/: build it once, from the sources under test (tsc -b: a second of checking when dist/ is up to date). */
export default async function buildCli(): Promise<void> {
  await execa("npx", ["tsc", "-b", "tsconfig.json"], { cwd: repoRoot, stdio: "inherit" });
}

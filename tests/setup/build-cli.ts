import { execa } from "execa";
import { repoRoot } from "../fixtures/datasets.js";

/** End-to-end tests run the real `koderz` binary from dist/: build it once, from the sources under test. */
export default async function buildCli(): Promise<void> {
  await execa("npx", ["tsc", "-p", "tsconfig.json"], { cwd: repoRoot, stdio: "inherit" });
}

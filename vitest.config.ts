import { defineConfig } from "vitest/config";

/**
 * Files that measure what the sandbox enforces (fork bombs, memory and process limits, time
 * limits scaled from a run): they run after the rest, one at a time, so no other test shares the
 * machine with them. Sandbox program uids are the same for every sandbox on the machine, so a
 * process limit counts another file's programs too.
 */
const alone = ["tests/sandbox-security.test.ts", "tests/sandbox-forgery.test.ts", "tests/evaluate-time-limits.test.ts"];

const timeouts = { testTimeout: 120_000, hookTimeout: 300_000 };

export default defineConfig({
  test: {
    // Once for the whole run: build dist/ (the CLI under test), share the oracle's verdicts.
    globalSetup: ["tests/setup/build-cli.ts", "tests/setup/oracle-cache.ts"],
    projects: [
      // Two files at a time: most tests wait on processes, containers and sockets, not the CPU.
      // A worker keeps its modules from one file to the next (isolate: false): importing them
      // afresh for each of ~90 files cost ~60 s of CPU (measured: the suite 568 s against 684 s).
      // So a test file restores what it changes (spies, process.env, process.exitCode).
      { test: { name: "shared", include: ["tests/**/*.test.ts"], exclude: alone, maxWorkers: 2, isolate: false, sequence: { groupOrder: 0 }, ...timeouts } },
      { test: { name: "alone", include: alone, maxWorkers: 1, sequence: { groupOrder: 1 }, ...timeouts } },
    ],
  },
});

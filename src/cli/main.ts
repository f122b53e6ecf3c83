#!/usr/bin/env node
import { Command, CommanderError } from "commander";
import { KoderzError } from "../errors.js";
import { registerCommands } from "./commands.js";

const program = new Command()
  .name("koderz")
  .description("Coding agents that evaluate themselves, with verdicts from a Docker sandbox.")
  .version("0.1.0")
  .showHelpAfterError("(run with --help for usage)")
  .exitOverride();

// A reader that stops early (`koderz results show RUN | head`) closes the pipe: that is the
// reader's choice, not a failure, so koderz ends quietly instead of printing a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw error;
  });
}

await registerCommands(program, process.argv);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  process.exitCode = exitCodeFor(error);
}

function exitCodeFor(error: unknown): number {
  if (error instanceof CommanderError) {
    // commander already printed its message; help and version are not failures.
    return error.exitCode === 0 ? 0 : 2;
  }
  if (error instanceof KoderzError) {
    process.stderr.write(error.toUserText() + "\n");
    return error.exitCode;
  }
  const system = error as NodeJS.ErrnoException | undefined;
  if (system instanceof Error && typeof system.code === "string" && typeof system.path === "string") {
    // A file koderz could not read or write: say which one and why, without a stack trace.
    process.stderr.write(`error: cannot ${system.syscall ?? "use"} ${system.path}: ${system.code}\n  fix: check that the path exists and that you may read or write it\n`);
    return 1;
  }
  process.stderr.write(`internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  return 1;
}

import type { Command } from "commander";
import { registerSpeedTestCommand } from "./speed-test.js";

/** Every command lives in its own file and registers itself here, one line each. */
export function registerCommands(program: Command): void {
  void program;
  registerSpeedTestCommand(program);
}

import type { Command } from "commander";
import { z } from "zod";
import { SANDBOX_IMAGE, WORKSPACE_IMAGE } from "../../sandbox/image-names.js";
import { parseOptions } from "./parse.js";

const BuildOptions = z.object({ force: z.boolean().default(false), workspace: z.boolean().default(false) });
const StatusOptions = z.object({ json: z.boolean().default(false) });

/** `koderz sandbox build [--force]` and `koderz sandbox status [--json]`. */
export function registerSandboxCommand(program: Command): void {
  const sandbox = program.command("sandbox");

  sandbox
    .command("build")
    .description(`build the Docker image ${SANDBOX_IMAGE} (Python 3 with numpy): from a registry image, else from Debian packages`)
    .option("--force", "rebuild even when the image exists")
    .option("--workspace", `also build ${WORKSPACE_IMAGE}, the image \`koderz solve\` runs repositories in (pytest, node, npm, git)`)
    .action(async (raw: unknown) => {
      const options = parseOptions(BuildOptions, raw);
      await (await import("./sandbox-run.js")).buildImages(options);
    });

  sandbox
    .command("status")
    .description("tell whether the Docker engine answers, whether the image exists, and what the process sandbox would give; exit 1 when the Docker sandbox is not ready")
    .option("--json", "print the facts as JSON")
    .action(async (raw: unknown) => {
      const options = parseOptions(StatusOptions, raw);
      await (await import("./sandbox-run.js")).printStatus(options);
    });
}

import type { Command } from "commander";
import { SANDBOX_IMAGE, WORKSPACE_IMAGE } from "../../sandbox/image-names.js";

/** `koderz sandbox build [--force]` and `koderz sandbox status [--json]`. */
export function registerSandboxCommand(program: Command): void {
  const sandbox = program.command("sandbox");

  sandbox
    .command("build")
    .description(`build the Docker image ${SANDBOX_IMAGE} (Python 3 with numpy): from a registry image, else from Debian packages`)
    .option("--force", "rebuild even when the image exists")
    .option("--workspace", `also build ${WORKSPACE_IMAGE}, the image \`koderz solve\` runs repositories in (pytest, node, npm, git)`)
    // Switches only: commander gives true or leaves them out.
    .action(async (raw: { force?: boolean; workspace?: boolean }) => {
      await (await import("./sandbox-run.js")).buildImages({ force: raw.force === true, workspace: raw.workspace === true });
    });

  sandbox
    .command("status")
    .description("tell whether the Docker engine answers, whether the image exists, and what the process sandbox would give; exit 1 when the Docker sandbox is not ready")
    .option("--json", "print the facts as JSON")
    .action(async (raw: { json?: boolean }) => {
      await (await import("./sandbox-run.js")).printStatus({ json: raw.json === true });
    });
}

import { DockerSandbox } from "../../sandbox/docker-sandbox.js";
import { ProcessSandbox } from "../../sandbox/process-sandbox.js";
import type { Sandbox } from "../../sandbox/sandbox.js";
import { requireDockerSandbox } from "./docker.js";

/** Both sandboxes, for tests that expect the same behaviour of each. */
export const BOTH_SANDBOXES: { name: string; open: () => Promise<Sandbox> }[] = [
  {
    name: "docker",
    open: async () => {
      await requireDockerSandbox();
      return new DockerSandbox();
    },
  },
  { name: "process", open: () => ProcessSandbox.open() },
];

/**
 * Opens one of BOTH_SANDBOXES for tests of the fences between programs: those need programs under
 * uids of their own, which the process sandbox gives only as root (else they share the runner's).
 */
export async function openWithProgramUids({ name, open }: (typeof BOTH_SANDBOXES)[number]): Promise<Sandbox> {
  const sandbox = await open();
  if (sandbox instanceof ProcessSandbox && !sandbox.isolation.programUids) {
    await sandbox.close();
    throw new Error(`the ${name} sandbox runs programs under the caller's uid here; these tests need root`);
  }
  return sandbox;
}

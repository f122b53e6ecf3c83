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

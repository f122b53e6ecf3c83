import { OWNER_LABEL } from "../../sandbox/docker-sandbox.js";
import { connectEngine, engineAddress, engineAnswers, inspectImage, SANDBOX_IMAGE } from "../../sandbox/engine.js";

/**
 * Docker-backed tests use the real engine and the real image. When either is missing this
 * fails with what to do, rather than skipping: a skipped security test would pass CI silently.
 */
export async function requireDockerSandbox(): Promise<void> {
  const docker = connectEngine();
  if (!(await engineAnswers(docker))) {
    throw new Error(`these tests need a Docker engine, and none answered at ${engineAddress()}: start one (nohup dockerd >/tmp/dockerd.log 2>&1 &)`);
  }
  if (!(await inspectImage(docker, SANDBOX_IMAGE))) {
    throw new Error(`these tests need the image ${SANDBOX_IMAGE}: build it with \`koderz sandbox build\` (npm run build && node dist/src/cli/main.js sandbox build)`);
  }
}

/** Containers of this process's sandbox batches still on the engine (running or stopped). */
export async function sandboxContainers(): Promise<string[]> {
  const listed = await connectEngine().listContainers({ all: true, filters: { label: [`${OWNER_LABEL}=${process.pid}`] } });
  return listed.map((container) => container.Id);
}


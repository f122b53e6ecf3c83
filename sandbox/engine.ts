import { createRequire } from "node:module";
import type Docker from "dockerode";
import { z } from "zod";
import { SANDBOX_IMAGE } from "./image-names.js";

export { SANDBOX_IMAGE };

/**
 * A client for the engine that DOCKER_HOST names, else the local socket. The client is required
 * here, not imported at the top: with its gRPC and SSH modules it is some 190 files, which a
 * command that never talks to Docker (a process-sandbox run, a usage error) does not load.
 */
export function connectEngine(): Docker {
  const DockerClient = createRequire(import.meta.url)("dockerode") as typeof Docker;
  return new DockerClient();
}

/** Where the client looks for the engine, for messages. */
export function engineAddress(): string {
  return process.env.DOCKER_HOST ?? "/var/run/docker.sock";
}

/** Whether an engine answers within `timeoutMs`; a missing socket fails at once. */
export async function engineAnswers(docker: Docker, timeoutMs = 3000): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    const ping = docker.ping().then(
      () => true,
      () => false,
    );
    return await Promise.race([ping, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export interface ImageFacts {
  id: string;
  created: string;
  sizeBytes: number;
}

/** The image's facts, or null when the engine has no image of that name. */
export async function inspectImage(docker: Docker, image = SANDBOX_IMAGE): Promise<ImageFacts | null> {
  try {
    const info = await docker.getImage(image).inspect();
    return { id: info.Id, created: info.Created, sizeBytes: info.Size };
  } catch (error) {
    if (statusCode(error) === 404) return null;
    throw error;
  }
}

const engineInfo = z.object({ CgroupVersion: z.enum(["1", "2"]).optional() });

/**
 * The cgroup version the engine runs its containers under (null: it did not say). On v1 a
 * container shares the host's cgroup namespace, so no cgroup can be made for one program
 * inside it: the container's cgroup holds the batch as a whole.
 */
export async function engineCgroupVersion(docker: Docker): Promise<1 | 2 | null> {
  const parsed = engineInfo.safeParse(await docker.info().catch(() => null));
  return parsed.success && parsed.data.CgroupVersion ? (Number(parsed.data.CgroupVersion) as 1 | 2) : null;
}

/** The HTTP status of a dockerode error, when it has one. */
export function statusCode(error: unknown): number | undefined {
  if (typeof error === "object" && error !== null && "statusCode" in error) {
    const code = (error as { statusCode: unknown }).statusCode;
    return typeof code === "number" ? code : undefined;
  }
  return undefined;
}

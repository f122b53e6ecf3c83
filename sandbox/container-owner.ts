import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import type Docker from "dockerode";

/**
 * Who owns a koderz container: this host, this process, and when the process started (a reused
 * pid is another process). Containers carry these labels so that what a process killed with -9
 * left behind can be told from what live processes, here or on other hosts, still use.
 */
const OWNER_HOST_LABEL = "koderz.owner-host";
const OWNER_PID_LABEL = "koderz.owner-pid";
const OWNER_START_LABEL = "koderz.owner-start";

export function ownerLabels(): Record<string, string> {
  return { [OWNER_HOST_LABEL]: hostname(), [OWNER_PID_LABEL]: String(process.pid), [OWNER_START_LABEL]: processStart(process.pid) ?? "" };
}

/**
 * Removes the containers with `label` (a "key=value" filter) whose owner process, on this host,
 * is gone. Containers of live processes and of other hosts that share the engine are left
 * alone. Returns the ids removed.
 */
export async function removeOrphans(docker: Docker, label: string): Promise<string[]> {
  const containers = await docker.listContainers({ all: true, filters: { label: [label] } });
  const removed: string[] = [];
  for (const info of containers) {
    const labels = info.Labels ?? {};
    const pid = Number(labels[OWNER_PID_LABEL]);
    if (labels[OWNER_HOST_LABEL] !== hostname() || !Number.isInteger(pid) || pid <= 0) continue;
    if (processAlive(pid, labels[OWNER_START_LABEL] || undefined)) continue;
    await docker
      .getContainer(info.Id)
      .remove({ force: true })
      .then(() => removed.push(info.Id))
      // Another process may be removing it at the same moment.
      .catch(() => undefined);
  }
  return removed;
}

/** The process's start time in clock ticks since boot (field 22 of /proc/PID/stat), where /proc exists. */
function processStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may hold spaces and parentheses; the fields after it do not.
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

function processAlive(pid: number, start: string | undefined): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: it exists, under another user.
    if ((error as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  const now = processStart(pid);
  return !start || now === undefined || now === start;
}

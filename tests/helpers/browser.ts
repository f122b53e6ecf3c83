import { existsSync } from "node:fs";
import { chromium, type Browser, type Page } from "playwright-core";

/** Debian's chromium (`apt-get install -y chromium`; .ci/run installs it); KODERZ_CHROMIUM points elsewhere. */
export const CHROMIUM_PATH = process.env.KODERZ_CHROMIUM ?? "/usr/bin/chromium";

/**
 * Headless Chromium for end-to-end tests. The flags keep it off the network on its own
 * (component updates, sync, QUIC probes): on a closed machine it would otherwise stall trying.
 */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`no Chromium at ${CHROMIUM_PATH}: install it with \`apt-get install -y chromium\` or set KODERZ_CHROMIUM`);
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}

/**
 * Aborts and records every request the page makes to a URL `allowed` rejects, so a test can
 * assert the page stayed within its origin (or file://).
 */
export async function recordForeignRequests(page: Page, allowed: (url: string) => boolean): Promise<string[]> {
  const foreign: string[] = [];
  await page.route("**/*", async (route) => {
    const url = route.request().url();
    if (allowed(url)) return route.continue();
    foreign.push(url);
    return route.abort();
  });
  return foreign;
}

/** Errors the page threw or logged: a page that renders but throws is still broken. */
export function collectPageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text());
  });
  return errors;
}

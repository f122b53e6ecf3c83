import type { Browser, Page } from "playwright-core";
import { openStore, type Store } from "../../src/store/index.js";
import { startViewer, type RunningViewer } from "../../src/report/viewer/server.js";
import { tempStore } from "../fixtures/store-fixtures.js";
import { collectPageErrors, launchChromium, recordForeignRequests } from "./browser.js";

export type ViewerPage = "runs" | "run" | "experiment" | "compare" | "error";

export interface ViewerInBrowser {
  /** The store the test writes; the viewer has its own connection, as beside a running benchmark. */
  store: Store;
  viewer: RunningViewer;
  browser: Browser;
  /** At 1280 px, opened at the runs list. */
  page: Page;
  pageErrors: string[];
  /** Requests the page made outside the viewer's origin (aborted). */
  foreignRequests: string[];
  close(): Promise<void>;
}

/** `koderz view` over a temporary store that `build` fills, open in headless Chromium at its runs list. */
export async function openViewerInBrowser(build: (store: Store) => void): Promise<ViewerInBrowser> {
  const { store, cleanup, dbPath } = tempStore();
  build(store);
  const viewerStore = openStore({ path: dbPath, mustExist: true });
  const viewer = await startViewer({ store: viewerStore, host: "127.0.0.1", port: 0 });
  const browser = await launchChromium();
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const pageErrors = collectPageErrors(page);
  const foreignRequests = await recordForeignRequests(page, (url) => url.startsWith(viewer.url));
  await page.goto(viewer.url);
  await page.waitForSelector('#app[data-view="runs"]');
  const close = async () => {
    await browser.close();
    await viewer.close();
    viewerStore.close();
    cleanup();
  };
  return { store, viewer, browser, page, pageErrors, foreignRequests, close };
}

/** Does something that changes the page, then waits for the viewer to finish drawing `view`. */
export async function showView(page: Page, view: ViewerPage, action: () => Promise<unknown>): Promise<void> {
  await page.evaluate(() => document.getElementById("app")!.removeAttribute("data-view"));
  await action();
  await page.waitForSelector(`#app[data-view="${view}"]`);
}

// The images koderz builds, by name: light, so a command's help and usage errors need no Docker client.

/** The image every Docker sandbox runs: Python 3 with numpy (built by `koderz sandbox build`). */
export const SANDBOX_IMAGE = "koderz-sandbox";

/** The image `koderz solve` works in: a Debian root file system with what the common test runners need. */
export const WORKSPACE_IMAGE = "koderz-workspace";

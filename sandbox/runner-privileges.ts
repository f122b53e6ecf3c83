/**
 * The capabilities the runner keeps in either sandbox (it starts as root there): enough to hand
 * each program a uid of its own slot, nothing more. Docker names them without the CAP_ prefix,
 * bubblewrap with it. Programs keep none: a setuid away from root clears every capability.
 */
export const RUNNER_CAPABILITIES = ["SETUID", "SETGID"] as const;

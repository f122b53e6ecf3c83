/**
 * The capabilities the runner keeps in either sandbox (it starts as root there): SETUID and
 * SETGID to hand each program a uid of its own slot, SYS_ADMIN to give each program an IPC
 * namespace of its own (unshare(CLONE_NEWIPC)). Docker names them without the CAP_ prefix,
 * bubblewrap with it. Programs keep none: a setuid away from root clears every capability, and
 * no new privileges stops them gaining any back. SYS_ADMIN also makes Docker's default seccomp
 * profile allow namespaces and mounts to every process of the container, so the runner refuses
 * to start without its own seccomp filter, which each candidate installs before its program
 * (sandbox/runner.py, ProgramIsolation); the runner's main process and reapers drop SYS_ADMIN
 * once its launcher is forked.
 */
export const RUNNER_CAPABILITIES = ["SETUID", "SETGID", "SYS_ADMIN"] as const;

/** What the runner needs when it cannot filter its programs' syscalls: no IPC namespace per program then. */
export const RUNNER_CAPABILITIES_UNFILTERED = ["SETUID", "SETGID"] as const;

/**
 * The process sandbox run by another user than root: bubblewrap's user namespace gives the runner
 * SYS_ADMIN over the namespaces it owns (an IPC namespace per program, no power over the host);
 * programs share the runner's uid there, and each candidate drops it before its program.
 */
export const RUNNER_CAPABILITIES_IN_USER_NAMESPACE = ["SYS_ADMIN"] as const;

import { createServer } from "node:net";

export interface LoopbackListener {
  port: number;
  /** Connections accepted so far: a sandboxed program that reaches the host shows up here. */
  connections(): number;
  close(): Promise<void>;
}

/** A TCP listener on the host's 127.0.0.1, the only address network attacks in tests aim at. */
export async function listenOnLoopback(): Promise<LoopbackListener> {
  let accepted = 0;
  const server = createServer((socket) => {
    accepted += 1;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("listener has no port");
  return {
    port: address.port,
    connections: () => accepted,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

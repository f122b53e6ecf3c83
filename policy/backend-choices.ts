/**
 * The tensor backends `--backend` may name (see backend.ts for what each is). Their own module,
 * so that a command can check the flag without loading TensorFlow.js.
 */
export const BACKEND_CHOICES = ["auto", "wasm", "cpu", "node", "node-gpu"] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];

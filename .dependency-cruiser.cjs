/**
 * koderz's boundaries, checked by `npm run lint` (dependency-cruiser). docs/ARCHITECTURE.md draws
 * the same arrows; change both together.
 *
 * Folders sit in layers, top to bottom. A folder may import any folder in a lower layer, never one
 * in its own layer or above: data flows one way, and a newcomer can read the house from the top.
 */
const LAYERS = [
  ["src/cli", "bench"], // entry points: flags, printing, benchmarks
  ["src/queue", "src/mcp"], // products over the layers below: workers, the MCP server
  ["src/orchestrator", "src/report"], // running teams of agents; reading what they recorded
  ["training"], // environments, rewards and the training loop
  ["policy"], // features, the network, the mode a policy picks
  ["agents"], // one file per role: prompt, input, parsing
  ["src/evaluation"], // verdicts, visible and hidden tests, sanitizer, pass@k
  ["src/store"], // the only code that writes run data
  ["sandbox", "tasks", "src/llm"], // running code; where problems come from; model backends
];

/** Files directly in src/ (errors, atomic output files): everyone's ground floor, importing none of the folders. */
const GROUND = "^src/[^/]+$";

const escape = (folder) => folder.replace(/[.]/g, "\\.");
const anyOf = (folders) => `^(${folders.map(escape).join("|")})/`;

const layerRules = LAYERS.map((layer, index) => ({
  name: `layer-${layer.join("+")}`,
  comment: `${layer.join(", ")} may import only folders in lower layers (see .dependency-cruiser.cjs LAYERS)`,
  severity: "error",
  // $1 is the importing file's own folder: imports inside one folder are its own business.
  from: { path: anyOf(layer) },
  to: { path: anyOf(LAYERS.slice(0, index + 1).flat()), pathNot: "^$1/" },
}));

module.exports = {
  forbidden: [
    {
      name: "no-circular",
      comment: "a cycle makes two modules one; cut it by moving what both need to a lower module",
      severity: "error",
      from: {},
      to: { circular: true },
    },
    ...layerRules,
    {
      name: "ground-imports-no-folder",
      comment: "files directly in src/ are imported by every layer, so they import none",
      severity: "error",
      from: { path: GROUND },
      to: { path: anyOf(LAYERS.flat()) },
    },
    {
      name: "store-through-its-index",
      comment: "outside src/store, import the store from src/store/index.ts, its public surface (or postgres-url.ts and records.ts, which usage checks and help read without loading the store)",
      severity: "error",
      from: { pathNot: "^src/store/" },
      to: { path: "^src/store/", pathNot: "^src/store/(index|postgres-url|records)\\.ts$" },
    },
    // Implied by the layers, spelled out because they are the ones most tempting to break.
    {
      name: "agents-never-import-the-orchestrator",
      comment: "an agent does not know how it was scheduled",
      severity: "error",
      from: { path: "^agents/" },
      to: { path: "^src/orchestrator/" },
    },
    {
      name: "policy-and-training-never-import-the-cli",
      comment: "flags and printing belong to src/cli; the policy and its training take values",
      severity: "error",
      from: { path: "^(policy|training)/" },
      to: { path: "^src/cli/" },
    },
  ],
  options: {
    // Type-only imports count: a type from above is a dependency on above all the same.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    // The tests may reach into any module; bench/ borrows their fixtures, but their imports are not checked.
    doNotFollow: { path: ["node_modules", "^tests/"] },
    exclude: { path: "(^|/)(node_modules|dist)/" },
  },
};

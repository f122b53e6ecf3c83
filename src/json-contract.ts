/**
 * The JSON contract every koderz document follows (`--json` output, summary and export files, MCP
 * answers): camelCase keys, shares as fractions in [0, 1], null (never 0) for what is not known,
 * and this version on every top-level document. It changes when a document's shape does; the
 * shapes are in docs/schemas/ (generated from src/cli/json-documents.ts).
 */
export const SCHEMA_VERSION = 1 as const;

// Writes docs/schemas/<name>.schema.json from the zod schemas in src/cli/json-documents.ts
// (`npm run schemas`); tests/json-contract.test.ts fails when a file is not current.
import { writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { JSON_DOCUMENTS, jsonSchemaText } from "../dist/src/cli/json-documents.js";

const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "docs", "schemas");
for (const document of JSON_DOCUMENTS) {
  const file = path.join(dir, `${document.name}.schema.json`);
  writeFileSync(file, jsonSchemaText(document));
  process.stdout.write(`${path.relative(process.cwd(), file)}\n`);
}

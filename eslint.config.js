// The TypeScript linter of `npm run lint`: ESLint's and typescript-eslint's recommended rules,
// without type information (tsc already type-checks; this keeps the lint quick).
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  // The page scripts are type-checked by tsconfig.pages.json; dist/ and results/ are output.
  { ignores: ["dist/", "results/", "src/report/report-page.js", "src/report/viewer/app.js", "**/*.mjs"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      // A leading underscore names what is left unused on purpose (a dropped field, a required parameter).
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", ignoreRestSiblings: true }],
    },
  },
);

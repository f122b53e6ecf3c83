/**
 * Text as a Python string literal. A JSON string literal is one (same quotes and escapes, and
 * \uXXXX means the same code unit), so trusted check code can carry any text without quoting bugs.
 */
export function pythonString(text: string): string {
  return JSON.stringify(text);
}

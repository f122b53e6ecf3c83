/** The "Examples:" block at the end of a command's --help: real command lines a user can copy. */
export function examples(...lines: string[]): string {
  return `\nExamples:\n${lines.map((line) => `  ${line}`).join("\n")}\n`;
}

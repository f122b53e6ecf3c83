/**
 * Putting untrusted text into HTML. Run ids, arms, problem ids, verdicts and model names come
 * from the store, and some of them from models: they are data, never markup.
 */

const HTML_ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** Text for an HTML element's content or a quoted attribute value. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}

/**
 * JSON for a `<script type="application/json">` block. The HTML parser ends a script at the
 * first `</script` whatever the JSON means, so every `<` (and, for good measure, `>` and `&`)
 * becomes a \u escape, which JSON.parse reads back as the same character. U+2028/U+2029 are
 * escaped too so the text stays valid if someone pastes it into a JS string.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, "\\u003c")
    .replace(/>/g, "\\u003e")
    .replace(/&/g, "\\u0026")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

/**
 * Library source inlined in a `<script>` element. A `</script` inside it (in a string or a
 * comment) would end the element early; `<\/script` means the same to JavaScript.
 */
export function scriptSafe(source: string): string {
  return source.replace(/<\/(script)/gi, "<\\/$1");
}

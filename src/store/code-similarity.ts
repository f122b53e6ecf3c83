/**
 * How alike two Python programs are as text, ignoring what does not change what they do:
 * comments, layout and the names chosen for local variables. Both are split into tokens, every
 * name that is not a keyword, a builtin or an attribute is replaced by the order it first
 * appeared in (so `total += x` and `acc += item` match), and the similarity is difflib's ratio
 * over the token lists: 2 × (longest common subsequence) / (total tokens), 1 for the same code.
 *
 * It sits in the store because the run summary JSON (summary.ts) reports the drafts' similarity
 * from stored steps, which also makes it work on runs recorded before it existed.
 */
export function codeSimilarity(a: string, b: string): number {
  const left = normalisedTokens(a);
  const right = normalisedTokens(b);
  if (left.length === 0 && right.length === 0) return 1;
  return (2 * longestCommonSubsequence(left, right)) / (left.length + right.length);
}

/** Long programs are compared on their first tokens: the quadratic comparison stays under a few million cells. */
const MAX_TOKENS = 2000;

const TOKEN = /("""[\s\S]*?"""|'''[\s\S]*?'''|"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*'|#[^\n]*|[A-Za-z_]\w*|\d[\w.]*|\*\*=?|\/\/=?|->|:=|[<>=!]=|<<=?|>>=?|[-+*/%&|^@]=|\S)/g;

const KEPT = new Set(
  (
    "False None True and as assert async await break class continue def del elif else except finally for from global if import in is lambda nonlocal not or pass raise return try while with yield match case " +
    "abs all any bin bool chr dict divmod enumerate filter float format frozenset hash hex int isinstance iter len list map max min next oct open ord pow print range repr reversed round set slice sorted str sum super tuple type zip self cls Exception ValueError TypeError KeyError IndexError math re itertools collections functools heapq"
  ).split(" "),
);

export function normalisedTokens(code: string): string[] {
  const names = new Map<string, string>();
  const tokens: string[] = [];
  let previous = "";
  for (const [token] of code.matchAll(TOKEN)) {
    if (token.startsWith("#")) continue;
    let kept = token;
    if (/^[A-Za-z_]/.test(token) && !KEPT.has(token) && previous !== ".") {
      if (!names.has(token)) names.set(token, `v${names.size}`);
      kept = names.get(token)!;
    }
    tokens.push(kept);
    previous = token;
    if (tokens.length === MAX_TOKENS) break;
  }
  return tokens;
}

function longestCommonSubsequence(a: readonly string[], b: readonly string[]): number {
  let row = new Array<number>(b.length + 1).fill(0);
  for (const x of a) {
    const next = new Array<number>(b.length + 1).fill(0);
    for (let j = 1; j <= b.length; j++) next[j] = x === b[j - 1] ? row[j - 1]! + 1 : Math.max(row[j]!, next[j - 1]!);
    row = next;
  }
  return row[b.length]!;
}

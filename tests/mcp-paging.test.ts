import { describe, expect, it } from "vitest";
import { clipText, MAX_ANSWER_CHARS, takePage } from "../src/mcp/paging.js";

// What keeps an assistant's context from overflowing: pages bounded by count and by size,
// and cursors that walk a list exactly once.

/** Follows the cursors from the first page to the last. */
function walk<T>(items: readonly T[], limit: number | undefined, query: unknown) {
  const pages: T[][] = [];
  let cursor: string | undefined;
  do {
    const page = takePage(items, { cursor, limit }, query);
    pages.push(page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor && pages.length < 1000);
  return pages;
}

describe("takePage", () => {
  it("walks a list once, in order, limit items at a time", () => {
    const items = Array.from({ length: 23 }, (_, i) => ({ id: i }));
    const pages = walk(items, 5, { q: 1 });
    expect(pages.map((p) => p.length)).toEqual([5, 5, 5, 5, 3]);
    expect(pages.flat()).toEqual(items);
  });

  it("cuts a page of large items at the size cap, and still moves on with one item larger than the cap", () => {
    const items = Array.from({ length: 12 }, (_, i) => ({ id: i, text: "x".repeat(i === 7 ? MAX_ANSWER_CHARS * 2 : 10_000) }));
    const pages = walk(items, 200, {});
    for (const page of pages) {
      expect(page.length === 1 || JSON.stringify(page).length <= MAX_ANSWER_CHARS).toBe(true);
    }
    expect(pages.some((page) => page.length === 1 && page[0]!.id === 7)).toBe(true);
    expect(pages.flat()).toEqual(items);
  });

  it("refuses a cursor of another query, a made-up cursor and one past the end", () => {
    const items = [1, 2, 3];
    const { nextCursor } = takePage(items, { limit: 2 }, { run: "a" });
    expect(() => takePage(items, { cursor: nextCursor! }, { run: "b" })).toThrow(/belongs to a query with other filters/);
    expect(() => takePage(items, { cursor: "abc" }, { run: "a" })).toThrow(/not a cursor this server gave out/);
    expect(() => takePage([1], { cursor: nextCursor! }, { run: "a" })).toThrow(/past the end/);
  });
});

describe("clipText", () => {
  it("keeps short texts whole and says how much of a long one was left out", () => {
    expect(clipText("short", 10)).toBe("short");
    expect(clipText(undefined, 10)).toBeNull();
    expect(clipText("a".repeat(25), 10)).toBe(`${"a".repeat(10)}\n… [clipped: 15 more characters]`);
  });
});

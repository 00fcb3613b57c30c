/**
 * docs/usage.md shows only compiled code: every ```ts block in it appears
 * verbatim in one of docs/examples/*.ts, which tsc checks with the project.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const DOCS = path.join(import.meta.dirname, "..", "..", "docs");
const markdown = readFileSync(path.join(DOCS, "usage.md"), "utf8");
const examples = readdirSync(path.join(DOCS, "examples"))
  .filter((f) => f.endsWith(".ts"))
  .map((f) => ({ file: f, text: readFileSync(path.join(DOCS, "examples", f), "utf8") }));
const blocks = [...markdown.matchAll(/```(\w*)\n([\s\S]*?)```/g)].map((m) => ({ lang: m[1] ?? "", code: m[2] ?? "" }));

describe("docs/usage.md", () => {
  it("has code examples, all TypeScript", () => {
    expect(blocks.length).toBeGreaterThan(10);
    for (const b of blocks) expect(b.lang, b.code.slice(0, 80)).toBe("ts");
  });

  it("every code example is an excerpt of a compiled file under docs/examples", () => {
    for (const { code } of blocks) {
      const home = examples.find((e) => e.text.includes(code));
      expect(home, `not found verbatim in docs/examples/*.ts:\n${code}`).toBeDefined();
    }
  });
});

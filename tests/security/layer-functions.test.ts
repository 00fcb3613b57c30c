/**
 * The threat suite's list of the layer's functions (T250.01 checks their
 * search path) is what the migrations define in public and private: a new
 * function must join it, and a project's own functions, which the copied
 * suite runs beside, are left out of it.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { definedObjects, migrationNames } from "../../src/cli/layer.ts";
import { ROOT } from "../../tooling/server/config.ts";
import { useTestDatabase } from "../support/database.ts";

const test = useTestDatabase({ seed: false });

/** The names listed in 250_type_shadowing.test.sql's t_layer_functions. */
function listed(): string[] {
  const text = readFileSync(path.join(ROOT, "supabase", "tests", "database", "250_type_shadowing.test.sql"), "utf8");
  const list = /insert into t_layer_functions\s+select pg_catalog\.unnest\(array\[([^\]]*)\]\)/.exec(text);
  if (!list) throw new Error("250_type_shadowing.test.sql lists no t_layer_functions");
  return [...list[1]!.matchAll(/'([^']+)'/g)].map((m) => m[1]!).sort();
}

/** Functions of tables a project added with `npm run entity:new` (theirs, not the layer's: see docs/extending.md). */
function projectOwn(): Set<string> {
  const dir = path.join(ROOT, "supabase", "migrations");
  const own = new Set<string>();
  for (const file of migrationNames(dir)) {
    const text = readFileSync(path.join(dir, file), "utf8");
    if (!/made by `npm run entity:new -- /.test(text)) continue;
    for (const object of definedObjects(text)) if (object.startsWith("function ")) own.add(object.slice(9));
  }
  return own;
}

describe("T250.01's list of the layer's functions", () => {
  it("names every function the migrations define in public and private, and nothing else", async () => {
    const defined = await test.sql<{ name: string }[]>`
      select distinct n.nspname || '.' || p.proname as name
      from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
      where n.nspname in ('public', 'private') and p.prokind = 'f'
      order by 1`;
    const own = projectOwn();
    expect(listed()).toEqual(
      defined
        .map((r) => r.name)
        .filter((n) => !own.has(n))
        .sort(),
    );
  });
});

/**
 * Rule: `supabase db advisors` (security and performance, with public
 * exposed) reports nothing at warn level or above on the migrated schema.
 * The check itself can fail: a table in public without RLS is reported.
 */
import { describe, expect, it } from "vitest";
import { useTestDatabase } from "../../tests/support/database.ts";
import { describeFindings, runAdvisors, serious } from "./advisors.ts";

const db = useTestDatabase();

describe("supabase db advisors", () => {
  it("reports nothing at warn level or above on the schema", () => {
    const findings = serious(runAdvisors(db.url));
    expect(findings, describeFindings(findings)).toEqual([]);
  });

  it("does report an API-visible table without row-level security and a function with a mutable search_path (the check can fail)", async () => {
    await db.sql`create table public.advisors_probe (id int primary key)`;
    await db.sql`grant select on public.advisors_probe to authenticated`;
    await db.sql`create function public.advisors_probe_fn() returns int language sql security definer as 'select 1'`;
    try {
      const names = serious(runAdvisors(db.url)).map((f) => f.name);
      expect(names).toContain("rls_disabled_in_public");
      expect(names).toContain("function_search_path_mutable");
    } finally {
      await db.sql`drop table public.advisors_probe`;
      await db.sql`drop function public.advisors_probe_fn()`;
    }
  });
});

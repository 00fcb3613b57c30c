/** What `db:start` / `db:reset` / `db:status` print about a database. */
import { appliedMigrations, migrationFiles } from "./database.ts";
import { withSql } from "../server/sql.ts";

/**
 * The migrations (how many applied, which are pending), the tables' row counts
 * and the demo personas. `listApplied` (db:status) also names each applied
 * migration, as `supabase migration list` does.
 */
export async function printSummary(url: string, { listApplied = false } = {}): Promise<void> {
  const applied = await appliedMigrations(url);
  const files = migrationFiles();
  const pending = files.filter((f) => !applied.some((m) => f.startsWith(`${m.version}_`)));
  console.log(
    `  migrations: ${applied.length} applied${pending.length ? `, ${pending.length} pending (${pending.join(", ")})` : ""}`,
  );
  if (listApplied) for (const m of applied) console.log(`    ${m.version}  ${m.name}`);
  // supabase db push refuses to push while the history names a version the folder lacks.
  const missing = applied.filter((m) => !files.some((f) => f.startsWith(`${m.version}_`)));
  if (missing.length) {
    console.log(
      `  applied but missing from supabase/migrations: ${missing.map((m) => `${m.version}_${m.name}`).join(", ")}\n` +
        "  (restore the files, or start over with npm run db:reset; until then supabase db push refuses to push)",
    );
  }
  await withSql(url, async (sql) => {
    const tables = await sql<{ name: string; rows: string }[]>`
      select c.relname as name, c.reltuples::bigint::text as rows
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = 'public' and c.relkind = 'r' order by c.relname`;
    if (tables.length) {
      const counts = await Promise.all(
        tables.map(
          async (t) => `${t.name} ${(await sql`select count(*)::int as n from ${sql("public")}.${sql(t.name)}`)[0]!.n}`,
        ),
      );
      console.log(`  public tables: ${counts.join(", ")}`);
    }
    const [hasRoles] = await sql`select to_regclass('public.user_roles') is not null as ok`;
    if (!hasRoles?.ok) return;
    const personas = await sql<{ id: string; email: string; memberships: string }[]>`
      select u.id::text as id, u.email,
             coalesce(string_agg(o.slug || ': ' || r.roles, '; ' order by o.slug), '(no organization)') as memberships
      from auth.users u
      left join public.organization_users ou on ou.user_id = u.id
      left join public.organizations o on o.id = ou.organization_id
      left join lateral (
        select string_agg(ro.key, '+' order by ro.rank desc) as roles
        from public.user_roles ur join public.roles ro on ro.id = ur.role_id
        where ur.organization_id = ou.organization_id and ur.user_id = u.id
      ) r on true
      group by u.id, u.email order by u.email`;
    if (!personas.length) return;
    console.log("\n  Demo personas (see supabase/seed.sql for how to act as one):");
    const width = Math.max(...personas.map((p) => p.email.length));
    for (const p of personas) console.log(`    ${p.id}  ${p.email.padEnd(width)}  ${p.memberships}`);
  });
}

/**
 * What an organization's deletion left behind, found from the catalog rather
 * than from a list of tables: any table (of any schema, one added later
 * included) with a uuid organization_id column that still holds the
 * organization's rows. The audit log keeps its history and is left out.
 */
import type { Sql } from "../../tooling/server/sql.ts";

/** Tables still holding rows of the organization, audit_log aside (read as a role that bypasses RLS). */
export async function organizationLeftovers(sql: Sql, organizationId: string): Promise<string[]> {
  const tables = await sql<{ t: string }[]>`
    select c.oid::regclass::text as t from pg_class c join pg_namespace n on n.oid = c.relnamespace
      join pg_attribute a on a.attrelid = c.oid and a.attname = 'organization_id' and a.attnum > 0 and not a.attisdropped
      join pg_type ty on ty.oid = a.atttypid
     where c.relkind in ('r', 'p') and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname !~ '^pg_(toast|temp)'
       and (case when ty.typtype = 'd' then ty.typbasetype else ty.oid end) = 'uuid'::regtype
       and c.oid <> 'public.audit_log'::regclass`;
  const left: string[] = [];
  for (const { t } of tables) {
    const [row] = await sql.unsafe<{ n: boolean }[]>(
      `select exists (select 1 from ${t} where organization_id = $1) as n`,
      [organizationId],
    );
    if (row!.n) left.push(t);
  }
  return left;
}

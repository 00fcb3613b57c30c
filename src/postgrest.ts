/**
 * The statement PostgREST runs first in every request's transaction, in one
 * place: the typed layer's units of work, the benchmark and the plan guards
 * all run it from here, so they all measure and check what the API runs.
 */
import type postgres from "postgres";

/**
 * Set, for the current transaction only (set_config(..., true)) and always as
 * parameters, never spliced into SQL text:
 * - the role and the request's claims (`request.jwt.claims`);
 * - the legacy per-claim settings `request.jwt.claim.sub`, `.role`, `.email`,
 *   which auth.uid(), auth.role() and auth.email() read first, from the same
 *   claims (or cleared), and `request.jwt.claim` cleared, so a stale
 *   session-level value on a pooled connection cannot name someone else;
 * - the role's own settings (ALTER ROLE ... SET, e.g. hosted's 8 s
 *   statement_timeout for `authenticated`), which SET ROLE does not apply but
 *   PostgREST does per request: only settings any user may set, those for
 *   every database first, then this database's, which win.
 * Run it right after BEGIN; nothing of it survives the transaction.
 */
export function postgrestPreamble(
  sql: postgres.Sql | postgres.TransactionSql,
  role: string,
  claims: object,
): postgres.PendingQuery<postgres.Row[]> {
  const claimsJson = JSON.stringify(claims);
  return sql`
    select set_config('role', ${role}, true),
           set_config('request.jwt.claims', ${claimsJson}, true),
           set_config('request.jwt.claim.sub', coalesce(${claimsJson}::jsonb ->> 'sub', ''), true),
           set_config('request.jwt.claim.role', coalesce(${claimsJson}::jsonb ->> 'role', ''), true),
           set_config('request.jwt.claim.email', coalesce(${claimsJson}::jsonb ->> 'email', ''), true),
           set_config('request.jwt.claim', '', true),
           (select count(set_config(s.name, s.setting, true)) from (
              select p.name, substr(c.entry, strpos(c.entry, '=') + 1) as setting
              from pg_catalog.pg_db_role_setting d
              cross join lateral unnest(d.setconfig) with ordinality as c (entry, n)
              -- Read per entry (offset 0), so a role without settings costs nothing.
              cross join lateral (select p.name from pg_catalog.pg_settings p
                                  where p.name = lower(split_part(c.entry, '=', 1)) and p.context = 'user' offset 0) p
              where d.setrole = (select r.oid from pg_catalog.pg_roles r where r.rolname = ${role})
                and d.setdatabase in (0, (select db.oid from pg_catalog.pg_database db where db.datname = current_database()))
                and p.name not in ('transaction_isolation', 'transaction_read_only', 'transaction_deferrable')
              order by d.setdatabase, c.n) s)`;
}

/**
 * The statement PostgREST runs first in every request's transaction, in one
 * place: the typed layer's units of work, the benchmark and the plan guards
 * all run it from here, so they all measure and check what the API runs.
 */
import type postgres from "postgres";

/**
 * Settings whose context is `user` (any user may set them) on every
 * PostgreSQL major this layer supports, and that roles are given in
 * practice (hosted Supabase gives `anon` and `authenticated` a
 * statement_timeout). For these the preamble skips pg_settings, which
 * computes all of the server's settings on every read (about 1 ms, more than
 * the rest of a one-row unit); any other name is looked up there.
 * tests/security/unit-preamble.test.ts checks the list against pg_settings.
 */
export const USER_SETTINGS = [
  "statement_timeout",
  "lock_timeout",
  "idle_in_transaction_session_timeout",
  "idle_session_timeout",
  "search_path",
  "work_mem",
] as const;

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
 *   PostgREST does per request: only settings any user may set (context
 *   `user`: USER_SETTINGS, or asked of pg_settings), those for every
 *   database first, then this database's, which win.
 * Run it right after BEGIN; nothing of it survives the transaction.
 */
export function postgrestPreamble(
  sql: postgres.Sql | postgres.TransactionSql,
  role: string,
  claims: object,
): postgres.PendingQuery<postgres.Row[]> {
  return sql.unsafe(PREAMBLE, [role, JSON.stringify(claims)], { prepare: true });
}

/**
 * $1 the role, $2 the claims as JSON text: two parameters, the claims parsed
 * once. One prepared statement (where the handle prepares), whose plan is
 * cached: the role-settings part reads two small catalogs by name.
 */
const PREAMBLE = `
    select set_config('role', $1::text, true),
           set_config('request.jwt.claims', $2::text, true),
           set_config('request.jwt.claim.sub', coalesce(j.claims ->> 'sub', ''), true),
           set_config('request.jwt.claim.role', coalesce(j.claims ->> 'role', ''), true),
           set_config('request.jwt.claim.email', coalesce(j.claims ->> 'email', ''), true),
           set_config('request.jwt.claim', '', true),
           (select count(set_config(s.name, s.setting, true)) from (
              select lower(split_part(c.entry, '=', 1)) as name, substr(c.entry, strpos(c.entry, '=') + 1) as setting
              from pg_catalog.pg_db_role_setting d
              cross join lateral unnest(d.setconfig) with ordinality as c (entry, n)
              where d.setrole = (select r.oid from pg_catalog.pg_roles r where r.rolname = $1::text)
                and d.setdatabase in (0, (select db.oid from pg_catalog.pg_database db where db.datname = current_database()))
              order by d.setdatabase, c.n) s
            where s.name not in ('transaction_isolation', 'transaction_read_only', 'transaction_deferrable')
              -- pg_settings computes every setting (about 1 ms): asked only for a name outside USER_SETTINGS.
              and case when s.name in (${USER_SETTINGS.map((name) => `'${name}'`).join(", ")}) then true
                       else exists (select from pg_catalog.pg_settings p where p.name = s.name and p.context = 'user') end)
    from (select $2::text::jsonb as claims offset 0) j`;

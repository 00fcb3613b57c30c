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

/** The preambles are prepared statements wherever the connection prepares. */
const PREPARE = { prepare: true } as const;

/** A role's own settings (ALTER ROLE ... SET) that a request applies, in the order they apply: name, value. */
export type RoleSettings = readonly (readonly [name: string, value: string])[];

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
 *   PostgREST does per request: `settings` as read by roleSettings() (what
 *   PostgREST does: it reads them when it loads its configuration), or, without
 *   them, read from the catalog by this very statement.
 * Run it right after BEGIN; nothing of it survives the transaction.
 */
export function postgrestPreamble(
  sql: postgres.Sql | postgres.TransactionSql,
  role: string,
  claims: object,
  settings?: RoleSettings,
): postgres.PendingQuery<postgres.Row[]> {
  const parameters = [role, JSON.stringify(claims)];
  return settings
    ? sql.unsafe(
        PREAMBLE_GIVEN_SETTINGS,
        [...parameters, settings.map(([name]) => name), settings.map(([, value]) => value)],
        PREPARE,
      )
    : sql.unsafe(PREAMBLE, parameters, PREPARE);
}

/**
 * The settings a request as `role` applies: only those any user may set
 * (context `user`: USER_SETTINGS, or asked of pg_settings), those for every
 * database first, then this database's, which win.
 */
export async function roleSettings(sql: postgres.Sql, role: string): Promise<RoleSettings> {
  const rows = await sql.unsafe<{ name: string; setting: string }[]>(ROLE_SETTINGS, [role]);
  return rows.map((row) => [row.name, row.setting] as const);
}

/**
 * The settings of each role, read once, on the first request as that role,
 * until reload(): as PostgREST keeps them until its configuration is
 * reloaded (`NOTIFY pgrst, 'reload config'`). A failed read is not kept. `within`
 * bounds the read (the handle gives it the time a unit waits for a connection).
 */
export function roleSettingsCache(
  sql: postgres.Sql,
  within: (read: Promise<RoleSettings>) => Promise<RoleSettings> = (read) => read,
) {
  const cache = new Map<string, Promise<RoleSettings>>();
  return {
    of(role: string): Promise<RoleSettings> {
      let settings = cache.get(role);
      if (!settings) {
        settings = within(roleSettings(sql, role));
        cache.set(role, settings);
        settings.catch(() => cache.delete(role));
      }
      return settings;
    },
    reload(): void {
      cache.clear();
    },
  };
}

/** $1 the role: its settings as name, setting, in the order they apply. */
const ROLE_SETTINGS = `
    select s.name, s.setting from (
      select lower(split_part(c.entry, '=', 1)) as name, substr(c.entry, strpos(c.entry, '=') + 1) as setting,
             d.setdatabase, c.n
      from pg_catalog.pg_db_role_setting d
      cross join lateral unnest(d.setconfig) with ordinality as c (entry, n)
      where d.setrole = (select r.oid from pg_catalog.pg_roles r where r.rolname = $1::text)
        and d.setdatabase in (0, (select db.oid from pg_catalog.pg_database db where db.datname = current_database()))) s
    where s.name not in ('transaction_isolation', 'transaction_read_only', 'transaction_deferrable')
      -- pg_settings computes every setting (about 1 ms): asked only for a name outside USER_SETTINGS.
      and case when s.name in (${USER_SETTINGS.map((name) => `'${name}'`).join(", ")}) then true
               else exists (select from pg_catalog.pg_settings p where p.name = s.name and p.context = 'user') end
    order by s.setdatabase, s.n`;

/** $1 the role, $2 the claims as JSON text (parsed once): the role, the claims and the legacy claim settings. */
const CLAIM_SETTINGS = `
    set_config('role', $1::text, true),
    set_config('request.jwt.claims', $2::text, true),
    set_config('request.jwt.claim.sub', coalesce(j.claims ->> 'sub', ''), true),
    set_config('request.jwt.claim.role', coalesce(j.claims ->> 'role', ''), true),
    set_config('request.jwt.claim.email', coalesce(j.claims ->> 'email', ''), true),
    set_config('request.jwt.claim', '', true)`;

/**
 * One prepared statement (where the handle prepares), whose plan is cached.
 * This one reads the role's settings from the catalog (about 0.05 ms on the
 * server); the next one is given them ($3 names, $4 values).
 */
const PREAMBLE = `
    select ${CLAIM_SETTINGS},
           (select count(set_config(s.name, s.setting, true)) from (${ROLE_SETTINGS}) s)
    from (select $2::text::jsonb as claims offset 0) j`;

const PREAMBLE_GIVEN_SETTINGS = `
    select ${CLAIM_SETTINGS},
           (select count(set_config(s.name, s.setting, true))
            from unnest($3::text[], $4::text[]) with ordinality as s (name, setting, n))
    from (select $2::text::jsonb as claims offset 0) j`;

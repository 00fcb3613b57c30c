/**
 * What goes into a database: the platform baseline, the migrations (applied by
 * the pinned Supabase CLI, so the history matches production's), the seed.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { BASELINE_FILE, ROOT, SEED_FILE, superuserUrl } from "../server/config.ts";
import { fail, indent } from "../output.ts";
import { describeSqlError, ensurePlatformRoles, runSqlFile, withSql } from "../server/sql.ts";

/**
 * Where the platform baseline of a database stands:
 * - "applied": its marker (`_local_platform.baseline`, written by the baseline) is there;
 * - "platform": no marker, but an `auth` schema: the server is a Supabase
 *   database (hosted, or `supabase start`), which provides the platform itself;
 * - "absent": neither: a new database the local tooling must give a baseline.
 */
export async function baselineState(url: string): Promise<"applied" | "platform" | "absent"> {
  return withSql(url, async (sql) => {
    const [row] = await sql<{ marked: boolean; has_auth: boolean }[]>`
      select exists (select 1 from pg_class c join pg_namespace n on n.oid = c.relnamespace
                     where n.nspname = '_local_platform' and c.relname = 'baseline') as marked,
             exists (select 1 from pg_namespace where nspname = 'auth') as has_auth`;
    return row?.marked ? "applied" : row?.has_auth ? "platform" : "absent";
  });
}

/**
 * Apply the platform roles and baseline to a database that has neither a
 * baseline nor a platform of its own, as the superuser (`supabase_admin`).
 * Applied once: the baseline writes a marker, and a database that has it (or
 * that a Supabase server provides) is left alone. Returns whether it ran.
 */
export async function applyBaseline(url: string): Promise<boolean> {
  if ((await baselineState(url)) !== "absent") return false;
  await ensurePlatformRoles(url);
  await withSql(superuserUrl(url), (sql) => runSqlFile(sql, BASELINE_FILE));
  return true;
}

export function migrationFiles(workdir = ROOT): string[] {
  const dir = path.join(workdir, "supabase", "migrations");
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => /^\d+_.+\.sql$/.test(f))
    .sort();
}

/** Migration versions recorded in the database's history (empty when none). */
export async function appliedMigrations(url: string): Promise<{ version: string; name: string }[]> {
  return withSql(url, async (sql) => {
    const [exists] = await sql`select to_regclass('supabase_migrations.schema_migrations') as t`;
    if (!exists?.t) return [];
    return sql<{ version: string; name: string }[]>`
      select version, coalesce(name, '') as name from supabase_migrations.schema_migrations order by version`;
  });
}

/**
 * Run the pinned Supabase CLI. `output` is stdout and stderr together, without
 * the CLI's notice that --db-url is deprecated (SPEC pins that flag).
 */
export function supabaseCli(args: string[], options: { input?: string; workdir?: string } = {}) {
  const bin = path.join(ROOT, "node_modules", ".bin", "supabase");
  if (!existsSync(bin)) fail("The Supabase CLI is not installed. Run `npm install` first.");
  const workdir = options.workdir ?? ROOT;
  const result = spawnSync(bin, [...args, "--workdir", workdir], {
    cwd: workdir,
    encoding: "utf8",
    input: options.input ?? "",
    env: { ...process.env, SUPABASE_TELEMETRY_DISABLED: "1", DO_NOT_TRACK: "1" },
  });
  const output = `${result.stdout ?? ""}${result.stderr ?? ""}`
    .split("\n")
    .filter((line) => !line.startsWith("Warning: --db-url is deprecated"))
    .join("\n");
  return { ...result, output };
}

/** The URL as the Supabase CLI wants it for a local plain server. */
export function cliUrl(url: string): string {
  const parsed = new URL(url);
  if (!parsed.searchParams.has("sslmode")) parsed.searchParams.set("sslmode", "disable");
  return parsed.toString();
}

/** Lock and statement timeouts for a migration push (see `pushUrl`). */
export interface MigrationTimeouts {
  lockTimeout?: string;
  statementTimeout?: string;
}

/**
 * The URL `supabase db push` gets: the CLI URL with the migration timeouts as
 * server options of the push's session. `supabase db push` does not run a
 * migration in an explicit transaction block, so a migration's own `set
 * local` only warns and cannot be relied on (hosted Supabase ignores it; the
 * CLI here, sending a file as one batch, applies it to that file); options in
 * the URL (or a plain `set` at the top of a file) do. Defaults: give up after 10 s waiting for a lock rather than queue
 * behind live traffic and block it; no statement over 15 minutes.
 */
export function pushUrl(url: string, timeouts: MigrationTimeouts = {}): string {
  const parsed = new URL(cliUrl(url));
  const settings = `-c lock_timeout=${timeouts.lockTimeout ?? "10s"} -c statement_timeout=${timeouts.statementTimeout ?? "15min"}`;
  const existing = parsed.searchParams.get("options");
  parsed.searchParams.set("options", existing ? `${existing} ${settings}` : settings);
  return parsed.toString();
}

/**
 * Apply pending migrations with `supabase db push`, under the migration
 * timeouts (`pushUrl`). On failure, name the migration and show the Postgres
 * error; the failed migration leaves nothing. A pending migration dated
 * before the newest applied one is refused, naming both, as `supabase db
 * push` refuses it on deploy (without `--include-all`): what applies here
 * applies there.
 */
export async function applyMigrations(
  url: string,
  workdir = ROOT,
  timeouts: MigrationTimeouts = {},
): Promise<string[]> {
  const applied = await appliedMigrations(url);
  const before = new Set(applied.map((m) => m.version));
  const pending = migrationFiles(workdir).filter((f) => !before.has(f.split("_")[0]!));
  if (pending.length === 0) return [];
  refuseOutOfOrder(pending, applied);
  const result = supabaseCli(["db", "push", "--db-url", pushUrl(url, timeouts), "--yes"], { workdir });
  if (result.status !== 0) {
    const after = new Set((await appliedMigrations(url)).map((m) => m.version));
    const failed = pending.find((f) => !after.has(f.split("_")[0]!));
    const applied = pending.filter((f) => after.has(f.split("_")[0]!));
    fail(
      `${failed ? `Migration supabase/migrations/${failed} failed` : "supabase db push failed"}; the database stays as it was before it.\n` +
        (applied.length ? `Applied before it: ${applied.join(", ")}\n` : "") +
        `Supabase CLI output:\n${indent(result.output)}`,
    );
  }
  return pending;
}

/** Fails when a pending migration is dated before the newest applied one. */
function refuseOutOfOrder(pending: string[], applied: { version: string; name: string }[]): void {
  const newest = applied.at(-1); // appliedMigrations orders by version
  if (!newest) return;
  const early = pending.filter((f) => f.split("_")[0]! < newest.version);
  if (early.length === 0) return;
  const newestFile = `${newest.version}_${newest.name}.sql`;
  fail(
    `${early.length === 1 ? "Migration" : "Migrations"} ${early.map((f) => `supabase/migrations/${f}`).join(", ")} ` +
      `${early.length === 1 ? "is" : "are"} dated before ${newestFile}, the newest migration this database has applied; nothing was applied.\n` +
      "`supabase db push` refuses such a migration (it would need --include-all), and so would a deploy to a database that has applied " +
      `${newestFile}. Give ${early.length === 1 ? "it a timestamp" : "each a timestamp"} after ${newest.version} ` +
      "(rename the file; `npm run migration:new -- <name>` prints a current one), or, when " +
      `${newestFile} exists only on this local database, rebuild it with \`npm run db:reset\`.`,
  );
}

const SEED_TABLE = "supabase_migrations.seed_files";

function seedHash(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** Whether the seed was loaded, and whether it changed since. */
export async function seedState(url: string): Promise<"absent" | "loaded" | "changed"> {
  if (!existsSync(SEED_FILE)) return "absent";
  const hash = seedHash(readFileSync(SEED_FILE, "utf8"));
  return withSql(url, async (sql) => {
    const [exists] = await sql`select to_regclass(${SEED_TABLE}) as t`;
    if (!exists?.t) return "absent";
    const [row] = await sql<
      { hash: string }[]
    >`select hash from supabase_migrations.seed_files where path = 'supabase/seed.sql'`;
    if (!row) return "absent";
    return row.hash === hash ? "loaded" : "changed";
  });
}

/**
 * Load supabase/seed.sql in one transaction and record it in the same table
 * the Supabase CLI uses, so it is loaded once.
 */
export async function loadSeed(url: string, seedFile = SEED_FILE): Promise<void> {
  if (!existsSync(seedFile))
    fail(`${path.relative(ROOT, seedFile)} is missing: the local database needs it for its demo data.`);
  const text = readFileSync(seedFile, "utf8");
  await withSql(url, async (sql) => {
    try {
      await sql.begin(async (tx) => {
        await tx.unsafe(text).simple();
        await tx
          .unsafe(
            `create schema if not exists supabase_migrations;
          create table if not exists ${SEED_TABLE} (path text not null primary key, hash text not null)`,
          )
          .simple();
        await tx`insert into supabase_migrations.seed_files (path, hash) values ('supabase/seed.sql', ${seedHash(text)})
                 on conflict (path) do update set hash = excluded.hash`;
      });
    } catch (error) {
      fail(`${path.relative(ROOT, seedFile)} failed; none of it was loaded:\n${indent(describeSqlError(error, text))}`);
    }
  });
}

/** Baseline, migrations and seed into an empty (or partly built) database. */
export async function build(url: string, options: { seed?: boolean; log?: (m: string) => void } = {}): Promise<void> {
  const log = options.log ?? (() => {});
  const state = await baselineState(url);
  if (state === "absent") await applyBaseline(url);
  log(
    state === "absent"
      ? "platform baseline (roles, auth schema, ownership, default privileges)"
      : state === "applied"
        ? "platform baseline: applied when the database was created"
        : "platform baseline: provided by the server (Supabase)",
  );
  const pushed = await applyMigrations(url);
  log(pushed.length ? `applied ${pushed.length} migration(s) with supabase db push` : "migrations: up to date");
  if (options.seed !== false) {
    const state = await seedState(url);
    if (state === "absent") {
      await loadSeed(url);
      log("loaded supabase/seed.sql");
    } else if (state === "changed") {
      log("supabase/seed.sql changed since it was loaded: run `npm run db:reset` to reload it");
    }
  }
}

/**
 * The local database's PostgREST configuration: what a project's owner does
 * once on a hosted project when `db push` could not (migration
 * `api_refuses_estimated_counts` names PostgREST's pre-request function
 * where its role may; a role that is not a superuser may not alter
 * `authenticator` here). As the superuser, and only on a database with the
 * local baseline, when the function exists and no pre-request function is
 * configured: one of the project's own is left alone. Returns what it did.
 */
export async function configurePostgrestLocally(url: string): Promise<string | null> {
  if ((await baselineState(url)) !== "applied") return null;
  return withSql(superuserUrl(url), async (sql) => {
    const [row] = await sql<{ hook: boolean; configured: string | null }[]>`
      select to_regprocedure('api_guard.check_request()') is not null as hook,
             (select c from pg_db_role_setting d cross join unnest(d.setconfig) c
               where d.setrole = 'authenticator'::regrole and c like 'pgrst.db\_pre\_request=%'
                 and d.setdatabase in (0, (select oid from pg_database where datname = current_database()))
               limit 1) as configured`;
    if (!row?.hook || row.configured) return null;
    await sql`alter role authenticator set pgrst.db_pre_request = 'api_guard.check_request'`;
    await sql`notify pgrst, 'reload config'`;
    return "PostgREST's pre-request function: api_guard.check_request (estimated counts refused; named as the superuser)";
  });
}

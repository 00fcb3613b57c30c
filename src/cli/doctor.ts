/**
 * `doctor --db-url URL [--workdir DIR]`: checks a live database from its
 * catalog (and, with the manifest, from the project's migration history),
 * prints each check, and reports whether all passed.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import postgres from "postgres";
import { copiedMigrationDrift, readManifest } from "./install.ts";
import {
  layerFunctions,
  layerMigrations,
  layerPrivateGrants,
  layerTables,
  MANIFEST_FILE,
  nameOf,
  versionOf,
} from "./layer.ts";

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

const API_ROLES = ["anon", "authenticated", "service_role"];
const SEARCH_PATH = "search_path=pg_catalog, pg_temp";
/** PostgREST's pre-request function that refuses estimated counts (migration api_refuses_estimated_counts). */
const PRE_REQUEST = "api_guard.check_request";
/** A project's own pre-request function that calls it. */
const CALLS_PRE_REQUEST = String.raw`api_guard\s*\.\s*check_request\s*\(`;

function list(items: string[], max = 8): string {
  return items.length > max ? `${items.slice(0, max).join(", ")} and ${items.length - max} more` : items.join(", ");
}

/**
 * A check judged by lists of offenders: it passes when every list is empty;
 * otherwise its detail names each non-empty list's offenders after what is
 * wrong with them.
 */
function offenders(name: string, found: [what: string, items: string[]][], passed: string): Check {
  const problems = found.filter(([, items]) => items.length).map(([what, items]) => `${what}: ${list(items)}`);
  return { name, ok: problems.length === 0, detail: problems.join("; ") || passed };
}

/**
 * What the estimated-counts check says of PostgREST's pre-request function:
 * `configured` (or null), whether it is the layer's and this database has it
 * (`named`), whether it is the project's own and calls the layer's (`calls`).
 */
function preRequestDetail(configured: string | null, named: boolean, calls: boolean): string {
  if (configured === PRE_REQUEST)
    return named
      ? `PostgREST's pre-request function is ${PRE_REQUEST}: count=planned and count=estimated are refused`
      : `PostgREST's pre-request function is ${PRE_REQUEST}, which this database lacks: apply the layer's migrations (supabase db push)`;
  if (calls) return `PostgREST's pre-request function ${configured} calls ${PRE_REQUEST}`;
  if (configured)
    return `PostgREST's pre-request function ${configured} does not call ${PRE_REQUEST}(): add \`perform ${PRE_REQUEST}();\` at its start`;
  return `no PostgREST pre-request function: run \`alter role authenticator set pgrst.db_pre_request = '${PRE_REQUEST}'; notify pgrst, 'reload config';\` as a role that may alter authenticator (on Supabase, the SQL editor; on a plain PostgreSQL, a superuser) (docs/security.md, "Estimated counts through PostgREST")`;
}

/** The Supabase CLI to run `db advisors` with: given, the project's own, or the one on PATH. */
function supabaseCli(workdir: string | undefined, given: string | undefined): string | null {
  if (given) return given;
  if (process.env.SUPABASE_CLI) return process.env.SUPABASE_CLI;
  if (workdir && existsSync(path.join(workdir, "node_modules", ".bin", "supabase")))
    return path.join(workdir, "node_modules", ".bin", "supabase");
  return spawnSync("supabase", ["--version"], { stdio: "ignore" }).status === 0 ? "supabase" : null;
}

interface Finding {
  name: string;
  level: string;
  detail: string;
}

function advisors(url: string, cli: string | null, workdir: string | undefined): Check {
  if (!cli)
    return {
      name: "advisors",
      ok: false,
      detail: "the Supabase CLI was not found (install it in the project, or pass --supabase-cli PATH)",
    };
  const u = new URL(url);
  if (!u.searchParams.has("sslmode") && ["127.0.0.1", "localhost", "::1"].includes(u.hostname))
    u.searchParams.set("sslmode", "disable");
  const args = ["db", "advisors", "--db-url", u.toString(), "--type", "all", "--level", "warn", "--fail-on", "none"];
  const result = spawnSync(cli, [...args, ...(workdir ? ["--workdir", workdir] : [])], {
    encoding: "utf8",
    env: { ...process.env, SUPABASE_TELEMETRY_DISABLED: "1", DO_NOT_TRACK: "1" },
  });
  const out = result.stdout ?? "";
  const start = out.indexOf("[");
  if (result.status === 0 && start < 0 && /No issues found/i.test(`${out}${result.stderr ?? ""}`)) {
    return { name: "advisors", ok: true, detail: "supabase db advisors: no warning or error" };
  }
  if (result.status !== 0 || start < 0) {
    return {
      name: "advisors",
      ok: false,
      detail: `supabase db advisors failed: ${`${out}${result.stderr ?? ""}`.trim().split("\n").slice(-3).join(" ")}`,
    };
  }
  const findings = (JSON.parse(out.slice(start)) as Finding[]).filter((f) => f.level === "WARN" || f.level === "ERROR");
  return findings.length
    ? { name: "advisors", ok: false, detail: findings.map((f) => `${f.level} ${f.name}: ${f.detail}`).join("; ") }
    : { name: "advisors", ok: true, detail: "supabase db advisors: no warning or error" };
}

/**
 * A PostgREST setting from its in-database configuration: role
 * authenticator's `pgrst.<name>`, this database's over all databases'; null
 * when not set there (PostgREST's file and environment are not visible here).
 */
async function postgrestSetting(sql: postgres.Sql, name: string): Promise<string | null> {
  const [row] = await sql<{ value: string }[]>`
    select substr(c.setting, length(${`pgrst.${name}=`}) + 1) as value
      from pg_db_role_setting d cross join lateral unnest(d.setconfig) as c (setting)
     where d.setrole = (select oid from pg_roles where rolname = 'authenticator')
       and d.setdatabase in (0, (select oid from pg_database where datname = current_database()))
       and starts_with(c.setting, ${`pgrst.${name}=`})
     order by d.setdatabase desc
     limit 1`;
  return row?.value ?? null;
}

export interface DoctorOptions {
  dbUrl: string;
  workdir?: string;
  supabaseCli?: string;
  /** Leave out `supabase db advisors` (it needs the Supabase CLI). */
  skipAdvisors?: boolean;
}

export async function doctor(options: DoctorOptions): Promise<Check[]> {
  const checks: Check[] = [];
  const sql = postgres(options.dbUrl, { max: 1, onnotice: () => {}, connect_timeout: 10 });
  try {
    // 1. Every layer migration applied.
    const [history] = await sql`select to_regclass('supabase_migrations.schema_migrations') is not null as present`;
    const applied = history?.present
      ? await sql<
          { version: string; name: string | null }[]
        >`select version, name from supabase_migrations.schema_migrations`
      : [];
    const versions = new Set(applied.map((r) => r.version));
    const names = new Set(applied.map((r) => r.name ?? ""));
    const manifest = options.workdir ? readManifest(options.workdir) : null;
    const missing = manifest
      ? manifest.migrations.filter((m) => !versions.has(versionOf(m.file))).map((m) => m.file)
      : layerMigrations().filter(
          (m) => !versions.has(versionOf(m)) && !names.has(nameOf(m)) && !names.has(`org_layer_${nameOf(m)}`),
        );
    const expected = manifest ? manifest.migrations.length : layerMigrations().length;
    checks.push({
      name: "migrations applied",
      ok: missing.length === 0 && expected > 0,
      detail: missing.length
        ? `not in supabase_migrations.schema_migrations: ${list(missing)}`
        : `${expected} layer migration(s) in the history${manifest ? ` (manifest, version ${manifest.version})` : ""}`,
    });

    // 1b. With --workdir: the copied migrations are there and as they were copied (the manifest's checksums).
    if (options.workdir) {
      const workdir = options.workdir;
      if (!manifest) {
        checks.push({
          name: "migration files",
          ok: true,
          detail: `no ${MANIFEST_FILE} in ${workdir}: the project did not install the layer with init, so its copies are not checked (the history is checked by the layer's migration names)`,
        });
      } else {
        const drift = copiedMigrationDrift(workdir, manifest);
        const gone = drift.missing.map((m) => m.file);
        const changed = drift.edited.map((m) => m.file);
        const stale = drift.changedInPackage.map((m) => `${m.file} (package: ${m.source})`);
        checks.push(
          offenders(
            "migration files",
            [
              [`listed in ${MANIFEST_FILE} but missing`, gone],
              [
                "edited since copied (an applied migration must not change: put the change in a new migration)",
                changed,
              ],
              ["differ from the installed package's file of the same name (the project lacks that change)", stale],
            ],
            `${manifest.migrations.length} copied migration(s), each as copied`,
          ),
        );
      }
    }

    // 2. RLS on for every layer table.
    const tables = layerTables();
    const rows = await sql<{ relname: string; rls: boolean }[]>`
      select c.relname, c.relrowsecurity as rls from pg_class c join pg_namespace n on n.oid = c.relnamespace
       where n.nspname = 'public' and c.relkind in ('r', 'p') and c.relname = any(${tables})`;
    const seen = new Map(rows.map((r) => [r.relname, r.rls]));
    const absent = tables.filter((t) => !seen.has(t));
    const open = tables.filter((t) => seen.get(t) === false);
    checks.push(
      offenders(
        "row-level security",
        [
          ["missing", absent],
          ["RLS off", open],
        ],
        `on for all ${tables.length} layer tables`,
      ),
    );

    // 3. Helpers and RPCs: security definer ones pin the search path; the
    //    functions `authenticated` may call are security definer.
    const functions = layerFunctions();
    const fns = await sql<{ name: string; secdef: boolean; config: string[] | null; callable: boolean }[]>`
      select n.nspname || '.' || p.proname as name, p.prosecdef as secdef, p.proconfig as config,
             has_function_privilege('authenticated', p.oid, 'execute') as callable
        from pg_proc p join pg_namespace n on n.oid = p.pronamespace
       where n.nspname || '.' || p.proname = any(${functions})`;
    const fnNames = new Set(fns.map((f) => f.name));
    const noFunction = functions.filter((f) => !fnNames.has(f));
    const unpinned = fns.filter((f) => f.secdef && !(f.config ?? []).includes(SEARCH_PATH)).map((f) => f.name);
    const invokerRpcs = fns.filter((f) => f.name.startsWith("public.") && f.callable && !f.secdef).map((f) => f.name);
    checks.push(
      offenders(
        "functions",
        [
          ["missing", noFunction],
          [`security definer without ${SEARCH_PATH}`, unpinned],
          ["callable by authenticated but not security definer", invokerRpcs],
        ],
        `${functions.length} layer functions; every security definer one sets ${SEARCH_PATH}; the RPCs are security definer`,
      ),
    );

    // 4. No API grant wider than the layer's: anon holds nothing on the
    //    layer's tables and functions (but PostgREST's pre-request check in
    //    schema api_guard, which every request runs); no API role may truncate a layer table
    //    (it would skip the audit log and the owner invariant), authenticated
    //    holds no REFERENCES or TRIGGER there; the API roles hold nothing on
    //    the tables of schema private beyond what the layer's migrations grant.
    const privateGrants = layerPrivateGrants();
    const wide = await sql<{ what: string }[]>`
      select format('%s on table public.%s to %s', t.privilege_type, t.table_name, t.grantee) as what
        from information_schema.role_table_grants t
       where t.table_schema = 'public' and t.table_name = any(${tables}) and t.grantee = any(${API_ROLES})
         and (t.grantee = 'anon' or t.privilege_type = 'TRUNCATE'
              or (t.grantee = 'authenticated' and t.privilege_type in ('REFERENCES', 'TRIGGER')))
      union all
      select format('%s on table private.%s to %s', t.privilege_type, t.table_name, t.grantee)
        from information_schema.role_table_grants t
       where t.table_schema = 'private' and t.grantee = any(${API_ROLES})
         and format('%s on table private.%s to %s', t.privilege_type, t.table_name, t.grantee) <> all(${privateGrants})
      union all
      select format('EXECUTE on function %s.%s to anon', n.nspname, p.proname)
        from pg_proc p join pg_namespace n on n.oid = p.pronamespace
       where n.nspname || '.' || p.proname = any(${functions}) and has_function_privilege('anon', p.oid, 'execute')
         and n.nspname <> 'api_guard'
      order by 1`;
    checks.push({
      name: "API grants",
      ok: wide.length === 0,
      detail: wide.length ? `wider than the layer's: ${list(wide.map((w) => w.what))}` : "none wider than the layer's",
    });

    // 5. PostgREST refuses estimated counts: its pre-request function (role
    //    authenticator's pgrst.db_pre_request) is api_guard.check_request, or
    //    a function of the project's that calls it.
    const configured = await postgrestSetting(sql, "db_pre_request");
    const [callsHook] = configured
      ? await sql<{ calls: boolean }[]>`
          select coalesce((select p.prosrc ~* ${CALLS_PRE_REQUEST} from pg_proc p
                            where p.oid = to_regprocedure(${configured} || '()')), false) as calls`
      : [];
    const calls = Boolean(callsHook?.calls);
    // The setting belongs to the role (every database of the server); the function to this database.
    const [hook] = await sql<
      { exists: boolean }[]
    >`select to_regprocedure(${PRE_REQUEST + "()"}) is not null as exists`;
    const named = configured === PRE_REQUEST && Boolean(hook?.exists);
    checks.push({ name: "estimated counts", ok: named || calls, detail: preRequestDetail(configured, named, calls) });

    // 6. PostgREST does not return query plans (their row estimates and
    //    "Rows Removed by Filter" describe other organizations' rows).
    const plans = await postgrestSetting(sql, "db_plan_enabled");
    const plansOn = plans !== null && /^(true|on|yes|1)$/i.test(plans.trim());
    checks.push({
      name: "query plans",
      ok: !plansOn,
      detail: plansOn
        ? `pgrst.db_plan_enabled is ${plans}: any signed-in user can read plans (estimates over every organization's rows); run \`alter role authenticator reset pgrst.db_plan_enabled; notify pgrst, 'reload config';\``
        : "PostgREST's db-plan-enabled is not set in the database (off by default)",
    });
  } catch (error) {
    checks.push({ name: "database", ok: false, detail: error instanceof Error ? error.message : String(error) });
  } finally {
    await sql.end({ timeout: 5 });
  }

  // 7. The advisors.
  if (!options.skipAdvisors)
    checks.push(advisors(options.dbUrl, supabaseCli(options.workdir, options.supabaseCli), options.workdir));
  return checks;
}

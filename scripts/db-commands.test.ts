/**
 * The db:* commands end to end, as a newcomer runs them: start (twice),
 * status, reset, stop, on a free port and a temporary data folder. When the
 * suite runs as root it also runs them as an ordinary OS user.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Cluster, freePort, serverOwner, SERVICE_USER } from "../tooling/server/cluster.ts";
import { otherEngine, resolveEngine } from "../tooling/server/engine.ts";
import { migrationFiles } from "../tooling/build/database.ts";
import { runPgProve } from "../tooling/testing/pgprove.ts";
import { ROOT, superuserUrl } from "../tooling/server/config.ts";
import { withSql } from "../tooling/server/sql.ts";

const engine = process.env.TEST_ENGINE === "system" ? "system" : "embedded";
const tsx = path.join(ROOT, "node_modules", ".bin", "tsx");
const isRoot = process.getuid?.() === 0;

interface Setup {
  url: string;
  dir: string;
  asUser: string | null;
}

async function setup(asUser: string | null): Promise<Setup> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "org-layer-cmd-"));
  chmodSync(dir, 0o755);
  const owner = serverOwner();
  if (asUser && owner) chownSync(dir, owner.uid, owner.gid);
  return { url: `postgresql://postgres:postgres@127.0.0.1:${await freePort()}/postgres`, dir, asUser };
}

/** Run scripts/<script>.ts as the setup's user; `pipe` reads its output through a shell pipe (`head -1`). */
function command(s: Setup, script: string, pipe?: string) {
  const env = {
    ...process.env,
    DATABASE_URL: s.url,
    DB_DATA_DIR: path.join(s.dir, "data"),
    PG_ENGINE: engine,
    HOME: s.dir,
  };
  const run = pipe
    ? ["bash", "-c", `"${tsx}" "${path.join(ROOT, "scripts", `${script}.ts`)}" | ${pipe}; exit \${PIPESTATUS[0]}`]
    : [tsx, path.join(ROOT, "scripts", `${script}.ts`)];
  const result = s.asUser
    ? spawnSync(
        "runuser",
        [
          "-u",
          s.asUser,
          "--",
          "env",
          ...Object.entries(env)
            .filter(([k]) => /^(DATABASE_URL|DB_DATA_DIR|PG_ENGINE|HOME|PATH|PG_BIN)$/.test(k))
            .map(([k, v]) => `${k}=${v}`),
          ...run,
        ],
        {
          cwd: ROOT,
          encoding: "utf8",
        },
      )
    : spawnSync(run[0]!, run.slice(1), { cwd: ROOT, encoding: "utf8", env });
  return {
    status: result.status,
    out: `${result.stdout}${result.stderr}`,
    stdout: result.stdout,
    stderr: result.stderr,
  };
}

/**
 * What the baseline and the migrations decide: owners and privileges of every
 * schema, relation and function outside the system schemas, default
 * privileges, the database's privileges, role attributes and settings.
 */
const CATALOG = `
  select 'namespace' as kind, nspname as name, pg_get_userbyid(nspowner) as owner, coalesce(nspacl::text, '') as acl
    from pg_namespace where nspname not like 'pg\\_%' and nspname <> 'information_schema'
  union all
  select 'relation', c.oid::regclass::text, pg_get_userbyid(c.relowner), coalesce(c.relacl::text, '')
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
   where n.nspname not like 'pg\\_%' and n.nspname <> 'information_schema'
  union all
  select 'function', p.oid::regprocedure::text, pg_get_userbyid(p.proowner), coalesce(p.proacl::text, '')
    from pg_proc p join pg_namespace n on n.oid = p.pronamespace
   where n.nspname not like 'pg\\_%' and n.nspname <> 'information_schema'
  union all
  select 'default acl', defaclrole::regrole::text || ' ' || defaclnamespace::regnamespace::text || ' ' || defaclobjtype::text, '', defaclacl::text
    from pg_default_acl
  union all
  select 'database', datname, pg_get_userbyid(datdba), coalesce(datacl::text, '') from pg_database where datname = current_database()
  union all
  select 'role', rolname, concat_ws(',', rolsuper, rolinherit, rolcreaterole, rolcreatedb, rolcanlogin, rolreplication, rolbypassrls),
         coalesce((select array_agg(c order by c)::text from pg_db_role_setting s, unnest(s.setconfig) c where s.setrole = r.oid), '')
    from pg_roles r where rolname !~ '^pg_'
  order by 1, 2`;

const runs: { label: string; user: string | null }[] = [{ label: isRoot ? "as root" : "as this user", user: null }];
if (isRoot) runs.push({ label: `as the ordinary user ${SERVICE_USER}`, user: SERVICE_USER });

for (const run of runs) {
  describe(`db:* commands ${run.label} (${engine})`, () => {
    let s: Setup;
    afterAll(() => {
      if (s) {
        command(s, "db-stop");
        rmSync(s.dir, { recursive: true, force: true });
      }
    });

    it("db:start creates, starts, migrates, seeds and prints the URL", async () => {
      s = await setup(run.user);
      const r = command(s, "db-start");
      expect(r.out).toContain(s.url);
      expect(r.out).toContain("loaded supabase/seed.sql");
      expect(r.status).toBe(0);
      const [row] = await withSql(
        s.url,
        (sql) => sql`select auth.uid() as uid, current_setting('server_version_num')::int / 10000 as major`,
      );
      expect(row?.uid).toBeNull();
      expect(row?.major).toBe(engine === "embedded" ? 17 : Number(row?.major));
      // PostgREST's pre-request function is named, as a project's owner names it on hosted, and doctor agrees.
      expect(r.out).toContain("PostgREST's pre-request function: api_guard.check_request");
      const doctor = spawnSync(
        tsx,
        [path.join(ROOT, "src", "cli", "main.ts"), "doctor", "--db-url", s.url, "--no-advisors"],
        {
          cwd: ROOT,
          encoding: "utf8",
        },
      );
      expect(doctor.status, `${doctor.stdout}${doctor.stderr}`).toBe(0);
      // pgTAP is there, so the threat suite runs by hand as docs/security.md says.
      expect(r.out).toContain("pgTAP: installed in schema extensions");
      const prove = runPgProve(s.url, [path.join(ROOT, "supabase", "tests", "database", "020_users.test.sql")]);
      expect(`${prove.stdout}${prove.stderr}`).toContain("All tests successful");
    });

    it("db:start again changes nothing", async () => {
      const r = command(s, "db-start");
      expect(r.status).toBe(0);
      expect(r.out).toContain("already running");
      expect(r.out).toContain("migrations: up to date");
      expect(r.out).not.toContain("loaded supabase/seed.sql");
    });

    it("db:status reports the running server and its migrations", () => {
      const r = command(s, "db-status");
      expect(r.status).toBe(0);
      expect(r.out).toMatch(/status:\s+running on port/);
      expect(r.out).toMatch(/migrations: \d+ applied/);
      // Each applied migration by version and name, the newest included.
      const newest = migrationFiles()
        .at(-1)!
        .replace(/\.sql$/, "");
      const [version, name] = [newest.slice(0, newest.indexOf("_")), newest.slice(newest.indexOf("_") + 1)];
      expect(r.out).toMatch(new RegExp(`^\\s+${version}\\s+${name}$`, "m"));
    });

    it("db:status names an applied migration whose file the repository no longer has", async () => {
      await withSql(
        superuserUrl(s.url),
        (sql) =>
          sql`insert into supabase_migrations.schema_migrations (version, name) values ('19990101000000', 'removed_since')`,
      );
      try {
        const r = command(s, "db-status");
        expect(r.status).toBe(0);
        expect(r.out).toMatch(/applied but missing from supabase\/migrations: 19990101000000_removed_since/);
      } finally {
        await withSql(
          superuserUrl(s.url),
          (sql) => sql`delete from supabase_migrations.schema_migrations where version = '19990101000000'`,
        );
      }
    });

    it("db:status with a DATABASE_URL naming a database the server lacks says so, and exits 0", () => {
      const r = command({ ...s, url: s.url.replace(/\/postgres$/, "/not_made_yet") }, "db-status");
      expect(r.status, r.out).toBe(0);
      expect(r.out).toMatch(/database:\s+not_made_yet does not exist on this server yet/);
    });

    it("db:start and db:status read in part (| head -1) still finish and exit 0, without an EPIPE trace", () => {
      for (const script of ["db-start", "db-status"]) {
        const r = command(s, script, "head -1");
        expect(r.stdout.trim().split("\n"), script).toHaveLength(1);
        expect(r.stderr, script).not.toMatch(/EPIPE|Unhandled/);
        expect(r.status, `${script}: ${r.stderr}`).toBe(0);
      }
    });

    it("db:reset rebuilds the database from scratch, and the API roles' memberships as hosted has them", async () => {
      await withSql(s.url, (sql) => sql`create table public.scratch (id int)`);
      await withSql(superuserUrl(s.url), (sql) => sql`grant pg_write_all_data to authenticated`);
      const r = command(s, "db-reset");
      expect(r.status).toBe(0);
      expect(r.out).toContain("Local database reset");
      const [row] = await withSql(
        s.url,
        (sql) =>
          sql`select to_regclass('public.scratch') as t, pg_has_role('authenticated', 'pg_write_all_data', 'member') as stray,
                     pg_has_role('authenticator', 'authenticated', 'member') as api`,
      );
      expect(row).toEqual({ t: null, stray: false, api: true });
    });

    it("a restart (db:stop, db:start) leaves the catalog exactly as the migrations left it", async () => {
      const before = await withSql(s.url, (sql) => sql.unsafe(CATALOG));
      expect(command(s, "db-stop").status).toBe(0);
      const r = command(s, "db-start");
      expect(r.status).toBe(0);
      expect(r.out).toContain("platform baseline: applied when the database was created");
      expect(await withSql(s.url, (sql) => sql.unsafe(CATALOG))).toEqual(before);
    });

    it("db:stop stops the server", () => {
      const r = command(s, "db-stop");
      expect(r.status).toBe(0);
      expect(r.out).toContain("stopped the local database");
      const status = command(s, "db-status").out;
      expect(status).toMatch(/status:\s+stopped/);
      // Stopped, it still says what the repository holds, and how to learn what is applied.
      expect(status).toContain(`migrations: ${migrationFiles().length} in supabase/migrations`);
    });
  });
}

describe(`db:start on a port another program holds (${engine})`, () => {
  it("refuses before creating anything, naming a free port; once the port is free it starts cleanly", async () => {
    const s = await setup(null);
    const port = Number(new URL(s.url).port);
    const squatter = net.createServer();
    await new Promise<void>((resolve) => squatter.listen(port, "127.0.0.1", resolve));
    try {
      const refused = command(s, "db-start");
      expect(refused.status).toBe(1);
      expect(refused.out).toMatch(new RegExp(`Port ${port} on 127\\.0\\.0\\.1 is already in use`));
      expect(refused.out).toMatch(
        /use another port, e\.g\.: DATABASE_URL=postgresql:\/\/postgres:postgres@127\.0\.0\.1:\d+\/postgres/,
      );
      expect(existsSync(path.join(s.dir, "data"))).toBe(false);
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
    try {
      const started = command(s, "db-start");
      expect(started.out).toContain(s.url);
      expect(started.status).toBe(0);
    } finally {
      command(s, "db-stop");
      rmSync(s.dir, { recursive: true, force: true });
    }
  });
});

describe(`db:* commands refuse what the local server cannot serve (${engine})`, () => {
  it("an IPv6 loopback host (the server listens on 127.0.0.1), and a URL without a password", async () => {
    const s = await setup(null);
    try {
      const v6 = command({ ...s, url: "postgresql://postgres:postgres@[::1]:54399/postgres" }, "db-status");
      expect(v6.status).toBe(1);
      expect(v6.out).toMatch(/listens on 127\.0\.0\.1 only: use 127\.0\.0\.1/);
      const bare = command({ ...s, url: "postgresql://postgres@127.0.0.1:54399/postgres" }, "db-start");
      expect(bare.status).toBe(1);
      expect(bare.out).toMatch(/names no password/);
      expect(existsSync(path.join(s.dir, "data"))).toBe(false);
    } finally {
      rmSync(s.dir, { recursive: true, force: true });
    }
  });

  /** A setup whose data folder holds a cluster of the other engine (another major), made by this tooling. */
  async function otherMajorFolder() {
    const s = await setup(null);
    const other = await resolveEngine(otherEngine(engine));
    const dataDir = path.join(s.dir, "data");
    const cluster = new Cluster({ engine: other, dataDir, port: Number(new URL(s.url).port), password: "postgres" });
    cluster.init();
    return { s, other, dataDir, cluster };
  }

  it("db:reset of another major's folder this tooling did not make: refused, the folder kept", async () => {
    const { s, dataDir } = await otherMajorFolder();
    try {
      // As a plain initdb leaves it: without the mark the tooling writes.
      const conf = path.join(dataDir, "postgresql.conf");
      writeFileSync(conf, readFileSync(conf, "utf8").replace("# Written by the project's local database tooling.", ""));
      const r = command(s, "db-reset");
      expect(r.status).toBe(1);
      expect(r.out).toMatch(/but not by this project's tooling, so it is left as it is/);
      expect(existsSync(path.join(dataDir, "PG_VERSION"))).toBe(true);
    } finally {
      rmSync(s.dir, { recursive: true, force: true });
    }
  });

  it("db:reset of a folder another engine's server runs from: refused, the server and its folder kept", async () => {
    const { s, other, dataDir, cluster } = await otherMajorFolder();
    try {
      await cluster.start();
      const r = command(s, "db-reset");
      expect(r.status).toBe(1);
      expect(r.out).toMatch(
        new RegExp(`made by PostgreSQL ${other.major}, whose server is running from it[\\s\\S]*--engine=${other.name}`),
      );
      expect(existsSync(path.join(dataDir, "PG_VERSION"))).toBe(true);
      expect(cluster.runningPort()).toBe(Number(new URL(s.url).port));
    } finally {
      cluster.stop();
      rmSync(s.dir, { recursive: true, force: true });
    }
  });
});

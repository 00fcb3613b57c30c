/**
 * The build steps fail clearly and leave nothing half-done: a broken
 * migration is named with its Postgres error and changes nothing; a broken or
 * missing seed loads nothing; a migration blocked by a lock gives up; the
 * platform baseline is applied once, to a new database only.
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { serverUrl, useTestDatabase } from "../../tests/support/database.ts";
import { ROOT, withDatabase } from "../server/config.ts";
import {
  appliedMigrations,
  applyBaseline,
  applyMigrations,
  baselineState,
  build,
  loadSeed,
  migrationFiles,
} from "./database.ts";
import { createDatabase, dropDatabase, withSql } from "../server/sql.ts";

const db = useTestDatabase();
const work = mkdtempSync(path.join(os.tmpdir(), "org-layer-workdir-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A copy of the project's supabase folder with one extra migration. */
function workdirWith(name: string, sql: string): string {
  const dir = mkdtempSync(path.join(work, "w-"));
  cpSync(path.join(ROOT, "supabase", "migrations"), path.join(dir, "supabase", "migrations"), { recursive: true });
  cpSync(path.join(ROOT, "supabase", "config.toml"), path.join(dir, "supabase", "config.toml"));
  writeFileSync(path.join(dir, "supabase", "migrations", name), sql);
  return dir;
}

describe("migrations", () => {
  it("the template holds every migration in supabase_migrations.schema_migrations", async () => {
    const applied = (await appliedMigrations(db.url)).map((m) => m.version);
    expect(applied).toEqual(migrationFiles().map((f) => f.split("_")[0]));
  });

  it("a second push applies nothing", async () => {
    expect(await applyMigrations(db.url)).toEqual([]);
  });

  it("a failing migration is named, shows the Postgres error and leaves no partial change", async () => {
    const dir = workdirWith("29991231000000_broken.sql", "create table public.half_done (id int);\nselect 1 / 0;\n");
    const before = await appliedMigrations(db.url);
    await expect(applyMigrations(db.url, dir)).rejects.toThrow(
      /29991231000000_broken\.sql failed[\s\S]*division by zero/,
    );
    const [row] = await db.sql`select to_regclass('public.half_done') as t`;
    expect(row?.t).toBeNull();
    expect(await appliedMigrations(db.url)).toEqual(before);
  });

  it("a migration dated before the newest applied one is refused, naming both, as a deploy refuses it; nothing applies", async () => {
    const dir = workdirWith("20000101000000_late_branch.sql", "create table public.late_branch (id int);\n");
    const before = await appliedMigrations(db.url);
    const newest = before.at(-1)!;
    await expect(applyMigrations(db.url, dir)).rejects.toThrow(
      new RegExp(
        `20000101000000_late_branch\\.sql is dated before ${newest.version}_${newest.name}\\.sql[\\s\\S]*--include-all`,
      ),
    );
    const [row] = await db.sql`select to_regclass('public.late_branch') as t`;
    expect(row?.t).toBeNull();
    expect(await appliedMigrations(db.url)).toEqual(before);
  });

  it("a new migration applies through the Supabase CLI and is recorded", async () => {
    const dir = workdirWith("29991231000001_probe.sql", "create table public.probe_table (id int);\n");
    expect(await applyMigrations(db.url, dir)).toEqual(["29991231000001_probe.sql"]);
    const versions = (await appliedMigrations(db.url)).map((m) => m.version);
    expect(versions).toContain("29991231000001");
  });
});

describe("seed", () => {
  it("a broken seed names the line and loads nothing", async () => {
    const seed = path.join(work, "broken-seed.sql");
    writeFileSync(
      seed,
      "create table public.seed_probe (id int);\ninsert into public.seed_probe values (1);\nselect * from no_such_table;\n",
    );
    await expect(loadSeed(db.url, seed)).rejects.toThrow(
      /failed; none of it was loaded[\s\S]*no_such_table[\s\S]*line 3/,
    );
    const [row] = await db.sql`select to_regclass('public.seed_probe') as t`;
    expect(row?.t).toBeNull();
  });

  it("a missing seed says which file is missing", async () => {
    await expect(loadSeed(db.url, path.join(work, "nope.sql"))).rejects.toThrow(/nope\.sql is missing/);
  });
});

describe("migration timeouts under supabase db push", () => {
  // A copy of its own: the tests above added a migration to the history of theirs.
  const fresh = useTestDatabase();
  /** Hold an ACCESS EXCLUSIVE lock on public.clients while `body` runs. */
  async function whileClientsLocked<T>(body: () => Promise<T>): Promise<T> {
    const holder = await fresh.sql.reserve();
    try {
      await holder`begin`;
      await holder`lock table public.clients in access exclusive mode`;
      return await body();
    } finally {
      await holder`rollback`;
      holder.release();
    }
  }

  const blocked =
    "create table public.blocked_probe (id int);\nalter table public.clients add column blocked_probe int;\n";

  it("a migration blocked by a held lock gives up at the push's lock timeout, is named, and applies nothing", async () => {
    const dir = workdirWith("29991231000002_blocked.sql", blocked);
    const started = Date.now();
    await whileClientsLocked(() =>
      expect(applyMigrations(fresh.url, dir, { lockTimeout: "1s" })).rejects.toThrow(
        /29991231000002_blocked\.sql failed[\s\S]*lock timeout/,
      ),
    );
    // Without the push's lock timeout it would wait for the lock until the test's own timeout.
    expect(Date.now() - started).toBeLessThan(45_000);
    const [row] = await fresh.sql`select to_regclass('public.blocked_probe') as t`;
    expect(row?.t).toBeNull();
  }, 90_000);

  it("a migration's own plain `set lock_timeout` takes effect under supabase db push", async () => {
    const dir = workdirWith("29991231000003_blocked.sql", `set lock_timeout = '1s';\n${blocked}`);
    const started = Date.now();
    await whileClientsLocked(() =>
      expect(applyMigrations(fresh.url, dir, { lockTimeout: "60s" })).rejects.toThrow(
        /29991231000003_blocked\.sql failed[\s\S]*lock timeout/,
      ),
    );
    // The push's own lock timeout is 60 s here: giving up well before it is the file's `set` at work.
    expect(Date.now() - started).toBeLessThan(45_000);
    const [row] = await fresh.sql`select to_regclass('public.blocked_probe') as t`;
    expect(row?.t).toBeNull();
  }, 90_000);
});

describe("platform baseline", () => {
  const created: string[] = [];
  afterAll(async () => {
    for (const name of created) await dropDatabase(serverUrl(), name);
  });
  async function newDatabase(): Promise<string> {
    const name = `baseline_${Date.now()}_${created.length}`;
    created.push(name);
    await createDatabase(serverUrl(), name);
    return withDatabase(serverUrl(), name);
  }

  it("a new database gets it once, from supabase_admin, with hosted's ownership, and is marked", async () => {
    const url = await newDatabase();
    expect(await baselineState(url)).toBe("absent");
    await expect(applyBaseline(url)).resolves.toBe(true);
    expect(await baselineState(url)).toBe("applied");
    const [row] = await withSql(
      url,
      (sql) => sql`
      select pg_get_userbyid((select relowner from pg_class where oid = 'auth.users'::regclass)) as users_owner,
             pg_get_userbyid((select nspowner from pg_namespace where nspname = 'auth')) as auth_owner,
             pg_get_userbyid((select nspowner from pg_namespace where nspname = 'extensions')) as extensions_owner,
             pg_get_userbyid((select datdba from pg_database where datname = current_database())) as database_owner`,
    );
    expect(row).toEqual({
      users_owner: "supabase_auth_admin",
      auth_owner: "supabase_admin",
      extensions_owner: "postgres",
      database_owner: "postgres",
    });
    await expect(applyBaseline(url)).resolves.toBe(false);
  });

  it("is never applied again to a built database: what the migrations revoked stays revoked", async () => {
    const acl =
      () => db.sql`select defaclrole::regrole::text as role, defaclnamespace, defaclobjtype, defaclacl::text as acl
                             from pg_default_acl order by 1, 2, 3`;
    const before = await acl();
    expect(await baselineState(db.url)).toBe("applied");
    await expect(applyBaseline(db.url)).resolves.toBe(false);
    await build(db.url, { seed: false });
    expect(await acl()).toEqual(before);
  });

  it("is left to the platform on a Supabase server (an auth schema, and no marker)", async () => {
    const url = await newDatabase();
    await withSql(url, (sql) => sql`create schema auth`);
    expect(await baselineState(url)).toBe("platform");
    await expect(applyBaseline(url)).resolves.toBe(false);
    const [row] = await withSql(url, (sql) => sql`select to_regclass('auth.users') as t`);
    expect(row?.t).toBeNull();
  });
});

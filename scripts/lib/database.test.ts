/**
 * The build steps fail clearly and leave nothing half-done: a broken
 * migration is named with its Postgres error and changes nothing; a broken or
 * missing seed loads nothing; the baseline can run again.
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { useTestDatabase } from "../../tests/support/database.ts";
import { ROOT } from "./config.ts";
import { appliedMigrations, applyBaseline, applyMigrations, loadSeed, migrationFiles } from "./database.ts";

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
    await expect(applyMigrations(db.url, dir)).rejects.toThrow(/29991231000000_broken\.sql failed[\s\S]*division by zero/);
    const [row] = await db.sql`select to_regclass('public.half_done') as t`;
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
    writeFileSync(seed, "create table public.seed_probe (id int);\ninsert into public.seed_probe values (1);\nselect * from no_such_table;\n");
    await expect(loadSeed(db.url, seed)).rejects.toThrow(/failed; none of it was loaded[\s\S]*no_such_table[\s\S]*line 3/);
    const [row] = await db.sql`select to_regclass('public.seed_probe') as t`;
    expect(row?.t).toBeNull();
  });

  it("a missing seed says which file is missing", async () => {
    await expect(loadSeed(db.url, path.join(work, "nope.sql"))).rejects.toThrow(/nope\.sql is missing/);
  });
});

describe("platform baseline", () => {
  it("applies again without error (roles are cluster-wide)", async () => {
    await expect(applyBaseline(db.url)).resolves.toBe(true);
  });

  it("is left to the platform on a Supabase server (auth schema present, not a superuser)", async () => {
    const role = `baseline_probe_${Date.now()}`;
    await db.sql.unsafe(`create role ${role} login password 'probe'`);
    try {
      const url = new URL(db.url);
      url.username = role;
      url.password = "probe";
      await expect(applyBaseline(url.toString())).resolves.toBe(false);
    } finally {
      await db.sql.unsafe(`drop role ${role}`);
    }
  });
});

/**
 * Migration safety: each migration that follows the data-holding tables
 * applies to a database already full of data (the bench data set), keeps that
 * data, and a second push applies nothing. (A failing migration leaving no
 * partial change is proven in database.test.ts.)
 */
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { serverUrl } from "../../tests/support/database.ts";
import { loadDataset } from "../bench/dataset.ts";
import { ROOT, withDatabase } from "../server/config.ts";
import { applyBaseline, applyMigrations, migrationFiles } from "./database.ts";
import { connect, createDatabase, dropDatabase, withSql } from "../server/sql.ts";

const work = mkdtempSync(path.join(os.tmpdir(), "org-layer-migrations-"));
const created: string[] = [];
afterAll(async () => {
  rmSync(work, { recursive: true, force: true });
  for (const name of created) await dropDatabase(serverUrl(), name);
});

/** A workdir holding only the first `count` migrations. */
function workdirWith(count: number): string {
  const dir = mkdtempSync(path.join(work, "w-"));
  cpSync(path.join(ROOT, "supabase", "config.toml"), path.join(dir, "supabase", "config.toml"));
  for (const file of migrationFiles().slice(0, count)) {
    cpSync(path.join(ROOT, "supabase", "migrations", file), path.join(dir, "supabase", "migrations", file));
  }
  return dir;
}

const all = migrationFiles();
const firstAfterData = all.findIndex((f) => f.endsWith("_clients.sql")) + 1;

const COUNTS = `select (select count(*) from public.clients)::int as clients, (select count(*) from public.user_clients)::int as assignments,
                       (select count(*) from public.organization_users)::int as members, (select count(*) from public.user_roles)::int as roles`;

describe("migrations on a database full of data", () => {
  for (const index of all.map((_, i) => i).filter((i) => i >= firstAfterData)) {
    it(`${all[index]} and the ones after it apply to a database holding a bench-sized data set, keeping the data`, async () => {
      const name = `mig_${index}_${Date.now()}`;
      created.push(name);
      await createDatabase(serverUrl(), name);
      const url = withDatabase(serverUrl(), name);
      await applyBaseline(url);
      expect(await applyMigrations(url, workdirWith(index))).toHaveLength(index);
      const sql = connect(url, { max: 1 });
      try {
        await loadDataset(url, { organizations: 100, users: 2000, clients: 20_000 });
        const [before] = await sql.unsafe(COUNTS);
        expect(await applyMigrations(url)).toEqual(all.slice(index));
        const [after] = await sql.unsafe(COUNTS);
        expect(after).toEqual(before);
        expect(await applyMigrations(url)).toEqual([]);
      } finally {
        await sql.end({ timeout: 5 });
      }
      const [{ n }] = (await withSql(
        url,
        (s) => s`select count(*)::int as n from supabase_migrations.schema_migrations`,
      )) as unknown as [{ n: number }];
      expect(n).toBe(all.length);
    });
  }
});

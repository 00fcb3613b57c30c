/**
 * The checks behind db:check accept the project and catch what they exist
 * for: squawk an unsafe migration, action-validator a broken workflow,
 * supabase db lint (plpgsql_check, PostgreSQL 15) a function that cannot run.
 * Also: migration:new makes a timestamped file through the Supabase CLI.
 */
import { cpSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT, withDatabase } from "../server/config.ts";
import { build, supabaseCli } from "../build/database.ts";
import { createDatabase, withSql } from "../server/sql.ts";
import { resolveEngine } from "../server/engine.ts";
import {
  hasPlpgsqlCheck,
  installPlpgsqlCheck,
  lint,
  noSetLocal,
  PLPGSQL_CHECK_HINT,
  squawk,
  validateWorkflow,
  workflowFiles,
} from "./checks.ts";
import { startThrowawayServer, type ThrowawayServer } from "../testing/throwaway.ts";

const work = mkdtempSync(path.join(os.tmpdir(), "org-layer-checks-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("squawk", () => {
  it("accepts the migrations", () => {
    const result = squawk();
    expect(result.ok, result.output).toBe(true);
  });

  it("flags a migration that would lock and rewrite a live table", () => {
    const file = path.join(work, "29990101000000_unsafe.sql");
    writeFileSync(file, "alter table public.clients add column region text not null;\n");
    const result = squawk([file]);
    expect(result.ok).toBe(false);
    expect(result.output).toMatch(/adding-required-field|require-lock-timeout/);
  });
});

describe("no set local in migrations", () => {
  it("accepts the migrations", () => {
    const result = noSetLocal();
    expect(result.ok, result.output).toBe(true);
  });

  it("flags a new migration that guards itself with set local, naming the line", () => {
    const file = path.join(work, "29990101000001_guarded.sql");
    writeFileSync(
      file,
      "-- guard\nset local lock_timeout = '10s';\nalter table public.clients add column region text;\n",
    );
    const result = noSetLocal([file]);
    expect(result.ok).toBe(false);
    expect(result.output).toMatch(/29990101000001_guarded\.sql:2: set local lock_timeout/);
  });
});

describe("workflows", () => {
  it("ci.yml and deploy.yml are valid GitHub workflows", () => {
    const files = workflowFiles().map((f) => path.basename(f));
    expect(files).toEqual(expect.arrayContaining(["ci.yml", "deploy.yml"]));
    for (const file of workflowFiles()) {
      const result = validateWorkflow(file);
      expect(result.ok, `${file}: ${result.output}`).toBe(true);
    }
  });

  it("a broken workflow is refused", () => {
    const file = path.join(work, "broken.yml");
    writeFileSync(file, "name: Broken\non: push\njobs:\n  build:\n    steps:\n      - run: echo no runs-on\n");
    expect(validateWorkflow(file).ok).toBe(false);
  });
});

describe("supabase db lint with plpgsql_check (PostgreSQL 15)", () => {
  let server: ThrowawayServer;
  let url: string;
  beforeAll(async () => {
    const engine = await resolveEngine("system");
    if (!hasPlpgsqlCheck(engine)) throw new Error(PLPGSQL_CHECK_HINT);
    server = await startThrowawayServer(engine);
    await createDatabase(server.url, "lint");
    url = withDatabase(server.url, "lint");
    await build(url, { seed: false });
    await installPlpgsqlCheck(url);
  });
  afterAll(() => server?.stop());

  it("finds nothing in the migrations", () => {
    const result = lint(url);
    expect(result.ok, result.output).toBe(true);
  });

  it("reports a function that reads a column that does not exist", async () => {
    await withSql(url, (sql) =>
      sql.unsafe(`create function private.lint_probe() returns text language plpgsql set search_path = '' as $$
        begin return (select c.no_such_column from public.clients c limit 1); end $$`),
    );
    const result = lint(url);
    expect(result.ok).toBe(false);
    expect(result.output).toContain("no_such_column");
  });
});

describe("migration:new", () => {
  it("creates a timestamped migration file through the Supabase CLI", () => {
    const dir = mkdtempSync(path.join(work, "w-"));
    cpSync(path.join(ROOT, "supabase", "config.toml"), path.join(dir, "supabase", "config.toml"));
    const result = supabaseCli(["migration", "new", "add_client_region"], { workdir: dir });
    expect(result.status, `${result.stdout}${result.stderr}`).toBe(0);
    const files = readdirSync(path.join(dir, "supabase", "migrations"));
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^\d{14}_add_client_region\.sql$/);
  });
});

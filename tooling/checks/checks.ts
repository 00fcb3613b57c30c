/**
 * Static checks behind `npm run db:check`: squawk on the migrations, the
 * GitHub workflows against their schema, `supabase db lint` (plpgsql_check).
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { ROOT, superuserUrl } from "../server/config.ts";
import { cliUrl, migrationFiles, supabaseCli } from "../build/database.ts";
import { withSql } from "../server/sql.ts";
import type { Engine } from "../server/engine.ts";

export interface CheckResult {
  ok: boolean;
  output: string;
}

const bin = (name: string) => path.join(ROOT, "node_modules", ".bin", name);

/** squawk over migration files (default: all of supabase/migrations), with .squawk.toml. */
export function squawk(files = migrationFiles().map((f) => path.join(ROOT, "supabase", "migrations", f))): CheckResult {
  const result = spawnSync(bin("squawk"), ["--config", path.join(ROOT, ".squawk.toml"), ...files], {
    cwd: ROOT,
    encoding: "utf8",
  });
  return { ok: result.status === 0, output: `${result.stdout}${result.stderr}` };
}

/**
 * Migrations shipped before the project learned that `supabase db push` runs
 * a file outside a transaction block: their `set local` guards do nothing
 * there (the push's session options supply the timeouts instead). Applied
 * migrations are never edited, so they keep them.
 */
const LEGACY_SET_LOCAL_BEFORE = "20261201000000";

/**
 * No `set local` in a migration: under `supabase db push` it only logs
 * "SET LOCAL can only be used in transaction blocks" and has no effect. Use a
 * plain `set lock_timeout = ...` at the top of the file.
 */
export function noSetLocal(
  files = migrationFiles().map((f) => path.join(ROOT, "supabase", "migrations", f)),
): CheckResult {
  const offending = files
    .filter((file) => path.basename(file) >= LEGACY_SET_LOCAL_BEFORE)
    .flatMap((file) =>
      readFileSync(file, "utf8")
        .split("\n")
        .map((line, i) => ({ line, i }))
        .filter(({ line }) => /^\s*set\s+local\b/i.test(line))
        .map(({ line, i }) => `${path.relative(ROOT, file)}:${i + 1}: ${line.trim()}`),
    );
  return {
    ok: offending.length === 0,
    output: offending.length
      ? `${offending.join("\n")}\nsupabase db push runs a migration outside a transaction block, where set local does nothing: use a plain set (e.g. set lock_timeout = '10s').`
      : "",
  };
}

export const WORKFLOWS_DIR = path.join(ROOT, ".github", "workflows");

export function workflowFiles(): string[] {
  if (!existsSync(WORKFLOWS_DIR)) return [];
  return readdirSync(WORKFLOWS_DIR)
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => path.join(WORKFLOWS_DIR, f));
}

/** A GitHub workflow against the published workflow schema (action-validator). */
export function validateWorkflow(file: string): CheckResult {
  const result = spawnSync(bin("action-validator"), [file], { cwd: ROOT, encoding: "utf8" });
  return { ok: result.status === 0, output: `${result.stdout}${result.stderr}` };
}

export const PLPGSQL_CHECK_HINT =
  "Install plpgsql_check for the system PostgreSQL (Debian: apt-get install -y postgresql-15-plpgsql-check).";

export function hasPlpgsqlCheck(engine: Engine): boolean {
  return existsSync(path.join(engine.extensionDir, "plpgsql_check.control"));
}

/**
 * Install plpgsql_check into `extensions` as the superuser: it is not a
 * trusted extension, and `postgres`, which `supabase db lint` connects as, is
 * not a superuser (on hosted Supabase, supautils installs it for `postgres`).
 */
export async function installPlpgsqlCheck(url: string): Promise<void> {
  await withSql(superuserUrl(url), (sql) => sql`create extension if not exists plpgsql_check with schema extensions`);
}

/** `supabase db lint` (plpgsql_check over every function) at warning level; see installPlpgsqlCheck. */
export function lint(url: string): CheckResult {
  const result = supabaseCli(["db", "lint", "--db-url", cliUrl(url), "--level", "warning", "--fail-on", "warning"]);
  return { ok: result.status === 0, output: result.output };
}

/**
 * Throwaway servers and databases for tests and benchmarks: a cluster in a
 * temporary folder on a free port, removed afterwards, and a template
 * database (baseline + migrations + seed) that each test copies in
 * milliseconds.
 */
import { randomBytes } from "node:crypto";
import { spawnSync } from "node:child_process";
import { copyFileSync, cpSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Cluster, freePort, makeServerDir } from "../server/cluster.ts";
import { SUPABASE_DIR, superuserUrl, withDatabase } from "../server/config.ts";
import { baselineState, build } from "../build/database.ts";
import { createDatabase, ensurePlatformRoles, withSql } from "../server/sql.ts";
import type { Engine } from "../server/engine.ts";
import { fail } from "../output.ts";

/** The template every test database copies; `TEST_TEMPLATE_DB` names another (a suite that builds its own). */
export const TEMPLATE_DB = process.env.TEST_TEMPLATE_DB || "org_layer_template";
/** The same without the demo seed: the pgTAP suite's own fixtures must suffice. */
export const BARE_TEMPLATE_DB = "org_layer_template_bare";
const SAFEUPDATE_DIR = path.join(SUPABASE_DIR, "platform", "safeupdate");

export interface ThrowawayServer {
  /** URL of the server's `postgres` database, as the role `postgres` (not a superuser, as on hosted Supabase). */
  url: string;
  /** The same, as the bootstrap superuser `supabase_admin`, for what only a superuser may do. */
  adminUrl: string;
  engine: Engine;
  stop(): void;
}

/** Where Debian's pgTAP package puts its extension files. */
function systemPgtapDir(): string | null {
  const root = "/usr/share/postgresql";
  if (!existsSync(root)) return null;
  for (const major of readdirSync(root).sort().reverse()) {
    const dir = path.join(root, major, "extension");
    if (existsSync(path.join(dir, "pgtap.control"))) return dir;
  }
  return null;
}

export const PGTAP_INSTALL_HINT =
  "Install pgTAP and pg_prove (Debian: apt-get install -y postgresql-15-pgtap libtap-parser-sourcehandler-pgtap-perl).";

/**
 * Make the pgTAP extension available to an engine. pgTAP is plain SQL, so the
 * files Debian's package installs also serve the embedded binaries.
 */
export function ensurePgtap(engine: Engine): void {
  if (existsSync(path.join(engine.extensionDir, "pgtap.control"))) return;
  const source = systemPgtapDir();
  if (!source) fail(`pgTAP is not installed for ${engine.name} PostgreSQL ${engine.major}. ${PGTAP_INSTALL_HINT}`);
  for (const file of readdirSync(source).filter((f) => f.startsWith("pgtap"))) {
    copyFileSync(path.join(source, file), path.join(engine.extensionDir, file));
  }
}

export const SAFEUPDATE_INSTALL_HINT =
  "Install the PostgreSQL 15 server headers and a C compiler (Debian: apt-get install -y postgresql-server-dev-15 make gcc).";

/**
 * Build the local safeupdate library (supabase/platform/safeupdate) for an
 * engine into `dir`; returns the path to load it by. Needs the engine's
 * pg_config with its PGXS files (the system PostgreSQL's server headers).
 */
export function buildSafeupdate(engine: Engine, dir: string): string {
  const pgConfig = path.join(engine.binDir, "pg_config");
  const pgxs = existsSync(pgConfig) ? spawnSync(pgConfig, ["--pgxs"], { encoding: "utf8" }).stdout.trim() : "";
  if (!pgxs || !existsSync(pgxs))
    fail(`Building safeupdate for PostgreSQL ${engine.major} needs its server headers. ${SAFEUPDATE_INSTALL_HINT}`);
  cpSync(SAFEUPDATE_DIR, dir, { recursive: true });
  const made = spawnSync("make", ["-s", "-C", dir, `PG_CONFIG=${pgConfig}`, "with_llvm=no"], { encoding: "utf8" });
  if (made.status !== 0)
    fail(`Building safeupdate failed:\n${made.stdout ?? ""}${made.stderr ?? ""}\n${SAFEUPDATE_INSTALL_HINT}`);
  return path.join(dir, "safeupdate");
}

export interface ThrowawayOptions {
  /**
   * Load the local safeupdate build into every session (UPDATE and DELETE
   * need a WHERE clause, as on hosted Supabase's API path). Needs the
   * engine's server headers: the system PostgreSQL 15.
   */
  safeupdate?: boolean;
}

export async function startThrowawayServer(engine: Engine, options: ThrowawayOptions = {}): Promise<ThrowawayServer> {
  const base = mkdtempSync(path.join(os.tmpdir(), `org-layer-${engine.name}-`));
  makeServerDir(base);
  const password = randomBytes(12).toString("hex");
  const port = await freePort();
  const preload = options.safeupdate ? [buildSafeupdate(engine, path.join(base, "safeupdate"))] : [];
  const cluster = new Cluster({
    engine,
    dataDir: path.join(base, "data"),
    port,
    password,
    throwaway: true,
    sessionPreloadLibraries: preload,
  });
  const stop = () => {
    process.off("SIGINT", interrupted).off("SIGTERM", interrupted);
    try {
      cluster.destroy();
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  };
  // An interrupted run (Ctrl-C, a CI timeout) still removes its server.
  const interrupted = (signal: NodeJS.Signals) => {
    stop();
    process.kill(process.pid, signal);
  };
  process.once("SIGINT", interrupted).once("SIGTERM", interrupted);
  const url = `postgresql://postgres:${password}@127.0.0.1:${port}/postgres`;
  try {
    cluster.init();
    await cluster.start();
    await ensurePlatformRoles(url, password);
  } catch (error) {
    stop();
    throw error;
  }
  return { url, adminUrl: superuserUrl(url), engine, stop };
}

/**
 * Build a template database that tests copy: `TEMPLATE_DB` (baseline,
 * migrations, demo seed) by default; with `seed: false`, `BARE_TEMPLATE_DB`
 * (no seed).
 */
export async function buildTemplate(
  serverUrl: string,
  log?: (m: string) => void,
  options: { seed?: boolean } = {},
): Promise<void> {
  const name = options.seed === false ? BARE_TEMPLATE_DB : TEMPLATE_DB;
  await createDatabase(serverUrl, name, { replace: true });
  await build(withDatabase(serverUrl, name), { seed: options.seed !== false, ...(log ? { log } : {}) });
  await withSql(serverUrl, (sql) => sql`alter database ${sql(name)} with is_template true`);
}

/**
 * Install pgTAP into a database's `extensions` schema, as the superuser: it is
 * not a trusted extension, and `postgres` is not a superuser (on hosted
 * Supabase, supautils installs it for `postgres`).
 */
export async function installPgtap(url: string): Promise<void> {
  await withSql(superuserUrl(url), (sql) => sql`create extension if not exists pgtap with schema extensions`);
}

/**
 * The local database's pgTAP, for running the threat suite by hand (`pg_prove`,
 * docs/security.md): installed as `installPgtap` does when pgTAP's files are
 * there for the engine (copied from the system's, as `npm test` does), and
 * only on a database with the local baseline (a Supabase server provides its
 * own). Returns what it did, or why not; never fails.
 */
export async function offerPgtap(engine: Engine, url: string): Promise<string | null> {
  if ((await baselineState(url)) !== "applied") return null;
  const [row] = await withSql(
    url,
    (sql) => sql`select exists (select from pg_extension where extname = 'pgtap') as installed`,
  );
  if (row?.installed) return null;
  if (!existsSync(path.join(engine.extensionDir, "pgtap.control")) && !systemPgtapDir())
    return `pgTAP: not installed, so the threat suite cannot run by hand here. ${PGTAP_INSTALL_HINT}`;
  ensurePgtap(engine);
  await installPgtap(url);
  return "pgTAP: installed in schema extensions (pg_prove runs the threat suite: docs/security.md)";
}

/**
 * A fresh copy of the template; returns its URL. CREATE DATABASE ... TEMPLATE
 * does not copy database privileges, so the copy's TEMPORARY is taken away
 * from the API roles again, as the migration did on the template.
 */
export async function copyTemplate(
  serverUrl: string,
  name = `t_${randomBytes(6).toString("hex")}`,
  template = TEMPLATE_DB,
): Promise<string> {
  await createDatabase(serverUrl, name, { template });
  const url = withDatabase(serverUrl, name);
  await withSql(url, (sql) => sql`select private.revoke_temporary_from_api_roles()`);
  return url;
}

/**
 * Throwaway servers and databases for tests and benchmarks: a cluster in a
 * temporary folder on a free port, removed afterwards, and a template
 * database (baseline + migrations + seed) that each test copies in
 * milliseconds.
 */
import { randomBytes } from "node:crypto";
import { copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Cluster, freePort, makeServerDir } from "./cluster.ts";
import { withDatabase } from "./config.ts";
import { build, createDatabase, withSql } from "./database.ts";
import type { Engine } from "./engine.ts";
import { fail } from "./output.ts";

export const TEMPLATE_DB = "org_layer_template";

export interface ThrowawayServer {
  /** URL of the server's `postgres` database, as superuser. */
  url: string;
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

export async function startThrowawayServer(engine: Engine): Promise<ThrowawayServer> {
  const base = mkdtempSync(path.join(os.tmpdir(), `org-layer-${engine.name}-`));
  makeServerDir(base);
  const password = randomBytes(12).toString("hex");
  const port = await freePort();
  const cluster = new Cluster({ engine, dataDir: path.join(base, "data"), port, user: "postgres", password, throwaway: true });
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
  try {
    cluster.init();
    await cluster.start();
  } catch (error) {
    stop();
    throw error;
  }
  return { url: `postgresql://postgres:${password}@127.0.0.1:${port}/postgres`, engine, stop };
}

/** Build the template database every test copies. */
export async function buildTemplate(serverUrl: string, log?: (m: string) => void): Promise<void> {
  await createDatabase(serverUrl, TEMPLATE_DB, { replace: true });
  await build(withDatabase(serverUrl, TEMPLATE_DB), log ? { log } : {});
  await withSql(serverUrl, (sql) => sql`alter database ${sql(TEMPLATE_DB)} with is_template true`);
}

/**
 * A fresh copy of the template; returns its URL. CREATE DATABASE ... TEMPLATE
 * does not copy database privileges, so the copy's TEMPORARY is taken away
 * from the API roles again, as the migration did on the template.
 */
export async function copyTemplate(serverUrl: string, name = `t_${randomBytes(6).toString("hex")}`): Promise<string> {
  await createDatabase(serverUrl, name, { template: TEMPLATE_DB });
  const url = withDatabase(serverUrl, name);
  await withSql(url, (sql) => sql`select private.revoke_temporary_from_api_roles()`);
  return url;
}

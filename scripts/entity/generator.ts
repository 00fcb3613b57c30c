/**
 * `entity:new`: scaffold an organization-scoped table and everything that
 * goes with it, from the templates in src/cli/entity/templates. Planning and writing
 * live in src/cli/entity (the package's `supabase-org-layer entity` uses
 * them too); this module adds what only this repository does: regenerating
 * the generated code. The logic takes a workdir (the project's root), so that
 * any command can call it:
 *
 *   1. validate the name and the columns (nothing is written when they are refused);
 *   2. write the new files: a migration, a numbered pgTAP threat file, the
 *      Drizzle/zod module, the helpers, their vitest suite and a plan guard;
 *   3. regenerate the Drizzle schema and the supabase-js types from a scratch
 *      database built from the migrations (on the server the caller names, or
 *      the local one, started when it is not running).
 *
 * Hand-written files are never changed; when a later step fails, the files
 * written are removed again.
 */
import {
  formatFiles,
  planEntity,
  removeFiles,
  writeFiles,
  type EntityOptions,
  type EntityPlan,
} from "../../src/cli/entity/plan.ts";

export * from "../../src/cli/entity/plan.ts";

export interface RunOptions extends EntityOptions {
  /**
   * A server to build the scratch database on (its maintenance database's
   * URL, as `postgres`). Without it, the local database (DATABASE_URL or the
   * default) is used, and started when it is not running.
   */
  serverUrl?: string;
  log?: (message: string) => void;
}

/** The local server's maintenance URL, started when it is not running (said in the log). */
async function localServer(log: (m: string) => void): Promise<string> {
  const { local, startCluster } = await import("../../tooling/server/local.ts");
  const { adminUrlFor } = await import("../../tooling/server/sql.ts");
  const here = await local();
  const running = here.cluster.runningPort() !== null;
  if (!running)
    log(`the local database is not running: starting it on port ${here.target.port} (stop it with npm run db:stop)`);
  await startCluster(here);
  return adminUrlFor(here.target.url);
}

/** Regenerate the Drizzle schema and supabase-js types of `workdir` from a scratch database built from its migrations. */
export async function regenerate(
  workdir: string,
  serverUrl: string,
  log: (m: string) => void = () => {},
): Promise<void> {
  const { randomBytes } = await import("node:crypto");
  const { applyBaseline, applyMigrations } = await import("../../tooling/build/database.ts");
  const { createDatabase, dropDatabase } = await import("../../tooling/server/sql.ts");
  const { withDatabase } = await import("../../tooling/server/config.ts");
  const { generate, writeGenerated } = await import("../../tooling/build/codegen.ts");
  const scratch = `entity_codegen_${randomBytes(4).toString("hex")}`;
  await createDatabase(serverUrl, scratch);
  try {
    const url = withDatabase(serverUrl, scratch);
    log(`building a scratch database (${scratch}) from the migrations`);
    await applyBaseline(url);
    await applyMigrations(url, workdir);
    log("drizzle-kit pull, supabase gen types typescript");
    writeGenerated(await generate(url), workdir);
  } finally {
    await dropDatabase(serverUrl, scratch);
  }
}

/** The whole command: plan (or refuse), write, regenerate; on failure the new files are removed. */
export async function runEntityNew(options: RunOptions): Promise<EntityPlan> {
  const log = options.log ?? (() => {});
  const plan = planEntity(options);
  const files = await formatFiles(plan.files);
  const written = writeFiles(options.workdir, files);
  try {
    for (const f of files) log(`wrote ${f.path}`);
    const serverUrl = options.serverUrl ?? (await localServer(log));
    await regenerate(options.workdir, serverUrl, log);
    log("regenerated src/schema/generated/schema.ts, src/schema/generated/relations.ts, src/types/database.types.ts");
  } catch (error) {
    removeFiles(written);
    log("removed the files written: the migration did not apply, or the types could not be regenerated");
    throw error;
  }
  return { ...plan, files };
}

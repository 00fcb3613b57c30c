/** npm run db:status — running or not, URL, applied and pending migrations. */
import { engineLabel, local, otherEngineServer } from "../tooling/server/local.ts";
import { main } from "../tooling/output.ts";
import { printSummary } from "../tooling/build/summary.ts";
import { migrationFiles } from "../tooling/build/database.ts";

main(async () => {
  const { engine, target, cluster } = await local();
  console.log(`engine:    ${engineLabel(engine)}`);
  console.log(`data:      ${cluster.dataDir}${cluster.exists() ? "" : " (not created yet: npm run db:start)"}`);
  const port = cluster.runningPort();
  console.log(`status:    ${port === null ? "stopped" : `running on port ${port}`}`);
  console.log(`url:       ${target.url}`);
  const other = otherEngineServer(engine);
  if (other)
    console.log(`           (the ${other.name} engine's server runs on port ${other.port}: --engine=${other.name})`);
  if (port === null) {
    // Which are applied is the database's to say: only the repository's side is known while it is stopped.
    const files = migrationFiles();
    console.log(
      `migrations: ${files.length} in supabase/migrations, the newest ${files.at(-1) ?? "(none)"}; ` +
        "which are applied shows once it runs (npm run db:start applies the pending ones)",
    );
    return;
  }
  if (port !== target.port) {
    console.log(
      `           (the server runs on port ${port}, not on DATABASE_URL's ${target.port}: nothing to list there)`,
    );
    return;
  }
  try {
    await printSummary(target.url, { listApplied: true });
  } catch (error) {
    // 3D000: the server runs, the database of the URL is not made yet.
    if ((error as { code?: unknown }).code !== "3D000") throw error;
    const database = decodeURIComponent(new URL(target.url).pathname.slice(1));
    console.log(`database:  ${database} does not exist on this server yet (npm run db:start creates it)`);
  }
});

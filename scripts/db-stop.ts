/** npm run db:stop — stop the local PostgreSQL. */
import { local, otherEngineServer } from "../tooling/server/local.ts";
import { main, step } from "../tooling/output.ts";

main(async () => {
  const { cluster, engine } = await local();
  const stopped = cluster.exists() && cluster.stop();
  if (stopped) step("stopped the local database");
  else if (!cluster.exists()) step(`no local database in ${cluster.dataDir}; nothing to stop`);
  else step("the local database was not running");
  const other = otherEngineServer(engine);
  if (!stopped && other) {
    step(
      `the ${other.name} engine's server runs on port ${other.port}; stop it with: npm run db:stop -- --engine=${other.name}`,
    );
  }
});

/** npm run db:stop — stop the local PostgreSQL. */
import { local } from "../tooling/server/local.ts";
import { main, step } from "../tooling/output.ts";

main(async () => {
  const { cluster } = await local();
  if (!cluster.exists()) {
    step(`no local database in ${cluster.dataDir}; nothing to stop`);
    return;
  }
  step(cluster.stop() ? "stopped the local database" : "the local database was not running");
});

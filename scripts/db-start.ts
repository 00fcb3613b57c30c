/**
 * npm run db:start — start the local PostgreSQL (creating it on first run),
 * apply the platform baseline to a new database, apply pending migrations,
 * load the seed once, print the URL and a summary. Idempotent: on an existing
 * database only pending migrations run (the baseline is never re-applied).
 */
import { build, configurePostgrestLocally } from "../tooling/build/database.ts";
import { createDatabase, databaseExists, adminUrlFor } from "../tooling/server/sql.ts";
import { engineLabel, local, startCluster } from "../tooling/server/local.ts";
import { main, step } from "../tooling/output.ts";
import { offerPgtap } from "../tooling/testing/throwaway.ts";
import { printSummary } from "../tooling/build/summary.ts";

main(async () => {
  const here = await local();
  const { engine, target } = here;
  step(engineLabel(engine));
  const { wasRunning } = await startCluster(here);
  step(
    wasRunning
      ? `already running on port ${target.port}`
      : `started on port ${target.port} (log: ${here.cluster.logFile})`,
  );
  if (!(await databaseExists(adminUrlFor(target.url), target.database))) {
    await createDatabase(adminUrlFor(target.url), target.database);
    step(`created database ${target.database}`);
  }
  await build(target.url, { log: step });
  for (const done of [await configurePostgrestLocally(target.url), await offerPgtap(engine, target.url)])
    if (done) step(done);
  console.log(`\nLocal database ready:\n  ${target.url}`);
  await printSummary(target.url);
  console.log("\nStop it with `npm run db:stop`; rebuild it from scratch with `npm run db:reset`.");
});

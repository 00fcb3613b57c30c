/**
 * npm run db:start — start the local PostgreSQL (creating it on first run),
 * apply the platform baseline and pending migrations, load the seed once,
 * print the URL and a summary. Idempotent.
 */
import { build, createDatabase, databaseExists, adminUrlFor } from "./lib/database.ts";
import { engineLabel, local } from "./lib/local.ts";
import { main, step } from "./lib/output.ts";
import { printSummary } from "./lib/summary.ts";

main(async () => {
  const { engine, target, cluster } = await local();
  step(engineLabel(engine));
  if (!cluster.exists()) {
    step(`creating a new cluster in ${cluster.dataDir}`);
    cluster.init();
  }
  const wasRunning = cluster.runningPort() !== null;
  await cluster.start();
  step(wasRunning ? `already running on port ${target.port}` : `started on port ${target.port} (log: ${cluster.logFile})`);
  if (!(await databaseExists(adminUrlFor(target.url), target.database))) {
    await createDatabase(adminUrlFor(target.url), target.database);
    step(`created database ${target.database}`);
  }
  await build(target.url, { log: step });
  console.log(`\nLocal database ready:\n  ${target.url}`);
  await printSummary(target.url);
  console.log("\nStop it with `npm run db:stop`; rebuild it from scratch with `npm run db:reset`.");
});

/**
 * npm run db:reset — like `supabase db reset`: recreate the database, then
 * the platform baseline, every migration and the seed.
 */
import { rmSync } from "node:fs";
import { otherEngine } from "../tooling/server/engine.ts";
import { build, configurePostgrestLocally } from "../tooling/build/database.ts";
import { adminUrlFor, createDatabase } from "../tooling/server/sql.ts";
import { engineLabel, local, startCluster } from "../tooling/server/local.ts";
import { fail, main, step } from "../tooling/output.ts";
import { offerPgtap } from "../tooling/testing/throwaway.ts";
import { printSummary } from "../tooling/build/summary.ts";

main(async () => {
  const started = Date.now();
  const here = await local();
  const { engine, target, cluster } = here;
  step(engineLabel(engine));
  if (cluster.exists() && cluster.dataMajor() !== engine.major) {
    const other = otherEngine(engine.name);
    const server = cluster.liveServer();
    if (server) {
      // Its server would keep running from a deleted folder, beyond the reach of db:stop.
      fail(
        `The data folder ${cluster.dataDir} was made by PostgreSQL ${cluster.dataMajor()}, whose server is running from it ` +
          `(pid ${server.pid}, port ${server.port}). Stop it first, then reset:\n` +
          `  npm run db:stop -- --engine=${other}`,
      );
    }
    if (!cluster.madeHere()) {
      fail(
        `The data folder ${cluster.dataDir} was made by PostgreSQL ${cluster.dataMajor()}, but not by this project's ` +
          `tooling, so it is left as it is. Point DB_DATA_DIR at another folder, or remove it yourself ` +
          `(rm -rf ${cluster.dataDir}; every database in it is lost) and run npm run db:reset.`,
      );
    }
    step(`the data folder was made by PostgreSQL ${cluster.dataMajor()}; recreating it for PostgreSQL ${engine.major}`);
    rmSync(cluster.dataDir, { recursive: true, force: true });
  }
  await startCluster(here, { recreateLegacy: true });
  await createDatabase(adminUrlFor(target.url), target.database, { replace: true });
  step(`recreated database ${target.database}`);
  await build(target.url, { log: step });
  for (const done of [await configurePostgrestLocally(target.url), await offerPgtap(engine, target.url)])
    if (done) step(done);
  console.log(`\nLocal database reset in ${((Date.now() - started) / 1000).toFixed(1)} s:\n  ${target.url}`);
  await printSummary(target.url);
});

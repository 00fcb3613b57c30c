/**
 * A primary with two streaming standbys, for the read-replica suites: a
 * throwaway server of the run's engine (TEST_ENGINE; the embedded PostgreSQL
 * 17 when the run uses an external server) holding the schema and the seed,
 * standby A made the engine's usual way (pg_basebackup -R on the system
 * PostgreSQL, the low-level copy on the embedded one, which has no
 * pg_basebackup) and standby B always by the low-level copy. On the system
 * PostgreSQL 15 every session, the standbys' too, runs under safeupdate
 * (their postgresql.conf is the primary's).
 */
import { afterAll, beforeAll } from "vitest";
import { withDatabase } from "../../tooling/server/config.ts";
import { build } from "../../tooling/build/database.ts";
import { createDatabase } from "../../tooling/server/sql.ts";
import { resolveEngine, type Engine } from "../../tooling/server/engine.ts";
import { startStandby, type Standby } from "../../tooling/server/standby.ts";
import { startThrowawayServer, type ThrowawayServer } from "../../tooling/testing/throwaway.ts";

export interface ReplicaSet {
  engine: Engine;
  /** The primary's database, as `postgres`. */
  url: string;
  a: Standby;
  b: Standby;
}

export function useReplicaSet(): ReplicaSet {
  const set = {} as ReplicaSet;
  let server: ThrowawayServer | undefined;
  const standbys: Standby[] = [];
  beforeAll(async () => {
    set.engine = await resolveEngine(process.env.TEST_ENGINE === "system" ? "system" : "embedded");
    server = await startThrowawayServer(set.engine, { safeupdate: set.engine.name === "system" });
    set.url = withDatabase(server.url, "app");
    await createDatabase(server.url, "app");
    await build(set.url);
    set.a = await startStandby({ engine: set.engine, primaryUrl: set.url });
    standbys.push(set.a);
    set.b = await startStandby({ engine: set.engine, primaryUrl: set.url, method: "copy" });
    standbys.push(set.b);
  });
  afterAll(() => {
    try {
      for (const s of standbys) s.destroy();
    } finally {
      server?.stop();
    }
  });
  return set;
}

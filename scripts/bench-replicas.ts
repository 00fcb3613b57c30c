/**
 * npm run bench:replicas — what a read replica costs and how far it trails.
 *
 * On a throwaway primary (the embedded PostgreSQL 17; `--engine=system` for
 * the system one) holding the benchmark's data set (`--scale`, default 0.1:
 * 100,000 clients) and a streaming standby of it (tooling/server/standby.ts):
 *
 * 1. Routing overhead: the benchmark's one-client fetch as a user, run
 *    sequentially through the typed layer as a primary unit, as a read-only
 *    unit routed to the standby, as a read-only unit with no replica
 *    configured (the primary in a read only transaction), and with a token
 *    the standby has already replayed. Medians and p95 in milliseconds.
 * 2. Lag under write load: `--writers` (default 4) connections run the
 *    benchmark's insert (a manager inserting a client, as a user) for
 *    `--seconds` (default 10) while the standby's replay position is sampled
 *    every 50 ms against the primary's WAL position (bytes behind), and a
 *    prober takes a write token every 100 ms and times how long the standby
 *    takes to replay it (the read-your-writes wait).
 *
 * The primary commits synchronously (`synchronous_commit = on`, as on hosted
 * Supabase; the throwaway server's default is off); fsync stays off, so the
 * figures leave out disk flushes on both sides.
 *
 * Prints a markdown table and writes bench-results/replicas-*.json.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { eq } from "drizzle-orm";
import { createClient } from "../src/clients.ts";
import { createOrgDb, type OrgDb } from "../src/db.ts";
import { clients } from "../src/schema/index.ts";
import { loadDataset, sizeFor } from "../tooling/bench/dataset.ts";
import { stats, type Stats } from "../tooling/bench/measure.ts";
import { pickPersonas } from "../tooling/bench/queries.ts";
import { ROOT, superuserUrl, withDatabase } from "../tooling/server/config.ts";
import { build } from "../tooling/build/database.ts";
import { connect, createDatabase, withSql } from "../tooling/server/sql.ts";
import { engineNameFrom, resolveEngine } from "../tooling/server/engine.ts";
import { main, step } from "../tooling/output.ts";
import { startStandby, type Standby } from "../tooling/server/standby.ts";
import { startThrowawayServer } from "../tooling/testing/throwaway.ts";

const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const scale = Number(arg("scale") ?? 0.1);
const writers = Number(arg("writers") ?? 4);
const seconds = Number(arg("seconds") ?? 10);
const RUNS = Number(arg("runs") ?? 2000);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Time each variant RUNS times, interleaved (one of each in turn), so that they share the machine's noise. */
async function timeUnits(variants: Record<string, () => Promise<unknown>>): Promise<Record<string, Stats>> {
  const entries = Object.entries(variants);
  for (let i = 0; i < 200; i++) for (const [, run] of entries) await run();
  const samples = new Map(entries.map(([k]) => [k, [] as number[]]));
  for (let i = 0; i < RUNS; i++) {
    for (const [k, run] of entries) {
      const start = process.hrtime.bigint();
      await run();
      samples.get(k)!.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
  }
  return Object.fromEntries(entries.map(([k]) => [k, stats(samples.get(k)!)]));
}

const lsnBytes = (lsn: string) => {
  const [hi, lo] = lsn.split("/");
  return Number((BigInt(`0x${hi}`) << 32n) + BigInt(`0x${lo}`));
};

main(async () => {
  const engine = await resolveEngine(engineNameFrom());
  step(
    `PostgreSQL ${engine.version} (${engine.name}): a throwaway primary, the data set at scale ${scale}, a streaming standby`,
  );
  const server = await startThrowawayServer(engine, { safeupdate: engine.name === "system" });
  const handles: OrgDb[] = [];
  let standby: Standby | undefined;
  try {
    const url = withDatabase(server.url, "bench_replicas");
    await createDatabase(server.url, "bench_replicas");
    await build(url, { seed: false });
    await loadDataset(url, sizeFor(scale));
    const admin = connect(url, { max: 4 });
    const personas = await pickPersonas(admin);
    // Commits as on hosted Supabase (the throwaway server commits asynchronously, which
    // would hold WAL back from the standby for up to wal_writer_delay).
    await withSql(superuserUrl(url), async (sql) => {
      await sql`alter system set synchronous_commit = on`;
      await sql`select pg_reload_conf()`;
    });
    const replica = (standby = await startStandby({ engine, primaryUrl: url }));
    step(`standby by ${replica.method} on port ${replica.port}`);
    const withReplica = createOrgDb(url, { max: writers + 2, readReplicas: [replica.url] });
    const primaryOnly = createOrgDb(url, { max: writers + 2 });
    handles.push(withReplica, primaryOnly);
    const { admin: reader, clientId } = { admin: personas.admin, clientId: personas.clientId };
    const fetch = (db: OrgDb, how?: { readOnly: true; after?: string }) =>
      db.asUser(reader.id, (tx) => tx.select().from(clients).where(eq(clients.id, clientId)), how);

    step(`routing overhead: ${RUNS} sequential one-client fetches each way`);
    const replayed = await withReplica.writeToken();
    await replica.catchUp();
    const overhead = await timeUnits({
      "primary unit": () => fetch(withReplica),
      "read-only unit, routed to the standby": () => fetch(withReplica, { readOnly: true }),
      "read-only unit, no replica (primary, read only)": () => fetch(primaryOnly, { readOnly: true }),
      "read-only unit with a replayed token (standby)": () => fetch(withReplica, { readOnly: true, after: replayed }),
    });

    step(`lag: ${writers} writers inserting clients for ${seconds} s`);
    const manager = personas.manager;
    const probe = connect(replica.url, { max: 1 });
    let inserts = 0;
    let running = true;
    const lagBytes: number[] = [];
    const visibleAfterMs: number[] = [];
    const writer = async (w: number) => {
      while (running) {
        await primaryOnly.asUser(manager.id, (tx) =>
          createClient(tx, { organizationId: manager.org, name: `Lag ${w}-${inserts}` }),
        );
        inserts++;
      }
    };
    const sampler = async () => {
      while (running) {
        const [[p], [s]] = await Promise.all([
          admin<{ lsn: string }[]>`select pg_current_wal_lsn()::text as lsn`,
          probe<{ lsn: string }[]>`select pg_last_wal_replay_lsn()::text as lsn`,
        ]);
        lagBytes.push(Math.max(0, lsnBytes(p!.lsn) - lsnBytes(s!.lsn)));
        await sleep(50);
      }
    };
    const prober = async () => {
      const watch = connect(replica.url, { max: 1 });
      try {
        while (running) {
          const token = await primaryOnly.writeToken();
          const start = process.hrtime.bigint();
          for (;;) {
            const [row] = await watch<{ done: boolean }[]>`select pg_last_wal_replay_lsn() >= ${token}::pg_lsn as done`;
            if (row!.done) break;
          }
          visibleAfterMs.push(Number(process.hrtime.bigint() - start) / 1e6);
          await sleep(100);
        }
      } finally {
        await watch.end();
      }
    };
    const started = Date.now();
    const work = [...Array.from({ length: writers }, (_, w) => writer(w)), sampler(), prober()];
    await sleep(seconds * 1000);
    running = false;
    await Promise.all(work);
    const elapsed = (Date.now() - started) / 1000;
    const catchUpStart = Date.now();
    await replica.catchUp();
    const catchUpMs = Date.now() - catchUpStart;
    await probe.end();
    await admin.end();

    const lag = {
      insertsPerSecond: Math.round(inserts / elapsed),
      lagBytes: { ...stats(lagBytes), max: Math.max(...lagBytes) },
      visibleAfterMs: { ...stats(visibleAfterMs), max: Math.max(...visibleAfterMs) },
      catchUpMs,
    };
    const f = (n: number) => n.toFixed(3);
    console.log(`\n### Routing overhead (one-client fetch as a user, ms, ${RUNS} runs)\n`);
    console.log("| unit | median | p95 |\n| --- | --- | --- |");
    for (const [k, s] of Object.entries(overhead)) console.log(`| ${k} | ${f(s.median)} | ${f(s.p95)} |`);
    console.log(
      `\n### Lag under ${writers} writers of the benchmark's insert (${seconds} s, ${lag.insertsPerSecond} inserts/s)\n`,
    );
    console.log("| measure | median | p95 | max |\n| --- | --- | --- | --- |");
    console.log(
      `| bytes of WAL not yet replayed (every 50 ms) | ${lag.lagBytes.median} | ${lag.lagBytes.p95} | ${lag.lagBytes.max} |`,
    );
    console.log(
      `| ms until a write token is replayed (every 100 ms) | ${f(lag.visibleAfterMs.median)} | ${f(lag.visibleAfterMs.p95)} | ${f(lag.visibleAfterMs.max)} |`,
    );
    console.log(`\nCaught up ${catchUpMs} ms after the load stopped.`);
    const dir = path.join(ROOT, "bench-results");
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `replicas-${engine.name}-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
    writeFileSync(file, JSON.stringify({ engine: engine.version, scale, writers, seconds, overhead, lag }, null, 2));
    step(`wrote ${path.relative(ROOT, file)}`);
  } finally {
    await Promise.all(handles.map((h) => h.close()));
    standby?.destroy();
    server.stop();
  }
});

/**
 * Streaming standbys of a local server, for the read-replica tests and the
 * replica lag measurement: a hot standby that replays the primary's WAL as
 * Supabase's read replicas do (asynchronous physical replication).
 *
 * Two ways to take the base backup:
 * - `pg_basebackup -R` over the replication protocol, where the engine ships
 *   it (the system PostgreSQL; `postgres` has REPLICATION, and initdb's
 *   pg_hba.conf admits replication connections from 127.0.0.1);
 * - a low-level backup where it does not (the embedded PostgreSQL 17 ships
 *   only initdb, pg_ctl and postgres): `pg_backup_start()` as the superuser,
 *   a copy of the data folder, `pg_backup_stop()` whose label file goes into
 *   the copy, then the WAL written meanwhile; `standby.signal` and
 *   `primary_conninfo` make the copy a standby that streams from the primary.
 *
 * Either way the standby streams through a physical replication slot of its
 * own (`standby_<port>`), made before the backup: the primary keeps every WAL
 * segment the standby has yet to receive. Without it a checkpoint on the
 * primary (the next standby's backup starts with one) can remove a segment
 * the standby is still streaming, and the standby stops replaying for good
 * ("requested WAL segment ... has already been removed").
 *
 * The standby runs as the server's OS user, like every local server.
 */
import {
  chownSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  writeFileSync,
  appendFileSync,
  chmodSync,
  statSync,
} from "node:fs";
import os from "node:os";
import path from "node:path";
import { Cluster, freePort, makeServerDir, runAsServer, serverOwner } from "./cluster.ts";
import { parseUrl, superuserUrl, withDatabase } from "./config.ts";
import { withSql, type Sql } from "./sql.ts";
import type { Engine } from "./engine.ts";
import { fail, indent } from "../output.ts";

export type BaseBackupMethod = "pg_basebackup" | "copy";

export interface Standby {
  /** URL of the standby's copy of `database`, as `postgres`. */
  url: string;
  /** The same as the superuser (pausing replay needs it). */
  adminUrl: string;
  port: number;
  method: BaseBackupMethod;
  /**
   * Stop the server (its data stays; `start()` brings it back). pg_ctl runs
   * synchronously and blocks this process meanwhile, so this resolves after
   * the event loop has had a turn: clients here then see their connections
   * closed, as they would for a server that went away elsewhere (postgres.js
   * can lose a query written in the very tick its socket closes).
   */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Pause WAL replay (pg_wal_replay_pause), and wait until it has paused; resume it (pg_wal_replay_resume). */
  pauseReplay(timeoutMs?: number): Promise<void>;
  resumeReplay(): Promise<void>;
  /** Wait until the standby has replayed the primary's current WAL position. */
  catchUp(timeoutMs?: number): Promise<void>;
  /** Stop and delete it. */
  destroy(): void;
}

export interface StandbyOptions {
  /** The primary's engine (the standby runs the same binaries). */
  engine: Engine;
  /** The primary, as `postgres` (any database on it). */
  primaryUrl: string;
  /** The database the standby's `url` names (default: the primary URL's). */
  database?: string;
  /** Default: pg_basebackup when the engine has it, else the copy. */
  method?: BaseBackupMethod;
}

/** Whether the engine's binaries include pg_basebackup. */
export function hasBasebackup(engine: Engine): boolean {
  return existsSync(path.join(engine.binDir, "pg_basebackup"));
}

/** Give the whole tree to the server's OS user (files copied as root). */
function chownTree(dir: string): void {
  const owner = serverOwner();
  if (!owner) return;
  chownSync(dir, owner.uid, owner.gid);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) chownTree(full);
    else chownSync(full, owner.uid, owner.gid);
  }
}

/** What a base backup leaves out of the data folder (as pg_basebackup does). */
const SKIP_TOP = new Set([
  "postmaster.pid",
  "postmaster.opts",
  "pg_wal",
  "pg_replslot",
  "pg_stat_tmp",
  "pg_dynshmem",
  "pg_notify",
  "pg_serial",
  "pg_snapshots",
  "pg_subtrans",
  "backup_label",
  "tablespace_map",
]);
/** Folders that must exist, empty, in the copy. */
const EMPTY_DIRS = [
  "pg_wal",
  "pg_wal/archive_status",
  "pg_replslot",
  "pg_stat_tmp",
  "pg_dynshmem",
  "pg_notify",
  "pg_serial",
  "pg_snapshots",
  "pg_subtrans",
];

async function copyBackup(primaryUrl: string, dataDir: string, conninfo: string, slot: string): Promise<void> {
  const admin = superuserUrl(primaryUrl);
  await withSql(admin, async (sql) => {
    const [{ dir }] = (await sql`select current_setting('data_directory') as dir`) as unknown as [{ dir: string }];
    // One session holds the backup open from start to stop (a non-exclusive backup).
    await sql`select pg_backup_start('org-layer standby', true)`;
    let stopped = false;
    try {
      cpSync(dir, dataDir, {
        recursive: true,
        filter: (source) => {
          const rel = path.relative(dir, source);
          const top = rel.split(path.sep)[0] ?? "";
          return rel === "" || !SKIP_TOP.has(top);
        },
      });
      const [stop] = (await sql`select labelfile, spcmapfile from pg_backup_stop(false)`) as unknown as [
        { labelfile: string; spcmapfile: string },
      ];
      stopped = true;
      writeFileSync(path.join(dataDir, "backup_label"), stop.labelfile);
      if (stop.spcmapfile) writeFileSync(path.join(dataDir, "tablespace_map"), stop.spcmapfile);
      for (const d of EMPTY_DIRS) mkdirSync(path.join(dataDir, d), { recursive: true });
      // The WAL written during the copy (the standby streams the rest).
      for (const f of readdirSync(path.join(dir, "pg_wal"))) {
        const source = path.join(dir, "pg_wal", f);
        if (statSync(source).isFile()) copyFileSync(source, path.join(dataDir, "pg_wal", f));
      }
    } finally {
      if (!stopped) await sql`select pg_backup_stop(false)`.catch(() => undefined);
    }
  });
  writeFileSync(path.join(dataDir, "standby.signal"), "");
  appendFileSync(
    path.join(dataDir, "postgresql.auto.conf"),
    `primary_conninfo = '${conninfo.replace(/'/g, "''")}'\nprimary_slot_name = '${slot}'\n`,
  );
  chmodSync(dataDir, 0o700);
  chownTree(dataDir);
}

export async function startStandby(options: StandbyOptions): Promise<Standby> {
  const { engine, primaryUrl } = options;
  const method = options.method ?? (hasBasebackup(engine) ? "pg_basebackup" : "copy");
  const primary = parseUrl(primaryUrl);
  const base = mkdtempSync(path.join(os.tmpdir(), `org-layer-standby-${engine.name}-`));
  makeServerDir(base);
  const dataDir = path.join(base, "data");
  const port = await freePort();
  const slot = `standby_${port}`;
  const conninfo = `host=${primary.host} port=${primary.port} user=${primary.user} password=${primary.password} application_name=${slot}`;
  const primaryAdmin = superuserUrl(primaryUrl);
  const dropSlot = () =>
    withSql(
      primaryAdmin,
      (sql) => sql`select pg_drop_replication_slot(slot_name) from pg_replication_slots where slot_name = ${slot}`,
    ).then(
      () => undefined,
      () => undefined,
    );
  try {
    // Reserved now: the WAL from here on stays on the primary until the standby has it.
    await withSql(primaryAdmin, (sql) => sql`select pg_create_physical_replication_slot(${slot}, true)`);
    if (method === "pg_basebackup") {
      if (!hasBasebackup(engine))
        fail(`PostgreSQL ${engine.version} (${engine.name}) has no pg_basebackup; use the copy method.`);
      const made = runAsServer(
        path.join(engine.binDir, "pg_basebackup"),
        [
          "--host",
          primary.host,
          "--port",
          String(primary.port),
          "--username",
          primary.user,
          "--pgdata",
          dataDir,
          "--write-recovery-conf",
          "--wal-method",
          "stream",
          "--slot",
          slot,
          "--checkpoint",
          "fast",
          "--no-sync",
        ],
        { env: { PGPASSWORD: primary.password, PGAPPNAME: `standby_${port}` } },
      );
      if (made.status !== 0)
        fail(`pg_basebackup failed:\n${indent(`${String(made.stdout ?? "")}${String(made.stderr ?? "")}`)}`);
    } else {
      await copyBackup(primaryUrl, dataDir, conninfo, slot);
    }
  } catch (error) {
    rmSync(base, { recursive: true, force: true });
    await dropSlot();
    throw error;
  }
  const cluster = new Cluster({ engine, dataDir, port, password: primary.password, throwaway: true });
  const url = withDatabase(
    `postgresql://${encodeURIComponent(primary.user)}:${encodeURIComponent(primary.password)}@127.0.0.1:${port}/postgres`,
    options.database ?? primary.database,
  );
  const adminUrl = superuserUrl(url);
  const destroy = () => {
    process.off("SIGINT", interrupted).off("SIGTERM", interrupted);
    try {
      cluster.destroy();
    } finally {
      rmSync(base, { recursive: true, force: true });
      // The slot would keep WAL on the primary for a standby that is gone (best effort: the primary may be gone too).
      void dropSlot();
    }
  };
  const interrupted = (signal: NodeJS.Signals) => {
    destroy();
    process.kill(process.pid, signal);
  };
  process.once("SIGINT", interrupted).once("SIGTERM", interrupted);
  const standby: Standby = {
    url,
    adminUrl,
    port,
    method,
    stop: async () => {
      cluster.stop();
      await new Promise((r) => setTimeout(r, 50));
    },
    start: () => cluster.start(),
    async pauseReplay(timeoutMs = 30_000) {
      await withSql(adminUrl, (sql) => sql`select pg_wal_replay_pause()`);
      // The pause takes hold at the next WAL record the standby reads: the
      // primary writes one (a transaction id's commit), and the standby is
      // waited for until it has paused, so that nothing written after this
      // resolves is replayed.
      await withSql(primaryUrl, (sql) => sql`select pg_current_xact_id()`);
      let state = "";
      await pollUntil(
        adminUrl,
        timeoutMs,
        async (sql) => {
          [{ state }] = (await sql`select pg_get_wal_replay_pause_state() as state`) as unknown as [{ state: string }];
          return state === "paused";
        },
        () => `the standby on port ${port} did not pause its replay within ${timeoutMs} ms (${state})`,
      );
    },
    resumeReplay: () => withSql(adminUrl, (sql) => sql`select pg_wal_replay_resume()`).then(() => undefined),
    async catchUp(timeoutMs = 30_000) {
      const [{ lsn }] = (await withSql(
        primaryUrl,
        (sql) => sql`select pg_current_wal_insert_lsn()::text as lsn`,
      )) as unknown as [{ lsn: string }];
      await pollUntil(
        url,
        timeoutMs,
        async (sql) => {
          const [{ done }] = (await sql`select pg_last_wal_replay_lsn() >= ${lsn}::pg_lsn as done`) as unknown as [
            { done: boolean },
          ];
          return done;
        },
        () => `the standby on port ${port} did not replay ${lsn} within ${timeoutMs} ms`,
      );
    },
    destroy,
  };
  try {
    await cluster.start();
    // A hot standby accepts connections once it is consistent; wait for it to have caught up once.
    await standby.catchUp();
  } catch (error) {
    destroy();
    throw error;
  }
  return standby;
}

/** Ask the server at `url` every 20 ms until `done` answers true; past `timeoutMs`, fail with `failure()`. */
async function pollUntil(
  url: string,
  timeoutMs: number,
  done: (sql: Sql) => Promise<boolean>,
  failure: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  await withSql(url, async (sql) => {
    while (!(await done(sql))) {
      if (Date.now() > deadline) throw new Error(failure());
      await new Promise((r) => setTimeout(r, 20));
    }
  });
}

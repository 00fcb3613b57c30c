/**
 * Read replicas: where a read-only unit of work runs.
 *
 * `createOrgDb(url, { readReplicas: [...] })` keeps one postgres.js client per
 * replica. A unit run with `{ readOnly: true }` goes to a healthy replica,
 * chosen round-robin; with none healthy, to the primary. Either way it runs in
 * a `read only` transaction under the same role and claims as any unit, so a
 * write fails the same way on both (SQLSTATE 25006, `ReadOnlyError`).
 *
 * Health is judged by WAL position, not by replay timestamps (a timestamp
 * ages on an idle primary although nothing is missing): a replica is healthy
 * when it answers, is in recovery (a standby), and has replayed the primary's
 * WAL to within `maxLagBytes` (`pg_current_wal_lsn()` on the primary against
 * `pg_last_wal_replay_lsn()` on the replica, sampled together).
 *
 * No unit pays a round trip for that judgement: the state is checked at most
 * once per `checkIntervalMs`, and only while read-only units arrive. The first
 * read-only unit waits for the first check; after that a unit that finds the
 * state older than the interval starts a check in the background and is
 * routed on the state at hand (stale-while-revalidate). A replica that fails
 * to connect, or drops the connection, during a unit is marked down at once
 * and the unit runs again on the next candidate (it was read-only: nothing of
 * it was committed).
 *
 * Read-your-writes: `writeToken()` reads the primary's WAL insert position
 * (`pg_current_wal_insert_lsn()`, which is at or past the commit record of
 * every transaction that has committed, even with asynchronous commit). A unit
 * given `{ readOnly: true, after: token }` runs on a replica known to have
 * replayed that position; failing that it polls the healthy replicas' replay
 * positions for at most `maxWaitMs`, then runs on the primary.
 */
import postgres from "postgres";
import { isConnectionError, ValidationError } from "./errors.ts";

export interface ReplicaOptions {
  /** A replica more than this many bytes of WAL behind the primary is skipped (default 16 MiB). */
  maxLagBytes?: number;
  /** How long a health check stays fresh (default 1000 ms). */
  checkIntervalMs?: number;
  /** How long a unit given `after` waits for a replica to replay that position before using the primary (default 1000 ms). */
  maxWaitMs?: number;
  /** How often the replicas' replay positions are read while waiting (default 20 ms). */
  pollMs?: number;
  /** A health check that takes longer counts the replica as down (default 2000 ms). */
  checkTimeoutMs?: number;
}

/** How a unit of work runs: on a replica (read-only), and after which write. */
/** What a replica looked like at the last check. */
export interface ReplicaState {
  url: string;
  healthy: boolean;
  /** Bytes of WAL the replica had still to replay at the last check (null: unknown). */
  lagBytes: number | null;
  /** Its replay position at the last check. */
  replayLsn: string | null;
  /** Why it is not healthy. */
  reason: string | null;
}

interface Replica {
  url: string;
  /** The URL without its password, for status and messages. */
  label: string;
  /** The pool units run on. */
  sql: postgres.Sql;
  /** One connection of its own for the health checks, so that busy units never make a replica look down. */
  health: postgres.Sql;
  healthy: boolean;
  replay: bigint | null;
  lag: bigint | null;
  reason: string | null;
}

/** A WAL position ("16/B374D848") as a number of bytes. */
export function parseLsn(lsn: string): bigint {
  const match = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(lsn);
  if (!match) throw new ValidationError(`not a WAL position (write token): ${JSON.stringify(lsn)}`);
  return (BigInt(`0x${match[1]}`) << 32n) + BigInt(`0x${match[2]}`);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(Object.assign(new Error(`${what} took more than ${ms} ms`), { code: "CONNECT_TIMEOUT" })),
      ms,
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(invalid URL)";
  }
}

export interface ReplicaRouter {
  /**
   * Run `body` on the client a read-only unit belongs on: a healthy replica
   * (round-robin), one that has replayed `after`, or the primary. A
   * connection failure on a replica marks it down and runs `body` again on
   * the next candidate.
   */
  run<T>(after: string | undefined, body: (sql: postgres.Sql) => Promise<T>): Promise<T>;
  /** The primary's current WAL insert position, to pass as `after`. */
  writeToken(): Promise<string>;
  /** Check every replica now and report what was found. */
  check(): Promise<ReplicaState[]>;
  /** The state of the last check (no round trip). */
  status(): ReplicaState[];
  close(): Promise<void>;
}

export function createReplicaRouter(
  primary: postgres.Sql,
  urls: readonly string[],
  connect: (url: string, purpose: "units" | "health") => postgres.Sql,
  options: ReplicaOptions = {},
): ReplicaRouter {
  const maxLag = BigInt(Math.max(0, Math.floor(options.maxLagBytes ?? 16 * 1024 * 1024)));
  const interval = options.checkIntervalMs ?? 1000;
  const maxWait = options.maxWaitMs ?? 1000;
  const pollMs = Math.max(1, options.pollMs ?? 20);
  const checkTimeout = options.checkTimeoutMs ?? 2000;
  const replicas: Replica[] = urls.map((url) => ({
    url,
    label: redact(url),
    sql: connect(url, "units"),
    health: connect(url, "health"),
    healthy: false,
    replay: null,
    lag: null,
    reason: "not checked yet",
  }));
  let checkedAt = -Infinity;
  let checking: Promise<void> | null = null;
  let turn = 0;

  /** Read one replica's replay position; mark it down when it does not answer or is no standby. */
  async function probe(replica: Replica): Promise<bigint | null> {
    try {
      const [row] = await withTimeout(
        replica.health<
          { standby: boolean; replay: string | null }[]
        >`select pg_is_in_recovery() as standby, pg_last_wal_replay_lsn()::text as replay`,
        checkTimeout,
        "the health check",
      );
      if (!row?.standby || !row.replay) {
        replica.healthy = false;
        replica.reason = "not a standby (not in recovery)";
        return null;
      }
      replica.replay = parseLsn(row.replay);
      return replica.replay;
    } catch (error) {
      replica.healthy = false;
      replica.lag = null;
      replica.reason = `unreachable: ${error instanceof Error ? error.message : String(error)}`;
      return null;
    }
  }

  async function refresh(): Promise<void> {
    let primaryLsn: bigint | null = null;
    try {
      const [row] = await withTimeout(
        primary<{ lsn: string }[]>`select pg_current_wal_lsn()::text as lsn`,
        checkTimeout,
        "reading the primary's WAL position",
      );
      primaryLsn = row ? parseLsn(row.lsn) : null;
    } catch {
      // The primary cannot be asked: replicas are judged by whether they answer.
    }
    await Promise.all(
      replicas.map(async (replica) => {
        const replay = await probe(replica);
        if (replay === null) return;
        // Sampled after the primary: a replica may have moved past that sample.
        const lag = primaryLsn === null ? null : primaryLsn > replay ? primaryLsn - replay : 0n;
        replica.lag = lag;
        replica.healthy = lag === null || lag <= maxLag;
        replica.reason = replica.healthy ? null : `lagging: ${lag} bytes of WAL behind (limit ${maxLag})`;
      }),
    );
    checkedAt = Date.now();
  }

  function startCheck(): Promise<void> {
    checking ??= refresh().finally(() => {
      checking = null;
    });
    return checking;
  }

  /** Fresh enough state: wait only for the very first check. */
  async function ensureChecked(): Promise<void> {
    if (checkedAt === -Infinity) return startCheck();
    if (Date.now() - checkedAt > interval) void startCheck().catch(() => undefined);
  }

  function nextOf(candidates: Replica[]): Replica | null {
    if (candidates.length === 0) return null;
    return candidates[turn++ % candidates.length]!;
  }

  /** A replica that has replayed `target`, waiting at most maxWait for one. */
  async function replayedReplica(target: bigint, exclude: Set<Replica>): Promise<Replica | null> {
    const usable = () => replicas.filter((r) => r.healthy && !exclude.has(r));
    const ready = usable().filter((r) => r.replay !== null && r.replay >= target);
    if (ready.length) return nextOf(ready);
    const deadline = Date.now() + maxWait;
    while (usable().length && Date.now() < deadline) {
      await sleep(Math.min(pollMs, Math.max(0, deadline - Date.now())));
      const polled = await Promise.all(usable().map(async (r) => (((await probe(r)) ?? -1n) >= target ? r : null)));
      const caught = polled.filter((r): r is Replica => r !== null);
      if (caught.length) return nextOf(caught);
    }
    return null;
  }

  return {
    async run(after, body) {
      const target = after === undefined ? null : parseLsn(after);
      if (replicas.length === 0) return body(primary);
      await ensureChecked();
      const tried = new Set<Replica>();
      for (;;) {
        const replica =
          target === null
            ? nextOf(replicas.filter((r) => r.healthy && !tried.has(r)))
            : await replayedReplica(target, tried);
        if (!replica) return body(primary);
        try {
          return await body(replica.sql);
        } catch (error) {
          if (!isConnectionError(error)) throw error;
          replica.healthy = false;
          replica.reason = `unreachable: ${error instanceof Error ? error.message : String(error)}`;
          tried.add(replica);
        }
      }
    },
    async writeToken() {
      const [row] = await primary<{ lsn: string }[]>`select pg_current_wal_insert_lsn()::text as lsn`;
      return row!.lsn;
    },
    async check() {
      // A check already under way may have sampled the WAL positions before
      // this call: let it finish, then take one that starts after it.
      if (checking) await checking.catch(() => undefined);
      await startCheck();
      return this.status();
    },
    status() {
      return replicas.map((r) => ({
        url: r.label,
        healthy: r.healthy,
        lagBytes: r.lag === null ? null : Number(r.lag),
        replayLsn:
          r.replay === null
            ? null
            : `${(r.replay >> 32n).toString(16).toUpperCase()}/${(r.replay & 0xffffffffn).toString(16).toUpperCase()}`,
        reason: r.reason,
      }));
    },
    async close() {
      await checking?.catch(() => undefined);
      await Promise.all(replicas.flatMap((r) => [r.sql.end({ timeout: 5 }), r.health.end({ timeout: 5 })]));
    },
  };
}

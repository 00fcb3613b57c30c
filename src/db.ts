/**
 * The entry point: a database handle built from a URL (postgres.js +
 * Drizzle), and units of work run as a user or, explicitly, as the service.
 *
 * A unit of work as a user reproduces PostgREST's transaction: one statement
 * sets the role and `request.jwt.claims` with set_config(..., true), so both
 * are transaction-local and passed as parameters, never spliced into SQL.
 * Nothing is set at session level, so the handle is safe behind a
 * transaction-mode pooler (Supavisor, PgBouncer); use `prepare: false` there.
 *
 * BEGIN and that statement are pipelined with the unit's first query, so a
 * one-query unit costs two round trips (that, then COMMIT) instead of four
 * (with prepared statements; without, postgres.js describes a new query
 * before sending it). COMMIT is sent only once the work has finished: a
 * query postgres.js re-sends (a stale prepared statement) must never land
 * behind it, outside the transaction.
 * Should the preamble fail, the transaction is aborted and nothing of the
 * unit runs; its error is the one reported.
 *
 * Serialization failures, deadlocks and prepared statements a migration made
 * stale are retried a bounded number of times, each in a fresh transaction.
 *
 * With `prepare` (the default) every Drizzle query is a prepared statement,
 * which postgres.js caches per connection: Drizzle alone prepares only the
 * queries given a name, and an unnamed query is planned again on each run,
 * which under RLS (policies expanded, InitPlans, index choice) costs more
 * than running it.
 */
import { sql as drizzleSql } from "drizzle-orm";
import { drizzle, PostgresJsDatabase, PostgresJsSession, PostgresJsTransaction } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import { checkClaims, claimsFor, verifyJwt, type JwtOptions, type UserClaims } from "./auth.ts";
import { ConcurrencyError, DatabaseError, isRetryable, toTypedError, ValidationError } from "./errors.ts";
import { createReplicaRouter, type ReplicaOptions, type ReplicaState, type UnitOptions } from "./replicas.ts";
import * as schema from "./schema/index.ts";

export type Schema = typeof schema;
export type Database = PostgresJsDatabase<Schema>;
/** What a unit of work receives: a Drizzle transaction. */
export type Tx = Parameters<Parameters<Database["transaction"]>[0]>[0];

export interface OrgDbOptions {
  /** Pool size (default 10). */
  max?: number;
  /** Use prepared statements (default true). Set false behind a transaction-mode pooler. */
  prepare?: boolean;
  /** Attempts for a unit of work that hits a serialization failure or deadlock (default 4). */
  attempts?: number;
  /** How access tokens are verified by `asJwt`. */
  jwt?: JwtOptions;
  /** Extra postgres.js options. */
  postgres?: postgres.Options<{}>;
  /** URLs of read replicas: units run with `{ readOnly: true }` go there (src/replicas.ts). */
  readReplicas?: string[];
  /** How replicas are judged and waited for (lag limit, check interval, read-your-writes wait). */
  replicas?: ReplicaOptions;
}

export type { ReplicaOptions, ReplicaState, UnitOptions };

export interface OrgDb {
  /** The postgres.js client (runs as the login role: no RLS role switch). */
  readonly sql: postgres.Sql;
  /** Drizzle over the same client, as the login role. */
  readonly db: Database;
  /** Run `work` in one transaction as a user: their id, or claims from a verified token. RLS applies. */
  asUser<T>(user: string | UserClaims, work: (tx: Tx) => Promise<T>, options?: UnitOptions): Promise<T>;
  /** Verify a Supabase access token (options.jwt), then run `work` as its user. */
  asJwt<T>(token: string, work: (tx: Tx) => Promise<T>, options?: UnitOptions): Promise<T>;
  /** Run `work` in one transaction as the service (service_role: bypasses RLS). For trusted jobs only. */
  asService<T>(work: (tx: Tx) => Promise<T>, options?: UnitOptions): Promise<T>;
  /** The primary's current WAL position, taken after a write unit: pass it as `{ readOnly: true, after: token }` to read that write back. */
  writeToken(): Promise<string>;
  /** Check the read replicas now: health, lag in bytes, why one is skipped. */
  replicaStatus(): Promise<ReplicaState[]>;
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type SessionArgs = ConstructorParameters<typeof PostgresJsSession<postgres.Sql, Schema, never>>;

/** A Drizzle session whose every query is prepared (postgres.js keys prepared statements by their text). */
class PreparingSession extends PostgresJsSession<postgres.Sql, Schema, never> {
  override prepareQuery: PostgresJsSession<postgres.Sql, Schema, never>["prepareQuery"] = (query, fields, name, ...rest) =>
    super.prepareQuery(query, fields, name ?? "", ...rest);
}

/**
 * What a unit's Drizzle session runs on: its reserved connection, which
 * remembers every query the unit sends (so COMMIT waits for all of them,
 * including one postgres.js sends again after a stale prepared statement),
 * refuses any query once the unit has ended (it would run after COMMIT,
 * outside the transaction, as the login role), and provides savepoints,
 * which Drizzle uses for tx.transaction().
 */
function unitConnection(conn: postgres.ReservedSql) {
  const issued: PromiseLike<unknown>[] = [];
  let open = true;
  const check = () => {
    if (!open) throw new DatabaseError("this unit of work has ended: await every query inside it", { code: "25000" });
  };
  const unsafe = (...args: Parameters<postgres.Sql["unsafe"]>) => {
    check();
    const query = conn.unsafe(...args);
    issued.push(query);
    return query;
  };
  let savepoints = 0;
  const savepoint = async (...args: unknown[]) => {
    const run = args.at(-1) as (sql: postgres.Sql) => Promise<unknown>;
    const name = `unit_savepoint_${++savepoints}`;
    await unsafe(`savepoint ${name}`);
    try {
      const result = await run(sql);
      await unsafe(`release savepoint ${name}`);
      return result;
    } catch (error) {
      // Report the nested transaction's own error, even if undoing it fails too.
      try {
        await unsafe(`rollback to savepoint ${name}`);
      } catch {}
      throw error;
    }
  };
  const sql = new Proxy(conn, {
    get: (target, key, receiver) => (key === "unsafe" ? unsafe : key === "savepoint" ? savepoint : Reflect.get(target, key, receiver)),
  }) as unknown as postgres.Sql;
  return {
    sql,
    /** Wait until every query the unit sent has its answer, then refuse any more. */
    async end(): Promise<void> {
      while (issued.length) await Promise.allSettled(issued.splice(0));
      open = false;
    },
  };
}

export function createOrgDb(url: string, options: OrgDbOptions = {}): OrgDb {
  const prepare = options.prepare ?? true;
  const client = postgres(url, {
    max: options.max ?? 10,
    prepare,
    onnotice: () => {},
    ...options.postgres,
  });
  const built = drizzle(client, { schema });
  const attempts = Math.max(1, options.attempts ?? 4);
  // --- replicas: one client per replica, chosen per read-only unit (src/replicas.ts)
  const replicaClient = (replicaUrl: string, purpose: "units" | "health") =>
    postgres(replicaUrl, { max: options.max ?? 10, prepare, onnotice: () => {}, connect_timeout: 5, ...options.postgres, ...(purpose === "health" ? { max: 1 } : {}) });
  const replicas = createReplicaRouter(client, options.readReplicas ?? [], replicaClient, options.replicas);
  // --- end replicas

  // The session drizzle built, whose dialect, schema and options every session here shares.
  const base = (built as unknown as { _: { session: PostgresJsSession<postgres.Sql, Schema, never> } })._.session as unknown as {
    dialect: ConstructorParameters<typeof PostgresJsTransaction>[0];
    schema: ConstructorParameters<typeof PostgresJsTransaction>[2];
    options: SessionArgs[3];
  };
  const Session = prepare ? PreparingSession : PostgresJsSession;
  const session = (sql: postgres.Sql) => new Session(sql, base.dialect, base.schema as SessionArgs[2], base.options);
  const db = prepare ? (new PostgresJsDatabase(base.dialect, session(client) as never, base.schema as never) as Database) : built;

  async function once<T>(role: string, claimsJson: string, work: (tx: Tx) => Promise<T>, on: postgres.Sql = client, readOnly = false): Promise<T> {
    const conn = await on.reserve();
    try {
      const begin = (readOnly ? conn`begin read only` : conn`begin`).execute();
      const preamble = conn`select set_config('role', ${role}, true), set_config('request.jwt.claims', ${claimsJson}, true)`.execute();
      // Awaited below; until then a failure must not count as an unhandled rejection.
      begin.catch(() => undefined);
      preamble.catch(() => undefined);
      const unitConn = unitConnection(conn);
      const tx = new PostgresJsTransaction(base.dialect, session(unitConn.sql) as never, base.schema) as unknown as Tx;
      try {
        const result = await work(tx);
        await unitConn.end();
        await begin;
        await preamble;
        const committed = await conn`commit`;
        if (committed.command !== "COMMIT") {
          // A statement failed and the work caught its error: PostgreSQL rolled everything back.
          throw new DatabaseError("the unit of work was rolled back: a statement in it failed and its error was caught (contain failures with tx.transaction)", {
            code: "25P02",
          });
        }
        return result;
      } catch (error) {
        await unitConn.end();
        const [, pre] = await Promise.allSettled([begin, preamble]);
        await conn`rollback`.catch(() => undefined);
        throw pre.status === "rejected" ? pre.reason : error;
      }
    } finally {
      conn.release();
    }
  }

  async function unit<T>(role: string, claims: object, work: (tx: Tx) => Promise<T>, how: UnitOptions = {}): Promise<T> {
    const claimsJson = JSON.stringify(claims);
    if (how.after !== undefined && !how.readOnly) throw new ValidationError("`after` needs `readOnly: true`: it chooses where a read runs");
    for (let attempt = 1; ; attempt++) {
      try {
        // Read-only units: a replica (or the primary) chosen by src/replicas.ts, in a `read only` transaction.
        if (how.readOnly) return await replicas.run(how.after, (on) => once(role, claimsJson, work, on, true));
        return await once(role, claimsJson, work);
      } catch (error) {
        if (isRetryable(error) && attempt < attempts) {
          await sleep(5 * 2 ** attempt + Math.random() * 10);
          continue;
        }
        const typed = toTypedError(error);
        if (isRetryable(error)) {
          throw new ConcurrencyError(`gave up after ${attempt} attempt(s): ${typed.message}`, { code: typed.code, cause: error });
        }
        throw typed;
      }
    }
  }

  return {
    sql: client,
    db,
    asUser(user, work, how) {
      let claims: UserClaims;
      try {
        claims = typeof user === "string" ? claimsFor(user) : checkClaims(user);
        // Check the claims as the database will read them: JSON cannot hold a BigInt or a cycle, and a toJSON could name someone else.
        let sent: unknown;
        try {
          sent = JSON.parse(JSON.stringify(claims));
        } catch (error) {
          throw new ValidationError(`invalid claims: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
        }
        const checked = checkClaims(sent);
        if (checked.sub !== claims.sub || checked.role !== claims.role) throw new ValidationError("invalid claims: they serialize as another user or role");
        claims = checked;
      } catch (error) {
        return Promise.reject(toTypedError(error));
      }
      return unit(claims.role, claims, work, how);
    },
    async asJwt(token, work, how) {
      const claims = await verifyJwt(token, options.jwt ?? {});
      return unit(claims.role, claims, work, how);
    },
    asService(work, how) {
      return unit("service_role", { role: "service_role" }, work, how);
    },
    writeToken() {
      return replicas.writeToken();
    },
    replicaStatus() {
      return replicas.check();
    },
    async close() {
      await Promise.all([client.end({ timeout: 5 }), replicas.close()]);
    },
  };
}

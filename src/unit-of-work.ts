/**
 * Units of work: one transaction on one reserved connection, run as a role
 * with request claims, exactly as PostgREST runs a request.
 *
 * BEGIN and the PostgREST preamble (src/postgrest.ts) are pipelined with the
 * unit's first query. A unit whose work returns its only query unawaited (a
 * Drizzle query builder: `(tx) => tx.select()...`) sends COMMIT right behind
 * it, one round trip in all; any other unit costs two (that, then COMMIT once
 * the work has finished and every query it sent has its answer). Either way
 * nothing of the unit may run after COMMIT, outside the transaction, as the
 * login role: a query sent through the unit once COMMIT is on its way is
 * refused, and postgres.js is never let re-send a unit's statement (it
 * re-sends one whose prepared statement went stale at the end of its queue,
 * behind whatever was sent after it): the re-send is refused with the
 * statement's own error, and the unit is retried whole (below). BEGIN and
 * COMMIT are unnamed statements, which cannot go stale. Should the preamble
 * fail, the transaction is aborted and nothing of the unit runs; its error
 * is the one reported.
 *
 * Serialization failures, deadlocks and prepared statements a migration made
 * stale are retried a bounded number of times, each in a fresh transaction.
 *
 * This module is the only one that builds Drizzle sessions by hand. It relies
 * on these shapes of drizzle-orm and postgres.js that neither documents; each
 * is named by a test in src/unit-of-work.canary.test.ts, which fails when an
 * upgrade changes it:
 *
 * - D1. `drizzle(client)._.session` is the PostgresJsSession drizzle built,
 *   with the fields `dialect`, `schema` and `options`.
 * - D2. `new PostgresJsSession(client, dialect, schema, options)`; its
 *   `prepareQuery(query, fields, name, ...)` prepares (postgres.js `prepare:
 *   true`) exactly when `name` is not undefined.
 * - D3. `new PostgresJsTransaction(dialect, session, schema)`; every query of
 *   such a transaction (builders, `execute`, relational queries) goes through
 *   `client.unsafe(text, params, options)` of its session's client, and
 *   `tx.transaction(fn)` through `client.savepoint(fn)`; nothing else of the
 *   client is used.
 * - P1. postgres.js answers COMMIT in an aborted transaction with the result
 *   `command` "ROLLBACK" (PostgreSQL's command tag), not an error.
 * - P2. postgres.js reports a cached plan whose result type changed with
 *   SQLSTATE 0A000 and `routine` "RevalidateCachedQuery" (see isRetryable).
 * - P3. postgres.js re-sends a query whose prepared statement went stale by
 *   passing the same Query object, its `retried` set to the error, to its
 *   connection's execute, which reads `query.cancelled` first and sends
 *   nothing when that is truthy (refuseResend).
 * - P4. `query.execute()` hands a postgres.js query to its connection after
 *   one microtask, so queries executed in turn are sent in that order.
 * - P5. A query's `onexecute` option is called with the connection object it
 *   was handed to (execute's result is then the callback's), and the pool
 *   calls that object's `onclose` once, with an error of code
 *   CONNECTION_CLOSED, when its socket closes, then takes it back (a
 *   reserved one included). A query
 *   handed to a closed connection is written to no socket: postgres.js
 *   throws from a timer, which no caller can catch, and the connection may
 *   already serve another caller once reconnected. So a unit watches its
 *   connection (watchConnection) and sends nothing, nor releases it, once it
 *   closed.
 */
import { DrizzleQueryError } from "drizzle-orm";
import { drizzle, PostgresJsDatabase, PostgresJsSession, PostgresJsTransaction } from "drizzle-orm/postgres-js";
import type postgres from "postgres";
import { z } from "zod";
import {
  ConcurrencyError,
  DatabaseError,
  isApplicationError,
  isConnectionError,
  isRetryable,
  sqlState,
  toTypedError,
  ValidationError,
} from "./errors.ts";
import { functionArgument, parse } from "./internal.ts";
import { postgrestPreamble, type RoleSettings } from "./postgrest.ts";
import * as schema from "./schema/index.ts";

export type Schema = typeof schema;
export type Database = PostgresJsDatabase<Schema>;
/** What a unit of work receives: a Drizzle transaction. */
export type Tx = Parameters<Parameters<Database["transaction"]>[0]>[0];

/** How a unit of work ends. */
export interface UnitOptions<T = unknown> {
  /**
   * Roll the unit back instead of committing it, and resolve with the work's
   * result: `true`, or a function of the result that says whether to. Before
   * rolling back, deferred constraints are checked as COMMIT would check them
   * (an organization keeps an owner), so the unit rejects where a commit
   * would; a unit whose work caught a failed statement's error rejects with
   * `25P02`, as it does when committing. For dry runs, previews and tests.
   */
  rollback?: boolean | ((result: T) => boolean);
  /** Run in a `read only` transaction, on a healthy read replica when the handle has one (src/replicas.ts). */
  readOnly?: boolean;
  /** A `writeToken()`: run only where that WAL position has been replayed (else on the primary). Needs `readOnly`. */
  after?: string;
}

/** UnitOptions as JavaScript may pass them: checked before anything runs (a truthy string is no `readOnly`). */
const unitOptionsSchema = z.strictObject({
  rollback: z.union([z.boolean(), functionArgument<(result: unknown) => boolean>("rollback")]).optional(),
  readOnly: z.boolean().optional(),
  after: z.string().optional(),
});

/** Where read-only units run (src/replicas.ts): `body` gets the client of a replica, or of the primary. */
export interface ReadOnlyRouter {
  run<T>(after: string | undefined, body: (sql: postgres.Sql) => Promise<T>): Promise<T>;
}

/** D1, D2: the parts of the Drizzle database drizzle() built that every session here shares. */
interface SessionParts {
  dialect: ConstructorParameters<typeof PostgresJsTransaction>[0];
  schema: ConstructorParameters<typeof PostgresJsTransaction>[2];
  options: ConstructorParameters<typeof PostgresJsSession>[3];
}

type AnySession = PostgresJsSession<postgres.Sql, Schema, never>;

/** D1: read the private session of a database drizzle() built. */
export function sessionParts(built: Database): SessionParts {
  const session = (built as unknown as { _: { session: SessionParts } })._.session;
  return { dialect: session.dialect, schema: session.schema, options: session.options };
}

/** D2: a Drizzle session whose every query is prepared (postgres.js keys prepared statements by their text). */
class PreparingSession extends PostgresJsSession<postgres.Sql, Schema, never> {
  override prepareQuery: AnySession["prepareQuery"] = (query, fields, name, ...rest) =>
    super.prepareQuery(query, fields, name ?? "", ...rest);
}

/** Builds Drizzle sessions over a postgres.js client, preparing every query or none. */
export function sessionMaker(parts: SessionParts, prepare: boolean): (client: postgres.Sql) => AnySession {
  const Session = prepare ? PreparingSession : PostgresJsSession;
  return (client) => new Session(client, parts.dialect, parts.schema as never, parts.options) as AnySession;
}

/** A Drizzle database over a client, with the given session maker (the login role's handle). */
export function databaseOver(
  parts: SessionParts,
  session: (client: postgres.Sql) => AnySession,
  client: postgres.Sql,
): Database {
  return new PostgresJsDatabase(parts.dialect, session(client) as never, parts.schema as never);
}

/**
 * P3: never let postgres.js send this query a second time. It re-sends a
 * query whose prepared statement went stale at the end of its queue, where
 * it could land behind a COMMIT already sent and run outside the
 * transaction; inside the transaction the re-sent query could only fail (the
 * error aborted the transaction) and postgres.js would report the first
 * error anyway. So the re-send is refused and the query rejects at once with
 * that first error, which the unit's runner retries in a fresh transaction.
 */
export function refuseResend(query: PromiseLike<unknown>): void {
  const q = query as unknown as { cancelled: unknown; retried?: unknown; reject(error: unknown): void };
  let cancelled = q.cancelled;
  Object.defineProperty(q, "cancelled", {
    configurable: true,
    enumerable: true,
    get() {
      if (q.retried) {
        q.reject(q.retried);
        return true;
      }
      return cancelled;
    },
    set(value: unknown) {
      cancelled = value;
    },
  });
}

/**
 * What a unit's statements start with: a comment naming the role they run
 * as. postgres.js prepares one statement per text on each connection, and
 * PostgreSQL keeps one plan per prepared statement, made for one role when
 * the table has row-level security: the same text run as another role is
 * rewritten and planned again (0.1 to 0.5 ms), each time the connection
 * switches. Tagged, a unit's `authenticated` statements and the same query
 * run by the login role (or as `anon`, or as the service) keep a prepared
 * statement and a plan each. The role is named only when it is a plain
 * identifier, never spliced otherwise (the roles units run as always are).
 */
export function statementTag(role: string): string {
  return /^[a-z_][a-z0-9_]*$/.test(role) ? `/* as ${role} */ ` : "/* as a role */ ";
}

/**
 * Errors a unit's own statements (its queries, BEGIN, the preamble, COMMIT) rejected with: the database's or
 * the driver's. Anything else the work throws is the application's, even when it has the shape of a driver
 * error (a Node system error such as ECONNREFUSED from the work's own HTTP call, an AxiosError).
 */
const statementErrors = new WeakSet<object>();
function marked<Q extends PromiseLike<unknown>>(query: Q): Q {
  void query.then(undefined, (error: unknown) => {
    if (typeof error === "object" && error !== null) statementErrors.add(error);
  });
  return query;
}
/** Marks what a statement rejects with as the unit's own (see statementErrors). */
function markErrors(query: PromiseLike<unknown>): void {
  marked(query);
}
function fromStatements(error: unknown): boolean {
  if (error instanceof DatabaseError) return true;
  const inner = error instanceof DrizzleQueryError ? error.cause : error;
  return (
    error instanceof DrizzleQueryError || (typeof inner === "object" && inner !== null && statementErrors.has(inner))
  );
}
/** A Node system error (fs, net, dns: EPERM, EBUSY, EROFS...): its code can have the shape of a SQLSTATE. */
const isSystemError = (error: unknown): boolean =>
  typeof error === "object" &&
  error !== null &&
  typeof (error as { syscall?: unknown }).syscall === "string" &&
  typeof (error as { errno?: unknown }).errno === "number";
/** What a unit's work threw of its own, carried past the retry and replica logic unchanged. */
class ApplicationFailure {
  constructor(readonly thrown: unknown) {}
}

/** postgres.js's unsafe(), as a unit passes its arguments on. */
type TextFirst = (text: string, ...rest: unknown[]) => postgres.PendingQuery<postgres.Row[]>;

/** The two members of a postgres.js client a unit's Drizzle session uses (D3). */
type UnitClient = Pick<postgres.TransactionSql, "unsafe" | "savepoint">;

/** A reserved connection's state, as a unit sees it (P5). */
export interface ConnectionWatch {
  /** The option of the unit's first query that learns which connection it runs on. */
  onexecute: (connection: unknown) => true;
  /** Whether the connection closed under the unit. */
  lost(): boolean;
  /** Whether the unit learnt its connection (its first query was handed to it). */
  known(): boolean;
  /**
   * Make a query of the unit's and hand it on, unless the connection closed
   * under the unit (then throw, sending nothing). Should the connection close
   * before the query's answer, the query rejects.
   */
  send<Q extends PromiseLike<unknown>>(make: () => Q): Q;
  /** Stop watching: the connection goes back to the pool. */
  detach(): void;
}

/**
 * Watches the connection a unit reserved (P5): once its socket closed (the
 * server ended the session, restarted or failed over, a pooler dropped it),
 * every query the unit would still send is refused with DatabaseError
 * `08006` (rule `connection-lost`) before it reaches postgres.js, the unit's
 * queries still waiting for an answer reject with it (postgres.js leaves
 * unanswered those it sent after a socket error, before the close), and the
 * connection is not released (the pool took it back). The transaction did
 * not commit unless its COMMIT had been answered.
 */
export function watchConnection(): ConnectionWatch {
  let connection: { onclose?: ((error: unknown) => void) | null } | undefined;
  let lostWith: DatabaseError | undefined;
  const pending: { reject?: (error: unknown) => void }[] = [];
  const onclose = (error: unknown) => {
    const why = error instanceof Error ? error.message : String(error);
    lostWith = new DatabaseError(
      `the connection to the database was lost during the unit of work, which did not commit (${why})`,
      { code: "08006", cause: error },
    );
    // Rejecting an answered query changes nothing.
    for (const query of pending.splice(0)) query.reject?.(lostWith);
  };
  return {
    onexecute: (c) => {
      connection = c as typeof connection;
      connection!.onclose = onclose;
      return true;
    },
    lost: () => lostWith !== undefined,
    known: () => connection !== undefined,
    send(make) {
      if (lostWith) throw lostWith;
      const query = make();
      pending.push(query as unknown as (typeof pending)[number]);
      return query;
    },
    detach() {
      pending.length = 0;
      if (connection?.onclose === onclose) connection.onclose = null;
    },
  };
}

/**
 * What a unit's Drizzle session runs on: a client over its reserved
 * connection with only what Drizzle uses (D3), no more. It sends each query,
 * its text led by `tag` (statementTag), at once (P4: nothing executed after
 * it, such as COMMIT, can overtake it), never lets postgres.js send it again
 * (refuseResend), remembers it (so COMMIT waits for all of them), refuses
 * any query once the unit has ended or its COMMIT is on its way (it would
 * run after COMMIT, outside the transaction, as the login role), and
 * provides savepoints for tx.transaction(). Any other member of the client is
 * absent, so a Drizzle that started using one would fail loudly instead of
 * slipping past these checks.
 */
export function unitClient(conn: postgres.ReservedSql, tag = "", link: ConnectionWatch = watchConnection()) {
  const issued: PromiseLike<unknown>[] = [];
  let open = true;
  const check = () => {
    if (!open) throw new DatabaseError("this unit of work has ended: await every query inside it", { code: "25000" });
  };
  const unsafe = ((text: string, ...rest: unknown[]) => {
    check();
    // The rest as given: postgres.js reads unsafe(text, options) by the number of arguments.
    const query = link.send(() => (conn.unsafe as TextFirst)(tag + text, ...rest));
    refuseResend(query);
    markErrors(query);
    void query.execute();
    issued.push(query);
    return query;
  }) as postgres.Sql["unsafe"];
  let savepoints = 0;
  const savepoint = (async (...args: unknown[]) => {
    const run = args.at(-1) as (sql: UnitClient) => Promise<unknown>;
    const name = `unit_savepoint_${++savepoints}`;
    await unsafe(`savepoint ${name}`);
    try {
      const result = await run(client);
      await unsafe(`release savepoint ${name}`);
      return result;
    } catch (error) {
      // Report the nested transaction's own error, even if undoing it fails too.
      try {
        await unsafe(`rollback to savepoint ${name}`);
      } catch {
        // The nested error is the one to report.
      }
      throw error;
    }
  }) as postgres.TransactionSql["savepoint"];
  const client: UnitClient = { unsafe, savepoint };
  return {
    client: client as unknown as postgres.Sql,
    /** How many queries the unit has sent. */
    sent: () => issued.length,
    /** Refuse any more queries now: COMMIT is being sent. */
    seal(): void {
      open = false;
    },
    /** Wait until every query the unit sent has its answer, then refuse any more. */
    async end(): Promise<void> {
      while (issued.length) await Promise.allSettled(issued.splice(0));
      open = false;
    },
  };
}

const rolledBack = () =>
  new DatabaseError(
    "the unit of work was rolled back: a statement in it failed and its error was caught (contain failures with tx.transaction)",
    {
      code: "25P02",
    },
  );

/** A Drizzle query builder, which runs when awaited (not a promise already running). */
const isLazyQuery = (value: unknown): value is PromiseLike<unknown> =>
  !(value instanceof Promise) &&
  typeof (value as { then?: unknown } | null)?.then === "function" &&
  typeof (value as { getSQL?: unknown }).getSQL === "function";

/** BEGIN and COMMIT as unnamed statements: a prepared one could go stale (a pooler that dropped it) and fail. */
const unnamed = { prepare: false } as const;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * What a unit waits for before its transaction, within `ms`, else DatabaseError
 * `PGRST003` (rule `pool-timeout`, as PostgREST's "Timed out acquiring
 * connection from connection pool"): every connection busy that long (a unit
 * started inside another on a one-connection pool waits for itself), or a
 * server that cannot be reached. `late` gets what arrives after the time.
 */
export async function withinAcquireTime<T>(waiting: Promise<T>, ms: number, late: (value: T) => void): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new DatabaseError(`timed out after ${ms} ms acquiring a connection from the pool`, { code: "PGRST003" }),
        ),
      ms,
    );
  });
  try {
    return await Promise.race([waiting, timeout]);
  } catch (error) {
    waiting.then(late, () => undefined);
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A connection of the pool for one unit, within `ms` (withinAcquireTime).
 * postgres.js can also lose a waiter: one handed a connection that is
 * reconnecting after a close is dropped when the new session fetches its
 * array types, and would wait forever. A connection that arrives after the
 * time is given back.
 */
export function reserveWithin(pool: postgres.Sql, ms: number): Promise<postgres.ReservedSql> {
  return withinAcquireTime(pool.reserve(), ms, (conn) => conn.release());
}

export interface UnitRunner {
  /** Run `work` in one transaction as `role` with `claims` (retried on serialization failures), then commit or roll back. */
  <T>(role: string, claims: object, work: (tx: Tx) => Promise<T>, options?: UnitOptions<T>): Promise<T>;
}

/**
 * The unit-of-work runner of a handle: its pool, its Drizzle parts and session
 * maker, its attempts, where read-only units run (the primary's pool when
 * no router is given), and each role's own settings (read once per role,
 * src/postgrest.ts; without it, every unit's preamble reads them).
 */
export function unitRunner(
  pool: postgres.Sql,
  parts: SessionParts,
  session: (client: postgres.Sql) => AnySession,
  attempts: number,
  readOnlyRouter?: ReadOnlyRouter,
  settingsOf?: (role: string) => Promise<RoleSettings>,
  acquireTimeoutMs = 10_000,
): UnitRunner {
  async function once<T>(
    role: string,
    claims: object,
    work: (tx: Tx) => Promise<T>,
    options: UnitOptions<T>,
    on: postgres.Sql = pool,
  ): Promise<T> {
    const settings = await settingsOf?.(role);
    const conn = await reserveWithin(on, acquireTimeoutMs);
    const link = watchConnection();
    // Whether the transaction ended (its COMMIT or ROLLBACK answered): only then may the connection go back.
    let ended = false;
    try {
      // Both made before either is sent: nothing may fail between BEGIN and the try below.
      const beginQuery = link.send(() =>
        conn.unsafe(options.readOnly ? "begin read only" : "begin", [], {
          ...unnamed,
          onexecute: link.onexecute,
        } as never),
      );
      const preamble = link.send(() => postgrestPreamble(conn, role, claims, settings));
      refuseResend(preamble);
      markErrors(beginQuery);
      markErrors(preamble);
      const begin = beginQuery.execute();
      void preamble.execute();
      // Awaited below; until then a failure must not count as an unhandled rejection.
      begin.catch(() => undefined);
      preamble.catch(() => undefined);
      const unit = unitClient(conn, statementTag(role), link);
      const tx = new PostgresJsTransaction(parts.dialect, session(unit.client) as never, parts.schema) as unknown as Tx;
      let commit: postgres.PendingQuery<postgres.Row[]> | undefined;
      try {
        const returned = work(tx);
        let running: PromiseLike<T> = returned;
        if (!options.rollback && isLazyQuery(returned) && unit.sent() === 0) {
          // The unit's only query, returned unawaited: send it now (Drizzle hands it to the unit's client at once),
          // then COMMIT right behind it, and refuse anything more: one round trip in all.
          running = returned.then((value) => value);
          if (unit.sent() === 1) {
            unit.seal();
            commit = link.send(() => conn.unsafe("commit", [], unnamed));
            refuseResend(commit);
            markErrors(commit);
            void commit.execute();
            commit.catch(() => undefined);
          }
        }
        const result = await running;
        await unit.end();
        await begin;
        await preamble;
        if (commit) {
          // P1: the query failed and its error was caught, or a deferred constraint failed (that rejects).
          const committed = await commit;
          ended = true;
          if (committed.command !== "COMMIT") throw rolledBack();
          return result;
        }
        const rollback = typeof options.rollback === "function" ? options.rollback(result) : options.rollback === true;
        if (rollback) {
          try {
            // What COMMIT would check first: the deferred constraints.
            await marked(link.send(() => conn`set constraints all immediate`));
          } catch (error) {
            // A statement failed and the work caught its error: the transaction is aborted.
            if ((error as { code?: unknown }).code === "25P02") throw rolledBack();
            throw error;
          }
          await marked(link.send(() => conn.unsafe("rollback", [], unnamed)));
          ended = true;
          return result;
        }
        const committed = await marked(link.send(() => conn.unsafe("commit", [], unnamed)));
        ended = true;
        // P1: a statement failed and the work caught its error: PostgreSQL rolled everything back.
        if (committed.command !== "COMMIT") throw rolledBack();
        return result;
      } catch (error) {
        await unit.end();
        const [, pre] = await Promise.allSettled([begin, preamble, ...(commit ? [commit] : [])]);
        // Should the connection close first, the ROLLBACK rejects (the watch): nothing waits for ever.
        if (!ended && !link.lost()) {
          ended = await link
            .send(() => conn.unsafe("rollback", [], unnamed))
            .then(
              () => true,
              () => false,
            );
        }
        if (pre.status === "rejected") throw pre.reason;
        // The work's own failure (not one of the unit's statements): never taken for a lost connection or retried.
        const applications =
          !fromStatements(error) && (isConnectionError(error) || isSystemError(error) || sqlState(error) === undefined);
        throw applications ? new ApplicationFailure(error) : error;
      }
    } finally {
      link.detach();
      // Back to the pool only once its transaction ended. A connection that closed is the pool's already (P5):
      // releasing it would hand it out as open. One whose ROLLBACK failed without a close, or whose connection
      // the unit never learnt, stays out of the pool: handed on, it could carry this unit's role and claims.
      if (ended && link.known() && !link.lost()) conn.release();
    }
  }

  return async function unit<T>(
    role: string,
    claims: object,
    work: (tx: Tx) => Promise<T>,
    given?: UnitOptions<T>,
  ): Promise<T> {
    // Checked only when given: a unit without options (the common fetch) pays nothing for it.
    if (given !== undefined) parse(unitOptionsSchema, given, "invalid unit options");
    const options: UnitOptions<T> = given ?? {};
    if (typeof work !== "function") throw new ValidationError("invalid unit of work: a function of the transaction");
    if (options.after !== undefined && !options.readOnly) {
      throw new ValidationError("`after` needs `readOnly: true`: it chooses where a read runs");
    }
    for (let attempt = 1; ; attempt++) {
      try {
        if (options.readOnly && readOnlyRouter) {
          return await readOnlyRouter.run(options.after, (on) => once(role, claims, work, options, on));
        }
        return await once(role, claims, work, options);
      } catch (error) {
        if (error instanceof ApplicationFailure) throw error.thrown;
        if (isRetryable(error) && attempt < attempts) {
          await sleep(5 * 2 ** attempt + Math.random() * 10);
          continue;
        }
        // The application's own error, thrown by its work: rolled back, and passed on as it is.
        if (isApplicationError(error)) throw error;
        const typed = toTypedError(error);
        if (isRetryable(error)) {
          throw new ConcurrencyError(`gave up after ${attempt} attempt(s): ${typed.message}`, {
            code: typed.code,
            cause: error,
          });
        }
        throw typed;
      }
    }
  };
}

/** D1: a Drizzle database over the pool, the way drizzle() builds it (its dialect, schema and options are shared). */
export function drizzleOver(pool: postgres.Sql): Database {
  return drizzle(pool, { schema });
}

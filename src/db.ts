/**
 * The entry point: a database handle built from a URL (postgres.js +
 * Drizzle), and units of work run as a user or, explicitly, as the service.
 *
 * A unit of work as a user reproduces PostgREST's transaction: one statement
 * (src/postgrest.ts) sets the role, `request.jwt.claims` (and the legacy
 * `request.jwt.claim.*` settings from the same claims) and the role's own
 * settings (such as `statement_timeout`) with set_config(..., true), so all
 * are transaction-local and passed as parameters, never spliced into SQL. Nothing is set at session level, so the
 * handle is safe behind a transaction-mode pooler (Supavisor, PgBouncer); use
 * `prepare: false` there. How a unit runs (pipelining, the one-round-trip
 * unit, COMMIT, retries) is in src/unit-of-work.ts.
 *
 * With `prepare` (the default) every Drizzle query is a prepared statement,
 * which postgres.js caches per connection: Drizzle alone prepares only the
 * queries given a name, and an unnamed query is planned again on each run,
 * which under RLS (policies expanded, InitPlans, index choice) costs more
 * than running it.
 */
import postgres from "postgres";
import { z } from "zod";
import { checkClaims, claimsFor, jwtVerifier, type JwtOptions, type UserClaims } from "./auth.ts";
import { DatabaseError, toTypedError, ValidationError } from "./errors.ts";
import { parse } from "./internal.ts";
import { roleSettingsCache } from "./postgrest.ts";
import { createReplicaRouter, type ReplicaOptions, type ReplicaState } from "./replicas.ts";
import {
  databaseOver,
  drizzleOver,
  sessionMaker,
  sessionParts,
  unitRunner,
  withinAcquireTime,
  type Database,
  type Tx,
  type UnitOptions,
} from "./unit-of-work.ts";

export type { Database, Schema, Tx, UnitOptions } from "./unit-of-work.ts";

export interface OrgDbOptions {
  /** Pool size (default 10). */
  max?: number;
  /** Use prepared statements (default true). Set false behind a transaction-mode pooler. */
  prepare?: boolean;
  /** Attempts for a unit of work that hits a serialization failure or deadlock (default 4). */
  attempts?: number;
  /**
   * How long a unit waits for a connection of the pool, in milliseconds (default 10000, as PostgREST's
   * `db-pool-acquisition-timeout`), before it fails with `PGRST003` (rule `pool-timeout`).
   */
  acquireTimeoutMs?: number;
  /** How access tokens are verified by `asJwt`. */
  jwt?: JwtOptions;
  /** Extra postgres.js options. */
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- postgres.js's own default: no custom types.
  postgres?: postgres.Options<{}>;
  /** URLs of read replicas: units run with `{ readOnly: true }` go there (src/replicas.ts). */
  readReplicas?: string[];
  /** How replicas are judged and waited for (lag limit, check interval, read-your-writes wait). */
  replicas?: ReplicaOptions;
}

export type { ReplicaOptions, ReplicaState };

export interface OrgDb {
  /** The postgres.js client, as the login role itself: no role switch, no RLS. For maintenance, never on behalf of a user. */
  readonly unsafeLoginSql: postgres.Sql;
  /** Drizzle over the same client, as the login role itself: no role switch, no RLS. For maintenance, never on behalf of a user. */
  readonly unsafeLoginDb: Database;
  /** Run `work` in one transaction as a user: their id, or claims from a verified token. RLS applies. */
  asUser<T>(user: string | UserClaims, work: (tx: Tx) => Promise<T>, options?: UnitOptions<T>): Promise<T>;
  /** Verify a Supabase access token (options.jwt), then run `work` as its user. */
  asJwt<T>(token: string, work: (tx: Tx) => Promise<T>, options?: UnitOptions<T>): Promise<T>;
  /** Run `work` in one transaction as the service (service_role: bypasses RLS). For trusted jobs only. */
  asService<T>(work: (tx: Tx) => Promise<T>, options?: UnitOptions<T>): Promise<T>;
  /** The primary's current WAL position, taken after a write unit: pass it as `{ readOnly: true, after: token }` to read that write back. */
  writeToken(): Promise<string>;
  /** Check the read replicas now: health, lag in bytes, why one is skipped. */
  replicaStatus(): Promise<ReplicaState[]>;
  /**
   * Read the roles' own settings (`alter role authenticated set statement_timeout = ...`) again, on each
   * role's next unit. A handle reads a role's settings on its first unit as that role and applies them to
   * every unit after, as PostgREST does until `NOTIFY pgrst, 'reload config'`.
   */
  reloadRoleSettings(): void;
  close(): Promise<void>;
}

/** Claims given for asUser, checked as the database will read them. */
function userClaims(user: string | UserClaims): UserClaims {
  // A user id: claims built here around the checked id, plain JSON already.
  if (typeof user === "string") return claimsFor(user);
  const claims = checkClaims(user);
  // JSON cannot hold a BigInt or a cycle, and a toJSON could name someone else.
  let sent: unknown;
  try {
    sent = JSON.parse(JSON.stringify(claims));
  } catch (error) {
    throw new ValidationError(`invalid claims: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
  const checked = checkClaims(sent);
  if (checked.sub !== claims.sub || checked.role !== claims.role)
    throw new ValidationError("invalid claims: they serialize as another user or role");
  return checked;
}

/** A connection URL postgres.js reads: postgres:// or postgresql://. */
const postgresUrl = z.string().refine((url) => {
  try {
    return ["postgres:", "postgresql:"].includes(new URL(url).protocol);
  } catch {
    return false;
  }
}, "a postgres:// or postgresql:// URL");
const count = z.number().int().positive();
const nonNegative = z.number().finite().nonnegative();
/** OrgDbOptions as JavaScript may pass them: a misspelt key is refused, not ignored. */
const orgDbOptionsSchema = z.strictObject({
  max: count.optional(),
  prepare: z.boolean().optional(),
  attempts: count.optional(),
  // setTimeout's limit: a longer delay would fire at once.
  acquireTimeoutMs: count.max(2_147_483_647).optional(),
  jwt: z
    .strictObject({
      secret: z.string().min(1).optional(),
      jwks: z.union([z.string(), z.instanceof(URL), z.looseObject({ keys: z.array(z.unknown()) })]).optional(),
      issuer: z.string().optional(),
      audience: z.string().optional(),
    })
    .optional(),
  postgres: z.looseObject({}).optional(),
  readReplicas: z.array(postgresUrl).optional(),
  replicas: z
    .strictObject({
      maxLagBytes: nonNegative.optional(),
      checkIntervalMs: nonNegative.optional(),
      maxWaitMs: nonNegative.optional(),
      pollMs: nonNegative.optional(),
      checkTimeoutMs: nonNegative.optional(),
    })
    .optional(),
});

export function createOrgDb(url: string, options: OrgDbOptions = {}): OrgDb {
  parse(postgresUrl, url, "invalid database URL");
  parse(orgDbOptionsSchema, options, "invalid options");
  const prepare = options.prepare ?? true;
  const client = postgres(url, {
    max: options.max ?? 10,
    prepare,
    onnotice: () => {},
    ...options.postgres,
  });
  const built = drizzleOver(client);
  const parts = sessionParts(built);
  const session = sessionMaker(parts, prepare);
  const db = prepare ? databaseOver(parts, session, client) : built;
  // Read replicas: one client per replica for units, one connection each for health checks (src/replicas.ts).
  const replicaClient = (replicaUrl: string, purpose: "units" | "health") =>
    postgres(replicaUrl, {
      max: options.max ?? 10,
      prepare,
      onnotice: () => {},
      connect_timeout: 5,
      ...options.postgres,
      ...(purpose === "health" ? { max: 1 } : {}),
    });
  const replicas = createReplicaRouter(client, options.readReplicas ?? [], replicaClient, options.replicas);
  // Each role's own settings, read on its first unit and kept until reloadRoleSettings(), as PostgREST keeps them.
  const acquireTimeoutMs = options.acquireTimeoutMs ?? 10_000;
  // The read goes through the pool on a role's first unit: within the time a unit waits for a connection.
  const settings = roleSettingsCache(client, (read) => withinAcquireTime(read, acquireTimeoutMs, () => undefined));
  const unit = unitRunner(
    client,
    parts,
    session,
    Math.max(1, options.attempts ?? 4),
    replicas,
    (role) => settings.of(role),
    acquireTimeoutMs,
  );
  // Built once per handle: a remote JWKS is fetched once and cached, not fetched per token.
  const verify = jwtVerifier(options.jwt ?? {});
  // After close(), nothing more runs: postgres.js would open a new connection that nothing ends.
  let closed = false;
  const assertOpen = () => {
    if (closed) throw new DatabaseError("the handle is closed (db.close())", { rule: "handle-closed" });
  };

  return {
    unsafeLoginSql: client,
    unsafeLoginDb: db,
    async asUser(user, work, unitOptions) {
      assertOpen();
      let claims: UserClaims;
      try {
        claims = userClaims(user);
      } catch (error) {
        throw toTypedError(error);
      }
      return unit(claims.role, claims, work, unitOptions);
    },
    async asJwt(token, work, unitOptions) {
      assertOpen();
      const claims = await verify(token);
      return unit(claims.role, claims, work, unitOptions);
    },
    async asService(work, unitOptions) {
      assertOpen();
      return unit("service_role", { role: "service_role" }, work, unitOptions);
    },
    async writeToken() {
      assertOpen();
      try {
        return await replicas.writeToken();
      } catch (error) {
        throw toTypedError(error);
      }
    },
    replicaStatus() {
      return replicas.check();
    },
    reloadRoleSettings() {
      settings.reload();
    },
    async close() {
      closed = true;
      await Promise.all([client.end({ timeout: 5 }), replicas.close()]);
    },
  };
}

/**
 * Typed errors. Every failure of the query layer is a `DatabaseError`
 * subclass, carrying the Postgres SQLSTATE (`code`) when the database raised
 * it:
 *
 * | class             | when                                                    | codes                    |
 * | ----------------- | ------------------------------------------------------- | ------------------------ |
 * | ValidationError   | input rejected by zod, or by a database check; an email | 22xxx, 23502, 23514,     |
 * |                   | address not in Unicode normal form NFKC                 | OL004                    |
 * | NotFoundError     | no such row, or a row RLS hides                         | P0002                    |
 * | ForbiddenError    | permission denied (privilege, policy, rule); anonymous  | 42501, OL001, OL003      |
 * |                   | sign-in; email not confirmed                            |                          |
 * | ConflictError     | unique or foreign key violation (with the constraint)   | 23505, 23503             |
 * | InvariantError    | a rule the database raised (last owner, used invitation,| P0001, OL002             |
 * |                   | organization limit reached); a kind of ConflictError    |                          |
 * | ConcurrencyError  | serialization failure or deadlock, after the retries    | 40001, 40P01             |
 * | ReadOnlyError     | a write in a read-only unit (`readOnly: true`, replicas)| 25006                    |
 * | DatabaseError     | anything else                                           | the SQLSTATE             |
 *
 * Each also carries `rule`: a stable, machine-readable name of the rule that
 * refused (`requires:clients.update`, `organization-keeps-an-owner`,
 * `constraint:organizations_slug_key`, ...), derived from the SQLSTATE and
 * the exception's own message or the constraint's name, never from the HINT
 * (hosted Supabase's supautils adds "GRANT ... TO anon;" hints to 42501
 * errors: advice the layer never passes on). See `RULES` for the list.
 */
import { DrizzleQueryError } from "drizzle-orm";
import type { z } from "zod";

export interface DatabaseErrorOptions {
  code?: string | undefined;
  detail?: string | undefined;
  hint?: string | undefined;
  constraint?: string | undefined;
  /** The rule that refused; derived from code, message and constraint when not given. */
  rule?: string | undefined;
  cause?: unknown;
}

export class DatabaseError extends Error {
  override name = "DatabaseError";
  /** Postgres SQLSTATE when the database raised the error. */
  readonly code: string | undefined;
  readonly detail: string | undefined;
  readonly hint: string | undefined;
  /** The violated constraint, when Postgres names one. */
  readonly constraint: string | undefined;
  /**
   * The rule that refused, stable and machine-readable (see `RULES`): for
   * programs to branch on, where the message is for people. Undefined for a
   * failure no rule names.
   */
  readonly rule: string | undefined;

  constructor(message: string, options: DatabaseErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = options.code;
    this.detail = options.detail;
    this.hint = options.hint;
    this.constraint = options.constraint;
    this.rule = options.rule ?? ruleFor(options.code, message, options.constraint);
  }
}

export class ValidationError extends DatabaseError {
  override name = "ValidationError";
  /** zod's issues, when the input was rejected before reaching the database. */
  readonly issues: z.core.$ZodIssue[];

  constructor(message: string, options: DatabaseErrorOptions & { issues?: z.core.$ZodIssue[] } = {}) {
    // Refused before the database (no SQLSTATE): the input rule.
    super(message, { ...options, rule: options.rule ?? (options.code === undefined ? "invalid-input" : undefined) });
    this.issues = options.issues ?? [];
  }
}

export class NotFoundError extends DatabaseError {
  override name = "NotFoundError";
}

export class ForbiddenError extends DatabaseError {
  override name = "ForbiddenError";
}

export class ConflictError extends DatabaseError {
  override name = "ConflictError";
}

/**
 * A rule of the database refused the change in the state it found (the last
 * owner, a used invitation, a role still held): a conflict with that state,
 * so also a `ConflictError` (HTTP 409), named apart for programs that tell
 * the two kinds apart.
 */
export class InvariantError extends ConflictError {
  override name = "InvariantError";
}

export class ConcurrencyError extends DatabaseError {
  override name = "ConcurrencyError";
}

/**
 * The rules a refusal can name: SQLSTATE, the pattern of the exception's own
 * message (as raised in supabase/migrations or by the layer), and the rule
 * (a string, or built from the match). Constraint violations name
 * `constraint:<name>`; a few SQLSTATEs name a rule on their own (below).
 */
export const RULES: readonly (readonly [
  code: string,
  message: RegExp,
  rule: string | ((match: RegExpExecArray) => string),
])[] = [
  ["42501", /^not signed in$/, "not-signed-in"],
  ["42501", /^permission denied: ([a-z_]+\.[a-z_]+) is required\b/, (m) => `requires:${m[1]}`],
  ["42501", /^permission denied: only an owner transfers ownership$/, "only-owners-transfer-ownership"],
  ["42501", /^permission denied: only owners grant or revoke owner$/, "only-owners-grant-owner"],
  ["42501", /^permission denied: only owners invite owners$/, "only-owners-invite-owners"],
  ["42501", /^permission denied: only owners remove owners$/, "only-owners-remove-owners"],
  ["42501", /^permission denied: the member outranks you$/, "member-outranks-you"],
  ["42501", /^permission denied: a holder of the role outranks you$/, "holder-outranks-you"],
  [
    "42501",
    /^permission denied: you cannot grant or revoke a role above your own highest role$/,
    "grant-above-own-rank",
  ],
  ["42501", /^permission denied: you cannot invite with a role above your own highest role$/, "invite-above-own-rank"],
  ["42501", /^you cannot change your own roles$/, "own-roles"],
  ["42501", /^a client cannot move to another organization$/, "client-stays-in-organization"],
  ["42501", /^created_by cannot change$/, "created-by-fixed"],
  ["42501", /^organization_id cannot change$/, "organization-id-fixed"],
  ["42501", /^invitation is for another email address$/, "invitation-for-another-email"],
  ["42501", /^permission denied: the role carries permissions you do not hold$/, "role-permissions-not-held"],
  ["42501", /^permission denied: a role's rank must be below your own highest role\b/, "role-rank-above-own"],
  ["42501", /^permission denied: you cannot give a role \S+ \(you do not hold it here\)$/, "give-permission-not-held"],
  ["42501", /^permission denied: only owners give a role\b/, "only-owners-give-permission"],
  ["42501", /^permission denied: built-in roles cannot be changed$/, "builtin-roles-fixed"],
  ["42501", /^permission denied: the role ranks at or above your own highest role$/, "role-ranks-above-you"],
  ["42501", /^permission denied: you cannot grant the replacement role$/, "replacement-not-grantable"],
  ["42501", /^a role's key and organization never change$/, "role-key-fixed"],
  ["42501", /^a built-in role's rank never changes$/, "builtin-roles-fixed"],
  ["42501", /^role belongs to another organization$/, "role-of-another-organization"],
  [
    "42501",
    /^new row violates row-level security policy (?:for|\(USING expression\) for) table "([^"]+)"/,
    (m) => `row-security:${m[1]}`,
  ],
  [
    "42501",
    /^permission denied for (?:table|view|sequence|function|schema|column [^ ]+ of relation|relation) "?([^" ]+)"?/,
    (m) => `privilege:${m[1]}`,
  ],
  ["P0001", /^organization \S+ must (?:keep at least one|have an) owner$/, "organization-keeps-an-owner"],
  // The users come before the first colon (ids), so an organization's name after it cannot pass for the other rule.
  ["P0001", /^cannot delete users? [^:]+: they are the only owners? of\b/, "only-owner-cannot-be-deleted"],
  [
    "P0001",
    /^cannot delete users? [^:]+: organization too large to delete with the accounts?\b/,
    "organization-too-large-to-delete-with-account",
  ],
  ["P0001", /^table \S+ is not registered for audit$/, "audit-table-not-registered"],
  ["P0001", /^organization too large to delete in one call\b/, "organization-too-large-to-delete"],
  ["P0001", /^organization too large to export in one call\b/, "organization-too-large-to-export"],
  // PostgREST's pre-request check (api_guard.check_request): HTTP 400 to supabase-js.
  ["PT400", /^count=planned and count=estimated are not available\b/, "estimated-count-refused"],
  ["23505", /^organization id \S+ belonged to a deleted organization$/, "organization-id-of-deleted-organization"],
  ["P0001", /^invitation already used$/, "invitation-used"],
  // The layer's own: a unit's connection closed under it (src/unit-of-work.ts), or the driver's connection error.
  ["08006", /^the connection to the database was lost\b/, "connection-lost"],
  ["PGRST003", /^timed out after \d+ ms acquiring a connection from the pool$/, "pool-timeout"],
  ["P0001", /^invitation expired$/, "invitation-expired"],
  ["P0001", /^invitation revoked$/, "invitation-revoked"],
  ["P0001", /^invitation no longer valid$/, "invitation-no-longer-valid"],
  ["P0001", /^role in use: held by \S+ member\(s\) and named by \S+ pending invitation\(s\)$/, "role-in-use"],
  [
    "P0002",
    /^(organization|member|invitation|client|assignment|[a-z][a-z0-9_]*) not found\b/,
    (m) => `not-found:${m[1]}`,
  ],
  ["P0002", /^no profile for the signed-in user$/, "no-profile"],
  ["23505", /^already a member\b/, "already-a-member"],
  ["23505", /^role key \S+ is reserved for a built-in role$/, "role-key-reserved"],
  ["23505", /^role key \S+ is taken in this organization$/, "role-key-taken"],
  ["22023", /^at least one role is required$/, "at-least-one-role"],
  ["22023", /^unknown role\b/, "unknown-role"],
  ["22023", /^unknown permission\b/, "unknown-permission"],
  ["22023", /^invalid permission key\b/, "invalid-permission-key"],
  ["22023", /^choose another member as the new owner$/, "new-owner-is-another-member"],
  ["22023", /^expires_in must be between\b/, "invitation-validity"],
  ["22023", /^invalid email address\b/, "invalid-email"],
  ["22023", /^invalid role key\b/, "invalid-role-key"],
  ["22023", /^invalid role name\b/, "invalid-role-name"],
  ["22023", /^role rank must be between 1 and \S+$/, "role-rank-range"],
  ["22023", /^permissions must be a list\b/, "permissions-list"],
  ["22023", /^the replacement must be another role$/, "replacement-is-another-role"],
  ["42703", /^table \S+ has no column\b/, "no-such-column"],
  ["22004", /^organization_id is required$/, "organization-required"],
  ["22023", /^query must not be empty$/, "search-query-empty"],
  ["22023", /^query is longer than \d+ characters$/, "search-query-too-long"],
  ["22023", /^query has more than \S+ words$/, "search-query-too-many-words"],
  ["22023", /^max_results must be between 1 and 1000\b/, "list-max-results"],
  ["22023", /^after_name and after_id go together\b/, "list-cursor-incomplete"],
  ["22023", /^max_results must be between\b/, "search-max-results"],
  ["55000", /^pg_trgm or btree_gin is installed in schema \S+, not in extensions$/, "extension-outside-extensions"],
  ["22023", /^batch_size must be at least 1$/, "batch-size"],
  // pg-safeupdate (hosted Supabase's API path); 21000 is otherwise any cardinality violation.
  ["21000", /^(?:UPDATE|DELETE) requires a WHERE clause$/, "update-needs-where"],
];

/** SQLSTATEs that name their rule whatever the message. */
const BY_CODE: Readonly<Record<string, string>> = {
  "40001": "serialization-failure",
  "40P01": "deadlock",
  "25P02": "rolled-back",
  "25000": "unit-ended",
  "25006": "read-only-unit",
  OL001: "anonymous-sign-in",
  OL002: "organization-limit",
  OL003: "email-not-confirmed",
  OL004: "email-not-normalized",
  PGRST301: "invalid-token",
};

/** The rule a failure names (see RULES), from its SQLSTATE, its message and its constraint; never from a hint. */
export function ruleFor(code: string | undefined, message: string, constraint?: string): string | undefined {
  if (code === undefined) return undefined;
  for (const [c, pattern, rule] of RULES) {
    if (c !== code) continue;
    const match = pattern.exec(message);
    if (match) return typeof rule === "string" ? rule : rule(match);
  }
  if (constraint && code.startsWith("23")) return `constraint:${constraint}`;
  return BY_CODE[code];
}

/** A write attempted in a read-only unit of work (on a replica, or on the primary standing in for one). */
export class ReadOnlyError extends DatabaseError {
  override name = "ReadOnlyError";
}

interface PostgresLikeError {
  code?: unknown;
  message?: unknown;
  detail?: unknown;
  hint?: unknown;
  constraint_name?: unknown;
  constraint?: unknown;
  routine?: unknown;
  cause?: unknown;
}

function pgFields(error: unknown): PostgresLikeError | null {
  if (typeof error !== "object" || error === null) return null;
  const e = error as PostgresLikeError;
  if (typeof e.code === "string" && /^[0-9A-Z]{5}$/.test(e.code)) return e;
  // drizzle wraps driver errors: look at the cause.
  if (e.cause) return pgFields(e.cause);
  return null;
}

/** The SQLSTATE an error (or an error it wraps) carries, if any. */
export function sqlState(error: unknown): string | undefined {
  return pgFields(error)?.code as string | undefined;
}

const str = (v: unknown) => (typeof v === "string" && v.length > 0 ? v : undefined);

/** The driver's and the system's codes for a connection that failed or went away. */
const DRIVER_CONNECTION_CODES =
  /^(ECONNREFUSED|ECONNRESET|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EPIPE|ETIMEDOUT|CONNECTION_CLOSED|CONNECTION_ENDED|CONNECTION_DESTROYED|CONNECT_TIMEOUT)$/;

/** The error itself, or the driver's error Drizzle wrapped (a DrizzleQueryError's cause), one level deep. */
const unwrapped = (error: unknown): unknown => (error instanceof DrizzleQueryError ? error.cause : error);

/** A connection failure the driver or the system reported (not the server): its error, or undefined. */
function driverConnectionError(error: unknown): Error | undefined {
  const inner = unwrapped(error);
  const code = (inner as { code?: unknown } | null)?.code;
  return inner instanceof Error && typeof code === "string" && DRIVER_CONNECTION_CODES.test(code) ? inner : undefined;
}

/**
 * Errors that mean the server could not be reached or went away, not that the
 * unit failed: the driver's and the system's (also wrapped by Drizzle), the
 * layer's own `08006`, and the server's fatal ones (08..., shutdowns; an
 * error of that code at a lesser severity, relayed by a foreign server, is
 * not). Never an error the application wrapped around one: its work runs again
 * only when the database failed it.
 */
export function isConnectionError(error: unknown): boolean {
  if (driverConnectionError(error)) return true;
  const inner = unwrapped(error);
  if (typeof inner !== "object" || inner === null) return false;
  const { code, severity } = inner as { code?: unknown; severity?: unknown };
  if (typeof code !== "string") return false;
  if (typeof severity === "string" && severity !== "FATAL" && severity !== "PANIC") return false;
  // admin_shutdown, crash_shutdown, cannot_connect_now (a standby starting up)
  return code.startsWith("08") || code === "57P01" || code === "57P02" || code === "57P03";
}

/** Turn anything thrown by postgres.js or drizzle into a typed error. */
export function toTypedError(error: unknown): DatabaseError {
  if (error instanceof DatabaseError) return error;
  // Before the SQLSTATE: EPIPE has the shape of one. The driver's own message, not Drizzle's (it holds the SQL).
  const lost = driverConnectionError(error);
  if (lost)
    return new DatabaseError(`the connection to the database was lost: ${lost.message}`, {
      code: "08006",
      cause: error,
    });
  const pg = pgFields(error);
  if (!pg) {
    const message = error instanceof Error ? error.message : String(error);
    return new DatabaseError(message, { cause: error });
  }
  const code = pg.code as string;
  const hint = str(pg.hint);
  const options: DatabaseErrorOptions = {
    code,
    detail: str(pg.detail),
    // supautils (hosted Supabase) hints a GRANT to the API role on 42501: never advice to pass on.
    hint: code === "42501" && hint && /^\s*grant\b/i.test(hint) ? undefined : hint,
    constraint: str(pg.constraint_name) ?? str(pg.constraint),
    cause: error,
  };
  const message = str(pg.message) ?? code;
  if (code === "42501" || code === "OL001" || code === "OL003") return new ForbiddenError(message, options);
  if (code === "P0002") return new NotFoundError(message, options);
  if (code === "23505" || code === "23503") return new ConflictError(message, options);
  if (code === "P0001" || code === "OL002") return new InvariantError(message, options);
  if (code === "40001" || code === "40P01") return new ConcurrencyError(message, options);
  if (code === "25006") return new ReadOnlyError(message, options);
  if (code.startsWith("22") || code === "23502" || code === "23514" || code === "OL004")
    return new ValidationError(message, options);
  return new DatabaseError(message, options);
}

/**
 * Whether a unit's work threw an error of the application's own: not the
 * database's (no SQLSTATE, here or in its cause), not the driver's (postgres.js
 * and system errors carry an upper-case code such as CONNECTION_ENDED or
 * ECONNRESET; Drizzle wraps the driver's), not one of the layer's. A unit
 * passes such an error through unchanged, its transaction rolled back, so that
 * the application's own error classes keep meaning what they mean.
 */
export function isApplicationError(error: unknown): boolean {
  // Drizzle's wrapper of a failed query (its name is plain "Error"), whatever it wraps.
  if (error instanceof DatabaseError || error instanceof DrizzleQueryError || pgFields(error)) return false;
  if (typeof error !== "object" || error === null) return true;
  const { code, name } = error as { code?: unknown; name?: unknown };
  if (typeof code === "string" && /^[A-Z][A-Z0-9_]+$/.test(code)) return false;
  return name !== "DrizzleQueryError" && name !== "PostgresError";
}

/** Whether a transaction that failed with this error may simply be run again. */
export function isRetryable(error: unknown): boolean {
  const pg = pgFields(error);
  const code = pg?.code;
  return (
    code === "40001" ||
    code === "40P01" ||
    // A prepared statement the server no longer has, or whose result type a
    // migration changed: postgres.js prepares it afresh on the next attempt.
    code === "26000" ||
    (code === "0A000" && pg?.routine === "RevalidateCachedQuery")
  );
}

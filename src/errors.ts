/**
 * Typed errors. Every failure of the query layer is a `DatabaseError`
 * subclass, carrying the Postgres SQLSTATE (`code`) when the database raised
 * it:
 *
 * | class             | when                                                    | codes                    |
 * | ----------------- | ------------------------------------------------------- | ------------------------ |
 * | ValidationError   | input rejected by zod, or by a database check           | 22xxx, 23502, 23514      |
 * | NotFoundError     | no such row, or a row RLS hides                         | P0002                    |
 * | ForbiddenError    | permission denied (privilege, policy, rule)             | 42501                    |
 * | ConflictError     | unique or foreign key violation (with the constraint)   | 23505, 23503             |
 * | InvariantError    | a rule the database raised (last owner, used invitation)| P0001                    |
 * | ConcurrencyError  | serialization failure or deadlock, after the retries    | 40001, 40P01             |
 * | ReadOnlyError     | a write in a read-only unit (`readOnly: true`, replicas)| 25006                    |
 * | DatabaseError     | anything else                                           | the SQLSTATE             |
 */
import type { z } from "zod";

export interface DatabaseErrorOptions {
  code?: string | undefined;
  detail?: string | undefined;
  hint?: string | undefined;
  constraint?: string | undefined;
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

  constructor(message: string, options: DatabaseErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = options.code;
    this.detail = options.detail;
    this.hint = options.hint;
    this.constraint = options.constraint;
  }
}

export class ValidationError extends DatabaseError {
  override name = "ValidationError";
  /** zod's issues, when the input was rejected before reaching the database. */
  readonly issues: z.core.$ZodIssue[];

  constructor(message: string, options: DatabaseErrorOptions & { issues?: z.core.$ZodIssue[] } = {}) {
    super(message, options);
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

export class InvariantError extends DatabaseError {
  override name = "InvariantError";
}

export class ConcurrencyError extends DatabaseError {
  override name = "ConcurrencyError";
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

const str = (v: unknown) => (typeof v === "string" && v.length > 0 ? v : undefined);

/** Turn anything thrown by postgres.js or drizzle into a typed error. */
export function toTypedError(error: unknown): DatabaseError {
  if (error instanceof DatabaseError) return error;
  const pg = pgFields(error);
  if (!pg) {
    const message = error instanceof Error ? error.message : String(error);
    return new DatabaseError(message, { cause: error });
  }
  const code = pg.code as string;
  const options: DatabaseErrorOptions = {
    code,
    detail: str(pg.detail),
    hint: str(pg.hint),
    constraint: str(pg.constraint_name) ?? str(pg.constraint),
    cause: error,
  };
  const message = str(pg.message) ?? code;
  if (code === "42501") return new ForbiddenError(message, options);
  if (code === "P0002") return new NotFoundError(message, options);
  if (code === "23505" || code === "23503") return new ConflictError(message, options);
  if (code === "P0001") return new InvariantError(message, options);
  if (code === "40001" || code === "40P01") return new ConcurrencyError(message, options);
  if (code === "25006") return new ReadOnlyError(message, options);
  if (code.startsWith("22") || code === "23502" || code === "23514") return new ValidationError(message, options);
  return new DatabaseError(message, options);
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

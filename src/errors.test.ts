/**
 * Typed errors carry a stable `rule`, named from the SQLSTATE and the
 * exception's own message or constraint, never from the HINT; every
 * exception the migrations raise names one.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { DrizzleQueryError } from "drizzle-orm";
import {
  ConflictError,
  DatabaseError,
  ForbiddenError,
  InvariantError,
  isApplicationError,
  isConnectionError,
  NotFoundError,
  ruleFor,
  toTypedError,
  ValidationError,
} from "./errors.ts";

/** A postgres.js error as the driver reports it. */
const pgError = (fields: { code: string; message: string; hint?: string; constraint_name?: string }) =>
  Object.assign(new Error(fields.message), fields);

describe("rule", () => {
  it("names the rule from the SQLSTATE and the message the database raised", () => {
    const cases: [string, string, string][] = [
      ["42501", "permission denied: clients.update is required in this organization", "requires:clients.update"],
      ["42501", "permission denied: only owners grant or revoke owner", "only-owners-grant-owner"],
      ["42501", "you cannot change your own roles", "own-roles"],
      ["42501", 'new row violates row-level security policy for table "clients"', "row-security:clients"],
      ["42501", "permission denied for table organizations", "privilege:organizations"],
      [
        "P0001",
        "organization 10000000-0000-4000-8000-000000000001 must keep at least one owner",
        "organization-keeps-an-owner",
      ],
      [
        "P0001",
        'cannot delete user 00000000-0000-4000-a000-000000000006: they are the only owner of "Globex" (10000000-0000-4000-8000-000000000002)',
        "only-owner-cannot-be-deleted",
      ],
      [
        "P0001",
        'cannot delete users 00000000-0000-4000-a000-000000000006, 00000000-0000-4000-a000-000000000007: they are the only owners of "Globex" (10000000-0000-4000-8000-000000000002)',
        "only-owner-cannot-be-deleted",
      ],
      [
        "P0001",
        'cannot delete user 00000000-0000-4000-a000-000000000006: organization too large to delete with the account: "Globex" (10000000-0000-4000-8000-000000000002) (more than 25000 rows)',
        "organization-too-large-to-delete-with-account",
      ],
      [
        "P0001",
        'cannot delete users 00000000-0000-4000-a000-000000000006, 00000000-0000-4000-a000-000000000007: organization too large to delete with the accounts: "Pair" (10000000-0000-4000-8000-000000000002) (more than 25000 rows)',
        "organization-too-large-to-delete-with-account",
      ],
      // An organization named to look like the other refusal does not change which rule the message names.
      [
        "P0001",
        'cannot delete user 00000000-0000-4000-a000-000000000006: organization too large to delete with the account: "x: they are the only owner of y" (10000000-0000-4000-8000-000000000002) (more than 25000 rows)',
        "organization-too-large-to-delete-with-account",
      ],
      [
        "P0001",
        'cannot delete user 00000000-0000-4000-a000-000000000006: they are the only owner of "x: organization too large to delete with the account" (10000000-0000-4000-8000-000000000002)',
        "only-owner-cannot-be-deleted",
      ],
      ["P0001", "invitation expired", "invitation-expired"],
      ["P0002", "client not found", "not-found:client"],
      ["40001", "could not serialize access due to concurrent update", "serialization-failure"],
      ["21000", "UPDATE requires a WHERE clause", "update-needs-where"],
      ["21000", "DELETE requires a WHERE clause", "update-needs-where"],
    ];
    for (const [code, message, rule] of cases)
      expect(toTypedError(pgError({ code, message })).rule, message).toBe(rule);
  });

  it("names no rule for a cardinality violation that is not pg-safeupdate's refusal", () => {
    const error = toTypedError(
      pgError({ code: "21000", message: "more than one row returned by a subquery used as an expression" }),
    );
    expect(error.rule).toBeUndefined();
  });

  it("names a violated constraint", () => {
    const error = toTypedError(
      pgError({
        code: "23505",
        message: 'duplicate key value violates unique constraint "organizations_slug_key"',
        constraint_name: "organizations_slug_key",
      }),
    );
    expect(error).toBeInstanceOf(ConflictError);
    expect(error.rule).toBe("constraint:organizations_slug_key");
  });

  it("is never read from the HINT, and supautils' GRANT hint on 42501 is not passed on: the layer's message stays", () => {
    const error = toTypedError(
      pgError({
        code: "42501",
        message: "permission denied for table organizations",
        hint: "GRANT DELETE ON public.organizations TO anon;",
      }),
    );
    expect(error).toBeInstanceOf(ForbiddenError);
    expect(error.message).toBe("permission denied for table organizations");
    expect(error.hint).toBeUndefined();
    expect(error.rule).toBe("privilege:organizations");
    // A rule-shaped hint names nothing either.
    expect(
      toTypedError(pgError({ code: "42501", message: "something new", hint: "you cannot change your own roles" })).rule,
    ).toBeUndefined();
    // Hints that are advice of the project itself are kept.
    const owner = toTypedError(
      pgError({
        code: "P0001",
        message: "organization x must keep at least one owner",
        hint: "Transfer ownership first.",
      }),
    );
    expect(owner).toBeInstanceOf(InvariantError);
    // A rule refusing the state it found is a conflict (HTTP 409) too.
    expect(owner).toBeInstanceOf(ConflictError);
    expect(toTypedError(pgError({ code: "23505", message: "duplicate key" }))).not.toBeInstanceOf(InvariantError);
    expect(owner.hint).toBe("Transfer ownership first.");
  });

  it("names the layer's own refusals: input refused before the database, rows RLS hides", () => {
    expect(new ValidationError("invalid input: name: too short").rule).toBe("invalid-input");
    expect(new NotFoundError("organization not found", { code: "P0002" }).rule).toBe("not-found:organization");
    expect(new ForbiddenError("missing access token", { code: "PGRST301" }).rule).toBe("invalid-token");
  });

  it("every exception the migrations raise names a rule", () => {
    const dir = path.join(import.meta.dirname, "..", "supabase", "migrations");
    const unnamed: string[] = [];
    let seen = 0;
    for (const file of readdirSync(dir).filter((f) => f.endsWith(".sql"))) {
      const text = readFileSync(path.join(dir, file), "utf8");
      for (const m of text.matchAll(/raise exception '((?:[^']|'')*)'([^;]*);/g)) {
        seen++;
        const message = m[1]!.replaceAll("''", "'").replaceAll("%", "clients.read");
        const code = /errcode = '([0-9A-Z]{5})'/.exec(m[2]!)?.[1] ?? "P0001";
        if (ruleFor(code, message) === undefined) unnamed.push(`${file}: ${code} ${message}`);
      }
    }
    expect(seen).toBeGreaterThan(20);
    expect(unnamed, "add these to RULES in src/errors.ts").toEqual([]);
  });
});

describe("the driver's errors", () => {
  const closed = () =>
    Object.assign(new Error("write CONNECTION_CLOSED 127.0.0.1:5432"), { code: "CONNECTION_CLOSED" });

  it("a lost connection, bare or wrapped by Drizzle (whose wrapper is named plain Error), is the driver's, typed 08006 connection-lost", () => {
    for (const error of [closed(), new DrizzleQueryError("select 1", [], closed())]) {
      expect(isApplicationError(error)).toBe(false);
      expect(isConnectionError(error)).toBe(true);
      expect(toTypedError(error)).toMatchObject({ code: "08006", rule: "connection-lost" });
    }
  });

  it("any failed query Drizzle wraps is the database's, typed, never passed on as the application's own", () => {
    const wrapped = new DrizzleQueryError("select 1", [], new TypeError("Cannot read properties of null"));
    expect(isApplicationError(wrapped)).toBe(false);
    expect(isConnectionError(wrapped)).toBe(false);
    expect(toTypedError(wrapped)).toBeInstanceOf(DatabaseError);
    expect(isApplicationError(new Error("the application's own"))).toBe(true);
  });

  it("an application's error around a connection failure of its own (fetch failed) stays the application's; a server's 08 at less than FATAL, relayed, is no lost connection", () => {
    const fetchFailed = new TypeError("fetch failed", {
      cause: Object.assign(new Error("connect ECONNREFUSED 10.0.0.1:443"), { code: "ECONNREFUSED" }),
    });
    expect(isConnectionError(fetchFailed)).toBe(false);
    expect(isApplicationError(fetchFailed)).toBe(true);
    const relayed = Object.assign(new Error("could not connect to server"), { code: "08001", severity: "ERROR" });
    expect(isConnectionError(relayed)).toBe(false);
    const fatal = Object.assign(new Error("terminating connection due to administrator command"), {
      code: "57P01",
      severity: "FATAL",
    });
    expect(isConnectionError(fatal)).toBe(true);
    const looped: { code?: string; cause?: unknown } = {};
    looped.cause = looped;
    expect(isConnectionError(looped)).toBe(false);
  });

  it("EPIPE, which has the shape of a SQLSTATE, is a lost connection, and the SQL Drizzle quotes stays out of the message", () => {
    const epipe = Object.assign(new Error("write EPIPE"), { code: "EPIPE" });
    const typed = toTypedError(new DrizzleQueryError("select secret from t where id = $1", ["p"], epipe));
    expect(typed).toMatchObject({ code: "08006", rule: "connection-lost" });
    expect(typed.message).not.toContain("select secret");
  });
});

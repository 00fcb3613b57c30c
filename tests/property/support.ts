/**
 * Shared machinery of the property suites (tests/property/*.property.test.ts):
 * who a call runs as, how a call is run so that a rejection can be checked
 * for its type and for what it wrote, and the rule for "a typed error".
 *
 * Each call runs in its own unit of work as a persona, in one of two modes:
 *
 * - `caught`: the unit catches the call's rejection and then COMMITS. This is
 *   the strict form of "a rejected call writes nothing": whatever the call did
 *   before it rejected would be committed and seen by the snapshot.
 * - `thrown`: the rejection leaves the unit, which asUser rolls back; asUser's
 *   own rejection must then be typed as well.
 *
 * A call that succeeds is undone (the unit throws `Undo`, so asUser rolls it
 * back): every run starts from the seed, and successful random writes (a new
 * organization, a deleted client) never change what later runs see.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { OrgDb, Tx, UnitOptions } from "../../src/db.ts";
import { claimsFor, type UserClaims } from "../../src/auth.ts";
import { DatabaseError } from "../../src/errors.ts";
import type { Sql } from "../../tooling/server/sql.ts";
import type { OrgDbSuite } from "../support/orgdb.ts";
import { USER } from "../support/personas.ts";
import { forRule1, forRule2, type Field } from "./arbitraries.ts";

/**
 * Fixed seed: every run of the suite draws the same inputs. To explore
 * further by hand, PROPERTY_SEED picks another seed and PROPERTY_RUNS
 * multiplies the number of runs (npm test uses neither).
 */
export const SEED = Number(process.env.PROPERTY_SEED ?? 42);
const factor = Number(process.env.PROPERTY_RUNS ?? 1);
/** `n` runs, times PROPERTY_RUNS. */
export const runs = (n: number) => Math.max(1, Math.round(n * factor));
/** Runs of the "typed error" properties and of the "writes nothing" properties (each run takes two snapshots). */
export const RUNS = { typed: runs(100), writes: runs(50) } as const;

/** Who a unit of work runs as: a seeded persona (most runs), a signed-in user unknown to the database, or anon. */
export type Who = string | UserClaims;

export const persona: fc.Arbitrary<Who> = fc.oneof(
  { weight: 10, arbitrary: fc.constantFrom(...Object.values(USER)) },
  { weight: 1, arbitrary: fc.uuid({ version: 4 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(...Object.values(USER)).map((id) => claimsFor(id, { role: "anon" })),
  },
);

export type Mode = "caught" | "thrown";
export const mode: fc.Arbitrary<Mode> = fc.constantFrom("caught", "thrown");

export type Outcome =
  | { ok: true; value: unknown }
  /** `error`: the call's own rejection; `unitError`: what asUser rejected with (thrown mode, or a failed commit). */
  | { ok: false; error: unknown; unitError?: unknown };

type Ran = { ok: true; value: unknown } | { ok: false; rejected: unknown };

/** Run `call` in a unit of work as `who` (see the modes above). Never rejects. */
export function attempt(db: OrgDb, who: Who, m: Mode, call: (tx: Tx) => Promise<unknown>): Promise<Outcome> {
  return attemptIn((work, options) => db.asUser(who, work, options), m, call);
}

/** Run `call` in the unit of work `run` starts (asUser, asJwt), in mode `m`. Never rejects. */
export async function attemptIn(
  run: <R>(work: (tx: Tx) => Promise<R>, options: UnitOptions<R>) => Promise<R>,
  m: Mode,
  call: (tx: Tx) => Promise<unknown>,
): Promise<Outcome> {
  let raw: { error: unknown } | null = null;
  try {
    const ran = await run<Ran>(
      async (tx) => {
        try {
          return { ok: true, value: await call(tx) };
        } catch (error) {
          raw = { error };
          if (m === "thrown") throw error;
          return { ok: false, rejected: error };
        }
      },
      // A call that succeeded is rolled back; a caught rejection commits.
      { rollback: (result) => result.ok },
    );
    return ran.ok ? { ok: true, value: ran.value } : { ok: false, error: ran.rejected };
  } catch (unitError) {
    if (raw) return { ok: false, error: (raw as { error: unknown }).error, unitError };
    // The unit was refused before the call ran (e.g. invalid claims), or failed after it (e.g. at commit, or at the deferred checks before rolling back).
    return { ok: false, error: unitError, unitError };
  }
}

function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.constructor.name}: ${error.message}`;
  try {
    return `non-Error ${typeof error}: ${String(error)}`;
  } catch {
    return `non-Error ${typeof error}`;
  }
}

/**
 * Why `error` is not a typed error of the layer, or null when it is one: a
 * DatabaseError or one of its subclasses; a bare DatabaseError only when it
 * carries the SQLSTATE the database raised ("anything else"). A bare
 * DatabaseError without one is what toTypedError makes of an error nobody
 * expected (a TypeError, a driver or Drizzle error): an untyped error in
 * disguise.
 */
export function untyped(error: unknown): string | null {
  if (!(error instanceof DatabaseError)) return `not a DatabaseError: ${describeError(error)}`;
  if (error.constructor === DatabaseError && !(typeof error.code === "string" && /^[0-9A-Z]{5}$/.test(error.code))) {
    return `a bare DatabaseError without SQLSTATE (${error.message}), caused by ${describeError(error.cause)}`;
  }
  return null;
}

export function expectTyped(outcome: Outcome): void {
  if (outcome.ok) return;
  expect(untyped(outcome.error), "the call's rejection").toBeNull();
  if (outcome.unitError !== undefined) expect(untyped(outcome.unitError), "asUser's rejection").toBeNull();
}

/**
 * What the database holds: for every table of public (audit_log included),
 * private and auth.users, its row count and an md5 of its rows, in one
 * select. Row contents catch an update as well as an insert or delete.
 */
export function snapshotter(sql: () => Sql): () => Promise<Record<string, string>> {
  let query: string | null = null;
  return async () => {
    if (!query) {
      const tables = await sql()<{ schema: string; name: string }[]>`
        select schemaname as schema, tablename as name from pg_catalog.pg_tables
        where schemaname in ('public', 'private') or (schemaname = 'auth' and tablename = 'users')
        order by 1, 2`;
      expect(tables.map((t) => `${t.schema}.${t.name}`)).toContain("public.audit_log");
      query = `select ${tables
        .map(
          (t) =>
            `(select count(*)::text || ' rows, ' || md5(coalesce(string_agg(r::text, '|' order by r::text), '')) from "${t.schema}"."${t.name}" r) as "${t.schema}.${t.name}"`,
        )
        .join(",\n")}`;
    }
    const [row] = await sql().unsafe<Record<string, string>[]>(query);
    return row!;
  };
}

/** How the runs of a "writes nothing" property ended: resolved, refused before the database (no code), refused by it. */
export interface Tally {
  resolved: number;
  refusedByInput: number;
  refusedByDatabase: number;
}

export interface PropertyContext {
  db: () => OrgDb;
  sql: () => Sql;
}

/**
 * Rule 1: whatever the input, as whoever, the call resolves or rejects with a
 * typed error.
 */
export async function assertTyped<T>(
  ctx: PropertyContext,
  input: fc.Arbitrary<T>,
  call: (tx: Tx, input: T) => Promise<unknown>,
  numRuns: number = RUNS.typed,
) {
  const seen = new Map<string, number>();
  await fc.assert(
    fc.asyncProperty(persona, mode, input, async (who, m, value) => {
      const outcome = await attempt(ctx.db(), who, m, (tx) => call(tx, value));
      count(seen, outcome);
      expectTyped(outcome);
    }),
    { seed: SEED, numRuns },
  );
  report("typed", seen);
}

/** Outcomes by kind (resolved, or error class and code); printed with PROPERTY_STATS=1 to see what the inputs reach. */
function count(seen: Map<string, number>, outcome: Outcome): void {
  const key = outcome.ok
    ? "resolved"
    : outcome.error instanceof DatabaseError
      ? `${outcome.error.name} ${outcome.error.code ?? "-"}`
      : `untyped ${describeError(outcome.error).slice(0, 60)}`;
  seen.set(key, (seen.get(key) ?? 0) + 1);
}

function report(rule: string, seen: Map<string, number>): void {
  if (!process.env.PROPERTY_STATS) return;
  const name = expect.getState().currentTestName ?? "";
  console.log(
    `${name.split(":")[0]} [${rule}] ${[...seen]
      .sort((a, b) => b[1] - a[1])
      .map(([k, n]) => `${k}: ${n}`)
      .join(", ")}`,
  );
}

/**
 * Rule 2: a rejected call writes nothing: every table (and the audit log) is
 * as it was, also when the unit commits after catching the rejection.
 */
export async function assertWritesNothing<T>(
  ctx: PropertyContext,
  input: fc.Arbitrary<T>,
  call: (tx: Tx, input: T) => Promise<unknown>,
  numRuns: number = RUNS.writes,
): Promise<Tally> {
  const snapshot = snapshotter(ctx.sql);
  const tally: Tally = { resolved: 0, refusedByInput: 0, refusedByDatabase: 0 };
  const seen = new Map<string, number>();
  await fc.assert(
    fc.asyncProperty(persona, mode, input, async (who, m, value) => {
      const before = await snapshot();
      const outcome = await attempt(ctx.db(), who, m, (tx) => call(tx, value));
      count(seen, outcome);
      if (outcome.ok) {
        tally.resolved++;
        return;
      }
      expectTyped(outcome);
      if ((outcome.error as DatabaseError).code === undefined) tally.refusedByInput++;
      else tally.refusedByDatabase++;
      expect(await snapshot()).toEqual(before);
    }),
    { seed: SEED, numRuns },
  );
  report("writes", seen);
  return tally;
}

export interface FunctionSpec<T> {
  /** The input: `valid` passes the layer's checks (the database decides), `near` is meant to be refused by them. */
  input: Field<T>;
  call: (tx: Tx, input: T) => Promise<unknown>;
  /** Check that rule 2 saw the database refuse some calls (not only zod). */
  expectDatabaseRefusals?: boolean;
}

export const contextOf = (suite: OrgDbSuite): PropertyContext => ({
  db: () => suite.db,
  sql: () => suite.test.sql,
});

/**
 * The two rules of SPEC §9 ("Bad input") for one exported function, as two
 * tests named after them. Rule 1 draws valid and invalid input about equally;
 * rule 2 mostly valid input, so that most refusals come from the database,
 * after the point where a write could have happened.
 */
export function propertiesOf<T>(suite: OrgDbSuite, name: string, spec: FunctionSpec<T>): void {
  const ctx = contextOf(suite);
  describe(name, () => {
    it(`${name}: any input, as any persona, resolves or rejects with a typed DatabaseError, never an untyped error`, async () => {
      await assertTyped(ctx, forRule1(spec.input), spec.call as (tx: Tx, input: unknown) => Promise<unknown>);
    });
    it(`${name}: a rejected call writes nothing, not even when the unit of work commits after it`, async () => {
      const tally = await assertWritesNothing(
        ctx,
        forRule2(spec.input),
        spec.call as (tx: Tx, input: unknown) => Promise<unknown>,
      );
      expect(tally.refusedByInput + tally.refusedByDatabase, "some calls were refused").toBeGreaterThan(0);
      if (spec.expectDatabaseRefusals)
        expect(tally.refusedByDatabase, "some calls were refused by the database").toBeGreaterThan(0);
    });
  });
}

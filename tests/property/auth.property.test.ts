/**
 * Bad input to who a unit of work runs as (SPEC §9): claimsFor, checkClaims
 * and verifyJwt (src/auth.ts), and createOrgDb(...).asUser / asJwt with
 * arbitrary user ids, claims and tokens. Each either accepts a user (a uuid
 * `sub` and the role authenticated or anon; for a token, only one signed with
 * the project's key) and then runs the unit as exactly that user, or refuses
 * with a typed error; a refused unit writes nothing.
 *
 * Tokens are built here, signed synchronously with node:crypto: HS256 with
 * the project's secret or another one, ES256 with the JWKS's key or another
 * one, `alg: none`, tampered payloads, and any JSON as header and claims.
 */
import { createHmac, generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import { sql } from "drizzle-orm";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkClaims, claimsFor, verifyJwt, type JwtOptions, type UserClaims } from "../../src/auth.ts";
import { createClient } from "../../src/clients.ts";
import { createOrgDb, type OrgDb, type Tx } from "../../src/db.ts";
import { DatabaseError, ForbiddenError, ValidationError } from "../../src/errors.ts";
import { guard } from "../../src/internal.ts";
import { useOrgDb } from "../support/orgdb.ts";
import { ORG, USER } from "../support/personas.ts";
import { any, anyValue, id, junk, nastyString, oddValue, unreadable, type Field } from "./arbitraries.ts";
import { attemptIn, mode, runs, RUNS, SEED, snapshotter, untyped, type Mode, type Outcome } from "./support.ts";

const SECRET = "property-suite-jwt-secret-with-at-least-32-characters";
const suite = useOrgDb({ max: 2, jwt: { secret: SECRET } });

const es256 = generateKeyPairSync("ec", { namedCurve: "P-256" });
const stranger = generateKeyPairSync("ec", { namedCurve: "P-256" });
const JWKS = { keys: [{ ...es256.publicKey.export({ format: "jwk" }), kid: "k1", alg: "ES256", use: "sig" }] };
let jwksDb: OrgDb;
beforeAll(() => {
  jwksDb = createOrgDb(suite.test.url, { max: 2, jwt: { jwks: JWKS } });
});
afterAll(() => jwksDb?.close());

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A user accepted as such: a uuid sub and a role that is not the service's. */
function expectUsable(claims: UserClaims): void {
  expect(claims.sub).toMatch(UUID);
  expect(["authenticated", "anon"]).toContain(claims.role);
}

// Claims ----------------------------------------------------------------------

const userId = id(Object.values(USER));
const claimRole: Field = {
  valid: fc.constantFrom("authenticated", "anon"),
  near: fc.oneof(
    fc.constantFrom("service_role", "postgres", "supabase_admin", "authenticator", "Authenticated", "anon ", ""),
    junk,
  ),
};
/**
 * Extra claims that JSON cannot carry or that serialize as something else
 * than what was checked: a BigInt, a cycle, a toJSON that names another user
 * or the service, a toJSON that throws.
 */
const cycle: Record<string, unknown> = {};
cycle.self = cycle;
const hostileExtra = fc.constantFrom<Record<string, unknown>>(
  { big: 10n },
  { nested: { deeper: [1n] } },
  { cycle },
  { toJSON: () => ({ sub: USER.alice, role: "authenticated" }) },
  { toJSON: () => ({ sub: USER.alice, role: "service_role" }) },
  {
    toJSON: () => {
      throw new Error("toJSON refuses");
    },
  },
  { app_metadata: { toJSON: () => 1n } },
  { toJSON: () => undefined },
);
const extraClaims = fc.oneof(
  { weight: 3, arbitrary: fc.constant({}) },
  {
    weight: 2,
    arbitrary: fc.dictionary(
      fc.oneof(fc.string(), fc.constantFrom("email", "aud", "exp", "app_metadata", "__proto__")),
      fc.jsonValue(),
      { maxKeys: 4 },
    ),
  },
  { weight: 2, arbitrary: fc.dictionary(fc.string(), anyValue, { maxKeys: 3 }) },
  { weight: 1, arbitrary: fc.record({ email: nastyString }) },
  { weight: 1, arbitrary: hostileExtra },
);
const claimsObject = fc
  .tuple(fc.record({ sub: any(userId, 4), role: any(claimRole, 4) }, { requiredKeys: [] }), extraClaims)
  .map(([core, extra]) => ({ ...extra, ...core }));
/** Who asUser is asked to run as: a user id (valid or not) or claims of any shape. */
const anyUser = fc.oneof(
  { weight: 2, arbitrary: any(userId, 2) },
  { weight: 3, arbitrary: claimsObject },
  { weight: 1, arbitrary: anyValue },
  { weight: 1, arbitrary: oddValue },
  { weight: 1, arbitrary: fc.constantFrom(...unreadable) },
);

describe("claimsFor", () => {
  it("claimsFor: any id and extra claims give a uuid user with the role authenticated or anon, or throw a ValidationError", () => {
    fc.assert(
      fc.property(any(userId, 1), fc.oneof(extraClaims, junk), (userIdInput, extra) => {
        let claims: UserClaims;
        try {
          claims = claimsFor(userIdInput as string, extra as never);
        } catch (error) {
          expect(error).toBeInstanceOf(ValidationError);
          return;
        }
        expectUsable(claims);
        expect(claims.sub).toBe(userIdInput);
        expect(checkClaims(claims)).toMatchObject({ sub: claims.sub, role: claims.role });
      }),
      { seed: SEED, numRuns: runs(300) },
    );
  });
});

describe("checkClaims", () => {
  it("checkClaims: any value is accepted only with a uuid sub and the role authenticated or anon, else a ValidationError", () => {
    fc.assert(
      fc.property(anyUser, (claims) => {
        let checked: UserClaims;
        try {
          checked = checkClaims(claims);
        } catch (error) {
          expect(error).toBeInstanceOf(ValidationError);
          return;
        }
        expectUsable(checked);
        expect(checked.sub).toBe((claims as UserClaims).sub);
        expect(checked.role).toBe((claims as UserClaims).role);
      }),
      { seed: SEED, numRuns: runs(300) },
    );
  });
});

// Units of work as a user -----------------------------------------------------

interface Seen {
  role: string;
  uid: string | null;
  claims: string | null;
}

/**
 * The unit: who it runs as (recorded in `seen`), then a write (a client in
 * Acme), which most users may not make. Returns what it saw.
 */
function whoamiThenWrite(seen: Seen[]) {
  return async (tx: Tx): Promise<Seen> => {
    // Typed like the layer's own queries (claims Postgres cannot read make auth.uid() fail).
    const [row] = await guard(() =>
      tx.execute<Seen & Record<string, unknown>>(
        sql`select current_user as role, auth.uid()::text as uid, current_setting('request.jwt.claims', true) as claims`,
      ),
    );
    const me = { role: row!.role, uid: row!.uid, claims: row!.claims };
    seen.push(me);
    await createClient(tx, { organizationId: ORG.acme, name: "Property Client" });
    return me;
  };
}

/** Run the unit as `user` with asUser, in mode `m`; what it saw, and how it ended. */
async function asUserRun(user: unknown, m: Mode): Promise<{ outcome: Outcome; seen: Seen[] }> {
  const seen: Seen[] = [];
  const outcome = await attemptIn(
    (work, options) => suite.db.asUser(user as never, work, options),
    m,
    whoamiThenWrite(seen),
  );
  return { outcome, seen };
}

/** Run the unit with asJwt on the database whose options verify with `keys`. */
async function asJwtRun(token: unknown, keys: "secret" | "jwks", m: Mode): Promise<{ outcome: Outcome; seen: Seen[] }> {
  const seen: Seen[] = [];
  const db = keys === "secret" ? suite.db : jwksDb;
  const outcome = await attemptIn(
    (work, options) => db.asJwt(token as string, work, options),
    m,
    whoamiThenWrite(seen),
  );
  return { outcome, seen };
}

/** What the database saw must be the user that was checked: same sub, same role, claims that say the same. */
function expectRanAs(seen: Seen, expected: UserClaims): void {
  expect(seen.role).toBe(expected.role);
  expect(seen.uid).toBe(expected.sub.toLowerCase());
  const claims = JSON.parse(seen.claims ?? "null") as Record<string, unknown>;
  expect(claims.sub).toBe(expected.sub);
  expect(claims.role).toBe(expected.role);
}

/**
 * The user asUser may run as, or null when it must refuse: claims that pass
 * the checks, and that JSON (what the database reads) carries unchanged, as
 * the same user and role.
 */
function expectedUser(user: unknown): UserClaims | null {
  try {
    const claims = typeof user === "string" ? claimsFor(user) : checkClaims(user);
    const sent = checkClaims(JSON.parse(JSON.stringify(claims)));
    return sent.sub === claims.sub && sent.role === claims.role ? sent : null;
  } catch {
    return null;
  }
}

function expectTypedUnit(outcome: Outcome): void {
  if (outcome.ok) return;
  expect(untyped(outcome.error), "the rejection").toBeNull();
  if (outcome.unitError !== undefined) expect(untyped(outcome.unitError), "the unit's rejection").toBeNull();
}

describe("asUser", () => {
  it("asUser: any user id or claims run the unit as exactly that user, or reject with a typed error", async () => {
    const ran = { yes: 0, no: 0 };
    await fc.assert(
      fc.asyncProperty(anyUser, mode, async (user, m) => {
        const { outcome, seen } = await asUserRun(user, m);
        ran[seen.length > 0 ? "yes" : "no"]++;
        expectTypedUnit(outcome);
        const expected = expectedUser(user);
        if (!expected) {
          // Refused before anything ran.
          expect(seen).toEqual([]);
          expect(outcome.ok).toBe(false);
          expect((outcome as { error: unknown }).error).toBeInstanceOf(ValidationError);
        }
        for (const s of seen) expectRanAs(s, expected!);
      }),
      { seed: SEED, numRuns: RUNS.typed },
    );
    expect(ran.yes, "units that ran").toBeGreaterThan(0);
    expect(ran.no, "units refused").toBeGreaterThan(0);
  });

  it("asUser: claims whose JSON (what the database reads) names another user or role are refused, never run as someone else", async () => {
    const otherRole = fc.constantFrom("authenticated", "anon", "service_role");
    await fc.assert(
      fc.asyncProperty(
        userId.valid,
        claimRole.valid,
        userId.valid,
        otherRole,
        mode,
        async (sub, role, otherSub, other, m) => {
          const claims = { sub, role, toJSON: () => ({ sub: otherSub, role: other }) };
          const { outcome, seen } = await asUserRun(claims, m);
          expectTypedUnit(outcome);
          for (const s of seen) expectRanAs(s, { sub, role } as UserClaims);
          if (sub !== otherSub || role !== other) {
            expect(seen).toEqual([]);
            expect((outcome as { error: unknown }).error).toBeInstanceOf(ValidationError);
          }
        },
      ),
      { seed: SEED, numRuns: RUNS.writes },
    );
  });

  it("asUser: a refused unit of work writes nothing", async () => {
    const snapshot = snapshotter(() => suite.test.sql);
    await fc.assert(
      fc.asyncProperty(anyUser, mode, async (user, m) => {
        const before = await snapshot();
        const { outcome } = await asUserRun(user, m);
        if (outcome.ok) return;
        expectTypedUnit(outcome);
        expect(await snapshot()).toEqual(before);
      }),
      { seed: SEED, numRuns: RUNS.writes },
    );
  });
});

// Tokens ----------------------------------------------------------------------

const b64 = (value: string | Buffer) => Buffer.from(value).toString("base64url");

type KeyChoice = "secret" | "other-secret" | "es256" | "other-es256" | "none" | "garbage";

interface TokenSpec {
  header: Record<string, unknown>;
  payload: unknown;
  key: KeyChoice;
  tamper: boolean;
}

function signToken(spec: TokenSpec): string {
  const head = b64(JSON.stringify(spec.header));
  const body = b64(JSON.stringify(spec.payload) ?? "");
  const input = `${head}.${body}`;
  const hmac = (secret: string) => createHmac("sha256", secret).update(input).digest();
  const ec = (key: KeyObject) => sign("sha256", Buffer.from(input), { key, dsaEncoding: "ieee-p1363" });
  const signature = {
    secret: () => hmac(SECRET),
    "other-secret": () => hmac(`${SECRET}!`),
    es256: () => ec(es256.privateKey),
    "other-es256": () => ec(stranger.privateKey),
    none: () => Buffer.alloc(0),
    garbage: () => Buffer.from("not a signature"),
  }[spec.key]();
  const token = `${input}.${b64(signature)}`;
  // Tampering: swap the payload after signing (another user, the service role).
  return spec.tamper
    ? `${head}.${b64(JSON.stringify({ ...(spec.payload as object), sub: USER.alice, role: "service_role" }))}.${b64(signature)}`
    : token;
}

const now = () => Math.floor(Date.now() / 1000);
/** Mostly `good`, else one of the bad values: each claim is right most of the time, so that some tokens verify. */
const mostly = <T>(good: fc.Arbitrary<T>, ...bad: fc.Arbitrary<unknown>[]) =>
  fc.oneof({ weight: 6, arbitrary: good }, ...bad.map((arbitrary) => ({ weight: 1, arbitrary })));
const payload = fc
  .tuple(
    fc.record(
      {
        sub: mostly(
          userId.valid,
          fc.jsonValue(),
          nastyString,
          userId.near.filter((v) => typeof v === "string"),
        ),
        role: mostly(claimRole.valid, fc.constantFrom("service_role", "postgres", "Authenticated", ""), fc.jsonValue()),
        aud: mostly(
          fc.constantFrom("authenticated", ["authenticated", "other"]),
          fc.constantFrom("anon", "other", ""),
          fc.jsonValue(),
        ),
        exp: mostly(
          fc.integer({ min: 60, max: 86_400 }).map((s) => now() + s),
          fc.integer({ min: 1, max: 10 ** 6 }).map((s) => now() - s),
          fc.jsonValue(),
        ),
        // nbf (not before) in the future refuses a token: absent most of the time.
        nbf: fc.oneof(
          { weight: 3, arbitrary: fc.constant(undefined) },
          { weight: 1, arbitrary: fc.integer({ min: 600, max: 86_400 }).map((s) => now() + s) },
          { weight: 1, arbitrary: fc.jsonValue() },
        ),
        iss: fc.oneof(fc.constant("https://example.supabase.co/auth/v1"), fc.jsonValue()),
        email: fc.oneof(fc.emailAddress(), nastyString),
      },
      { requiredKeys: ["sub", "role", "aud", "exp"] },
    ),
    fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 3 }),
  )
  .map(([claims, extra]) => {
    const { nbf, ...rest } = claims;
    return { ...extra, ...rest, ...(nbf === undefined ? {} : { nbf }) };
  });

/** The header that fits each key (a wrong one now and then: another algorithm, another kid, none). */
const HEADER: Record<KeyChoice, Record<string, unknown>> = {
  secret: { alg: "HS256", typ: "JWT" },
  "other-secret": { alg: "HS256", typ: "JWT" },
  es256: { alg: "ES256", kid: "k1" },
  "other-es256": { alg: "ES256", kid: "k1" },
  none: { alg: "none" },
  garbage: { alg: "HS256" },
};
const tokenSpec: fc.Arbitrary<TokenSpec> = fc
  .oneof(
    { weight: 4, arbitrary: fc.constantFrom<KeyChoice>("secret", "es256") },
    { weight: 1, arbitrary: fc.constantFrom<KeyChoice>("other-secret", "other-es256", "none", "garbage") },
  )
  .chain((key) =>
    fc.record({
      header: mostly(
        fc.constant(HEADER[key]),
        fc.constantFrom(
          { alg: "none" },
          { alg: "HS512" },
          { alg: "RS256", kid: "k1" },
          { alg: "ES256", kid: "other" },
          { alg: "HS256" },
          { alg: "ES256" },
          {},
        ),
        fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 3 }),
      ) as fc.Arbitrary<Record<string, unknown>>,
      payload: mostly(payload, fc.jsonValue()),
      key: fc.constant(key),
      tamper: mostly(fc.constant(false), fc.constant(true)) as fc.Arbitrary<boolean>,
    }),
  );

/** A token: a well-formed one (signed or not, as above), or any string or value at all. */
const anyToken = fc.oneof(
  { weight: 6, arbitrary: tokenSpec.map((spec) => ({ spec, token: signToken(spec) })) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.string(), fc.string(), fc.string())
      .map(([a, b, c]) => ({ spec: null, token: `${b64(a)}.${b64(b)}.${b64(c)}` as unknown })),
  },
  { weight: 1, arbitrary: fc.oneof(nastyString, anyValue, oddValue).map((token) => ({ spec: null, token })) },
);

/** Could this token be honoured: signed with the key the options name, untampered, not expired, not before its time, audience and claims right. */
function mayVerify(spec: TokenSpec | null, keys: "secret" | "jwks"): boolean {
  if (!spec || spec.tamper) return false;
  const alg = spec.header.alg;
  return keys === "secret" ? spec.key === "secret" && alg === "HS256" : spec.key === "es256" && alg === "ES256";
}

async function verifyOutcome(
  token: unknown,
  options: JwtOptions,
): Promise<{ ok: true; claims: UserClaims } | { ok: false; error: unknown }> {
  try {
    return { ok: true, claims: await verifyJwt(token as string, options) };
  } catch (error) {
    return { ok: false, error };
  }
}

function expectForbidden(error: unknown): void {
  expect(error, String(error)).toBeInstanceOf(ForbiddenError);
  expect((error as ForbiddenError).code).toBe("PGRST301");
}

describe("verifyJwt", () => {
  for (const [keys, options] of [
    ["secret", { secret: SECRET }],
    ["jwks", { jwks: JWKS }],
  ] as const) {
    it(`verifyJwt (${keys}): any token is accepted only when signed with the project's key and naming a user, else ForbiddenError`, async () => {
      const verified = { yes: 0, no: 0 };
      await fc.assert(
        fc.asyncProperty(anyToken, async ({ spec, token }) => {
          const outcome = await verifyOutcome(token, options);
          verified[outcome.ok ? "yes" : "no"]++;
          if (!outcome.ok) return expectForbidden(outcome.error);
          expect(mayVerify(spec, keys), "only a token signed with the project's key verifies").toBe(true);
          expectUsable(outcome.claims);
        }),
        { seed: SEED, numRuns: runs(200) },
      );
      expect(verified.yes, "tokens verified").toBeGreaterThan(0);
      expect(verified.no, "tokens refused").toBeGreaterThan(0);
    });
  }

  it("verifyJwt with options that are no object returns a promise that rejects with ValidationError; it never throws", async () => {
    for (const options of [undefined, null, "secret", 42]) {
      let promise: Promise<unknown> | undefined;
      expect(() => {
        promise = verifyJwt("a.b.c", options as unknown as JwtOptions);
      }).not.toThrow();
      await expect(promise).rejects.toBeInstanceOf(ValidationError);
    }
  });

  it("verifyJwt: any options (no secret, junk JWKS, odd issuer or audience) refuse with ForbiddenError, or as unusable options when they hold no secret, never an untyped error", async () => {
    // No remote JWKS: a string JWKS names a URL, fetched over the network; keep those unparseable.
    const jwks = fc.oneof(
      anyValue.filter((v) => typeof v !== "string" || !v.includes(":")),
      nastyString.map((s) => s.replaceAll(":", "")),
      fc.constant(JWKS),
      fc.constant({ keys: "nope" }),
    );
    const options = fc.oneof(
      {
        weight: 4,
        arbitrary: fc.record(
          { secret: fc.oneof(fc.constant(SECRET), junk), jwks, issuer: junk, audience: junk },
          { requiredKeys: [] },
        ),
      },
      {
        weight: 1,
        arbitrary: fc.oneof(anyValue, oddValue).filter((o) => {
          try {
            return typeof o !== "object" || o === null || !("jwks" in o);
          } catch {
            return true; // unreadable: verifyJwt cannot read a JWKS URL from it either
          }
        }),
      },
    );
    await fc.assert(
      fc.asyncProperty(anyToken, options, async ({ token }, opts) => {
        const outcome = await verifyOutcome(token, opts as JwtOptions);
        if (outcome.ok) return expectUsable(outcome.claims);
        if (outcome.error instanceof ForbiddenError) return expectForbidden(outcome.error);
        // Not the token's fault: options that are no object, or name no usable key (no secret to fall back on).
        expect(outcome.error, String(outcome.error)).toBeInstanceOf(DatabaseError);
        expect((outcome.error as DatabaseError).rule).toMatch(/^(jwt-not-configured|invalid-input)$/);
        let secret: unknown;
        try {
          secret = typeof opts === "object" && opts !== null ? (opts as { secret?: unknown }).secret : undefined;
        } catch {
          secret = undefined;
        }
        expect(typeof secret === "string" && secret !== "", "options with a secret verify with it").toBe(false);
      }),
      { seed: SEED, numRuns: runs(200) },
    );
  });
});

describe("asJwt", () => {
  it("asJwt: any token runs the unit as the token's user when it verifies, or rejects with a typed error", async () => {
    let ran = 0;
    await fc.assert(
      fc.asyncProperty(
        anyToken,
        fc.constantFrom("secret" as const, "jwks" as const),
        mode,
        async ({ spec, token }, keys, m) => {
          const { outcome, seen } = await asJwtRun(token, keys, m);
          if (seen.length > 0) ran++;
          expectTypedUnit(outcome);
          if (seen.length > 0)
            expect(mayVerify(spec, keys), "only a token signed with the project's key runs").toBe(true);
          for (const s of seen) expectRanAs(s, spec!.payload as UserClaims);
        },
      ),
      { seed: SEED, numRuns: RUNS.typed },
    );
    expect(ran, "units run as a token's user").toBeGreaterThan(0);
  });

  it("asJwt: a refused unit of work writes nothing", async () => {
    const snapshot = snapshotter(() => suite.test.sql);
    await fc.assert(
      fc.asyncProperty(
        anyToken,
        fc.constantFrom("secret" as const, "jwks" as const),
        mode,
        async ({ token }, keys, m) => {
          const before = await snapshot();
          const { outcome } = await asJwtRun(token, keys, m);
          if (outcome.ok) return;
          expectTypedUnit(outcome);
          expect(await snapshot()).toEqual(before);
        },
      ),
      { seed: SEED, numRuns: RUNS.writes },
    );
  });
});

/**
 * Inputs for the property suites: anything at all, and values that are
 * nearly valid (the kind that gets past a careless check): slugs with
 * uppercase or a leading '-', emails without '@', uuids that do not exist or
 * belong to another organization, NUL characters, unicode, very long strings,
 * numbers out of range, objects of the wrong shape.
 */
import fc from "fast-check";
import { clientStatus } from "../../src/schema/generated/schema.ts";
import { BUILT_IN_ROLE_KEYS, PERMISSIONS } from "../../src/schema/rules.ts";
import { client, ORG, USER } from "../support/personas.ts";

/** Seed invitations (supabase/seed.sql): pending for pat, expired for quinn. */
export const SEED_INVITATION = {
  pat: "30000000-0000-4000-8000-000000000001",
  quinn: "30000000-0000-4000-8000-000000000002",
} as const;
export const SEED_TOKEN = {
  pat: "demo-invitation-token-for-pat-0001",
  quinn: "demo-invitation-token-for-quinn-0002",
} as const;

/** fc.anything with every kind of value fast-check knows, unicode strings included. */
export const anyValue: fc.Arbitrary<unknown> = fc.anything({
  maxDepth: 3,
  maxKeys: 5,
  withBigInt: true,
  withBoxedValues: true,
  withDate: true,
  withMap: true,
  withSet: true,
  withNullPrototype: true,
  withObjectString: true,
  withSparseArray: true,
  withTypedArray: true,
  stringUnit: "binary",
});

/**
 * Objects that cannot be read: a getter that throws on every key an input
 * could have, and a Proxy that throws on any string key. Symbol keys behave,
 * so that fast-check can still clone and print them.
 */
export const unreadable: unknown[] = (() => {
  const getter: Record<string | symbol, unknown> = { [fc.toStringMethod]: () => "<an object whose getters throw>" };
  for (const key of [
    "organizationId",
    "userId",
    "clientId",
    "name",
    "slug",
    "email",
    "role",
    "roles",
    "permission",
    "sub",
    "newOwnerId",
    "limit",
  ]) {
    Object.defineProperty(getter, key, {
      enumerable: true,
      get() {
        throw new Error(`reading ${key} fails`);
      },
    });
  }
  const refuse = (key: string | symbol) => {
    if (typeof key === "string") throw new Error(`a proxy that refuses to be read (${key})`);
  };
  const behind: Record<string | symbol, unknown> = { [fc.toStringMethod]: () => "<a proxy that refuses to be read>" };
  const proxy = new Proxy(behind, {
    get(target, key) {
      refuse(key);
      return target[key];
    },
    has(target, key) {
      refuse(key);
      return key in target;
    },
    getOwnPropertyDescriptor(target, key) {
      refuse(key);
      return Reflect.getOwnPropertyDescriptor(target, key);
    },
  });
  return [getter, proxy];
})();

/** Values no schema expects, picked by hand. */
export const oddValue: fc.Arbitrary<unknown> = fc.constantFrom<unknown>(
  ...unreadable,
  undefined,
  null,
  0,
  -0,
  NaN,
  Infinity,
  -Infinity,
  Number.MAX_SAFE_INTEGER + 2,
  1e308,
  true,
  false,
  "",
  [],
  {},
  Object.create(null),
  10n,
  Symbol("s"),
  () => "f",
  new Date(Number.NaN),
  new Date(0),
  new Map([["a", 1]]),
  new Uint8Array([0, 1, 2]),
  new String("boxed"),
  /regex/,
  new Error("an error as input"),
  Promise.resolve(1),
);

/** Long strings: a few characters repeated up to 100,000 times. */
export const longString: fc.Arbitrary<string> = fc
  .tuple(fc.string({ minLength: 1, maxLength: 4, unit: "binary" }), fc.integer({ min: 60, max: 100_000 }))
  .map(([s, n]) => s.repeat(Math.ceil(n / s.length)).slice(0, n));

/** Strings that break things: NUL, unicode, lone surrogates, whitespace, SQL and LIKE metacharacters. */
export const nastyString: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: "binary" }),
  fc.string({ unit: "grapheme" }),
  fc.string({ unit: "binary-ascii", maxLength: 40 }),
  fc.tuple(fc.string(), fc.string()).map(([a, b]) => `${a}\u0000${b}`),
  fc.constantFrom(
    "",
    " ",
    "\u0000",
    "\t\n\r",
    "\u00a0\u2028\ufeff",
    "null",
    "undefined",
    "NaN",
    "x'); drop table public.clients; --",
    "%",
    "_",
    "\\",
    "\\%_",
    "\ud800",
    "\udfff",
    "\uffff",
    "🏢🚀",
    "ａｃｍｅ",
    "straße",
    "İ",
    "e\u0301",
    "\u202eevil",
    "{}",
    "[]",
  ),
  longString,
);

/** Any string or any value. */
export const junk: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: nastyString },
  { weight: 2, arbitrary: anyValue },
  { weight: 1, arbitrary: oddValue },
);

// Fields ----------------------------------------------------------------------

/**
 * What a field may hold: `valid` passes the layer's input checks (zod) but
 * may still break a database rule (another organization's id, an id that
 * exists nowhere, a taken slug, a role above the caller's); `near` are near
 * misses and junk, meant to be refused by the checks (a few may pass them,
 * which is fine: the rules hold for any input).
 */
export interface Field<T = unknown> {
  valid: fc.Arbitrary<T>;
  near: fc.Arbitrary<unknown>;
}

/** Either kind of value of a field, valid `validWeight` times out of `validWeight + 1`. */
export const any = (f: Field, validWeight = 2): fc.Arbitrary<unknown> =>
  fc.oneof({ weight: validWeight, arbitrary: f.valid }, { weight: 1, arbitrary: f.near });

// Ids -------------------------------------------------------------------------

export const orgIds = Object.values(ORG);
export const userIds = Object.values(USER);
export const clientIds = [
  client(1, 1),
  client(1, 5),
  client(1, 10),
  client(1, 20),
  client(1, 25),
  client(2, 1),
  client(2, 10),
  client(3, 1),
  client(3, 15),
];
export const invitationIds: string[] = Object.values(SEED_INVITATION);
export const seedIds = [...orgIds, ...userIds, ...clientIds, ...invitationIds];

/** A uuid spelled wrongly: braces, padding, no dashes, truncated, extended, a NUL, a urn prefix, a non-hex digit. */
const misspelledUuid = (u: string) =>
  fc.constantFrom(
    `{${u}}`,
    ` ${u}`,
    `${u}\n`,
    u.replaceAll("-", ""),
    u.slice(0, 35),
    `${u}0`,
    `${u}\u0000`,
    `urn:uuid:${u}`,
    u.replace(/[0-9]/, "g"),
  );

/**
 * Ids: valid ones are mostly the given ids (for most personas, those of
 * another organization or of a row they cannot see), then random uuids that
 * exist nowhere, the nil and max uuids, and the given ids in upper case
 * (valid for zod and Postgres); near misses are misspelled uuids, uuids of
 * versions zod refuses, and junk.
 */
export const id = (ids: readonly string[] | (() => readonly string[]) = seedIds): Field<string> => {
  const pick =
    typeof ids === "function" ? (i: number) => ids()[i % ids().length]! : (i: number) => ids[i % ids.length]!;
  const known = fc.nat().map(pick);
  return {
    valid: fc.oneof(
      { weight: 8, arbitrary: known },
      { weight: 3, arbitrary: fc.uuid({ version: [1, 2, 3, 4, 5, 6, 7, 8] }) },
      {
        weight: 1,
        arbitrary: fc.constantFrom("00000000-0000-0000-0000-000000000000", "ffffffff-ffff-ffff-ffff-ffffffffffff"),
      },
      { weight: 1, arbitrary: known.map((u) => u.toUpperCase()) },
    ),
    near: fc.oneof(
      { weight: 3, arbitrary: known.chain(misspelledUuid) },
      {
        weight: 1,
        arbitrary: fc.uuid({ version: [9, 10, 11, 12, 13, 14, 15] }),
      },
      { weight: 3, arbitrary: junk },
    ),
  };
};

// Text ------------------------------------------------------------------------

const lower = "abcdefghijklmnopqrstuvwxyz0123456789";
const shortSlug = fc.stringMatching(/^[a-z0-9][a-z0-9-]{1,20}[a-z0-9]$/);

/** Slugs: valid ones and the seed's (taken); near misses of every rule. */
export const slug: Field<string> = {
  valid: fc.oneof(
    {
      weight: 3,
      arbitrary: fc.stringMatching(/^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/),
    },
    { weight: 1, arbitrary: fc.constantFrom("acme", "globex", "initech") },
  ),
  near: fc.oneof(
    shortSlug.map((s) => s.toUpperCase()),
    shortSlug.map((s) => `-${s}`),
    shortSlug.map((s) => `${s}-`),
    shortSlug.map((s) => ` ${s} `),
    shortSlug.map((s) => `${s}\u0000`),
    fc.string({
      unit: fc.constantFrom(...lower),
      minLength: 64,
      maxLength: 70,
    }),
    fc.string({ unit: fc.constantFrom(...lower), maxLength: 2 }),
    fc.constantFrom(
      "ac",
      "a-",
      "-a-",
      "ab_c",
      "a b",
      "café",
      "acme\n",
      "ACME",
      "Acme",
      "acme.",
      "ａｃｍｅ",
      "ac\u0000me",
    ),
    junk,
  ),
};

/** A UTF-16 surrogate on its own: no character, refused where text is written (postgres.js would send U+FFFD). */
const LONE_SURROGATE = /\p{Surrogate}/u;

/** Names (trimmed, 1..max characters, no NUL, no lone surrogate). */
export const name = (max: number): Field<string> => ({
  valid: fc
    .oneof(
      fc.string({ minLength: 1, maxLength: max, unit: "grapheme" }),
      fc.string({ minLength: 1, maxLength: max, unit: "binary" }),
      fc.constantFrom("Acme Corporation", "  padded  ", "x'); drop table public.clients; --", "🏢", "\u202eevil"),
    )
    .filter((s) => {
      const t = s.trim();
      return t.length >= 1 && t.length <= max && !s.includes("\u0000") && !LONE_SURROGATE.test(s);
    }),
  near: fc.oneof(
    fc.string({
      unit: fc.constantFrom(...lower),
      minLength: max + 1,
      maxLength: max + 3,
    }),
    fc.constantFrom("", "   ", "\t", "\u00a0", "a\u0000b", "Acme \ud800 Ltd"),
    junk,
  ),
});

/** Emails: random valid ones and the personas' (members already, or with a pending invitation); near misses. */
export const email: Field<string> = {
  valid: fc.oneof(
    { weight: 2, arbitrary: fc.emailAddress() },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        "alice@acme.example",
        "DAVE@ACME.EXAMPLE",
        " nora@example.com ",
        "nora@example.com",
        "pat@example.com",
        "quinn@example.com",
        "mallory@example.com",
        "heidi@globex.example",
        "a@b.co",
      ),
    },
  ),
  near: fc.oneof(
    fc.emailAddress().map((e) => e.replace("@", "")),
    fc.emailAddress().map((e) => e.replace("@", "@@")),
    fc.emailAddress().map((e) => e.replace("@", " @ ")),
    fc.emailAddress().map((e) => `${e}\u0000`),
    fc.emailAddress().map((e) => `${"x".repeat(320)}${e}`),
    fc.emailAddress().map((e) => e.split(".")[0]!),
    fc.constantFrom("a@b", "@example.com", "user@", "user@.", "ü@exämple", "a\u2028@b.co", "a@b.c\u0000"),
    junk,
  ),
};

export const phone: Field<string | null> = {
  valid: fc.oneof(fc.stringMatching(/^\+?[0-9 ().-]{3,32}$/), fc.constantFrom("+1 555 0100", "(0) 123 45 67", null)),
  near: fc.oneof(fc.constantFrom("12", "+" + "1".repeat(33), "555-CALL", "+1\u00005550100", "１２３４５"), junk),
};

/** Role keys; and role lists (1 to 5 keys, duplicates allowed). */
export const role: Field<string> = {
  valid: fc.constantFrom(...BUILT_IN_ROLE_KEYS),
  near: fc.oneof(
    fc.constantFrom("Owner", "ADMIN", " member", "superuser", "service_role", "authenticated", "", "owner\u0000"),
    junk,
  ),
};
export const roles: Field<string[]> = {
  valid: fc.array(role.valid, { minLength: 1, maxLength: 5 }),
  near: fc.oneof(
    fc.constant([]),
    fc.array(role.valid, { minLength: 6, maxLength: 8 }),
    fc.array(any(role, 4), { minLength: 1, maxLength: 5 }),
    junk,
  ),
};

export const permission: Field<string> = {
  valid: fc.constantFrom(...PERMISSIONS),
  near: fc.oneof(
    fc.constantFrom("clients.*", "Clients.Read", "clients.read ", "members", "admin", "", "audit.read\u0000"),
    junk,
  ),
};

export const status: Field<string> = {
  valid: fc.constantFrom(...clientStatus.enumValues),
  near: fc.oneof(fc.constantFrom("Active", "deleted", "LEAD", " lead", ""), junk),
};

/** Free text of at most `max` characters (notes, search prefixes). */
export const text = (min: number, max: number): Field<string> => ({
  valid: fc
    .oneof(nastyString, fc.constantFrom("%", "_", "\\", "Nor", "north", "contoso 1-"))
    .filter(
      (s) => s.trim().length >= min && s.trim().length <= max && !s.includes("\u0000") && !LONE_SURROGATE.test(s),
    ),
  near: fc.oneof(
    fc.string({
      unit: fc.constantFrom(...lower),
      minLength: max + 1,
      maxLength: max + 2,
    }),
    fc.constant("a\u0000"),
    junk,
  ),
});

/** Bounded integers (page sizes, hours): in range; or out of range, not integers, not numbers. */
export const count = (min: number, max: number): Field<number> => ({
  valid: fc.oneof(fc.integer({ min, max }), fc.constantFrom(min, max)),
  near: fc.oneof(
    fc.constantFrom(
      min - 1,
      max + 1,
      0,
      -1,
      2 ** 31,
      -(2 ** 31) - 1,
      Number.MAX_SAFE_INTEGER,
      0.5,
      NaN,
      Infinity,
      String(min),
    ),
    fc.double(),
    junk,
  ),
});

// Shapes ----------------------------------------------------------------------

export type Fields = Record<string, Field>;

/**
 * Object inputs with these fields: `valid` has every field valid (all
 * present, or optional ones left out); `near` draws each field valid most of
 * the time, else a near miss, undefined or null, or leaves it out, and
 * sometimes adds extra keys (even `__proto__` and `constructor`).
 */
export function shape(fields: Fields, optional: readonly string[] = []): Field<Record<string, unknown>> {
  const keys = Object.keys(fields);
  const valid = fc.record(Object.fromEntries(keys.map((k) => [k, fields[k]!.valid])), {
    requiredKeys: keys.filter((k) => !optional.includes(k)),
  }) as fc.Arbitrary<Record<string, unknown>>;
  const field = (f: Field) =>
    fc.oneof(
      { weight: 6, arbitrary: f.valid },
      { weight: 2, arbitrary: f.near },
      { weight: 1, arbitrary: fc.constantFrom(undefined, null) },
    );
  const near = fc
    .tuple(
      fc.record(Object.fromEntries(keys.map((k) => [k, field(fields[k]!)]))),
      fc.oneof({ weight: 4, arbitrary: fc.constant<string[]>([]) }, { weight: 1, arbitrary: fc.subarray(keys) }),
      fc.oneof(
        { weight: 4, arbitrary: fc.constant({}) },
        {
          weight: 1,
          arbitrary: fc.dictionary(
            fc.oneof(fc.string(), fc.constantFrom("__proto__", "constructor", "toString", "id")),
            anyValue,
            { maxKeys: 3 },
          ),
        },
      ),
    )
    .map(([record, drop, extra]) => {
      const value: Record<string, unknown> = { ...extra };
      for (const k of keys) if (!drop.includes(k)) value[k] = record[k];
      return value;
    });
  return {
    valid,
    near: fc.oneof(
      { weight: 4, arbitrary: near },
      { weight: 1, arbitrary: anyValue },
      { weight: 1, arbitrary: oddValue },
      { weight: 1, arbitrary: fc.constantFrom(...unreadable) },
    ),
  };
}

/** Positional arguments: all valid, or each of either kind. */
export function args(...fields: Field[]): Field<unknown[]> {
  return {
    valid: fc.tuple(...fields.map((f) => f.valid)),
    near: fc.tuple(...fields.map((f) => any(f, 1))),
  };
}

/** Inputs for rule 1 (anything, valid about half the time) and rule 2 (mostly valid, so that the database decides). */
export const forRule1 = (f: Field): fc.Arbitrary<unknown> => any(f, 1);
export const forRule2 = (f: Field): fc.Arbitrary<unknown> => any(f, 6);

/**
 * An input object with `key` set to `value` and the rest of `rest`, built
 * without reading `rest` (it is the prototype): an input whose getters throw
 * must throw inside the layer, not here. A `rest` that is no object is the
 * input itself (the layer must refuse it).
 */
export function withKey(key: string, value: unknown, rest: unknown): unknown {
  if ((typeof rest !== "object" && typeof rest !== "function") || rest === null) return rest;
  return Object.create(rest, { [key]: { value, enumerable: true } });
}

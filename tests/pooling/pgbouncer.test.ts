/**
 * Through a real PgBouncer in transaction mode (and in session mode, and
 * directly), 8 concurrent connections run 2,000 as-user units of work for
 * randomly chosen users (fixed seed). Every result is checked against the
 * visibility computed independently as the service, and after every unit the
 * pooled connections read as before any unit (tests/support/session-state.ts:
 * role, claims, auth.uid(), role settings): no role or claim survives a
 * transaction, so nobody sees another user's rows.
 */
import { sql } from "drizzle-orm";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadDataset } from "../../tooling/bench/dataset.ts";
import { connect } from "../../tooling/server/sql.ts";
import { createOrgDb } from "../../src/db.ts";
import { clients } from "../../src/schema/index.ts";
import { useTestDatabase } from "../support/database.ts";
import { startPgBouncer, type Bouncer } from "../support/pgbouncer.ts";
import { readableClients, type Visibility } from "../support/visibility.ts";
import { sessionState } from "../support/session-state.ts";

const test = useTestDatabase();
const UNITS = 2000;
const WORKERS = 8;

/** user id -> organization id -> visible client ids, computed without RLS or the policy helpers. */
let visibility: Visibility;
let users: string[];
let organizations: string[];

/** A small deterministic PRNG (mulberry32). */
function prng(seed: number) {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

beforeAll(async () => {
  const admin = connect(test.url, { max: 1 });
  try {
    await loadDataset(test.url, { organizations: 30, users: 300, clients: 3000 });
    visibility = await readableClients(admin);
    users = (await admin<{ id: string }[]>`select id from public.users order by id`).map((r) => r.id);
    organizations = (await admin<{ id: string }[]>`select id from public.organizations order by id`).map((r) => r.id);
  } finally {
    await admin.end();
  }
});

async function drive(url: string, prepare: boolean, seed: number) {
  const db = createOrgDb(url, { max: WORKERS, prepare });
  const random = prng(seed);
  const plan = Array.from({ length: UNITS }, () => ({
    user: users[Math.floor(random() * users.length)]!,
    org: organizations[Math.floor(random() * organizations.length)]!,
  }));
  // Before any unit ran: the login role's own state, which every connection must show again after a unit.
  const clean = await sessionState(db.unsafeLoginSql);
  expect(clean).toMatchObject({ current_user: "postgres", role: "none", "auth.uid()": "", "request.jwt.claims": "" });
  let next = 0;
  const wrong: string[] = [];
  const leaks: string[] = [];
  let rowsSeen = 0;
  const worker = async () => {
    while (next < plan.length) {
      const unit = next;
      const { user, org } = plan[next++]!;
      // Every other unit returns its one query unawaited: BEGIN, claims, query and COMMIT in one round trip.
      const result =
        unit % 2 === 0
          ? await db.asUser(user, async (tx) => {
              const [who] = await tx.execute<{ role: string; uid: string }>(
                sql`select current_user as role, auth.uid()::text as uid`,
              );
              const ids = await tx.select({ id: clients.id }).from(clients).where(eq(clients.organizationId, org));
              return { who, ids: ids.map((r) => r.id) };
            })
          : await db
              .asUser(user, (tx) =>
                tx.execute<{ role: string; uid: string; ids: string[] }>(
                  sql`select current_user as role, auth.uid()::text as uid,
                             array(select id from public.clients where organization_id = ${org})::text[] as ids`,
                ),
              )
              .then(([row]) => ({ who: row, ids: row?.ids ?? [] }));
      if (result.who?.role !== "authenticated" || result.who.uid !== user)
        wrong.push(`${user}: ran as ${JSON.stringify(result.who)}`);
      const expected = visibility.get(user)?.get(org) ?? new Set<string>();
      const got = new Set(result.ids);
      rowsSeen += got.size;
      if (got.size !== expected.size || [...got].some((id) => !expected.has(id))) {
        wrong.push(`${user} in ${org}: saw ${got.size} rows, expected ${expected.size}`);
      }
      // Outside any transaction: whatever server connection answers must read as one that never ran a unit.
      const state = await sessionState(db.unsafeLoginSql);
      if (JSON.stringify(state) !== JSON.stringify(clean)) leaks.push(JSON.stringify(state));
    }
  };
  try {
    await Promise.all(Array.from({ length: WORKERS }, worker));
  } finally {
    await db.close();
  }
  return { wrong, leaks, rowsSeen };
}

describe.each([
  { mode: "transaction" as const, prepare: false },
  { mode: "session" as const, prepare: true },
  { mode: "direct" as const, prepare: true },
])("as-user units through $mode", ({ mode, prepare }) => {
  let bouncer: Bouncer | null = null;
  beforeAll(async () => {
    if (mode !== "direct") bouncer = await startPgBouncer(test.url, mode, 4);
  });
  afterAll(() => bouncer?.stop());

  it(`${UNITS} units on ${WORKERS} connections for random users (half of them one round trip) see exactly their rows, and leave no role or claim behind`, async () => {
    const { wrong, leaks, rowsSeen } = await drive(bouncer?.url ?? test.url, prepare, 20261125);
    expect(wrong).toEqual([]);
    expect(leaks).toEqual([]);
    expect(rowsSeen).toBeGreaterThan(0);
  });
});

describe("the leak check can fail", () => {
  it.each([
    ["the claims", "request.jwt.claims", '{"sub":"00000000-0000-4000-a000-00000000dead"}', "request.jwt.claims"],
    [
      "the legacy subject claim (auth.uid() reads it first)",
      "request.jwt.claim.sub",
      "00000000-0000-4000-a000-00000000dead",
      "auth.uid()",
    ],
    ["a role setting", "statement_timeout", "7777", "statement_timeout"],
  ])(
    "%s set at session level through a transaction-mode pooler reaches other clients, and the check sees it",
    async (_, name, value, shows) => {
      const bouncer = await startPgBouncer(test.url, "transaction", 2);
      const db = createOrgDb(bouncer.url, { max: 4, prepare: false });
      try {
        const clean = await sessionState(db.unsafeLoginSql);
        await db.unsafeLoginSql`select set_config(${name}, ${value}, false)`;
        const seen = await Promise.all(Array.from({ length: 20 }, () => sessionState(db.unsafeLoginSql)));
        const leaked = seen.filter((state) => JSON.stringify(state) !== JSON.stringify(clean));
        expect(leaked.length).toBeGreaterThan(0);
        expect(leaked[0]![shows]).not.toBe(clean[shows]);
      } finally {
        await db.close();
        await bouncer.stop();
      }
    },
  );
});

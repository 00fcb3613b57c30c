/**
 * Invariant: every organization keeps at least one owner after every commit,
 * also when removals, demotions and ownership transfers race. Each round sets
 * up an organization with two owners, then runs two conflicting requests on
 * separate connections that both change owners before either commits.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOrgDb, DatabaseError, type OrgDb, type Tx } from "../../src/index.ts";
import * as members from "../../src/members.ts";
import { sql } from "drizzle-orm";
import { useTestDatabase } from "../support/database.ts";

const test = useTestDatabase();
let db: OrgDb;

beforeAll(() => {
  db = createOrgDb(test.url, { max: 8 });
});
afterAll(() => db.close());

/** An organization whose two owners are new users; returns ids. */
async function twoOwners(round: number) {
  const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()];
  await test.sql`insert into auth.users (id, email) values (${a}, ${`a${round}@race.example`}), (${b}, ${`b${round}@race.example`}), (${c}, ${`c${round}@race.example`})`;
  const org = randomUUID();
  await test.sql.begin(async (tx) => {
    await tx`insert into public.organizations (id, name, slug) values (${org}, ${`Race ${round}`}, ${`race-${round}`})`;
    await tx`insert into public.organization_users (organization_id, user_id) values (${org}, ${a}), (${org}, ${b}), (${org}, ${c})`;
    await tx`insert into public.user_roles (organization_id, user_id, role_id)
             select ${org}::uuid, u, r.id from unnest(${[a, b]}::uuid[]) u, public.roles r where r.key = 'owner'`;
    await tx`insert into public.user_roles (organization_id, user_id, role_id)
             select ${org}::uuid, ${c}::uuid, r.id from public.roles r where r.key = 'member'`;
  });
  return { org, a, b, c };
}

async function owners(org: string): Promise<number> {
  const [row] = await test.sql<{ n: number }[]>`
    select count(*)::int as n from public.user_roles ur join public.roles r on r.id = ur.role_id
    where ur.organization_id = ${org} and r.key = 'owner'`;
  return row!.n;
}

/** Change owners, then hold the transaction open so the other request overlaps it. */
const slow = (work: (tx: Tx) => Promise<void>) => async (tx: Tx) => {
  await work(tx);
  await tx.execute(sql`select pg_sleep(0.03)`);
};

type Op = (ids: Awaited<ReturnType<typeof twoOwners>>) => [string, (tx: Tx) => Promise<void>];
const OPS: Record<string, Op> = {
  "remove the other owner": ({ org, a, b }) => [
    a,
    slow((tx) => members.removeMember(tx, { organizationId: org, userId: b })),
  ],
  leave: ({ org, a }) => [a, slow((tx) => members.leaveOrganization(tx, { organizationId: org }))],
  "demote the other owner": ({ org, a, b }) => [
    a,
    slow((tx) => members.setMemberRoles(tx, { organizationId: org, userId: b, roles: ["admin"] })),
  ],
  "transfer to the member": ({ org, a, c }) => [
    a,
    slow((tx) => members.transferOwnership(tx, { organizationId: org, newOwnerId: c })),
  ],
};

/** Mirror an operation so that it is performed by owner b against owner a. */
const mirrored =
  (op: Op): Op =>
  (ids) =>
    op({ ...ids, a: ids.b, b: ids.a });

describe("racing owner changes", () => {
  const names = Object.keys(OPS);
  const pairs = names.flatMap((x) => names.map((y) => [x, y] as const));
  const rounds = Array.from({ length: 64 }, (_, i) => pairs[i % pairs.length]!);

  it(`${rounds.length} rounds of two racing owner changes never leave an organization without an owner`, async () => {
    let refused = 0;
    for (const [i, [first, second]] of rounds.entries()) {
      const ids = await twoOwners(i);
      const [u1, w1] = OPS[first]!(ids);
      const [u2, w2] = mirrored(OPS[second]!)(ids);
      const results = await Promise.allSettled([db.asUser(u1, w1), db.asUser(u2, w2)]);
      for (const r of results) {
        if (r.status === "rejected") {
          refused++;
          expect(r.reason, `round ${i} (${first} / ${second})`).toBeInstanceOf(DatabaseError);
        }
      }
      expect(await owners(ids.org), `round ${i}: ${first} / ${second}`).toBeGreaterThanOrEqual(1);
    }
    // The races were real: some requests had to be refused to keep an owner.
    expect(refused).toBeGreaterThan(0);
  });
});

/**
 * Role changes are serialized per organization and each re-checks the
 * caller's rights once it holds the organization's lock, so two changes that
 * race end as some serial order of them would:
 *
 * - two admins demote each other: one wins, the other (no longer an admin
 *   once the first committed) is refused; members.manage is never lost by both;
 * - with three owners, r1 demotes r2 while r2 demotes r1: one wins, the other
 *   (no longer an owner) is refused.
 *
 * Each round holds the first change's transaction open for a moment, so the
 * second call overlaps it.
 */
import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOrgDb, ForbiddenError, type OrgDb, type Tx } from "../../src/index.ts";
import * as members from "../../src/members.ts";
import { useTestDatabase } from "../support/database.ts";

const test = useTestDatabase();
let db: OrgDb;

beforeAll(() => {
  db = createOrgDb(test.url, { max: 8 });
});
afterAll(() => db.close());

/** A new organization whose members hold the given roles; returns its id and the members' ids. */
async function organization(label: string, roles: string[][]) {
  const users = roles.map(() => randomUUID());
  const org = randomUUID();
  await test.sql`insert into auth.users (id, email) select u, u::text || '@race.example' from unnest(${users}::uuid[]) u`;
  await test.sql.begin(async (tx) => {
    await tx`insert into public.organizations (id, name, slug) values (${org}, ${label}, ${label})`;
    await tx`insert into public.organization_users (organization_id, user_id) select ${org}::uuid, u from unnest(${users}::uuid[]) u`;
    for (const [i, keys] of roles.entries()) {
      await tx`insert into public.user_roles (organization_id, user_id, role_id)
               select ${org}::uuid, ${users[i]!}::uuid, r.id from public.roles r where r.key = any (${keys}::text[])`;
    }
  });
  return { org, users };
}

async function rolesOf(org: string, user: string): Promise<string[]> {
  const rows = await test.sql<{ key: string }[]>`
    select r.key from public.user_roles ur join public.roles r on r.id = ur.role_id
    where ur.organization_id = ${org} and ur.user_id = ${user} order by r.rank desc`;
  return rows.map((r) => r.key);
}

type Roles = Parameters<typeof members.setMemberRoles>[1]["roles"];

/** Change roles, then hold the transaction open so that the other call overlaps it. */
const demote = (org: string, user: string, roles: Roles) => async (tx: Tx) => {
  await members.setMemberRoles(tx, { organizationId: org, userId: user, roles });
  await tx.execute(sql`select pg_sleep(0.05)`);
};

/** Both calls at once; returns which of them succeeded. */
async function race(org: string, a: string, b: string, roles: Roles) {
  const results = await Promise.allSettled([db.asUser(a, demote(org, b, roles)), db.asUser(b, demote(org, a, roles))]);
  for (const r of results) if (r.status === "rejected") expect(r.reason).toBeInstanceOf(ForbiddenError);
  return results.map((r) => r.status === "fulfilled");
}

const ROUNDS = 12;

describe("racing role changes end as a serial order would", () => {
  it(`${ROUNDS} rounds: two admins demoting each other, exactly one wins and the other keeps members.manage`, async () => {
    for (let i = 0; i < ROUNDS; i++) {
      const { org, users } = await organization(`admins-${i}-${randomUUID().slice(0, 8)}`, [
        ["owner"],
        ["admin"],
        ["admin"],
      ]);
      const [, a, b] = users as [string, string, string];
      const won = await race(org, a, b, ["member"]);
      expect(won.filter(Boolean), `round ${i}: ${JSON.stringify(won)}`).toHaveLength(1);
      const winner = won[0] ? a : b;
      const loser = won[0] ? b : a;
      expect(await rolesOf(org, winner)).toEqual(["admin"]);
      expect(await rolesOf(org, loser)).toEqual(["member"]);
    }
  });

  it(`${ROUNDS} rounds: with a third owner, r1 and r2 demoting each other, exactly one wins and the other stays owner`, async () => {
    for (let i = 0; i < ROUNDS; i++) {
      const { org, users } = await organization(`owners-${i}-${randomUUID().slice(0, 8)}`, [
        ["owner"],
        ["owner"],
        ["owner"],
      ]);
      const [r1, r2, r3] = users as [string, string, string];
      const won = await race(org, r1, r2, ["admin"]);
      expect(won.filter(Boolean), `round ${i}: ${JSON.stringify(won)}`).toHaveLength(1);
      const winner = won[0] ? r1 : r2;
      const loser = won[0] ? r2 : r1;
      expect(await rolesOf(org, winner)).toEqual(["owner"]);
      expect(await rolesOf(org, loser)).toEqual(["admin"]);
      expect(await rolesOf(org, r3)).toEqual(["owner"]);
    }
  });
});

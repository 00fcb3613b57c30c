/**
 * Organization-defined roles under concurrency:
 *
 * - a role's permissions change while a holder writes: each of the holder's
 *   statements runs with the permissions committed when it starts (nothing is
 *   cached beyond one statement), so the update before the change lands and the
 *   one after it, in the same transaction, is refused;
 * - a role is deleted while an admin assigns it: the two serialize on the
 *   organization's lock and end as one of the serial orders would (the
 *   deletion first: the assignment finds no such role; the assignment first:
 *   the deletion is refused, the role being in use), never a member holding a
 *   deleted role.
 */
import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOrgDb, ForbiddenError, InvariantError, type OrgDb, ValidationError } from "../../src/index.ts";
import * as clients from "../../src/clients.ts";
import * as members from "../../src/members.ts";
import { useTestDatabase } from "../support/database.ts";

const test = useTestDatabase();
let db: OrgDb;

beforeAll(() => {
  db = createOrgDb(test.url, { max: 8 });
});
afterAll(() => db.close());

/** A new organization with an owner, an admin and a plain member (no role); returns the ids and one client's. */
async function organization(label: string) {
  const [owner, admin, holder] = [randomUUID(), randomUUID(), randomUUID()];
  const org = randomUUID();
  const users = [owner, admin, holder];
  await test.sql`insert into auth.users (id, email) select u, u::text || '@roles-race.example' from unnest(${users}::uuid[]) u`;
  const client = await test.sql.begin(async (tx) => {
    await tx`insert into public.organizations (id, name, slug) values (${org}, ${label}, ${label})`;
    await tx`insert into public.organization_users (organization_id, user_id) select ${org}::uuid, u from unnest(${users}::uuid[]) u`;
    await tx`insert into public.user_roles (organization_id, user_id, role_id)
             select ${org}::uuid, v.u, r.id from (values (${owner}::uuid, 'owner'), (${admin}::uuid, 'admin')) v (u, k)
             join public.roles r on r.key = v.k and r.organization_id is null`;
    const [row] = await tx<
      { id: string }[]
    >`insert into public.clients (organization_id, name) values (${org}, 'Racing client') returning id`;
    return row!.id;
  });
  return { org, owner, admin, holder, client };
}

const ROUNDS = 8;

describe("organization-defined roles under concurrency", () => {
  it(`${ROUNDS} rounds: a role loses clients.update while its holder writes; the holder's next statement is refused`, async () => {
    for (let i = 0; i < ROUNDS; i++) {
      const { org, owner, admin, holder, client } = await organization(`perm-race-${i}-${randomUUID().slice(0, 8)}`);
      const roleId = await db.asUser(owner, (tx) =>
        members.createRole(tx, {
          organizationId: org,
          key: "editor",
          name: "Editor",
          rank: 20,
          permissions: ["clients.read", "clients.update"],
        }),
      );
      await db.asUser(owner, (tx) =>
        members.setMemberRoles(tx, { organizationId: org, userId: holder, roles: ["editor"] }),
      );

      let changed!: () => void;
      const changeDone = new Promise<void>((resolve) => (changed = resolve));
      const writer = db.asUser(holder, async (tx) => {
        const first = await clients.updateClient(tx, { clientId: client, notes: `before ${i}` });
        // Wait, inside the transaction, for the role change to commit.
        await changeDone;
        const second = await clients.updateClient(tx, { clientId: client, notes: `after ${i}` }).then(
          () => "updated",
          (e: unknown) => e,
        );
        return { first: first.notes, second };
      });
      const changer = db
        .asUser(admin, async (tx) => {
          await tx.execute(sql`select pg_sleep(0.02)`);
          await members.updateRole(tx, { roleId, permissions: ["clients.read"] });
        })
        .finally(() => changed());
      const [w] = await Promise.all([writer, changer]);
      expect(w.first, `round ${i}`).toBe(`before ${i}`);
      expect(w.second, `round ${i}`).toBeInstanceOf(ForbiddenError);
      const [row] = await test.sql<{ notes: string }[]>`select notes from public.clients where id = ${client}`;
      expect(row!.notes, `round ${i}`).toBe(`before ${i}`);
    }
  });

  it(`${ROUNDS} rounds: a role deleted while it is being assigned ends as a serial order would`, async () => {
    const outcomes = new Set<string>();
    for (let i = 0; i < ROUNDS; i++) {
      const { org, owner, admin, holder } = await organization(`del-race-${i}-${randomUUID().slice(0, 8)}`);
      const roleId = await db.asUser(owner, (tx) =>
        members.createRole(tx, {
          organizationId: org,
          key: "temp_role",
          name: "Temp",
          rank: 10,
          permissions: ["clients.read"],
        }),
      );
      // Alternate which call starts first; each holds its transaction open so the other overlaps it.
      const assign = db.asUser(admin, async (tx) => {
        if (i % 2) await tx.execute(sql`select pg_sleep(0.03)`);
        await members.setMemberRoles(tx, { organizationId: org, userId: holder, roles: ["temp_role"] });
        await tx.execute(sql`select pg_sleep(0.05)`);
      });
      const remove = db.asUser(owner, async (tx) => {
        if (i % 2 === 0) await tx.execute(sql`select pg_sleep(0.03)`);
        await members.deleteRole(tx, { roleId });
        await tx.execute(sql`select pg_sleep(0.05)`);
      });
      const [a, d] = await Promise.allSettled([assign, remove]);
      const won = [a.status === "fulfilled", d.status === "fulfilled"];
      expect(won.filter(Boolean), `round ${i}: ${JSON.stringify([a, d])}`).toHaveLength(1);
      const [exists] = await test.sql<
        { n: number }[]
      >`select count(*)::int as n from public.roles where id = ${roleId}`;
      const [held] = await test.sql<
        { n: number }[]
      >`select count(*)::int as n from public.user_roles where role_id = ${roleId}`;
      if (won[0]) {
        // The assignment came first: the deletion saw the holder and refused.
        expect((d as PromiseRejectedResult).reason).toBeInstanceOf(InvariantError);
        expect(((d as PromiseRejectedResult).reason as InvariantError).rule).toBe("role-in-use");
        expect([exists!.n, held!.n]).toEqual([1, 1]);
        outcomes.add("assigned");
      } else {
        // The deletion came first: the assignment found no such role any more.
        expect((a as PromiseRejectedResult).reason).toBeInstanceOf(ValidationError);
        expect(((a as PromiseRejectedResult).reason as ValidationError).rule).toBe("unknown-role");
        expect([exists!.n, held!.n]).toEqual([0, 0]);
        outcomes.add("deleted");
      }
    }
    expect(outcomes.size, "both orders were seen").toBe(2);
  });
});

/**
 * Invariant: an invitation is single use, also when accepts race. Twenty
 * concurrent accepts of one invitation admit exactly one user; the others are
 * refused with typed errors, and the invitation's role is granted once.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOrgDb, DatabaseError, type OrgDb } from "../../src/index.ts";
import * as invitations from "../../src/invitations.ts";
import { useTestDatabase } from "../support/database.ts";
import { ORG, USER } from "../support/personas.ts";

const test = useTestDatabase();
let db: OrgDb;

beforeAll(() => {
  db = createOrgDb(test.url, { max: 20 });
});
afterAll(() => db.close());

async function newUser(email: string): Promise<string> {
  const id = randomUUID();
  await test.sql`insert into auth.users (id, email, email_confirmed_at) values (${id}, ${email}, now())`;
  return id;
}

describe("racing accepts", () => {
  it("20 concurrent accepts of one invitation by its invitee admit exactly one", async () => {
    const invitee = await newUser("racer@example.com");
    const { token } = await db.asUser(USER.bob, (tx) =>
      invitations.inviteMember(tx, { organizationId: ORG.acme, email: "racer@example.com", role: "member" }),
    );
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, () => db.asUser(invitee, (tx) => invitations.acceptInvitation(tx, { token }))),
    );
    const admitted = results.filter((r) => r.status === "fulfilled");
    expect(admitted).toHaveLength(1);
    for (const r of results) if (r.status === "rejected") expect(r.reason).toBeInstanceOf(DatabaseError);
    const [row] = await test.sql<{ members: number; roles: number }[]>`
      select (select count(*)::int from public.organization_users where organization_id = ${ORG.acme} and user_id = ${invitee}) as members,
             (select count(*)::int from public.user_roles where organization_id = ${ORG.acme} and user_id = ${invitee}) as roles`;
    expect(row).toEqual({ members: 1, roles: 1 });
  });

  it("20 concurrent accepts by different signed-in users admit only the invitee", async () => {
    const invitee = await newUser("rightful@example.com");
    const others = await Promise.all(Array.from({ length: 19 }, (_, i) => newUser(`intruder${i}@example.com`)));
    const { token } = await db.asUser(USER.alice, (tx) =>
      invitations.inviteMember(tx, { organizationId: ORG.acme, email: "Rightful@Example.com", role: "viewer" }),
    );
    const results = await Promise.allSettled(
      [invitee, ...others].map((u) => db.asUser(u, (tx) => invitations.acceptInvitation(tx, { token }))),
    );
    expect(results[0]?.status).toBe("fulfilled");
    expect(results.slice(1).every((r) => r.status === "rejected")).toBe(true);
    const [row] = await test.sql<{ n: number }[]>`
      select count(*)::int as n from public.organization_users where organization_id = ${ORG.acme} and user_id = any(${others}::uuid[])`;
    expect(row?.n).toBe(0);
  });
});

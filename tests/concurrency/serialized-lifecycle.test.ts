/**
 * Account deletion and invitations are serialized with the organization's
 * other changes (migration 20261201011200): two transactions ordered by
 * hand (the first holds its locks, the second is seen waiting on a lock,
 * then the first commits) end as the serial order would.
 *
 * - An invitee who joins while the only member's account is being deleted
 *   counts: the deletion is refused (the user is now the only owner of an
 *   organization with another member), the organization and the new member
 *   stay. Before, the organization was deleted with the new member in it.
 * - A re-invitation racing delete_role with a replacement: no deadlock, in
 *   either order. The invitation made first is re-pointed to the
 *   replacement; made second, it finds its role gone.
 * - Account deletions take turns (migration 20261201011300): a statement
 *   deleting a member of one organization and then a member of another,
 *   while Auth deletes a member of both, no longer deadlocks; both go.
 */
import { randomUUID } from "node:crypto";
import { sql as sqlTag } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOrgDb, type OrgDb } from "../../src/index.ts";
import * as invitations from "../../src/invitations.ts";
import { createRole } from "../../src/members.ts";
import { createOrganization } from "../../src/organizations.ts";
import { connect, type Sql } from "../../tooling/server/sql.ts";
import { urlAs, useTestDatabase } from "../support/database.ts";
import { addMember } from "../support/members.ts";
import { ORG, USER } from "../support/personas.ts";

const test = useTestDatabase();
let db: OrgDb;
let auth: Sql;

beforeAll(() => {
  db = createOrgDb(test.url, { max: 4 });
  auth = connect(urlAs(test.url, "supabase_auth_admin"), { max: 1 });
});
afterAll(async () => {
  await auth?.end({ timeout: 5 });
  await db?.close();
});

async function signUp(label: string): Promise<{ id: string; email: string }> {
  const id = randomUUID();
  const email = `${label}-${id.slice(0, 8)}@races.example`;
  await test.sql`insert into auth.users (id, email, email_confirmed_at) values (${id}, ${email}, now())`;
  return { id, email };
}

/** A connection in an open transaction as the user (PostgREST's preamble), for the caller to commit. */
async function openAs(user: string) {
  const conn = await test.sql.reserve();
  await conn`begin`;
  await conn.unsafe("set local role authenticated");
  await conn`select set_config('request.jwt.claims', ${JSON.stringify({ sub: user, role: "authenticated" })}, true)`;
  return conn;
}

/** Ends a connection's open transaction, if any (a failed step leaves one), and gives the connection back. */
async function close(conn: Awaited<ReturnType<typeof openAs>>): Promise<void> {
  await conn`rollback`.catch(() => undefined);
  conn.release();
}

/**
 * Resolves once a backend running a statement that starts with `prefix` waits on a lock
 * (after the comment naming the role that a unit of work's statements begin with).
 */
async function waitingOnLock(prefix: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const [row] = await test.sql<{ n: number }[]>`
      select count(*)::int as n from pg_stat_activity
      where wait_event_type = 'Lock' and regexp_replace(query, '^/\\* as [a-z_ ]+ \\*/ ', '') like ${`${prefix}%`}`;
    if (row!.n > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`no statement starting with "${prefix}" waited on a lock`);
}

/** What a promise settled with: its value, or its error's SQLSTATE and message. */
function settled<T>(
  promise: Promise<T>,
): Promise<{ ok: true; value: T } | { ok: false; code: unknown; message: string }> {
  return promise.then(
    (value) => ({ ok: true as const, value }),
    (error: { code?: unknown; message?: string }) => ({
      ok: false as const,
      code: error.code,
      message: String(error.message),
    }),
  );
}

describe("an invitee joins while the only member's account is deleted", () => {
  it("the deletion waits, then counts the new member: refused, and the organization keeps both", async () => {
    const founder = await signUp("founder");
    const invitee = await signUp("joiner");
    const org = await db.asUser(founder.id, (tx) =>
      createOrganization(tx, { name: "Race Co", slug: `race-${founder.id.slice(0, 8)}` }),
    );
    const { token } = await db.asUser(founder.id, (tx) =>
      invitations.inviteMember(tx, { organizationId: org.id, email: invitee.email, role: "admin" }),
    );

    const joining = await openAs(invitee.id);
    try {
      await joining`select public.accept_invitation(${token})`;
      const deleting = settled(auth`delete from auth.users where id = ${founder.id}`);
      await waitingOnLock("delete from auth.users");
      await joining`commit`;
      const outcome = await deleting;
      expect(outcome).toMatchObject({ ok: false, code: "P0001" });
      expect(outcome.ok ? "" : outcome.message).toMatch(
        /^cannot delete user \S+: they are the only owner of "Race Co"/,
      );
    } finally {
      await close(joining);
    }
    const [row] = await test.sql<{ orgs: number; members: string[] }[]>`
      select (select count(*)::int from public.organizations where id = ${org.id}) as orgs,
             (select array_agg(user_id::text order by user_id) from public.organization_users where organization_id = ${org.id}) as members`;
    expect(row).toEqual({ orgs: 1, members: [founder.id, invitee.id].sort() });
  });
});

describe("a re-invitation races delete_role with a replacement", () => {
  async function setUp(label: string) {
    const roleId = await db.asUser(USER.alice, (tx) =>
      createRole(tx, {
        organizationId: ORG.acme,
        key: `desk_${label}`,
        name: `Desk ${label}`,
        rank: 5,
        permissions: ["clients.read"],
      }),
    );
    const email = `reinvited-${label}@races.example`;
    await db.asUser(USER.alice, (tx) =>
      invitations.inviteMember(tx, { organizationId: ORG.acme, email, role: `desk_${label}` }),
    );
    const [viewer] = await test.sql<
      { id: string }[]
    >`select id from public.roles where key = 'viewer' and organization_id is null`;
    return { roleId, email, key: `desk_${label}`, viewerId: viewer!.id };
  }

  async function pending(email: string) {
    return test.sql<{ key: string }[]>`
      select r.key from public.invitations i join public.roles r on r.id = i.role_id
       where i.email = ${email} and i.accepted_at is null and i.revoked_at is null`;
  }

  it("invitation first: delete_role waits, then re-points the new invitation to the replacement", async () => {
    const { roleId, email, key, viewerId } = await setUp("first");
    const inviting = await openAs(USER.bob);
    try {
      await inviting`select public.invite_member(${ORG.acme}, ${email}, ${key})`;
      const deleting = settled(db.asUser(USER.alice, (tx) => tx.execute(deleteRoleCall(roleId, viewerId))));
      await waitingOnLock("select public.delete_role");
      await inviting`commit`;
      expect(await deleting).toMatchObject({ ok: true });
    } finally {
      await close(inviting);
    }
    expect(await pending(email)).toEqual([{ key: "viewer" }]);
  });

  it("deletion first: the invitation waits, then finds its role gone (no deadlock)", async () => {
    const { roleId, email, key, viewerId } = await setUp("second");
    const deleting = await openAs(USER.alice);
    try {
      await deleting`select public.delete_role(${roleId}, ${viewerId})`;
      const inviting = settled(
        db.asUser(USER.bob, (tx) => invitations.inviteMember(tx, { organizationId: ORG.acme, email, role: key })),
      );
      await waitingOnLock("select invitation_id, token, expires_at::text from public.invite_member");
      await deleting`commit`;
      const outcome = await inviting;
      expect(outcome).toMatchObject({ ok: false, code: "22023" });
      expect(outcome.ok ? "" : outcome.message).toMatch(/unknown role/);
    } finally {
      await close(deleting);
    }
    expect(await pending(email)).toEqual([{ key: "viewer" }]);
  });
});

/** delete_role(role, replacement) as Drizzle SQL. */
function deleteRoleCall(roleId: string, replacementId: string) {
  return sqlTag`select public.delete_role(${roleId}, ${replacementId})`;
}

describe("account deletions cross organizations", () => {
  it("a statement deleting two accounts and a deletion of one account that shares both organizations: no deadlock, all three go", async () => {
    const owner = await signUp("crossing-owner");
    const made = await Promise.all(
      ["one", "two"].map((n) =>
        db.asUser(owner.id, (tx) =>
          createOrganization(tx, { name: `Crossing ${n}`, slug: `crossing-${n}-${owner.id.slice(0, 8)}` }),
        ),
      ),
    );
    // Organizations are locked in id order: `first` before `second`.
    const [first, second] = made.map((o) => o.id).sort();
    const inSecond = await signUp("in-second");
    const inFirst = await signUp("in-first");
    const inBoth = await signUp("in-both");
    for (const [user, orgs] of [
      [inSecond.id, [second]],
      [inFirst.id, [first]],
      [inBoth.id, [first, second]],
    ] as const) {
      for (const org of orgs) await addMember(test.sql, org!, user);
    }
    const job = connect(urlAs(test.url, "supabase_auth_admin"), { max: 1 });
    const single = connect(urlAs(test.url, "supabase_auth_admin"), { max: 1 });
    const holder = await test.sql.reserve();
    try {
      // Something else holds the first organization for a moment (a role change, an accept).
      await holder`begin`;
      await holder`select 1 from public.organizations where id = ${first!} for no key update`;
      // Auth deletes the member of both: it waits for the first organization.
      const alone = settled(single`delete from auth.users where id = ${inBoth.id}`);
      await waitingOnLock("delete from auth.users where id");
      // The job deletes the member of the second organization, then the member of the first.
      const together = settled(
        job`delete from auth.users u using (values (1, ${inSecond.id}::uuid), (2, ${inFirst.id}::uuid)) v (n, id)
             where u.id = v.id`,
      );
      await waitingOnLock("delete from auth.users u using");
      await holder`commit`;
      expect(await alone).toMatchObject({ ok: true });
      expect(await together).toMatchObject({ ok: true });
    } finally {
      await close(holder);
      await job.end({ timeout: 5 });
      await single.end({ timeout: 5 });
    }
    const [row] = await test.sql<{ users: number; memberships: number }[]>`
      select (select count(*)::int from auth.users where id in (${inSecond.id}, ${inFirst.id}, ${inBoth.id})) as users,
             (select count(*)::int from public.organization_users where organization_id in (${first!}, ${second!})) as memberships`;
    expect(row).toEqual({ users: 0, memberships: 2 });
  });
});

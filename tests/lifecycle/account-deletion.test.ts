/**
 * Deleting an account the way Supabase Auth does it (a DELETE on auth.users
 * as `supabase_auth_admin`, which pgTAP as `postgres` cannot become on
 * hosted):
 * - organizations where the user is the only member go with them: one
 *   summary audit entry each (actor: the user), tombstone, nothing left;
 *   so does one whose members are all deleted in one statement;
 * - the only owner of an organization with other members is refused, with an
 *   error naming it and the remedy, and nothing changes (not even their
 *   sole-member organizations);
 * - otherwise memberships and assignments go, clients stay; audit entries
 *   keep the actor id, and the user's email and name in audit rows become a
 *   pseudonym;
 * - account_deletion_blockers() tells beforehand what the trigger refuses.
 */
import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type Sql } from "../../tooling/server/sql.ts";
import { createOrgDb, type OrgDb } from "../../src/db.ts";
import { accountDeletionBlockers } from "../../src/lifecycle.ts";
import { createOrganization } from "../../src/organizations.ts";
import { inviteMember } from "../../src/invitations.ts";
import { ORG, USER } from "../support/personas.ts";
import { urlAs, useTestDatabase } from "../support/database.ts";
import { organizationLeftovers } from "../support/leftovers.ts";
import { addMember } from "../support/members.ts";

const test = useTestDatabase();

let auth: Sql;
let db: OrgDb;
beforeAll(() => {
  auth = connect(urlAs(test.url, "supabase_auth_admin"), { max: 1 });
  db = createOrgDb(test.url, { max: 2 });
});
afterAll(async () => {
  await auth?.end({ timeout: 5 });
  await db?.close();
});

/** A new user signed up through Auth. */
async function signUp(label: string): Promise<string> {
  const id = randomUUID();
  await auth`insert into auth.users (id, email, raw_user_meta_data)
             values (${id}, ${`${label}@lifecycle.example`}, ${auth.json({ full_name: `Person ${label}` })})`;
  return id;
}

describe("account deletion as supabase_auth_admin", () => {
  it("an organization where the user is the only member goes with them, with one summary audit entry", async () => {
    const user = await signUp("solo");
    const org = await db.asUser(user, (tx) => createOrganization(tx, { name: "Solo Shop", slug: "solo-shop" }));
    await test.sql`insert into public.clients (organization_id, name) select ${org.id}, 'Client ' || i from generate_series(1, 7) i`;
    expect(await db.asUser(user, (tx) => accountDeletionBlockers(tx))).toEqual([]);

    await auth`delete from auth.users where id = ${user}`;

    expect(await organizationLeftovers(test.sql, org.id)).toEqual([]);
    const entries = await test.sql<
      {
        actor_id: string;
        table_name: string;
        action: string;
        new: { method: string; deleted_rows: Record<string, number> };
      }[]
    >`
      select actor_id, table_name, action, new from public.audit_log where organization_id = ${org.id} and action = 'delete'`;
    expect(entries).toEqual([
      {
        actor_id: user,
        table_name: "organizations",
        action: "delete",
        new: expect.objectContaining({
          method: "account_deletion",
          deleted_rows: {
            "public.clients": 7,
            "public.organization_users": 1,
            "public.user_roles": 1,
            "public.organizations": 1,
          },
        }),
      },
    ]);
    const [tomb] =
      await test.sql`select count(*)::int as n from private.deleted_organizations where id = ${org.id} and deleted_at is not null`;
    expect(tomb?.n).toBe(1);
  });

  it("accounts deleted together in one statement take the organization they were the only members of", async () => {
    const first = await signUp("pair-one");
    const second = await signUp("pair-two");
    const org = await db.asUser(first, (tx) => createOrganization(tx, { name: "Pair Co", slug: "pair-co" }));
    await addMember(test.sql, org.id, second, "owner");
    await test.sql`insert into public.clients (organization_id, name) select ${org.id}, 'Pair client ' || i from generate_series(1, 3) i`;

    // Each row's check sees the other still a member; the organization goes once both have left.
    await auth`delete from auth.users where id in (${first}, ${second})`;

    expect(await organizationLeftovers(test.sql, org.id)).toEqual([]);
    const entries = await test.sql<{ actor_id: string; method: string; clients: number }[]>`
      select actor_id, new ->> 'method' as method, (new -> 'deleted_rows' ->> 'public.clients')::int as clients
        from public.audit_log where organization_id = ${org.id} and table_name = 'organizations' and action = 'delete'`;
    expect(entries).toEqual([{ actor_id: [first, second].sort()[0], method: "account_deletion", clients: 3 }]);
    const [tomb] =
      await test.sql`select count(*)::int as n from private.deleted_organizations where id = ${org.id} and deleted_at is not null`;
    expect(tomb?.n).toBe(1);
  });

  it("an owner and a plain member deleted together take their organization, whichever row goes first", async () => {
    for (const order of ["owner first", "member first"] as const) {
      const owner = await signUp(`duo-owner-${order.split(" ")[0]}`);
      const member = await signUp(`duo-member-${order.split(" ")[0]}`);
      const slug = `duo-${order.split(" ")[0]}`;
      const org = await db.asUser(owner, (tx) => createOrganization(tx, { name: `Duo ${order}`, slug }));
      await addMember(test.sql, org.id, member);
      await test.sql`insert into public.clients (organization_id, name) values (${org.id}, 'Duo client')`;
      const [first, second] = order === "owner first" ? [owner, member] : [member, owner];

      // One statement; the rows go in the order the VALUES list gives them.
      await auth`delete from auth.users u using (values (1, ${first}::uuid), (2, ${second}::uuid)) v (n, id) where u.id = v.id`;

      expect(await organizationLeftovers(test.sql, org.id), order).toEqual([]);
      const [tomb] =
        await test.sql`select count(*)::int as n from private.deleted_organizations where id = ${org.id} and deleted_at is not null`;
      expect(tomb?.n, order).toBe(1);
    }
  });

  it("owners deleted together while another member stays are refused by name, and nothing changes", async () => {
    const one = await signUp("co-owner-one");
    const two = await signUp("co-owner-two");
    const stays = await signUp("co-owner-stays");
    const org = await db.asUser(one, (tx) => createOrganization(tx, { name: "Co Owners", slug: "co-owners" }));
    await addMember(test.sql, org.id, two, "owner");
    await addMember(test.sql, org.id, stays);

    const error = await auth`delete from auth.users where id in (${one}, ${two})`.catch((e: unknown) => e);

    const [a, b] = [one, two].sort();
    expect(error).toMatchObject({
      code: "P0001",
      message: `cannot delete users ${a}, ${b}: they are the only owners of "Co Owners" (${org.id})`,
      hint: expect.stringMatching(/transfer_ownership.*delete_organization/),
    });
    const [row] = await test.sql`
      select (select count(*) from auth.users where id in (${one}, ${two}))::int as users,
             (select count(*) from public.organization_users where organization_id = ${org.id})::int as members`;
    expect(row).toEqual({ users: 2, members: 3 });
  });

  it("the last member removed while their account stays leaves the organization to the owner rule: refused", async () => {
    const user = await signUp("last-one");
    const org = await db.asUser(user, (tx) => createOrganization(tx, { name: "Last One", slug: "last-one" }));
    const error = await test.sql`delete from public.organization_users where organization_id = ${org.id}`.catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: "P0001", message: `organization ${org.id} must keep at least one owner` });
    const [row] = await test.sql`select count(*)::int as n from public.organizations where id = ${org.id}`;
    expect(row?.n).toBe(1);
  });

  it("the only owner of an organization with other members is refused, naming it and the remedy; nothing changes", async () => {
    // frank owns Globex alone (grace, heidi and mallory are members); give him a sole-member organization too.
    const solo = await db.asUser(USER.frank, (tx) =>
      createOrganization(tx, { name: "Frank Alone", slug: "frank-alone" }),
    );
    expect(await db.asUser(USER.frank, (tx) => accountDeletionBlockers(tx))).toEqual([
      { organizationId: ORG.globex, name: "Globex", reason: "only_owner" },
    ]);
    const error = await auth`delete from auth.users where id = ${USER.frank}`.catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: "P0001",
      message: expect.stringMatching(
        /^cannot delete user \S+: they are the only owner of "Globex" \(10000000-0000-4000-8000-000000000002\)$/,
      ),
      hint: expect.stringMatching(/transfer_ownership.*delete_organization/),
    });
    const [row] = await test.sql`
      select (select count(*) from auth.users where id = ${USER.frank})::int as users,
             (select count(*) from public.organization_users where user_id = ${USER.frank})::int as memberships,
             (select count(*) from public.organizations where id = ${solo.id})::int as solo`;
    expect(row).toEqual({ users: 1, memberships: 2, solo: 1 });
  });

  it("a member goes with their memberships and assignments; clients stay; audit rows keep the actor and lose their email and name", async () => {
    const user = await signUp("leaver");
    // An invitation to the leaver's address (before they joined), then membership with an assigned client.
    await db.asUser(USER.alice, (tx) =>
      inviteMember(tx, { organizationId: ORG.acme, email: "leaver@lifecycle.example", role: "member" }),
    );
    await addMember(test.sql, ORG.acme, user);
    const [created] = await db.asUser(user, (tx) =>
      // A client the member creates is assigned to them; the audit entry names them as actor.
      tx.execute<{ id: string }>(
        sql`insert into public.clients (organization_id, name) values (${ORG.acme}, 'Leaver client') returning id`,
      ),
    );
    await db.asUser(user, (tx) =>
      tx.execute(sql`update public.users set full_name = 'Leaver Renamed' where id = ${user}`),
    );
    const [before] = await test.sql`select count(*)::int as n from public.clients where organization_id = ${ORG.acme}`;

    await auth`delete from auth.users where id = ${user}`;

    const [left] = await test.sql`
      select (select count(*) from public.organization_users where user_id = ${user})::int as memberships,
             (select count(*) from public.user_clients where user_id = ${user})::int as assignments,
             (select count(*) from public.clients where organization_id = ${ORG.acme})::int as clients,
             (select count(*) from public.clients where id = ${created!.id})::int as theirs,
             (select count(*) from public.audit_log where actor_id = ${user})::int as acted`;
    expect(left).toEqual({ memberships: 0, assignments: 0, clients: before?.n, theirs: 1, acted: expect.any(Number) });
    expect(left?.acted).toBeGreaterThanOrEqual(2);
    const [traces] = await test.sql`
      select count(*)::int as n from public.audit_log
       where old::text ~* '(leaver@lifecycle|Person leaver|Leaver Renamed)' or new::text ~* '(leaver@lifecycle|Person leaver|Leaver Renamed)'`;
    expect(traces?.n).toBe(0);
    const profileRows = await test.sql<{ action: string; email: string; name: string }[]>`
      select action, coalesce(new, old) ->> 'email' as email, coalesce(new, old) ->> 'full_name' as name
        from public.audit_log where table_name = 'users' and record_id = ${user} order by created_at`;
    expect(profileRows.map((r) => r.action)).toEqual(["insert", "update", "delete"]);
    for (const r of profileRows) {
      expect(r).toMatchObject({ email: `deleted-${user}@erased.invalid`, name: `deleted user ${user.slice(0, 8)}` });
    }
    const [invitation] = await test.sql`
      select new ->> 'email' as email from public.audit_log where table_name = 'invitations' and action = 'insert' and organization_id = ${ORG.acme}
       order by created_at desc limit 1`;
    expect(invitation?.email).toBe(`deleted-${user}@erased.invalid`);
  });
});

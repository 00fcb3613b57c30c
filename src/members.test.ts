/**
 * Members and roles through the typed layer, as the seed's personas: members
 * list each other with their roles; roles change only through holders of
 * members.manage, never above their own rank, owner only by owners, never
 * one's own; removals follow the same rank rules; every organization keeps an
 * owner at commit; authorize answers the permission matrix of the spec.
 */
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { expectError } from "../tests/support/errors.ts";
import { useOrgDb } from "../tests/support/orgdb.ts";
import { client, ORG, USER } from "../tests/support/personas.ts";
import { ForbiddenError, InvariantError, NotFoundError, ValidationError } from "./errors.ts";
import {
  authorize,
  leaveOrganization,
  listMembers,
  removeMember,
  setMemberRoles,
  transferOwnership,
} from "./members.ts";
import { createOrganization, listMyOrganizations } from "./organizations.ts";
import { PERMISSIONS, type Permission, type RoleKey } from "./schema/rules.ts";

const suite = useOrgDb();
const { test, as } = suite;

/** A new signed-up user (the profile trigger creates public.users). */
async function newUser(name: string): Promise<string> {
  const id = randomUUID();
  await test.sql`insert into auth.users (id, email, email_confirmed_at) values (${id}, ${`${name}-${id.slice(0, 8)}@example.com`}, now())`;
  return id;
}

/** Make a user a member with roles, as the superuser (no rule applies). */
async function addMember(organizationId: string, userId: string, roles: RoleKey[]): Promise<void> {
  await test.sql.begin(async (sql) => {
    await sql`insert into public.organization_users (organization_id, user_id) values (${organizationId}, ${userId})`;
    await sql`insert into public.user_roles (organization_id, user_id, role_id)
              select ${organizationId}, ${userId}, id from public.roles where key = any(${roles}::text[])`;
  });
}

/** A member's roles as stored, highest first ([] when not a member). */
async function rolesOf(organizationId: string, userId: string): Promise<string[]> {
  const rows = await test.sql<{ key: string }[]>`
    select r.key from public.user_roles ur join public.roles r on r.id = ur.role_id
    where ur.organization_id = ${organizationId} and ur.user_id = ${userId} order by r.rank desc`;
  return rows.map((r) => r.key);
}

async function isMember(organizationId: string, userId: string): Promise<boolean> {
  const [row] = await test.sql<{ n: number }[]>`
    select count(*)::int as n from public.organization_users where organization_id = ${organizationId} and user_id = ${userId}`;
  return row!.n === 1;
}

describe("listMembers", () => {
  it("any member, even a viewer, lists every member with email, name and roles", async () => {
    const members = await as(USER.erin, (tx) => listMembers(tx, { organizationId: ORG.acme }));
    expect(members.map((m) => ({ userId: m.userId, email: m.email, fullName: m.fullName, roles: m.roles }))).toEqual([
      { userId: USER.alice, email: "alice@acme.example", fullName: "Alice Anders", roles: ["owner"] },
      { userId: USER.bob, email: "bob@acme.example", fullName: "Bob Baker", roles: ["admin"] },
      { userId: USER.carol, email: "carol@acme.example", fullName: "Carol Chen", roles: ["manager"] },
      { userId: USER.dave, email: "dave@acme.example", fullName: "Dave Diaz", roles: ["member"] },
      { userId: USER.erin, email: "erin@acme.example", fullName: "Erin Evans", roles: ["viewer"] },
      { userId: USER.mallory, email: "mallory@example.com", fullName: "Mallory Moss", roles: ["member"] },
    ]);
    for (const m of members) expect(typeof m.joinedAt).toBe("string");
  });

  it("a member of two organizations lists each; several roles come highest first", async () => {
    const members = await as(USER.mallory, (tx) => listMembers(tx, { organizationId: ORG.globex }));
    expect(members.map((m) => [m.userId, m.roles])).toEqual([
      [USER.frank, ["owner"]],
      [USER.grace, ["admin", "manager"]],
      [USER.heidi, ["member"]],
      [USER.mallory, ["viewer"]],
    ]);
  });

  it("a non-member gets an empty list, not another organization's members", async () => {
    expect(await as(USER.frank, (tx) => listMembers(tx, { organizationId: ORG.acme }))).toEqual([]);
    expect(await as(USER.nora, (tx) => listMembers(tx, { organizationId: ORG.initech }))).toEqual([]);
  });

  it("an organization id that is not a uuid is ValidationError before the database", async () => {
    await expectError(
      as(USER.alice, (tx) => listMembers(tx, { organizationId: "acme" })),
      ValidationError,
      undefined,
    );
  });
});

describe("authorize", () => {
  const matrix: Record<string, Permission[]> = {
    // Owners and admins read and update every client: clients.work_assigned is for members.
    owner: PERMISSIONS.filter((p) => p !== "clients.work_assigned"),
    admin: [
      "organization.update",
      "members.manage",
      "clients.read",
      "clients.create",
      "clients.update",
      "clients.delete",
      "clients.assign",
      "audit.read",
      "roles.manage",
    ],
    manager: ["clients.read", "clients.create", "clients.update", "clients.delete", "clients.assign"],
    member: ["clients.create", "clients.work_assigned"],
    viewer: ["clients.read"],
  };

  async function granted(user: string, organizationId: string): Promise<Permission[]> {
    return as(user, async (tx) => {
      const out: Permission[] = [];
      for (const permission of PERMISSIONS)
        if (await authorize(tx, { organizationId, permission })) out.push(permission);
      return out;
    });
  }

  it("each role holds exactly the permissions of the spec's matrix", async () => {
    expect(await granted(USER.alice, ORG.acme)).toEqual(matrix.owner);
    expect(await granted(USER.bob, ORG.acme)).toEqual(matrix.admin);
    expect(await granted(USER.carol, ORG.acme)).toEqual(matrix.manager);
    expect(await granted(USER.dave, ORG.acme)).toEqual(matrix.member);
    expect(await granted(USER.erin, ORG.acme)).toEqual(matrix.viewer);
  });

  it("several roles give the union of their permissions (admin + manager)", async () => {
    expect(await granted(USER.grace, ORG.globex)).toEqual(matrix.admin);
  });

  it("permissions are per organization: mallory is a member of Acme and a viewer of Globex", async () => {
    expect(await granted(USER.mallory, ORG.acme)).toEqual(matrix.member);
    expect(await granted(USER.mallory, ORG.globex)).toEqual(matrix.viewer);
    expect(await granted(USER.mallory, ORG.initech)).toEqual([]);
  });

  it("a non-member holds nothing", async () => {
    expect(await granted(USER.nora, ORG.acme)).toEqual([]);
    expect(await granted(USER.frank, ORG.acme)).toEqual([]);
  });

  it("a malformed permission or a bad id is ValidationError before the database; an unknown one, from the database", async () => {
    await expectError(
      as(USER.alice, (tx) => authorize(tx, { organizationId: ORG.acme, permission: "Clients.Steal" })),
      ValidationError,
      undefined,
    );
    await expectError(
      as(USER.alice, (tx) => authorize(tx, { organizationId: ORG.acme, permission: "clients.steal" })),
      ValidationError,
      "22023",
    );
    await expectError(
      as(USER.alice, (tx) => authorize(tx, { organizationId: "acme", permission: "clients.read" })),
      ValidationError,
      undefined,
    );
  });
});

describe("setMemberRoles", () => {
  it("an admin replaces a member's roles; the new permissions apply at once", async () => {
    await as(USER.bob, (tx) => setMemberRoles(tx, { organizationId: ORG.acme, userId: USER.dave, roles: ["manager"] }));
    expect(await rolesOf(ORG.acme, USER.dave)).toEqual(["manager"]);
    expect(await as(USER.dave, (tx) => authorize(tx, { organizationId: ORG.acme, permission: "clients.read" }))).toBe(
      true,
    );
    await as(USER.bob, (tx) => setMemberRoles(tx, { organizationId: ORG.acme, userId: USER.dave, roles: ["member"] }));
    expect(await rolesOf(ORG.acme, USER.dave)).toEqual(["member"]);
  });

  it("a member can hold several roles; listMembers shows them highest first", async () => {
    await as(USER.alice, (tx) =>
      setMemberRoles(tx, { organizationId: ORG.acme, userId: USER.erin, roles: ["viewer", "member"] }),
    );
    const erin = (await as(USER.erin, (tx) => listMembers(tx, { organizationId: ORG.acme }))).find(
      (m) => m.userId === USER.erin,
    );
    expect(erin?.roles).toEqual(["member", "viewer"]);
    await as(USER.alice, (tx) =>
      setMemberRoles(tx, { organizationId: ORG.acme, userId: USER.erin, roles: ["viewer"] }),
    );
    expect(await rolesOf(ORG.acme, USER.erin)).toEqual(["viewer"]);
  });

  it("an admin grants and revokes up to their own rank (admin)", async () => {
    await as(USER.bob, (tx) => setMemberRoles(tx, { organizationId: ORG.acme, userId: USER.erin, roles: ["admin"] }));
    expect(await rolesOf(ORG.acme, USER.erin)).toEqual(["admin"]);
    await as(USER.bob, (tx) => setMemberRoles(tx, { organizationId: ORG.acme, userId: USER.erin, roles: ["viewer"] }));
    expect(await rolesOf(ORG.acme, USER.erin)).toEqual(["viewer"]);
  });

  it("an admin cannot grant owner: ForbiddenError 42501, roles unchanged", async () => {
    await expectError(
      as(USER.bob, (tx) => setMemberRoles(tx, { organizationId: ORG.acme, userId: USER.dave, roles: ["owner"] })),
      ForbiddenError,
      "42501",
    );
    expect(await rolesOf(ORG.acme, USER.dave)).toEqual(["member"]);
  });

  it("an admin cannot change the roles of a member who outranks them (the owner): ForbiddenError 42501", async () => {
    await expectError(
      as(USER.bob, (tx) => setMemberRoles(tx, { organizationId: ORG.acme, userId: USER.alice, roles: ["admin"] })),
      ForbiddenError,
      "42501",
    );
    expect(await rolesOf(ORG.acme, USER.alice)).toEqual(["owner"]);
  });

  it("an owner grants and revokes owner", async () => {
    await as(USER.alice, (tx) =>
      setMemberRoles(tx, { organizationId: ORG.acme, userId: USER.bob, roles: ["owner", "admin"] }),
    );
    expect(await rolesOf(ORG.acme, USER.bob)).toEqual(["owner", "admin"]);
    await as(USER.alice, (tx) => setMemberRoles(tx, { organizationId: ORG.acme, userId: USER.bob, roles: ["admin"] }));
    expect(await rolesOf(ORG.acme, USER.bob)).toEqual(["admin"]);
  });

  it("nobody changes their own roles, not even an owner: ForbiddenError 42501", async () => {
    await expectError(
      as(USER.bob, (tx) => setMemberRoles(tx, { organizationId: ORG.acme, userId: USER.bob, roles: ["viewer"] })),
      ForbiddenError,
      "42501",
    );
    await expectError(
      as(USER.alice, (tx) =>
        setMemberRoles(tx, { organizationId: ORG.acme, userId: USER.alice, roles: ["owner", "admin"] }),
      ),
      ForbiddenError,
      "42501",
    );
    expect(await rolesOf(ORG.acme, USER.bob)).toEqual(["admin"]);
    expect(await rolesOf(ORG.acme, USER.alice)).toEqual(["owner"]);
  });

  it("a member without members.manage (manager, member, viewer) gets ForbiddenError 42501", async () => {
    for (const user of [USER.carol, USER.dave, USER.erin]) {
      await expectError(
        as(user, (tx) => setMemberRoles(tx, { organizationId: ORG.acme, userId: USER.mallory, roles: ["viewer"] })),
        ForbiddenError,
        "42501",
      );
    }
    expect(await rolesOf(ORG.acme, USER.mallory)).toEqual(["member"]);
  });

  it("a non-member caller, or a target who is not a member, is NotFoundError (P0002)", async () => {
    await expectError(
      as(USER.frank, (tx) => setMemberRoles(tx, { organizationId: ORG.acme, userId: USER.dave, roles: ["viewer"] })),
      NotFoundError,
      "P0002",
    );
    await expectError(
      as(USER.bob, (tx) => setMemberRoles(tx, { organizationId: ORG.acme, userId: USER.nora, roles: ["viewer"] })),
      NotFoundError,
      "P0002",
    );
    await expectError(
      as(USER.bob, (tx) => setMemberRoles(tx, { organizationId: ORG.acme, userId: USER.frank, roles: ["viewer"] })),
      NotFoundError,
      "P0002",
    );
    expect(await isMember(ORG.acme, USER.nora)).toBe(false);
    expect(await rolesOf(ORG.acme, USER.dave)).toEqual(["member"]);
  });

  it("empty roles, unknown roles, too many roles or bad ids are ValidationError before the database", async () => {
    const bad: unknown[] = [
      { organizationId: ORG.acme, userId: USER.dave, roles: [] },
      { organizationId: ORG.acme, userId: USER.dave, roles: ["Super User"] },
      {
        organizationId: ORG.acme,
        userId: USER.dave,
        roles: ["member", "member", "member", "member", "member", "member"],
      },
      { organizationId: ORG.acme, userId: "dave", roles: ["member"] },
      { organizationId: ORG.acme, userId: USER.dave },
    ];
    for (const input of bad) {
      const error = await expectError(
        as(USER.alice, (tx) => setMemberRoles(tx, input as never)),
        ValidationError,
        undefined,
      );
      expect(error.issues.length).toBeGreaterThan(0);
    }
    expect(await rolesOf(ORG.acme, USER.dave)).toEqual(["member"]);
  });
});

describe("removeMember", () => {
  it("an admin removes a member with their roles and client assignments", async () => {
    const temp = await newUser("removed");
    await addMember(ORG.acme, temp, ["member"]);
    await test.sql`insert into public.user_clients (organization_id, user_id, client_id) values (${ORG.acme}, ${temp}, ${client(1, 12)})`;
    await as(USER.bob, (tx) => removeMember(tx, { organizationId: ORG.acme, userId: temp }));
    expect(await isMember(ORG.acme, temp)).toBe(false);
    expect(await rolesOf(ORG.acme, temp)).toEqual([]);
    const [row] = await test.sql<
      { n: number }[]
    >`select count(*)::int as n from public.user_clients where user_id = ${temp}`;
    expect(row!.n).toBe(0);
    expect(await as(temp, (tx) => listMyOrganizations(tx))).toEqual([]);
    expect(
      (await as(USER.bob, (tx) => listMembers(tx, { organizationId: ORG.acme }))).map((m) => m.userId),
    ).not.toContain(temp);
    // The organization's clients stay.
    const [clients] = await test.sql<
      { n: number }[]
    >`select count(*)::int as n from public.clients where id = ${client(1, 12)}`;
    expect(clients!.n).toBe(1);
  });

  it("an admin removes another admin (same rank)", async () => {
    const temp = await newUser("admin2");
    await addMember(ORG.acme, temp, ["admin"]);
    await as(USER.bob, (tx) => removeMember(tx, { organizationId: ORG.acme, userId: temp }));
    expect(await isMember(ORG.acme, temp)).toBe(false);
  });

  it("an admin cannot remove the owner: ForbiddenError 42501", async () => {
    await expectError(
      as(USER.bob, (tx) => removeMember(tx, { organizationId: ORG.acme, userId: USER.alice })),
      ForbiddenError,
      "42501",
    );
    expect(await rolesOf(ORG.acme, USER.alice)).toEqual(["owner"]);
  });

  it("a member without members.manage cannot remove others: ForbiddenError 42501", async () => {
    for (const user of [USER.carol, USER.dave, USER.erin]) {
      await expectError(
        as(user, (tx) => removeMember(tx, { organizationId: ORG.acme, userId: USER.mallory })),
        ForbiddenError,
        "42501",
      );
    }
    expect(await isMember(ORG.acme, USER.mallory)).toBe(true);
  });

  it("a non-member caller, or a target who is not a member, is NotFoundError (P0002)", async () => {
    await expectError(
      as(USER.frank, (tx) => removeMember(tx, { organizationId: ORG.acme, userId: USER.dave })),
      NotFoundError,
      "P0002",
    );
    await expectError(
      as(USER.bob, (tx) => removeMember(tx, { organizationId: ORG.acme, userId: USER.frank })),
      NotFoundError,
      "P0002",
    );
    expect(await isMember(ORG.acme, USER.dave)).toBe(true);
    expect(await isMember(ORG.globex, USER.frank)).toBe(true);
  });

  it("removeMember with one's own id is leaving, which needs no permission", async () => {
    const temp = await newUser("selfremoval");
    await addMember(ORG.acme, temp, ["viewer"]);
    await as(temp, (tx) => removeMember(tx, { organizationId: ORG.acme, userId: temp }));
    expect(await isMember(ORG.acme, temp)).toBe(false);
  });

  it("bad ids are ValidationError before the database", async () => {
    await expectError(
      as(USER.bob, (tx) => removeMember(tx, { organizationId: ORG.acme, userId: "dave" })),
      ValidationError,
      undefined,
    );
    await expectError(
      as(USER.bob, (tx) => removeMember(tx, { organizationId: "acme", userId: USER.dave })),
      ValidationError,
      undefined,
    );
  });
});

describe("leaveOrganization", () => {
  it("a member leaves; the organization disappears from their list", async () => {
    const temp = await newUser("leaver");
    await addMember(ORG.acme, temp, ["member"]);
    expect((await as(temp, (tx) => listMyOrganizations(tx))).map((o) => o.id)).toEqual([ORG.acme]);
    await as(temp, (tx) => leaveOrganization(tx, { organizationId: ORG.acme }));
    expect(await as(temp, (tx) => listMyOrganizations(tx))).toEqual([]);
    expect(await isMember(ORG.acme, temp)).toBe(false);
  });

  it("the last owner cannot leave: InvariantError P0001 when the unit of work commits, and nothing changes", async () => {
    const error = await expectError(
      as(USER.alice, (tx) => leaveOrganization(tx, { organizationId: ORG.acme })),
      InvariantError,
      "P0001",
    );
    expect(error.message).toMatch(/owner/);
    expect(await isMember(ORG.acme, USER.alice)).toBe(true);
    expect(await rolesOf(ORG.acme, USER.alice)).toEqual(["owner"]);
  });

  it("an owner may leave when another owner remains; then the remaining one is the last", async () => {
    const org = await as(USER.nora, (tx) => createOrganization(tx, { name: "Co-owned", slug: "co-owned" }));
    const partner = await newUser("coowner");
    await addMember(org.id, partner, ["owner"]);
    await as(USER.nora, (tx) => leaveOrganization(tx, { organizationId: org.id }));
    expect(await isMember(org.id, USER.nora)).toBe(false);
    await expectError(
      as(partner, (tx) => leaveOrganization(tx, { organizationId: org.id })),
      InvariantError,
      "P0001",
    );
    expect(await rolesOf(org.id, partner)).toEqual(["owner"]);
  });

  it("leaving an organization one does not belong to is NotFoundError; a bad id is ValidationError", async () => {
    await expectError(
      as(USER.nora, (tx) => leaveOrganization(tx, { organizationId: ORG.acme })),
      NotFoundError,
      "P0002",
    );
    await expectError(
      as(USER.nora, (tx) => leaveOrganization(tx, { organizationId: "acme" })),
      ValidationError,
      undefined,
    );
  });
});

describe("transferOwnership", () => {
  it("the owner hands over: the new owner gains owner, the previous owner becomes admin", async () => {
    const org = await as(USER.nora, (tx) => createOrganization(tx, { name: "Handover Ltd", slug: "handover" }));
    const heir = await newUser("heir");
    await addMember(org.id, heir, ["member"]);
    await as(USER.nora, (tx) => transferOwnership(tx, { organizationId: org.id, newOwnerId: heir }));
    const members = await as(heir, (tx) => listMembers(tx, { organizationId: org.id }));
    expect(Object.fromEntries(members.map((m) => [m.userId, m.roles]))).toEqual({
      [heir]: ["owner", "member"],
      [USER.nora]: ["admin"],
    });

    // The previous owner is no longer an owner: transferring again is refused, leaving is allowed.
    await expectError(
      as(USER.nora, (tx) => transferOwnership(tx, { organizationId: org.id, newOwnerId: heir })),
      ForbiddenError,
      "42501",
    );
    await as(USER.nora, (tx) => leaveOrganization(tx, { organizationId: org.id }));
    await expectError(
      as(heir, (tx) => leaveOrganization(tx, { organizationId: org.id })),
      InvariantError,
      "P0001",
    );
  });

  it("only an owner transfers: an admin gets ForbiddenError 42501", async () => {
    await expectError(
      as(USER.bob, (tx) => transferOwnership(tx, { organizationId: ORG.acme, newOwnerId: USER.carol })),
      ForbiddenError,
      "42501",
    );
    expect(await rolesOf(ORG.acme, USER.carol)).toEqual(["manager"]);
    expect(await rolesOf(ORG.acme, USER.alice)).toEqual(["owner"]);
  });

  it("the new owner must already be a member: NotFoundError (P0002)", async () => {
    await expectError(
      as(USER.alice, (tx) => transferOwnership(tx, { organizationId: ORG.acme, newOwnerId: USER.nora })),
      NotFoundError,
      "P0002",
    );
    await expectError(
      as(USER.alice, (tx) => transferOwnership(tx, { organizationId: ORG.acme, newOwnerId: USER.frank })),
      NotFoundError,
      "P0002",
    );
    expect(await rolesOf(ORG.acme, USER.alice)).toEqual(["owner"]);
  });

  it("a non-member caller is NotFoundError (P0002)", async () => {
    await expectError(
      as(USER.frank, (tx) => transferOwnership(tx, { organizationId: ORG.acme, newOwnerId: USER.frank })),
      NotFoundError,
      "P0002",
    );
  });

  it("transferring to oneself is ValidationError carrying the database's 22023", async () => {
    await expectError(
      as(USER.alice, (tx) => transferOwnership(tx, { organizationId: ORG.acme, newOwnerId: USER.alice })),
      ValidationError,
      "22023",
    );
    expect(await rolesOf(ORG.acme, USER.alice)).toEqual(["owner"]);
  });

  it("bad ids are ValidationError before the database", async () => {
    await expectError(
      as(USER.alice, (tx) => transferOwnership(tx, { organizationId: ORG.acme, newOwnerId: "bob" })),
      ValidationError,
      undefined,
    );
  });
});

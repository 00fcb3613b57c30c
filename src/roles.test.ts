/**
 * Organization-defined roles through the typed layer, as the seed's personas:
 * owners and admins (roles.manage) define roles from the permissions they
 * hold, below their own rank; members list the roles of their organization
 * (never another's); a role's holders gain and lose its permissions from the
 * next statement; deleting a role in use needs a replacement.
 */
import { describe, expect, it } from "vitest";
import { expectError } from "../tests/support/errors.ts";
import { useOrgDb } from "../tests/support/orgdb.ts";
import { ORG, USER } from "../tests/support/personas.ts";
import { ConflictError, ForbiddenError, InvariantError, NotFoundError, ValidationError } from "./errors.ts";
import { authorize, createRole, deleteRole, listMembers, listRoles, setMemberRoles, updateRole } from "./members.ts";

const suite = useOrgDb();
const { as } = suite;

describe("organization-defined roles", () => {
  it("an admin defines a role below her rank; members of the organization list it, others do not", async () => {
    const id = await as(USER.bob, (tx) =>
      createRole(tx, {
        organizationId: ORG.acme,
        key: "auditor",
        name: "Auditor",
        rank: 25,
        permissions: ["audit.read", "clients.read"],
      }),
    );
    const acme = await as(USER.erin, (tx) => listRoles(tx, { organizationId: ORG.acme }));
    expect(acme.map((r) => r.key)).toEqual(["owner", "admin", "manager", "auditor", "member", "viewer"]);
    expect(acme.find((r) => r.id === id)).toMatchObject({
      organizationId: ORG.acme,
      rank: 25,
      permissions: ["audit.read", "clients.read"],
    });
    const globex = await as(USER.heidi, (tx) => listRoles(tx, { organizationId: ORG.acme }));
    expect(globex.map((r) => r.key)).toEqual(["owner", "admin", "manager", "member", "viewer"]);
  });

  it("escalation is refused: a permission the admin lacks, an owner-only permission, a rank at her own", async () => {
    await expectError(
      as(USER.bob, (tx) =>
        createRole(tx, {
          organizationId: ORG.acme,
          key: "wrecker",
          name: "W",
          rank: 10,
          permissions: ["organization.delete"],
        }),
      ),
      ForbiddenError,
      "42501",
    );
    const e = await expectError(
      as(USER.bob, (tx) =>
        createRole(tx, { organizationId: ORG.acme, key: "hr", name: "HR", rank: 10, permissions: ["members.manage"] }),
      ),
      ForbiddenError,
      "42501",
    );
    expect(e.rule).toBe("only-owners-give-permission");
    await expectError(
      as(USER.bob, (tx) =>
        createRole(tx, { organizationId: ORG.acme, key: "peer", name: "P", rank: 40, permissions: [] }),
      ),
      ForbiddenError,
      "42501",
    );
    await expectError(
      as(USER.carol, (tx) =>
        createRole(tx, { organizationId: ORG.acme, key: "helper", name: "H", rank: 5, permissions: [] }),
      ),
      ForbiddenError,
      "42501",
    );
    await expectError(
      as(USER.frank, (tx) =>
        createRole(tx, { organizationId: ORG.acme, key: "spy", name: "S", rank: 5, permissions: [] }),
      ),
      NotFoundError,
      "P0002",
    );
  });

  it("bad input is ValidationError before the database; an unknown permission, from the database", async () => {
    const bad: unknown[] = [
      { organizationId: ORG.acme, key: "admin", name: "A", rank: 10, permissions: [] },
      { organizationId: ORG.acme, key: "Bad Key", name: "A", rank: 10, permissions: [] },
      { organizationId: ORG.acme, key: "ok_key", name: " ", rank: 10, permissions: [] },
      { organizationId: ORG.acme, key: "ok_key", name: "A", rank: 50, permissions: [] },
      { organizationId: ORG.acme, key: "ok_key", name: "A", rank: 0, permissions: [] },
      { organizationId: ORG.acme, key: "ok_key", name: "A", rank: 10, permissions: ["Clients.Steal"] },
      { organizationId: ORG.acme, key: "ok_key", name: "A", rank: 10, permissions: ["clients.read", "clients.read"] },
      { organizationId: "acme", key: "ok_key", name: "A", rank: 10, permissions: [] },
    ];
    for (const input of bad) {
      await expectError(
        as(USER.alice, (tx) => createRole(tx, input as never)),
        ValidationError,
        undefined,
      );
    }
    // A well-formed key the catalog lacks (the catalog is extensible): the database's answer.
    await expectError(
      as(USER.alice, (tx) =>
        createRole(tx, {
          organizationId: ORG.acme,
          key: "ok_key",
          name: "A",
          rank: 10,
          permissions: ["clients.steal"],
        }),
      ),
      ValidationError,
      "22023",
    );
    await expectError(
      as(USER.alice, (tx) => updateRole(tx, { roleId: ORG.acme })),
      ValidationError,
      undefined,
    );
  });

  it("a holder gains and loses the role's permissions on the next statement; deletion in use needs a replacement", async () => {
    const id = await as(USER.alice, (tx) =>
      createRole(tx, {
        organizationId: ORG.acme,
        key: "billing",
        name: "Billing",
        rank: 15,
        permissions: ["clients.read"],
      }),
    );
    await as(USER.bob, (tx) =>
      setMemberRoles(tx, { organizationId: ORG.acme, userId: USER.dave, roles: ["member", "billing"] }),
    );
    expect(await as(USER.dave, (tx) => authorize(tx, { organizationId: ORG.acme, permission: "clients.read" }))).toBe(
      true,
    );
    const members = await as(USER.dave, (tx) => listMembers(tx, { organizationId: ORG.acme }));
    expect(members.find((m) => m.userId === USER.dave)?.roles).toEqual(["member", "billing"]);

    await as(USER.bob, (tx) => updateRole(tx, { roleId: id, permissions: ["clients.create"] }));
    expect(await as(USER.dave, (tx) => authorize(tx, { organizationId: ORG.acme, permission: "clients.read" }))).toBe(
      false,
    );

    const inUse = await expectError(
      as(USER.bob, (tx) => deleteRole(tx, { roleId: id })),
      InvariantError,
      "P0001",
    );
    expect(inUse.message).toBe("role in use: held by 1 member(s) and named by 0 pending invitation(s)");
    expect(inUse.rule).toBe("role-in-use");
    const viewerId = (await as(USER.bob, (tx) => listRoles(tx, { organizationId: ORG.acme }))).find(
      (r) => r.key === "viewer",
    )!.id;
    await as(USER.bob, (tx) => deleteRole(tx, { roleId: id, replacementRoleId: viewerId }));
    const after = await as(USER.dave, (tx) => listMembers(tx, { organizationId: ORG.acme }));
    expect(after.find((m) => m.userId === USER.dave)?.roles).toEqual(["member", "viewer"]);
    await expectError(
      as(USER.bob, (tx) => deleteRole(tx, { roleId: id })),
      NotFoundError,
      "P0002",
    );
  });

  it("a key is unique in its organization (ConflictError); the same key elsewhere is another role", async () => {
    await as(USER.alice, (tx) =>
      createRole(tx, { organizationId: ORG.acme, key: "support", name: "Support", rank: 12, permissions: [] }),
    );
    await expectError(
      as(USER.alice, (tx) =>
        createRole(tx, { organizationId: ORG.acme, key: "support", name: "Again", rank: 12, permissions: [] }),
      ),
      ConflictError,
      "23505",
    );
    await as(USER.frank, (tx) =>
      createRole(tx, { organizationId: ORG.globex, key: "support", name: "Support", rank: 12, permissions: [] }),
    );
    const keys = (await as(USER.frank, (tx) => listRoles(tx, { organizationId: ORG.globex }))).filter(
      (r) => r.organizationId !== null,
    );
    expect(keys.map((r) => [r.key, r.organizationId])).toEqual([["support", ORG.globex]]);
  });
});

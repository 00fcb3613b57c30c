/**
 * Organizations through the typed layer, as the seed's personas: a user sees
 * exactly the organizations they belong to (with their roles there), creating
 * one makes the caller its owner, only holders of organization.update rename
 * it and only owners delete it; refusals are typed errors carrying the
 * Postgres code, and bad input is refused before the database.
 */
import { describe, expect, it } from "vitest";
import { expectError } from "../tests/support/errors.ts";
import { useOrgDb } from "../tests/support/orgdb.ts";
import { ORG, USER } from "../tests/support/personas.ts";
import { createClient } from "./clients.ts";
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from "./errors.ts";
import {
  createOrganization,
  deleteOrganization,
  getOrganization,
  listMyOrganizations,
  updateOrganization,
} from "./organizations.ts";

const suite = useOrgDb();
const { test, as } = suite;

async function countOrganizations(): Promise<number> {
  const [row] = await test.sql<{ n: number }[]>`select count(*)::int as n from public.organizations`;
  return row!.n;
}

async function acmeRow() {
  const [row] = await test.sql<
    { name: string; slug: string }[]
  >`select name, slug from public.organizations where id = ${ORG.acme}`;
  return row;
}

describe("listMyOrganizations", () => {
  it("a user in two organizations gets both, by name, each with the roles held there", async () => {
    const orgs = await as(USER.mallory, (tx) => listMyOrganizations(tx));
    expect(orgs.map((o) => ({ id: o.id, name: o.name, slug: o.slug, roles: o.roles }))).toEqual([
      { id: ORG.acme, name: "Acme Corporation", slug: "acme", roles: ["member"] },
      { id: ORG.globex, name: "Globex", slug: "globex", roles: ["viewer"] },
    ]);
    expect(typeof orgs[0]!.createdAt).toBe("string");
  });

  it("several roles in one organization come highest first", async () => {
    const orgs = await as(USER.grace, (tx) => listMyOrganizations(tx));
    expect(orgs.map((o) => [o.id, o.roles])).toEqual([[ORG.globex, ["admin", "manager"]]]);
  });

  it("each seeded persona sees only their own organization", async () => {
    expect((await as(USER.alice, (tx) => listMyOrganizations(tx))).map((o) => [o.slug, o.roles])).toEqual([
      ["acme", ["owner"]],
    ]);
    expect((await as(USER.erin, (tx) => listMyOrganizations(tx))).map((o) => [o.slug, o.roles])).toEqual([
      ["acme", ["viewer"]],
    ]);
    expect((await as(USER.judy, (tx) => listMyOrganizations(tx))).map((o) => [o.slug, o.roles])).toEqual([
      ["initech", ["manager"]],
    ]);
  });

  it("a signed-up user with no organization gets an empty list", async () => {
    expect(await as(USER.nora, (tx) => listMyOrganizations(tx))).toEqual([]);
  });
});

describe("getOrganization", () => {
  it("every member, whatever the role, gets their organization", async () => {
    for (const user of [USER.alice, USER.bob, USER.carol, USER.dave, USER.erin, USER.mallory]) {
      const org = await as(user, (tx) => getOrganization(tx, { organizationId: ORG.acme }));
      expect(org).toMatchObject({ id: ORG.acme, name: "Acme Corporation", slug: "acme" });
    }
  });

  it("an organization one does not belong to is NotFoundError (P0002), like one that does not exist", async () => {
    await expectError(
      as(USER.frank, (tx) => getOrganization(tx, { organizationId: ORG.acme })),
      NotFoundError,
      "P0002",
    );
    await expectError(
      as(USER.nora, (tx) => getOrganization(tx, { organizationId: ORG.initech })),
      NotFoundError,
      "P0002",
    );
    await expectError(
      as(USER.alice, (tx) => getOrganization(tx, { organizationId: "10000000-0000-4000-8000-0000000000ff" })),
      NotFoundError,
      "P0002",
    );
  });

  it("an id that is not a uuid is ValidationError before the database", async () => {
    const error = await expectError(
      as(USER.alice, (tx) => getOrganization(tx, { organizationId: "acme" })),
      ValidationError,
      undefined,
    );
    expect(error.issues.length).toBeGreaterThan(0);
  });
});

describe("createOrganization", () => {
  it("creates the organization and makes the caller its only member, as owner", async () => {
    const org = await as(USER.nora, (tx) =>
      createOrganization(tx, { name: "  Nora's Bakery  ", slug: "noras-bakery" }),
    );
    expect(org).toMatchObject({ name: "Nora's Bakery", slug: "noras-bakery" });
    const mine = await as(USER.nora, (tx) => listMyOrganizations(tx));
    expect(mine.map((o) => [o.id, o.roles])).toEqual([[org.id, ["owner"]]]);
    const members = await test.sql<{ user_id: string; role: string }[]>`
      select ur.user_id, r.key as role from public.user_roles ur join public.roles r on r.id = ur.role_id
      where ur.organization_id = ${org.id}`;
    expect(members).toEqual([{ user_id: USER.nora, role: "owner" }]);
    // Nobody else sees it.
    await expectError(
      as(USER.alice, (tx) => getOrganization(tx, { organizationId: org.id })),
      NotFoundError,
      "P0002",
    );
  });

  it("a slug already taken is ConflictError 23505 naming the constraint, and nothing is written", async () => {
    const n = await countOrganizations();
    const error = await expectError(
      as(USER.nora, (tx) => createOrganization(tx, { name: "Acme again", slug: "acme" })),
      ConflictError,
      "23505",
    );
    expect(error.constraint).toBe("organizations_slug_key");
    expect(await countOrganizations()).toBe(n);
    expect((await as(USER.nora, (tx) => listMyOrganizations(tx))).map((o) => o.slug)).toEqual(["noras-bakery"]);
  });

  it("a bad slug or name is ValidationError before the database, and nothing is written", async () => {
    const n = await countOrganizations();
    const bad = [
      { name: "Ok", slug: "Acme" },
      { name: "Ok", slug: "ab" },
      { name: "Ok", slug: "-abc" },
      { name: "Ok", slug: "abc-" },
      { name: "Ok", slug: "a b c" },
      { name: "Ok", slug: "über" },
      { name: "Ok", slug: "a".repeat(64) },
      { name: "", slug: "fine-slug" },
      { name: "   ", slug: "fine-slug" },
      { name: "x".repeat(101), slug: "fine-slug" },
      { name: "Ok" },
    ];
    for (const input of bad) {
      const error = await expectError(
        as(USER.nora, (tx) => createOrganization(tx, input as never)),
        ValidationError,
        undefined,
      );
      expect(error.issues.length).toBeGreaterThan(0);
    }
    expect(await countOrganizations()).toBe(n);
  });

  it("an anonymous caller cannot create an organization: ForbiddenError 42501", async () => {
    const n = await countOrganizations();
    await expectError(
      suite.db.asUser({ sub: USER.nora, role: "anon" }, (tx) =>
        createOrganization(tx, { name: "Anon Inc", slug: "anon-inc" }),
      ),
      ForbiddenError,
      "42501",
    );
    expect(await countOrganizations()).toBe(n);
  });
});

describe("updateOrganization", () => {
  it("an admin (organization.update) renames the organization; updated_at moves", async () => {
    const before = await as(USER.bob, (tx) => getOrganization(tx, { organizationId: ORG.acme }));
    const updated = await as(USER.bob, (tx) =>
      updateOrganization(tx, { organizationId: ORG.acme, name: "Acme Corp." }),
    );
    expect(updated).toMatchObject({ id: ORG.acme, name: "Acme Corp.", slug: "acme" });
    expect(new Date(updated.updatedAt).getTime()).toBeGreaterThan(new Date(before.updatedAt).getTime());
    expect(await acmeRow()).toEqual({ name: "Acme Corp.", slug: "acme" });
  });

  it("the owner changes name and slug together", async () => {
    const updated = await as(USER.alice, (tx) =>
      updateOrganization(tx, { organizationId: ORG.acme, name: "Acme Corporation", slug: "acme-corp" }),
    );
    expect(updated).toMatchObject({ name: "Acme Corporation", slug: "acme-corp" });
    await as(USER.alice, (tx) => updateOrganization(tx, { organizationId: ORG.acme, slug: "acme" }));
    expect(await acmeRow()).toEqual({ name: "Acme Corporation", slug: "acme" });
  });

  it("a member without organization.update (manager, member, viewer) gets ForbiddenError 42501, nothing changes", async () => {
    for (const user of [USER.carol, USER.dave, USER.erin, USER.mallory]) {
      await expectError(
        as(user, (tx) => updateOrganization(tx, { organizationId: ORG.acme, name: "Taken over" })),
        ForbiddenError,
        "42501",
      );
    }
    expect(await acmeRow()).toEqual({ name: "Acme Corporation", slug: "acme" });
  });

  it("a non-member, even an owner elsewhere, gets NotFoundError (P0002), nothing changes", async () => {
    await expectError(
      as(USER.frank, (tx) => updateOrganization(tx, { organizationId: ORG.acme, name: "Globex's" })),
      NotFoundError,
      "P0002",
    );
    await expectError(
      as(USER.nora, (tx) => updateOrganization(tx, { organizationId: ORG.acme, name: "Nora's" })),
      NotFoundError,
      "P0002",
    );
    expect(await acmeRow()).toEqual({ name: "Acme Corporation", slug: "acme" });
  });

  it("a slug taken by another organization is ConflictError 23505", async () => {
    const error = await expectError(
      as(USER.bob, (tx) => updateOrganization(tx, { organizationId: ORG.acme, slug: "globex" })),
      ConflictError,
      "23505",
    );
    expect(error.constraint).toBe("organizations_slug_key");
    expect(await acmeRow()).toEqual({ name: "Acme Corporation", slug: "acme" });
  });

  it("an empty or invalid patch is ValidationError before the database", async () => {
    for (const patch of [{}, { slug: "Not A Slug" }, { name: "" }, { name: "x".repeat(101) }]) {
      await expectError(
        as(USER.alice, (tx) => updateOrganization(tx, { organizationId: ORG.acme, ...patch })),
        ValidationError,
        undefined,
      );
    }
    await expectError(
      as(USER.alice, (tx) => updateOrganization(tx, { organizationId: "acme", name: "Acme" })),
      ValidationError,
      undefined,
    );
    expect(await acmeRow()).toEqual({ name: "Acme Corporation", slug: "acme" });
  });
});

describe("deleteOrganization", () => {
  it("only an owner deletes: admin, manager, member, viewer get ForbiddenError 42501; the organization stays", async () => {
    for (const user of [USER.bob, USER.carol, USER.dave, USER.erin]) {
      await expectError(
        as(user, (tx) => deleteOrganization(tx, { organizationId: ORG.acme })),
        ForbiddenError,
        "42501",
      );
    }
    await expectError(
      as(USER.grace, (tx) => deleteOrganization(tx, { organizationId: ORG.globex })),
      ForbiddenError,
      "42501",
    );
    expect(await acmeRow()).toEqual({ name: "Acme Corporation", slug: "acme" });
  });

  it("a non-member gets NotFoundError (P0002)", async () => {
    await expectError(
      as(USER.frank, (tx) => deleteOrganization(tx, { organizationId: ORG.acme })),
      NotFoundError,
      "P0002",
    );
    await expectError(
      as(USER.nora, (tx) => deleteOrganization(tx, { organizationId: ORG.initech })),
      NotFoundError,
      "P0002",
    );
    const [row] = await test.sql<
      { n: number }[]
    >`select count(*)::int as n from public.organizations where id in (${ORG.acme}, ${ORG.initech})`;
    expect(row!.n).toBe(2);
  });

  it("the owner deletes the organization with its memberships, roles and clients", async () => {
    const org = await as(USER.nora, (tx) => createOrganization(tx, { name: "Short Lived", slug: "short-lived" }));
    const created = await as(USER.nora, (tx) => createClient(tx, { organizationId: org.id, name: "Doomed client" }));
    await as(USER.nora, (tx) => deleteOrganization(tx, { organizationId: org.id }));
    await expectError(
      as(USER.nora, (tx) => getOrganization(tx, { organizationId: org.id })),
      NotFoundError,
      "P0002",
    );
    const [row] = await test.sql<{ orgs: number; members: number; roles: number; clients: number }[]>`
      select (select count(*)::int from public.organizations where id = ${org.id}) as orgs,
             (select count(*)::int from public.organization_users where organization_id = ${org.id}) as members,
             (select count(*)::int from public.user_roles where organization_id = ${org.id}) as roles,
             (select count(*)::int from public.clients where id = ${created.id}) as clients`;
    expect(row).toEqual({ orgs: 0, members: 0, roles: 0, clients: 0 });
    expect((await as(USER.nora, (tx) => listMyOrganizations(tx))).map((o) => o.slug)).toEqual(["noras-bakery"]);
  });

  it("deleting twice is NotFoundError; a bad id is ValidationError", async () => {
    const org = await as(USER.nora, (tx) => createOrganization(tx, { name: "Twice", slug: "twice" }));
    await as(USER.nora, (tx) => deleteOrganization(tx, { organizationId: org.id }));
    await expectError(
      as(USER.nora, (tx) => deleteOrganization(tx, { organizationId: org.id })),
      NotFoundError,
      "P0002",
    );
    await expectError(
      as(USER.nora, (tx) => deleteOrganization(tx, { organizationId: "twice" })),
      ValidationError,
      undefined,
    );
  });
});

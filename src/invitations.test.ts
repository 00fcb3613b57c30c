/**
 * Invitations through the typed layer, as the seed's personas: only holders
 * of members.manage invite (never above their own rank), list and revoke; the
 * token is returned once and only its hash is stored, never exposed; only a
 * signed-in user with the invited email accepts, once, before expiry.
 */
import { createHash, randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { expectError } from "../tests/support/errors.ts";
import { useOrgDb } from "../tests/support/orgdb.ts";
import { ORG, USER } from "../tests/support/personas.ts";
import { ConflictError, ForbiddenError, InvariantError, NotFoundError, ValidationError } from "./errors.ts";
import {
  acceptInvitation,
  inviteMember,
  listPendingInvitations,
  revokeInvitation,
  type InviteInput,
} from "./invitations.ts";
import { listMembers } from "./members.ts";
import { listMyOrganizations } from "./organizations.ts";
import { invitations } from "./schema/index.ts";

const suite = useOrgDb();
const { test, as } = suite;

/** The seed's pending invitation to Acme (pat@example.com, member) and expired one to Globex (quinn@example.com). */
const SEED = {
  pat: { id: "30000000-0000-4000-8000-000000000001", token: "demo-invitation-token-for-pat-0001" },
  quinn: { id: "30000000-0000-4000-8000-000000000002", token: "demo-invitation-token-for-quinn-0002" },
};

/** Sign up a user with this email: insert into auth.users as the superuser; the profile trigger creates public.users. */
async function signUp(email: string): Promise<string> {
  const id = randomUUID();
  await test.sql`insert into auth.users (id, email, email_confirmed_at) values (${id}, ${email}, now())`;
  return id;
}

async function invitationRow(id: string) {
  const [row] = await test.sql<
    {
      email: string;
      role: string;
      token_hash: Buffer;
      invited_by: string | null;
      accepted_at: Date | null;
      accepted_by: string | null;
      revoked_at: Date | null;
      expires_at: Date;
    }[]
  >`select i.email, r.key as role, i.token_hash, i.invited_by, i.accepted_at, i.accepted_by, i.revoked_at, i.expires_at
    from public.invitations i join public.roles r on r.id = i.role_id where i.id = ${id}`;
  return row!;
}

async function countInvitations(): Promise<number> {
  const [row] = await test.sql<{ n: number }[]>`select count(*)::int as n from public.invitations`;
  return row!.n;
}

const invite = (user: string, input: InviteInput) => as(user, (tx) => inviteMember(tx, input));
const accept = (user: string, token: string) => as(user, (tx) => acceptInvitation(tx, { token }));
const pendingIds = async (user: string, organizationId: string) =>
  (await as(user, (tx) => listPendingInvitations(tx, { organizationId }))).map((i) => i.id);

describe("listPendingInvitations", () => {
  it("an admin or owner lists the organization's pending invitations; expired ones are left out", async () => {
    expect(await pendingIds(USER.bob, ORG.acme)).toEqual([SEED.pat.id]);
    expect(await pendingIds(USER.alice, ORG.acme)).toEqual([SEED.pat.id]);
    // Globex's only invitation (quinn) has expired.
    expect(await pendingIds(USER.frank, ORG.globex)).toEqual([]);
  });

  it("never exposes a token hash: the rows have no such field, and selecting the column is refused", async () => {
    const rows = await as(USER.bob, (tx) => listPendingInvitations(tx, { organizationId: ORG.acme }));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      id: SEED.pat.id,
      organizationId: ORG.acme,
      email: "pat@example.com",
      invitedBy: USER.bob,
      acceptedAt: null,
      revokedAt: null,
    });
    for (const row of rows) {
      expect(Object.keys(row)).not.toContain("tokenHash");
      expect(Object.keys(row)).not.toContain("token_hash");
    }
    const hash = (await invitationRow(SEED.pat.id)).token_hash.toString("hex");
    expect(JSON.stringify(rows)).not.toContain(hash);
    // The database refuses the column to signed-in users whatever the query.
    await expectError(
      as(USER.alice, (tx) => tx.select().from(invitations)),
      ForbiddenError,
      "42501",
    );
  });

  it("members without members.manage, and non-members, get an empty list", async () => {
    for (const user of [USER.carol, USER.dave, USER.erin, USER.mallory, USER.frank, USER.nora]) {
      expect(await pendingIds(user, ORG.acme)).toEqual([]);
    }
  });

  it("an organization id that is not a uuid is ValidationError before the database", async () => {
    await expectError(
      as(USER.bob, (tx) => listPendingInvitations(tx, { organizationId: "acme" })),
      ValidationError,
      undefined,
    );
  });
});

describe("inviteMember", () => {
  it("an admin invites: an id, a 256-bit url-safe token shown once (only its SHA-256 stored), expiry in 7 days", async () => {
    const before = Date.now();
    const issued = await invite(USER.bob, {
      organizationId: ORG.acme,
      email: "  New.Hire@Example.com ",
      role: "member",
    });
    expect(issued.invitationId).toMatch(/^[0-9a-f-]{36}$/);
    expect(issued.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const expires = new Date(issued.expiresAt).getTime();
    expect(expires).toBeGreaterThan(before + 7 * 86_400_000 - 60_000);
    expect(expires).toBeLessThan(Date.now() + 7 * 86_400_000 + 60_000);
    const row = await invitationRow(issued.invitationId);
    expect(row).toMatchObject({
      email: "new.hire@example.com",
      role: "member",
      invited_by: USER.bob,
      accepted_at: null,
      revoked_at: null,
    });
    expect(row.token_hash.equals(createHash("sha256").update(issued.token).digest())).toBe(true);
    const [stored] = await test.sql<{ n: number }[]>`
      select count(*)::int as n from public.invitations i where position(${issued.token}::bytea in i.token_hash) > 0`;
    expect(stored!.n).toBe(0);
    // Newest first in the pending list.
    expect(await pendingIds(USER.bob, ORG.acme)).toEqual([issued.invitationId, SEED.pat.id]);
  });

  it("expiresInHours sets the validity", async () => {
    const issued = await invite(USER.alice, {
      organizationId: ORG.acme,
      email: "short@example.com",
      role: "viewer",
      expiresInHours: 2,
    });
    const hours = (new Date(issued.expiresAt).getTime() - Date.now()) / 3_600_000;
    expect(hours).toBeGreaterThan(1.9);
    expect(hours).toBeLessThanOrEqual(2);
  });

  it("inviting the same email again replaces the pending invitation", async () => {
    const first = await invite(USER.bob, { organizationId: ORG.acme, email: "twice@example.com", role: "viewer" });
    const second = await invite(USER.bob, { organizationId: ORG.acme, email: "TWICE@example.com", role: "member" });
    expect((await invitationRow(first.invitationId)).revoked_at).not.toBeNull();
    const pending = await as(USER.bob, (tx) => listPendingInvitations(tx, { organizationId: ORG.acme }));
    expect(pending.filter((i) => i.email === "twice@example.com").map((i) => i.id)).toEqual([second.invitationId]);
    const invitee = await signUp("twice@example.com");
    await expectError(accept(invitee, first.token), InvariantError, "P0001");
    expect(await accept(invitee, second.token)).toBe(ORG.acme);
  });

  it("an admin cannot invite with owner: ForbiddenError 42501; an owner can", async () => {
    const n = await countInvitations();
    await expectError(
      invite(USER.bob, { organizationId: ORG.acme, email: "boss@example.com", role: "owner" }),
      ForbiddenError,
      "42501",
    );
    expect(await countInvitations()).toBe(n);
    const issued = await invite(USER.alice, { organizationId: ORG.acme, email: "boss@example.com", role: "owner" });
    expect((await invitationRow(issued.invitationId)).role).toBe("owner");
  });

  it("members without members.manage get ForbiddenError 42501; non-members NotFoundError (P0002); nothing written", async () => {
    const n = await countInvitations();
    for (const user of [USER.carol, USER.dave, USER.erin]) {
      await expectError(
        invite(user, { organizationId: ORG.acme, email: "sneaky@example.com", role: "viewer" }),
        ForbiddenError,
        "42501",
      );
    }
    await expectError(
      invite(USER.frank, { organizationId: ORG.acme, email: "sneaky@example.com", role: "viewer" }),
      NotFoundError,
      "P0002",
    );
    await expectError(
      invite(USER.nora, { organizationId: ORG.acme, email: "sneaky@example.com", role: "viewer" }),
      NotFoundError,
      "P0002",
    );
    expect(await countInvitations()).toBe(n);
  });

  it("inviting someone who is already a member is ConflictError 23505 (email compared case-insensitively)", async () => {
    await expectError(
      invite(USER.bob, { organizationId: ORG.acme, email: "Dave@ACME.example", role: "viewer" }),
      ConflictError,
      "23505",
    );
  });

  it("bad input is ValidationError before the database: email, role, validity, organization id; nothing written", async () => {
    const n = await countInvitations();
    const bad: unknown[] = [
      { organizationId: ORG.acme, email: "not-an-email", role: "member" },
      { organizationId: ORG.acme, email: "a b@example.com", role: "member" },
      { organizationId: ORG.acme, email: "x@example.com", role: "Super User" },
      { organizationId: ORG.acme, email: "x@example.com", role: "member", expiresInHours: 0 },
      { organizationId: ORG.acme, email: "x@example.com", role: "member", expiresInHours: 24 * 30 + 1 },
      { organizationId: ORG.acme, email: "x@example.com", role: "member", expiresInHours: 1.5 },
      { organizationId: "acme", email: "x@example.com", role: "member" },
    ];
    for (const input of bad) {
      const error = await expectError(invite(USER.alice, input as InviteInput), ValidationError, undefined);
      expect(error.issues.length).toBeGreaterThan(0);
    }
    expect(await countInvitations()).toBe(n);
  });
});

describe("acceptInvitation", () => {
  it("round trip: invite, sign up with that email (any case), accept; the invitee is a member with the invited role", async () => {
    const issued = await invite(USER.bob, { organizationId: ORG.acme, email: "joiner@example.com", role: "manager" });
    const joiner = await signUp("Joiner@Example.COM");
    expect(await accept(joiner, issued.token)).toBe(ORG.acme);
    const mine = await as(joiner, (tx) => listMyOrganizations(tx));
    expect(mine.map((o) => [o.id, o.roles])).toEqual([[ORG.acme, ["manager"]]]);
    expect(
      (await as(USER.erin, (tx) => listMembers(tx, { organizationId: ORG.acme }))).find((m) => m.userId === joiner)
        ?.roles,
    ).toEqual(["manager"]);
    const row = await invitationRow(issued.invitationId);
    expect(row.accepted_by).toBe(joiner);
    expect(row.accepted_at).not.toBeNull();
    expect(await pendingIds(USER.bob, ORG.acme)).not.toContain(issued.invitationId);
  });

  it("the seed's demo invitation admits pat once pat signs up", async () => {
    const pat = await signUp("pat@example.com");
    expect(await accept(pat, SEED.pat.token)).toBe(ORG.acme);
    expect((await as(pat, (tx) => listMyOrganizations(tx))).map((o) => [o.slug, o.roles])).toEqual([
      ["acme", ["member"]],
    ]);
  });

  it("a signed-in user with another email cannot accept: ForbiddenError 42501; the invitation stays pending for its invitee", async () => {
    const issued = await invite(USER.bob, { organizationId: ORG.acme, email: "rightful@example.com", role: "viewer" });
    const intruder = await signUp("intruder@example.com");
    await expectError(accept(intruder, issued.token), ForbiddenError, "42501");
    await expectError(accept(USER.nora, issued.token), ForbiddenError, "42501");
    expect(await as(intruder, (tx) => listMyOrganizations(tx))).toEqual([]);
    expect(await pendingIds(USER.bob, ORG.acme)).toContain(issued.invitationId);
    const rightful = await signUp("rightful@example.com");
    expect(await accept(rightful, issued.token)).toBe(ORG.acme);
  });

  it("an invitation is single use: accepting it again is InvariantError P0001", async () => {
    const issued = await invite(USER.bob, { organizationId: ORG.acme, email: "once@example.com", role: "viewer" });
    const once = await signUp("once@example.com");
    await accept(once, issued.token);
    const error = await expectError(accept(once, issued.token), InvariantError, "P0001");
    expect(error.message).toMatch(/used/);
    await expectError(accept(USER.nora, issued.token), InvariantError, "P0001");
  });

  it("an expired invitation is InvariantError P0001 and admits nobody", async () => {
    const quinn = await signUp("quinn@example.com");
    const error = await expectError(accept(quinn, SEED.quinn.token), InvariantError, "P0001");
    expect(error.message).toMatch(/expired/);
    expect(await as(quinn, (tx) => listMyOrganizations(tx))).toEqual([]);
  });

  it("a token no invitation has is NotFoundError (P0002); a malformed one is ValidationError before the database", async () => {
    await expectError(accept(USER.nora, "A".repeat(43)), NotFoundError, "P0002");
    for (const token of ["", "short", "has spaces in it!!", "x".repeat(201)]) {
      await expectError(accept(USER.nora, token), ValidationError, undefined);
    }
  });

  it("an invitee who already became a member is ConflictError 23505", async () => {
    const issued = await invite(USER.bob, { organizationId: ORG.acme, email: "early@example.com", role: "viewer" });
    const early = await signUp("early@example.com");
    await test.sql.begin(async (sql) => {
      await sql`insert into public.organization_users (organization_id, user_id) values (${ORG.acme}, ${early})`;
      await sql`insert into public.user_roles (organization_id, user_id, role_id) select ${ORG.acme}, ${early}, id from public.roles where key = 'member'`;
    });
    await expectError(accept(early, issued.token), ConflictError, "23505");
  });
});

describe("revokeInvitation", () => {
  it("an admin revokes a pending invitation: it leaves the pending list and can no longer be accepted (InvariantError P0001)", async () => {
    const issued = await invite(USER.bob, { organizationId: ORG.acme, email: "revoked@example.com", role: "member" });
    await as(USER.bob, (tx) => revokeInvitation(tx, { invitationId: issued.invitationId }));
    expect(await pendingIds(USER.bob, ORG.acme)).not.toContain(issued.invitationId);
    const invitee = await signUp("revoked@example.com");
    const error = await expectError(accept(invitee, issued.token), InvariantError, "P0001");
    expect(error.message).toMatch(/revoked/);
    // Revoking again changes nothing.
    const before = (await invitationRow(issued.invitationId)).revoked_at;
    await as(USER.bob, (tx) => revokeInvitation(tx, { invitationId: issued.invitationId }));
    expect((await invitationRow(issued.invitationId)).revoked_at).toEqual(before);
  });

  it("an admin cannot revoke an invitation for owner: ForbiddenError 42501", async () => {
    const issued = await invite(USER.alice, {
      organizationId: ORG.acme,
      email: "next-owner@example.com",
      role: "owner",
    });
    await expectError(
      as(USER.bob, (tx) => revokeInvitation(tx, { invitationId: issued.invitationId })),
      ForbiddenError,
      "42501",
    );
    expect((await invitationRow(issued.invitationId)).revoked_at).toBeNull();
    await as(USER.alice, (tx) => revokeInvitation(tx, { invitationId: issued.invitationId }));
    expect((await invitationRow(issued.invitationId)).revoked_at).not.toBeNull();
  });

  it("members without members.manage get ForbiddenError 42501; non-members and unknown ids NotFoundError (P0002)", async () => {
    const issued = await invite(USER.bob, { organizationId: ORG.acme, email: "kept@example.com", role: "viewer" });
    for (const user of [USER.carol, USER.dave, USER.erin]) {
      await expectError(
        as(user, (tx) => revokeInvitation(tx, { invitationId: issued.invitationId })),
        ForbiddenError,
        "42501",
      );
    }
    await expectError(
      as(USER.frank, (tx) => revokeInvitation(tx, { invitationId: issued.invitationId })),
      NotFoundError,
      "P0002",
    );
    await expectError(
      as(USER.bob, (tx) => revokeInvitation(tx, { invitationId: randomUUID() })),
      NotFoundError,
      "P0002",
    );
    expect((await invitationRow(issued.invitationId)).revoked_at).toBeNull();
  });

  it("an accepted invitation cannot be revoked: InvariantError P0001", async () => {
    const issued = await invite(USER.bob, { organizationId: ORG.acme, email: "accepted@example.com", role: "viewer" });
    await accept(await signUp("accepted@example.com"), issued.token);
    await expectError(
      as(USER.bob, (tx) => revokeInvitation(tx, { invitationId: issued.invitationId })),
      InvariantError,
      "P0001",
    );
  });

  it("an id that is not a uuid is ValidationError before the database", async () => {
    await expectError(
      as(USER.bob, (tx) => revokeInvitation(tx, { invitationId: "inv-1" })),
      ValidationError,
      undefined,
    );
  });
});

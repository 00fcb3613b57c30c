/**
 * Bad input to the invitation helpers (SPEC §9): for arbitrary inputs, as
 * random personas, every exported function of src/invitations.ts resolves or
 * rejects with a typed error, and a rejected call writes nothing.
 *
 * Besides the seed's invitations (pending for pat, who has no account;
 * expired for quinn), the suite issues invitations in every state first:
 * pending for existing users (accepting succeeds, and is undone), for an
 * owner role, revoked, and already used. Valid tokens are those, or
 * well-formed tokens that match nothing.
 */
import fc from "fast-check";
import { beforeAll } from "vitest";
import { acceptInvitation, inviteMember, listPendingInvitations, revokeInvitation } from "../../src/invitations.ts";
import type { RoleKey } from "../../src/schema/rules.ts";
import { useOrgDb } from "../support/orgdb.ts";
import { ORG, USER } from "../support/personas.ts";
import { count, email, id, junk, orgIds, role, SEED_INVITATION, SEED_TOKEN, shape, type Field } from "./arbitraries.ts";
import { propertiesOf } from "./support.ts";

const suite = useOrgDb();

const tokens: string[] = Object.values(SEED_TOKEN);
const invitationIds: string[] = Object.values(SEED_INVITATION);

beforeAll(async () => {
  const issue = async (inviter: string, organizationId: string, address: string, roleKey: RoleKey) => {
    const issued = await suite.db.asUser(inviter, (tx) =>
      inviteMember(tx, { organizationId, email: address, role: roleKey }),
    );
    tokens.push(issued.token);
    invitationIds.push(issued.invitationId);
    return issued;
  };
  await issue(USER.alice, ORG.acme, "nora@example.com", "member");
  await issue(USER.frank, ORG.globex, "dave@acme.example", "viewer");
  await issue(USER.ivan, ORG.initech, "mallory@example.com", "owner");
  await issue(USER.bob, ORG.acme, "heidi@globex.example", "admin");
  const revoked = await issue(USER.alice, ORG.acme, "gone@example.com", "viewer");
  await suite.db.asUser(USER.alice, (tx) => revokeInvitation(tx, { invitationId: revoked.invitationId }));
  const used = await issue(USER.ivan, ORG.initech, "nora@example.com", "viewer");
  await suite.db.asUser(USER.nora, (tx) => acceptInvitation(tx, { token: used.token }));
});

const organizationId = id(orgIds);
const invitationId = id(() => invitationIds);

/** Tokens: issued ones (in every state) and well-formed ones that match nothing; near misses of the format. */
const token: Field<string> = {
  valid: fc.oneof(
    { weight: 3, arbitrary: fc.nat().map((i) => tokens[i % tokens.length]!) },
    { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z0-9_-]{16,200}$/) },
  ),
  near: fc.oneof(
    fc.nat().map((i) => `${tokens[i % tokens.length]!}=`),
    fc.nat().map((i) => ` ${tokens[i % tokens.length]!}`),
    fc.nat().map((i) => tokens[i % tokens.length]!.replaceAll("-", "+").replaceAll("_", "/")),
    fc.nat().map((i) => `${tokens[i % tokens.length]!}\u0000`),
    fc.stringMatching(/^[A-Za-z0-9_-]{1,15}$/),
    fc.constantFrom(
      "a".repeat(201),
      "x".repeat(100_000),
      "demo-invitation-token-for-pat-0001'; --",
      "ｄｅｍｏ-invitation-token-for-pat-0001",
    ),
    junk,
  ),
};

propertiesOf(suite, "inviteMember", {
  input: shape({ organizationId, email, role, expiresInHours: count(1, 24 * 30) }, ["expiresInHours"]),
  call: (tx, value) => inviteMember(tx, value as never),
  expectDatabaseRefusals: true,
});

propertiesOf(suite, "acceptInvitation", {
  input: token,
  call: (tx, value) => acceptInvitation(tx, { token: value }),
  expectDatabaseRefusals: true,
});

propertiesOf(suite, "revokeInvitation", {
  input: invitationId,
  call: (tx, value) => revokeInvitation(tx, { invitationId: value }),
  expectDatabaseRefusals: true,
});

propertiesOf(suite, "listPendingInvitations", {
  input: organizationId,
  call: (tx, value) => listPendingInvitations(tx, { organizationId: value }),
});

/** Invitations: invite, accept, revoke, list pending. Tokens are returned once and never stored. */
import { and, desc, eq, gt, isNull, sql } from "drizzle-orm";
import type { Tx } from "./db.ts";
import { guard, parse } from "./internal.ts";
import {
  acceptInput,
  invitationRef,
  invitations,
  inviteInput,
  type AcceptInput,
  type Invitation,
  type InvitationRef,
  type InviteInput,
} from "./schema/invitations.table.ts";
import { organizationRef, type OrganizationRef } from "./schema/organizations.table.ts";

export type { AcceptInput, Invitation, InvitationRef, InviteInput };

export interface IssuedInvitation {
  invitationId: string;
  /** Give this to the invitee; it is not stored and cannot be shown again. */
  token: string;
  expiresAt: string;
}

/** Invite an email with a role (members.manage; not above the caller's highest role). */
export async function inviteMember(tx: Tx, input: InviteInput): Promise<IssuedInvitation> {
  const { organizationId, email, role, expiresInHours } = parse(inviteInput, input);
  const hours = expiresInHours ?? 24 * 7;
  return guard(async () => {
    const [row] = await tx.execute<{ invitation_id: string; token: string; expires_at: string }>(
      sql`select invitation_id, token, expires_at::text from public.invite_member(${organizationId}, ${email}, ${role}, make_interval(hours => ${hours}))`,
    );
    return { invitationId: row!.invitation_id, token: row!.token, expiresAt: row!.expires_at };
  });
}

/** Accept an invitation as the signed-in user; returns the organization id. */
export async function acceptInvitation(tx: Tx, input: AcceptInput): Promise<string> {
  const { token: t } = parse(acceptInput, input);
  return guard(async () => {
    const [row] = await tx.execute<{ organization_id: string }>(
      sql`select public.accept_invitation(${t}) as organization_id`,
    );
    return row!.organization_id;
  });
}

/** Revoke a pending invitation (members.manage). */
export async function revokeInvitation(tx: Tx, input: InvitationRef): Promise<void> {
  const { invitationId: iid } = parse(invitationRef, input);
  await guard(() => tx.execute(sql`select public.revoke_invitation(${iid})`));
}

const columns = {
  id: invitations.id,
  organizationId: invitations.organizationId,
  email: invitations.email,
  roleId: invitations.roleId,
  invitedBy: invitations.invitedBy,
  expiresAt: invitations.expiresAt,
  acceptedAt: invitations.acceptedAt,
  acceptedBy: invitations.acceptedBy,
  revokedAt: invitations.revokedAt,
  createdAt: invitations.createdAt,
};

/** Pending (not accepted, not revoked, not expired) invitations of an organization, newest first (members.manage). */
export async function listPendingInvitations(tx: Tx, input: OrganizationRef): Promise<Invitation[]> {
  const { organizationId: orgId } = parse(organizationRef, input);
  return guard(() =>
    tx
      .select(columns)
      .from(invitations)
      .where(
        and(
          eq(invitations.organizationId, orgId),
          isNull(invitations.acceptedAt),
          isNull(invitations.revokedAt),
          gt(invitations.expiresAt, sql`now()`),
        ),
      )
      .orderBy(desc(invitations.createdAt)),
  );
}

/** Members and roles: list with roles, set roles, remove, leave, transfer ownership, authorize. */
import { asc, eq, sql } from "drizzle-orm";
import type { Tx } from "./db.ts";
import { guard, parse } from "./internal.ts";
import { memberRef, organizationUsers, setMemberRolesInput, transferOwnershipInput, userRoles } from "./schema/members.table.ts";
import { organizationRef, type OrganizationRef } from "./schema/organizations.table.ts";
import { roles } from "./schema/roles.table.ts";
import { id, permission, type Permission, type RoleKey } from "./schema/rules.ts";
import { users } from "./schema/users.table.ts";
import { z } from "zod";

export interface Member {
  userId: string;
  email: string | null;
  fullName: string | null;
  /** Role keys, highest first. */
  roles: RoleKey[];
  joinedAt: string;
}

/** Members of an organization with their roles (any member may list them). */
export async function listMembers(tx: Tx, input: OrganizationRef): Promise<Member[]> {
  const { organizationId: orgId } = parse(organizationRef, input);
  return guard(async () => {
    const rows = await tx
      .select({
        userId: organizationUsers.userId,
        email: users.email,
        fullName: users.fullName,
        roles: sql<RoleKey[]>`coalesce(array_agg(${roles.key} order by ${roles.rank} desc) filter (where ${roles.key} is not null), '{}')`,
        joinedAt: organizationUsers.createdAt,
      })
      .from(organizationUsers)
      .leftJoin(users, eq(users.id, organizationUsers.userId))
      .leftJoin(userRoles, sql`${userRoles.organizationId} = ${organizationUsers.organizationId} and ${userRoles.userId} = ${organizationUsers.userId}`)
      .leftJoin(roles, eq(roles.id, userRoles.roleId))
      .where(eq(organizationUsers.organizationId, orgId))
      .groupBy(organizationUsers.organizationId, organizationUsers.userId, users.email, users.fullName)
      .orderBy(asc(users.email), asc(organizationUsers.userId));
    return rows;
  });
}

/** Replace a member's roles (members.manage; rank rules apply). */
export async function setMemberRoles(tx: Tx, input: z.input<typeof setMemberRolesInput>): Promise<void> {
  const { organizationId, userId, roles: keys } = parse(setMemberRolesInput, input);
  // Drizzle expands an interpolated JS array into a parenthesized list, not an array: build one, one parameter per key.
  const array = sql`array[${sql.join(
    keys.map((key) => sql`${key}`),
    sql`, `,
  )}]::text[]`;
  await guard(() => tx.execute(sql`select public.set_member_roles(${organizationId}, ${userId}, ${array})`));
}

/** Remove a member (members.manage, rank rules apply), or leave when userId is the caller. */
export async function removeMember(tx: Tx, input: z.input<typeof memberRef>): Promise<void> {
  const { organizationId, userId } = parse(memberRef, input);
  await guard(() => tx.execute(sql`select public.remove_member(${organizationId}, ${userId})`));
}

/** Leave an organization (the last owner cannot). */
export async function leaveOrganization(tx: Tx, input: OrganizationRef): Promise<void> {
  const { organizationId: orgId } = parse(organizationRef, input);
  await guard(() => tx.execute(sql`select public.remove_member(${orgId}, auth.uid())`));
}

/** Make another member an owner; the caller (an owner) becomes an admin. */
export async function transferOwnership(tx: Tx, input: z.input<typeof transferOwnershipInput>): Promise<void> {
  const { organizationId, newOwnerId } = parse(transferOwnershipInput, input);
  await guard(() => tx.execute(sql`select public.transfer_ownership(${organizationId}, ${newOwnerId})`));
}

const authorizeInput = z.object({ organizationId: id, permission });

/** Whether the signed-in user holds a permission in an organization. */
export async function authorize(tx: Tx, input: { organizationId: string; permission: Permission }): Promise<boolean> {
  const { organizationId, permission: p } = parse(authorizeInput, input);
  return guard(async () => {
    const [row] = await tx.execute<{ allowed: boolean }>(sql`select public.authorize(${organizationId}, ${p}) as allowed`);
    return row?.allowed === true;
  });
}

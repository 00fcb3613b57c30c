/**
 * Members and roles: list with roles, set roles, remove, leave, transfer
 * ownership, authorize; the organization's own roles: list, create, update,
 * delete.
 */
import { asc, eq, sql } from "drizzle-orm";
import type { Tx } from "./db.ts";
import { guard, parse } from "./internal.ts";
import {
  memberRef,
  organizationUsers,
  setMemberRolesInput,
  transferOwnershipInput,
  userRoles,
} from "./schema/members.table.ts";
import { organizationRef, type OrganizationRef } from "./schema/organizations.table.ts";
import { createRoleInput, deleteRoleInput, rolePermissions, roles, updateRoleInput } from "./schema/roles.table.ts";
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
        roles: sql<
          RoleKey[]
        >`coalesce(array_agg(${roles.key} order by ${roles.rank} desc) filter (where ${roles.key} is not null), '{}')`,
        joinedAt: organizationUsers.createdAt,
      })
      .from(organizationUsers)
      .leftJoin(users, eq(users.id, organizationUsers.userId))
      .leftJoin(
        userRoles,
        sql`${userRoles.organizationId} = ${organizationUsers.organizationId} and ${userRoles.userId} = ${organizationUsers.userId}`,
      )
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
    const [row] = await tx.execute<{ allowed: boolean }>(
      sql`select public.authorize(${organizationId}, ${p}) as allowed`,
    );
    return row?.allowed === true;
  });
}

export interface RoleWithPermissions {
  id: string;
  key: RoleKey;
  name: string;
  rank: number;
  /** Null for a built-in role; the defining organization otherwise. */
  organizationId: string | null;
  permissions: Permission[];
}

/** The roles usable in an organization: the built-ins and its own, highest first, with their permissions (any member may list them). */
export async function listRoles(tx: Tx, input: OrganizationRef): Promise<RoleWithPermissions[]> {
  const { organizationId: orgId } = parse(organizationRef, input);
  return guard(async () => {
    const rows = await tx
      .select({
        id: roles.id,
        key: roles.key,
        name: roles.name,
        rank: roles.rank,
        organizationId: roles.organizationId,
        permissions: sql<
          Permission[]
        >`coalesce(array_agg(${rolePermissions.permission} order by ${rolePermissions.permission}) filter (where ${rolePermissions.permission} is not null), '{}')`,
      })
      .from(roles)
      .leftJoin(rolePermissions, eq(rolePermissions.roleId, roles.id))
      .where(sql`${roles.organizationId} is null or ${roles.organizationId} = ${orgId}`)
      .groupBy(roles.id)
      .orderBy(sql`${roles.rank} desc`, asc(roles.key));
    return rows;
  });
}

/** A text[] parameter: Drizzle expands an interpolated JS array into a parenthesized list, so one parameter per element. */
function textArray(values: readonly string[]) {
  if (values.length === 0) return sql`'{}'::text[]`;
  return sql`array[${sql.join(
    values.map((v) => sql`${v}`),
    sql`, `,
  )}]::text[]`;
}

/**
 * Define a role of the organization (roles.manage); returns its id. Its rank is
 * below the caller's highest, its permissions are ones the caller holds there;
 * members.manage, roles.manage and organization.delete only from owners.
 */
export async function createRole(tx: Tx, input: z.input<typeof createRoleInput>): Promise<string> {
  const { organizationId, key, name, rank, permissions } = parse(createRoleInput, input);
  return guard(async () => {
    const [row] = await tx.execute<{ id: string }>(
      sql`select public.create_role(${organizationId}, ${key}, ${name}, ${rank}::integer, ${textArray(permissions)}) as id`,
    );
    return row!.id;
  });
}

/** Change an organization's role (roles.manage): name, rank, permissions (left out: unchanged; permissions replace the set). */
export async function updateRole(tx: Tx, input: z.input<typeof updateRoleInput>): Promise<void> {
  const { roleId, name, rank, permissions } = parse(updateRoleInput, input);
  const list = permissions === undefined ? sql`null::text[]` : textArray(permissions);
  await guard(() =>
    tx.execute(sql`select public.update_role(${roleId}, ${name ?? null}::text, ${rank ?? null}::integer, ${list})`),
  );
}

/**
 * Delete an organization's role (roles.manage). Refused while members hold it or
 * pending invitations name it, unless a replacement (a built-in or another role
 * of the organization the caller may grant; giving one needs members.manage
 * too) takes them over.
 */
export async function deleteRole(tx: Tx, input: z.input<typeof deleteRoleInput>): Promise<void> {
  const { roleId, replacementRoleId } = parse(deleteRoleInput, input);
  await guard(() => tx.execute(sql`select public.delete_role(${roleId}, ${replacementRoleId ?? null}::uuid)`));
}

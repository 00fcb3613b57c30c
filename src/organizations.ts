/** Organizations: create (through the RPC), get, list mine, update, delete. */
import { and, asc, eq, sql } from "drizzle-orm";
import type { Tx } from "./db.ts";
import { guard, one, parse, refused } from "./internal.ts";
import { roles, userRoles } from "./schema/index.ts";
import {
  organizationInsertSchema,
  organizationUpdateSchema,
  organizations,
  type Organization,
  type OrganizationInput,
  type OrganizationPatch,
} from "./schema/organizations.table.ts";
import { id } from "./schema/rules.ts";

export type { Organization, OrganizationInput, OrganizationPatch };

/** Create an organization; the caller becomes its owner. */
export async function createOrganization(tx: Tx, input: OrganizationInput): Promise<Organization> {
  const { name, slug } = parse(organizationInsertSchema, input);
  return guard(async () => {
    const [created] = await tx.execute<{ id: string }>(sql`select id from public.create_organization(${name}, ${slug})`);
    return getOrganization(tx, created!.id);
  });
}

export async function getOrganization(tx: Tx, organizationId: string): Promise<Organization> {
  const orgId = parse(id, organizationId);
  return guard(async () => one(await tx.select().from(organizations).where(eq(organizations.id, orgId)), "organization"));
}

export interface MyOrganization extends Organization {
  /** The caller's roles there, highest first. */
  roles: string[];
}

/** The organizations the signed-in user belongs to, with their roles there, by name. */
export async function listMyOrganizations(tx: Tx): Promise<MyOrganization[]> {
  return guard(async () => {
    const rows = await tx
      .select({
        organization: organizations,
        roles: sql<string[]>`coalesce(array_agg(${roles.key} order by ${roles.rank} desc) filter (where ${roles.key} is not null), '{}')`,
      })
      .from(organizations)
      .leftJoin(userRoles, and(eq(userRoles.organizationId, organizations.id), eq(userRoles.userId, sql`auth.uid()`)))
      .leftJoin(roles, eq(roles.id, userRoles.roleId))
      .groupBy(organizations.id)
      .orderBy(asc(organizations.name), asc(organizations.id));
    return rows.map((r) => ({ ...r.organization, roles: r.roles }));
  });
}

const refusedOn = (tx: Tx, organizationId: string, permission: string) =>
  refused(() => getOrganization(tx, organizationId), permission, "in this organization");

/** Change name and/or slug (organization.update). */
export async function updateOrganization(tx: Tx, organizationId: string, patch: OrganizationPatch): Promise<Organization> {
  const orgId = parse(id, organizationId);
  const values = parse(organizationUpdateSchema, patch);
  return guard(async () => {
    const rows = await tx.update(organizations).set(values).where(eq(organizations.id, orgId)).returning();
    return rows[0] ?? refusedOn(tx, orgId, "organization.update");
  });
}

/** Delete an organization with its memberships and clients (organization.delete). */
export async function deleteOrganization(tx: Tx, organizationId: string): Promise<void> {
  const orgId = parse(id, organizationId);
  await guard(async () => {
    const rows = await tx.delete(organizations).where(eq(organizations.id, orgId)).returning({ id: organizations.id });
    if (rows.length === 0) await refusedOn(tx, orgId, "organization.delete");
  });
}

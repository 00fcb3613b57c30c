/** Organizations: create (through the RPC), get, list mine, update, delete. */
import { and, asc, eq, sql } from "drizzle-orm";
import type { Tx } from "./db.ts";
import { guard, one, parse, refused } from "./internal.ts";
import { roles, userRoles } from "./schema/index.ts";
import type { RoleKey } from "./schema/rules.ts";
import {
  organizationInsertSchema,
  organizationRef,
  organizationUpdateInput,
  organizations,
  type Organization,
  type OrganizationInput,
  type OrganizationPatch,
  type OrganizationRef,
  type OrganizationUpdateInput,
} from "./schema/organizations.table.ts";

export type { Organization, OrganizationInput, OrganizationPatch, OrganizationRef, OrganizationUpdateInput };

/** Create an organization; the caller becomes its owner. */
export async function createOrganization(tx: Tx, input: OrganizationInput): Promise<Organization> {
  const { name, slug } = parse(organizationInsertSchema, input);
  return guard(async () => {
    const [created] = await tx.execute<{ id: string }>(
      sql`select id from public.create_organization(${name}, ${slug})`,
    );
    return getOrganization(tx, { organizationId: created!.id });
  });
}

/** One organization the caller belongs to. */
export async function getOrganization(tx: Tx, input: OrganizationRef): Promise<Organization> {
  const { organizationId } = parse(organizationRef, input);
  return guard(async () =>
    one(await tx.select().from(organizations).where(eq(organizations.id, organizationId)), "organization"),
  );
}

export interface MyOrganization extends Organization {
  /** The caller's roles there, highest first. */
  roles: RoleKey[];
}

/** The organizations the signed-in user belongs to, with their roles there, by name. */
export async function listMyOrganizations(tx: Tx): Promise<MyOrganization[]> {
  return guard(async () => {
    const rows = await tx
      .select({
        organization: organizations,
        roles: sql<
          RoleKey[]
        >`coalesce(array_agg(${roles.key} order by ${roles.rank} desc) filter (where ${roles.key} is not null), '{}')`,
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
  refused(() => getOrganization(tx, { organizationId }), permission, "in this organization");

/** Change name and/or slug (organization.update). */
export async function updateOrganization(tx: Tx, input: OrganizationUpdateInput): Promise<Organization> {
  const { organizationId: orgId, ...values } = parse(organizationUpdateInput, input);
  return guard(async () => {
    const rows = await tx.update(organizations).set(values).where(eq(organizations.id, orgId)).returning();
    return rows[0] ?? refusedOn(tx, orgId, "organization.update");
  });
}

/**
 * Delete an organization with everything scoped to it (organization.delete),
 * through delete_organization: one summary audit entry, the id never used
 * again. Organizations above settings.delete_organization_max_rows rows are
 * refused (rule `organization-too-large-to-delete`): delete those with
 * `lifecycle.deleteOrganizationInBatches` as the service.
 */
export async function deleteOrganization(tx: Tx, input: OrganizationRef): Promise<void> {
  const { organizationId: orgId } = parse(organizationRef, input);
  await guard(() => tx.execute(sql`select public.delete_organization(${orgId})`));
}

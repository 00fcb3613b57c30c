/**
 * Memberships written directly, as a seed writes them (no invitation, no
 * rights checked): for tests that need a member in place before the rule
 * they prove runs.
 */
import type { Sql } from "../../tooling/server/sql.ts";

/** Makes the user a member of the organization holding the built-in role `role` (read as a role that bypasses RLS). */
export async function addMember(sql: Sql, organizationId: string, userId: string, role = "member"): Promise<void> {
  await sql`insert into public.organization_users (organization_id, user_id) values (${organizationId}, ${userId})`;
  await sql`insert into public.user_roles (organization_id, user_id, role_id)
            select ${organizationId}, ${userId}, id from public.roles where key = ${role} and organization_id is null`;
}

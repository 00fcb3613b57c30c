/** organization_users and user_roles: membership and the roles held there. */
import { createSelectSchema } from "drizzle-zod";
import { z } from "zod";
import { organizationUsers, userRoles } from "./generated/schema.ts";
import { id, roleKey } from "./rules.ts";

export { organizationUsers, userRoles };
export type Membership = typeof organizationUsers.$inferSelect;
export type UserRole = typeof userRoles.$inferSelect;

export const membershipSelectSchema = createSelectSchema(organizationUsers);

export const memberRef = z.object({ organizationId: id, userId: id });
export const setMemberRolesInput = memberRef.extend({
  roles: z.array(roleKey).min(1, "at least one role; use removeMember to remove a member").max(5),
});
export const transferOwnershipInput = z.object({ organizationId: id, newOwnerId: id });

/** roles, permissions, role_permissions: the built-in catalog and the roles organizations define. */
import { createSelectSchema } from "drizzle-zod";
import { z } from "zod";
import { permissions, rolePermissions, roles } from "./generated/schema.ts";
import { customRoleKey, customRoleRank, id, permission, trimmedText } from "./rules.ts";

export { permissions, rolePermissions, roles };
export type Role = typeof roles.$inferSelect;
export type RolePermission = typeof rolePermissions.$inferSelect;

export const roleSelectSchema = createSelectSchema(roles);

/** A role's permissions: known ones, no duplicates (an empty list gives none). */
const rolePermissionList = z
  .array(permission)
  .max(50)
  .refine((list) => new Set(list).size === list.length, "each permission once");

export const createRoleInput = z.object({
  organizationId: id,
  key: customRoleKey,
  name: trimmedText(1, 100),
  rank: customRoleRank,
  permissions: rolePermissionList,
});
export const updateRoleInput = z
  .object({
    roleId: id,
    name: trimmedText(1, 100).optional(),
    rank: customRoleRank.optional(),
    permissions: rolePermissionList.optional(),
  })
  .refine(
    (input) => input.name !== undefined || input.rank !== undefined || input.permissions !== undefined,
    "nothing to change",
  );
export const deleteRoleInput = z.object({ roleId: id, replacementRoleId: id.optional() });

/** roles, permissions, role_permissions: the shared catalog. */
import { createSelectSchema } from "drizzle-zod";
import { permissions, rolePermissions, roles } from "./generated/schema.ts";

export { permissions, rolePermissions, roles };
export type Role = typeof roles.$inferSelect;
export type RolePermission = typeof rolePermissions.$inferSelect;

export const roleSelectSchema = createSelectSchema(roles);

/** audit_log: append-only history, latest first. */
import { createSelectSchema } from "drizzle-zod";
import { z } from "zod";
import { auditLog } from "./generated/schema.ts";
import { id, pageSize } from "./rules.ts";

export { auditLog };
export type AuditEntry = typeof auditLog.$inferSelect;

export const auditSelectSchema = createSelectSchema(auditLog);

export const AUDITED_TABLES = [
  "organizations",
  "organization_users",
  "user_roles",
  "clients",
  "user_clients",
  "invitations",
] as const;

export const auditListInput = z.object({
  organizationId: id,
  tableName: z.enum(AUDITED_TABLES).optional(),
  action: z.enum(["insert", "update", "delete"]).optional(),
  actorId: id.optional(),
  recordId: id.optional(),
  limit: pageSize,
  /** Keyset cursor: the last entry of the previous page. */
  before: z.object({ createdAt: z.string(), id }).optional(),
});

export type AuditListInput = z.input<typeof auditListInput>;

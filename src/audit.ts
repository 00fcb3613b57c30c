/** The audit log: a filtered, keyset-paginated list, latest first (audit.read). */
import { and, desc, eq, lt, or, type SQL } from "drizzle-orm";
import type { Tx } from "./db.ts";
import { guard, parse } from "./internal.ts";
import { auditListInput, auditLog, type AuditEntry, type AuditListInput } from "./schema/audit.table.ts";

export type { AuditEntry, AuditListInput };

export interface AuditPage {
  items: AuditEntry[];
  /** Pass as `before` for the next page; null on the last page. */
  next: { createdAt: string; id: string } | null;
}

export async function listAuditLog(tx: Tx, input: AuditListInput): Promise<AuditPage> {
  const { organizationId, tableName, action, actorId, recordId, limit, before } = parse(auditListInput, input);
  const filters: (SQL | undefined)[] = [eq(auditLog.organizationId, organizationId)];
  if (tableName) filters.push(eq(auditLog.tableName, tableName));
  if (action) filters.push(eq(auditLog.action, action));
  if (actorId) filters.push(eq(auditLog.actorId, actorId));
  if (recordId) filters.push(eq(auditLog.recordId, recordId));
  if (before) {
    filters.push(
      or(
        lt(auditLog.createdAt, before.createdAt),
        and(eq(auditLog.createdAt, before.createdAt), lt(auditLog.id, before.id)),
      ),
    );
  }
  return guard(async () => {
    const rows = await tx
      .select()
      .from(auditLog)
      .where(and(...filters))
      .orderBy(desc(auditLog.createdAt), desc(auditLog.id))
      .limit(limit + 1);
    const items = rows.slice(0, limit);
    const last = items.at(-1);
    return { items, next: rows.length > limit && last ? { createdAt: last.createdAt, id: last.id } : null };
  });
}

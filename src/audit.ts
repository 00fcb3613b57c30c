/** The audit log: a filtered, keyset-paginated list, latest first (audit.read). */
import { and, desc, eq, sql, type SQL } from "drizzle-orm";
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
  // The action as a literal (one of three, checked by the schema): deletions, rare, have a partial index
  // that only a plan knowing the value can use, and each action keeps a plan of its own.
  if (action) filters.push(sql`${auditLog.action} = ${sql.raw(`'${action}'`)}`);
  if (actorId) filters.push(eq(auditLog.actorId, actorId));
  if (recordId) filters.push(eq(auditLog.recordId, recordId));
  // The cursor as one row comparison, an index condition of the organization's (created_at, id) order:
  // spelt as created_at < x or (created_at = x and id < y) it was a filter, and a page deep in a large
  // log read every entry after the first page.
  if (before)
    filters.push(sql`(${auditLog.createdAt}, ${auditLog.id}) < (${before.createdAt}::timestamptz, ${before.id}::uuid)`);
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

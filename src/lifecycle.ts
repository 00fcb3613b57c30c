/**
 * Data lifecycle: deleting an organization, exporting one, a user's own data,
 * and what blocks deleting an account.
 *
 * As a user (`(tx, input)` helpers, RLS and the RPCs' rules apply):
 * `exportOrganizationDocument` (export_organization), `exportMyData`
 * (export_my_data), `accountDeletionBlockers` (account_deletion_blockers).
 * Deleting an organization as a user is `organizations.deleteOrganization`
 * (delete_organization).
 *
 * Server-side, as the service, for organizations too large for the RPCs
 * (hosted Supabase stops `authenticated` statements after 8 s):
 * `deleteOrganizationInBatches` and `streamOrganizationExport` (NDJSON
 * records, read through cursors in one read-only snapshot: memory stays
 * bounded by the batch size).
 */
import { sql } from "drizzle-orm";
import { z } from "zod";
import type { OrgDb, Tx } from "./db.ts";
import { NotFoundError, toTypedError, ValidationError } from "./errors.ts";
import { functionArgument, guard, parse } from "./internal.ts";
import { organizationRef, type OrganizationRef } from "./schema/organizations.table.ts";
import { id } from "./schema/rules.ts";

type Json = Record<string, unknown>;

/** What export_organization returns: one JSON document of the whole organization. */
export interface OrganizationExport {
  format: "supabase-org-layer.organization-export";
  version: 1;
  exported_at: string;
  exported_by: string;
  organization: Json;
  /** id, email, name, joined_at, roles (keys, highest first). */
  members: { id: string; email: string | null; name: string | null; joined_at: string; roles: string[] }[];
  /** Built-in roles and the organization's own, each with its permissions. */
  roles: (Json & { key: string; permissions: string[] })[];
  clients: Json[];
  assignments: Json[];
  /** Never a token or its hash. */
  invitations: Json[];
  audit_log: Json[];
  /**
   * Tables of the project's own (registered with an organization column, as
   * `entity:new` registers them), by name (schema-qualified outside public):
   * the organization's rows, without the registered secret columns.
   */
  tables: Record<string, Json[]>;
}

/** What export_my_data returns. */
export interface MyDataExport {
  format: "supabase-org-layer.my-data-export";
  version: 1;
  exported_at: string;
  profile: Json | null;
  memberships: {
    organization_id: string;
    organization_name: string;
    slug: string;
    joined_at: string;
    roles: string[];
  }[];
  assignments: { organization_id: string; client_id: string; assigned_at: string }[];
  /** Metadata only: never the old/new rows. */
  audit_entries: { table_name: string; action: string; created_at: string; record_id: string | null }[];
  /**
   * Tables of the project's own with a `user_id` column (registered, as
   * `entity:new` registers its assignment tables), by name (schema-qualified
   * outside public): the caller's rows, without the registered secret columns.
   */
  tables: Record<string, Json[]>;
}

export interface AccountDeletionBlocker {
  organizationId: string;
  name: string;
  /**
   * `only_owner`: transfer ownership (transfer_ownership) or delete the organization (delete_organization) first;
   * `too_large`: the user is its only member and it is too large to go with the account: delete it in batches
   * (deleteOrganizationInBatches) first.
   */
  reason: string;
}

/** The whole organization as one document (organization.delete: owners). Refuses large organizations: use streamOrganizationExport. */
export async function exportOrganizationDocument(tx: Tx, input: OrganizationRef): Promise<OrganizationExport> {
  const { organizationId } = parse(organizationRef, input);
  return guard(async () => {
    const [row] = await tx.execute<{ doc: OrganizationExport }>(
      sql`select public.export_organization(${organizationId}) as doc`,
    );
    return row!.doc;
  });
}

/** The signed-in user's own data: profile, memberships and roles, assignments, audit entries as metadata. */
export async function exportMyData(tx: Tx): Promise<MyDataExport> {
  return guard(async () => {
    const [row] = await tx.execute<{ doc: MyDataExport }>(sql`select public.export_my_data() as doc`);
    return row!.doc;
  });
}

/** What blocks deleting the signed-in user's account (empty: nothing). */
export async function accountDeletionBlockers(tx: Tx): Promise<AccountDeletionBlocker[]> {
  return guard(async () => {
    const rows = await tx.execute<{ organization_id: string; name: string; reason: string }>(
      sql`select organization_id, name, reason from public.account_deletion_blockers()`,
    );
    return rows.map((r) => ({ organizationId: r.organization_id, name: r.name, reason: r.reason }));
  });
}

export const batchedDeletionInput = z.object({
  organizationId: id,
  /** Rows per transaction (default 5,000). */
  batchSize: z.number().int().min(1).max(1_000_000).default(5_000),
  /** Who asked for the deletion: recorded as the actor of the summary audit entry (default: none, the service). */
  requestedBy: id.nullable().default(null),
});
export type BatchedDeletionInput = z.input<typeof batchedDeletionInput>;

export interface BatchedDeletionOptions {
  /** Called after each batch with the rows deleted so far. */
  onProgress?: (progress: { deleted: number; batches: number }) => void;
}

const batchedDeletionOptions = z
  .strictObject({ onProgress: functionArgument<BatchedDeletionOptions["onProgress"]>("onProgress").optional() })
  .optional();

/**
 * The server-side helpers take the handle itself: checked before anything is
 * read or deleted, as their inputs are.
 */
function requireHandle(db: OrgDb): void {
  if (typeof (db as Partial<OrgDb> | null | undefined)?.asService !== "function")
    throw new ValidationError("db: give the handle createOrgDb returned");
}

/**
 * Delete a large organization as the service: batches of rows in their own
 * transactions (children first; memberships and roles stay until the end),
 * then the organization and what remains in one last transaction, which
 * writes the one summary audit entry (rows per table over every batch) and
 * the tombstone. Resumable: run it again after an interruption. Returns the
 * rows deleted per table.
 */
export async function deleteOrganizationInBatches(
  db: OrgDb,
  input: BatchedDeletionInput,
  options: BatchedDeletionOptions = {},
): Promise<Record<string, number>> {
  requireHandle(db);
  const { organizationId, batchSize, requestedBy } = parse(batchedDeletionInput, input);
  const { onProgress } = parse(batchedDeletionOptions, options, "invalid options") ?? {};
  let deleted = 0;
  for (let batches = 1; ; batches++) {
    const n = await db.asService(async (tx) => {
      const [row] = await guard(() =>
        tx.execute<{ n: string }>(
          sql`select private.delete_organization_batch(${organizationId}, ${batchSize}, ${requestedBy}::uuid) as n`,
        ),
      );
      return Number(row!.n);
    });
    deleted += n;
    onProgress?.({ deleted, batches });
    if (n === 0) break;
  }
  return db.asService(async (tx) => {
    const [row] = await guard(() =>
      tx.execute<{ counts: Record<string, number> }>(
        sql`select private.finish_organization_deletion(${organizationId}, ${requestedBy}::uuid, 'batched') as counts`,
      ),
    );
    return row!.counts;
  });
}

/** One line of the streaming export. */
export type ExportRecord =
  | { type: "export"; data: { format: string; version: number; exported_at: string; organization_id: string } }
  | { type: "organization" | "member" | "role" | "client" | "assignment" | "invitation" | "audit_log"; data: Json }
  /** A row of a table of the project's own (see OrganizationExport.tables). */
  | { type: "table_row"; data: { table: string; row: Json } }
  | { type: "end"; data: { counts: Record<string, number> } };

export const streamExportInput = organizationRef.extend({
  /** Rows fetched per cursor round trip (default 1,000): what bounds memory. */
  batchSize: z.number().int().min(1).max(100_000).default(1_000),
});
export type StreamExportInput = z.input<typeof streamExportInput>;

/** The export's sections, in order: record type and the query of its rows (as jsonb `data`). */
const SECTIONS = [
  ["organization", "select to_jsonb(o) as data from public.organizations o where o.id = $1"],
  [
    "member",
    `select jsonb_build_object('id', u.id, 'email', u.email, 'name', u.full_name, 'joined_at', ou.created_at,
            'roles', (select coalesce(jsonb_agg(r.key order by r.rank desc, r.key), '[]')
                        from public.user_roles ur join public.roles r on r.id = ur.role_id
                       where ur.organization_id = ou.organization_id and ur.user_id = ou.user_id)) as data
       from public.organization_users ou join public.users u on u.id = ou.user_id
      where ou.organization_id = $1 order by ou.created_at, u.id`,
  ],
  [
    "role",
    `select to_jsonb(r) || jsonb_build_object('permissions',
            (select coalesce(jsonb_agg(rp.permission order by rp.permission), '[]') from public.role_permissions rp where rp.role_id = r.id)) as data
       from public.roles r where coalesce(to_jsonb(r) ->> 'organization_id', $1::text) = $1::text order by r.rank desc, r.key`,
  ],
  ["client", "select to_jsonb(c) as data from public.clients c where c.organization_id = $1 order by c.id"],
  [
    "assignment",
    "select to_jsonb(uc) as data from public.user_clients uc where uc.organization_id = $1 order by uc.client_id, uc.user_id",
  ],
  [
    "invitation",
    `select (select jsonb_object_agg(e.key, e.value) from jsonb_each(to_jsonb(i)) e where e.key !~ '(token|hash|secret)') as data
       from public.invitations i where i.organization_id = $1 order by i.created_at, i.id`,
  ],
  [
    "audit_log",
    "select to_jsonb(a) as data from public.audit_log a where a.organization_id = $1 order by a.created_at, a.id",
  ],
] as const;

/**
 * The tables of the project's own that the export holds (registered in
 * private.audited_tables with an organization column, beyond the layer's),
 * by name, with the query of an organization's rows: read as the login role,
 * which may call the private function; the rows are then read as the service.
 */
const REGISTERED_TABLES = "select name, rows_query from private.export_registered_table_list()";

/**
 * Export an organization record by record (NDJSON: one `write` per line),
 * as the service, from one read-only repeatable-read snapshot, fetching
 * `batchSize` rows per cursor round trip: memory stays bounded whatever the
 * organization's size, and `write` may return a promise to slow the reading
 * down (backpressure). Records: `export` (header), `organization`,
 * `member`s, `role`s, `client`s, `assignment`s, `invitation`s (never a token
 * or hash), `audit_log` entries, `table_row`s (the rows of the project's own
 * registered tables, table by table), then `end` with the count of each type.
 * No organization with this id: NotFoundError.
 */
export async function streamOrganizationExport(
  db: OrgDb,
  input: StreamExportInput,
  write: (record: ExportRecord) => void | Promise<void>,
): Promise<Record<string, number>> {
  requireHandle(db);
  const { organizationId, batchSize } = parse(streamExportInput, input);
  parse(functionArgument<typeof write>("write"), write, "invalid arguments");
  const counts: Record<string, number> = {};
  // What `write` throws is the caller's (a closed response: EPIPE, its own error class): passed on as it is,
  // never typed as the database's (a "lost connection") nor wrapped.
  const failedWrites = new WeakSet<object>();
  const callerWrite = write;
  write = async (record) => {
    try {
      await callerWrite(record);
    } catch (error) {
      if (typeof error === "object" && error !== null) failedWrites.add(error);
      throw error;
    }
  };
  try {
    await db.unsafeLoginSql.begin("isolation level repeatable read read only", async (tx) => {
      const registered = await tx.unsafe<{ name: string; rows_query: string }[]>(REGISTERED_TABLES);
      await tx`set local role service_role`;
      const [found] = await tx<{ now: string }[]>`
        select to_jsonb(now()) #>> '{}' as now from public.organizations o where o.id = ${organizationId}`;
      if (!found)
        throw new NotFoundError("organization not found", {
          code: "P0002",
          detail: `No organization has the id ${organizationId}.`,
        });
      await write({
        type: "export",
        data: {
          format: "supabase-org-layer.organization-export",
          version: 1,
          exported_at: found.now,
          organization_id: organizationId,
        },
      });
      // Every section as a query and what makes a record of each row: the
      // layer's sections, then the project's tables, all as table_row.
      const sections: { type: ExportRecord["type"]; query: string; record: (data: Json) => ExportRecord }[] = [
        ...SECTIONS.map(([type, query]) => ({ type, query, record: (data: Json) => ({ type, data }) })),
        ...registered.map(({ name, rows_query }) => ({
          type: "table_row" as const,
          query: rows_query,
          record: (row: Json): ExportRecord => ({ type: "table_row", data: { table: name, row } }),
        })),
      ];
      for (const { type } of sections) counts[type] = 0;
      counts.table_row ??= 0;
      for (const { type, query, record } of sections) {
        for await (const rows of tx.unsafe<{ data: Json }[]>(query, [organizationId]).cursor(batchSize)) {
          for (const row of rows) {
            await write(record(row.data));
            counts[type] = (counts[type] ?? 0) + 1;
          }
        }
      }
      await write({ type: "end", data: { counts } });
    });
  } catch (error) {
    if (typeof error === "object" && error !== null && failedWrites.has(error)) throw error;
    throw toTypedError(error);
  }
  return counts;
}

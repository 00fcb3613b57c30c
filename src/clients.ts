/**
 * Clients and assignments: create, get, keyset-paginated list with name
 * search and status filter, ranked search (search_clients), update, delete,
 * assign, unassign.
 */
import { and, asc, eq, gt, or, sql } from "drizzle-orm";
import type { Tx } from "./db.ts";
import { ForbiddenError, NotFoundError } from "./errors.ts";
import { guard, one, parse, refused } from "./internal.ts";
import {
  assignmentInput,
  clientInsertSchema,
  clientListInput,
  clientRef,
  clientSearchInput,
  clientUpdateInput,
  clients,
  userClients,
  type Assignment,
  type Client,
  type ClientInput,
  type ClientListInput,
  type ClientPatch,
  type ClientRef,
  type ClientSearchInput,
  type ClientUpdateInput,
} from "./schema/clients.table.ts";
import { organizationUsers } from "./schema/members.table.ts";

export type {
  Assignment,
  Client,
  ClientInput,
  ClientListInput,
  ClientPatch,
  ClientRef,
  ClientSearchInput,
  ClientUpdateInput,
};

/** The columns `authenticated` may insert (column grant): the id, created_by and the timestamps take their defaults. */
const insertable = {
  organizationId: clients.organizationId,
  name: clients.name,
  email: clients.email,
  phone: clients.phone,
  status: clients.status,
  notes: clients.notes,
};

/**
 * Create a client (clients.create). The database chooses its id, returned
 * by the insert (the read policy lets the creator see, in this transaction,
 * the row it just inserted). A holder of `clients.work_assigned` (the
 * built-in `member`, or an organization's role with it) who creates a client
 * is assigned to it (by a trigger). The row is read back through getClient, so the caller
 * gets exactly the typed row RLS lets them see.
 *
 * The insert names only the columns given: Drizzle's insert would name every
 * column (DEFAULT for the missing ones), and Postgres checks each named
 * column against the column-level INSERT grant, which leaves out id,
 * created_by, created_at and updated_at.
 */
export async function createClient(tx: Tx, input: ClientInput): Promise<Client> {
  const values = parse(clientInsertSchema, input);
  const given = (Object.keys(insertable) as (keyof typeof insertable)[])
    .map((key) => [insertable[key], values[key]] as const)
    .filter(([, value]) => value !== undefined);
  return guard(async () => {
    const inserted = await tx.execute<{ id: string }>(
      sql`insert into ${clients} (${sql.join(
        given.map(([column]) => sql.identifier(column.name)),
        sql`, `,
      )}) values (${sql.join(
        given.map(([column, value]) => sql.param(value, column)),
        sql`, `,
      )}) returning ${sql.identifier(clients.id.name)}`,
    );
    return getClient(tx, { clientId: one(inserted, "client").id });
  });
}

/** One client the caller may see. */
export async function getClient(tx: Tx, input: ClientRef): Promise<Client> {
  const { clientId } = parse(clientRef, input);
  return guard(async () => one(await tx.select().from(clients).where(eq(clients.id, clientId)), "client"));
}

export interface ClientPage {
  items: Client[];
  /** Pass as `after` for the next page; null on the last page. */
  next: { name: string; id: string } | null;
}

/**
 * Clients whose name starts with `text`, whatever the case. name_lower is
 * lower(name) with the C collation, whose comparisons are leakproof, so the
 * range is an index condition even under RLS (LIKE and lower() on the column
 * are not, and would be checked row by row); starts_with makes the range exact.
 */
const namePrefix = (text: string) =>
  sql`${clients.nameLower} >= lower(${text}) and ${clients.nameLower} < lower(${text}) || U&'\\+10FFFF' and starts_with(${clients.nameLower}, lower(${text}))`;

/**
 * A clients row as the Drizzle schema names and types it, from a function
 * returning setof public.clients aliased `s` (timestamps as text: the same
 * strings the schema's string mode gives).
 */
const clientRow = sql.raw(`s.id, s.organization_id as "organizationId", s.name, s.email, s.phone, s.status, s.notes,
       s.created_by as "createdBy", s.created_at::text as "createdAt", s.updated_at::text as "updatedAt",
       s.name_lower as "nameLower"`);

/**
 * A page of an organization's clients the caller may see, ordered by name,
 * with optional name prefix and status. Without a prefix it calls
 * public.list_clients, which indexes serve whatever the caller's role (a
 * member of a large organization starts from their assignments, where a
 * query on the table would walk the organization's clients); with one, the
 * table's name_lower range.
 */
export async function listClients(tx: Tx, input: ClientListInput): Promise<ClientPage> {
  const { organizationId, search, status, limit, after } = parse(clientListInput, input);
  return guard(async () => {
    const rows: Client[] = search
      ? await tx
          .select()
          .from(clients)
          .where(
            and(
              eq(clients.organizationId, organizationId),
              namePrefix(search),
              status ? eq(clients.status, status) : undefined,
              after
                ? or(gt(clients.name, after.name), and(eq(clients.name, after.name), gt(clients.id, after.id)))
                : undefined,
            ),
          )
          .orderBy(asc(clients.name), asc(clients.id))
          .limit(limit + 1)
      : [
          ...(await tx.execute<Client>(sql`
            select ${clientRow}
            from public.list_clients(${organizationId}, ${after?.name ?? null}, ${after?.id ?? null}, ${limit + 1},
                                     ${status ?? null}) s`)),
        ];
    const items = rows.slice(0, limit);
    const last = items.at(-1);
    return { items, next: rows.length > limit && last ? { name: last.name, id: last.id } : null };
  });
}

/**
 * Search an organization's clients the caller may read, by name and email:
 * prefix matches first; then (from 3 characters) names whose words match
 * every query word (a word containing it, or a similar one: a typo per word),
 * by similarity; then names or emails containing the query otherwise; name
 * breaks ties.
 * Calls public.search_clients, which indexes serve whatever the caller's
 * role (a LIKE or trigram filter on the table would be checked row by row
 * under RLS).
 */
export async function searchClients(tx: Tx, input: ClientSearchInput): Promise<Client[]> {
  const { organizationId, query, maxResults } = parse(clientSearchInput, input);
  return guard(async () => {
    const rows = await tx.execute<Client>(sql`
      select ${clientRow} from public.search_clients(${organizationId}, ${query}, ${maxResults}) s`);
    return [...rows];
  });
}

const refusedOn = (tx: Tx, clientId: string, permission: string) =>
  refused(() => getClient(tx, { clientId }), permission, "for this client");

/** Update a client (clients.update, or clients.work_assigned on a client assigned to the caller). */
export async function updateClient(tx: Tx, input: ClientUpdateInput): Promise<Client> {
  const { clientId: cid, ...values } = parse(clientUpdateInput, input);
  return guard(async () => {
    const rows = await tx.update(clients).set(values).where(eq(clients.id, cid)).returning();
    return rows[0] ?? refusedOn(tx, cid, "clients.update");
  });
}

/** Delete a client and its assignments (clients.delete). */
export async function deleteClient(tx: Tx, input: ClientRef): Promise<void> {
  const { clientId: cid } = parse(clientRef, input);
  await guard(async () => {
    const rows = await tx.delete(clients).where(eq(clients.id, cid)).returning({ id: clients.id });
    if (rows.length === 0) await refusedOn(tx, cid, "clients.delete");
  });
}

/** Assign a member of the client's organization to it (clients.assign). Assigning twice is a no-op. */
export async function assignClient(tx: Tx, input: { clientId: string; userId: string }): Promise<Assignment> {
  const { clientId, userId } = parse(assignmentInput, input);
  return guard(async () => {
    const client = await getClient(tx, { clientId });
    const member = await tx
      .select({ userId: organizationUsers.userId })
      .from(organizationUsers)
      .where(and(eq(organizationUsers.organizationId, client.organizationId), eq(organizationUsers.userId, userId)));
    if (member.length === 0)
      throw new NotFoundError("member not found in the client's organization", { code: "P0002" });
    // Only the columns granted (created_at takes its default): Drizzle's insert would name every column.
    // RETURNING makes the read-back part of the insert: PostgreSQL checks the proposed row against the select
    // policy before it looks for a conflict, so an assignment the caller may write but not read (clients.assign
    // without clients.read), new or already there, fails the statement (42501): nothing is written and the
    // refusal is a ForbiddenError, instead of a committed row reported as "assignment not found".
    await tx.execute(
      sql`insert into ${userClients} (${sql.identifier(userClients.organizationId.name)}, ${sql.identifier(userClients.clientId.name)}, ${sql.identifier(userClients.userId.name)})
          values (${client.organizationId}, ${clientId}, ${userId}) on conflict do nothing returning ${sql.identifier(userClients.userId.name)}`,
    );
    return one(
      await tx
        .select()
        .from(userClients)
        .where(and(eq(userClients.clientId, clientId), eq(userClients.userId, userId))),
      "assignment",
    );
  });
}

/** Remove an assignment (clients.assign). Removing a missing assignment is NotFoundError. */
export async function unassignClient(tx: Tx, input: { clientId: string; userId: string }): Promise<void> {
  const { clientId, userId } = parse(assignmentInput, input);
  await guard(async () => {
    const rows = await tx
      .delete(userClients)
      .where(and(eq(userClients.clientId, clientId), eq(userClients.userId, userId)))
      .returning({ clientId: userClients.clientId });
    if (rows.length > 0) return;
    const visible = await tx
      .select({ clientId: userClients.clientId })
      .from(userClients)
      .where(and(eq(userClients.clientId, clientId), eq(userClients.userId, userId)));
    if (visible.length > 0)
      throw new ForbiddenError("permission denied: clients.assign is required", { code: "42501" });
    throw new NotFoundError("assignment not found", { code: "P0002" });
  });
}

/** Who is assigned to a client (visible to readers, and to each assignee for themselves). */
export async function listAssignments(tx: Tx, input: ClientRef): Promise<Assignment[]> {
  const { clientId: cid } = parse(clientRef, input);
  return guard(() =>
    tx.select().from(userClients).where(eq(userClients.clientId, cid)).orderBy(asc(userClients.userId)),
  );
}

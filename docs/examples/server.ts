/**
 * Server-side usage of the typed query layer. docs/usage.md quotes the
 * regions of this file verbatim (a test checks it), and `npm test`
 * type-checks it with the rest of the project; tests/docs/examples.test.ts
 * runs these functions against the seeded database.
 */
// #region imports
import { and, count, eq, lt } from "drizzle-orm";
import {
  audit,
  clients,
  ConcurrencyError,
  ConflictError,
  createOrgDb,
  DatabaseError,
  ForbiddenError,
  invitations,
  InvariantError,
  members,
  NotFoundError,
  organizations,
  schema,
  ValidationError,
  type OrgDb,
} from "../../src/index.ts";
// #endregion imports

// #region open
export function openDatabase(): OrgDb {
  return createOrgDb(process.env.DATABASE_URL!, {
    max: 10, // connections in the pool
    jwt: { secret: process.env.SUPABASE_JWT_SECRET! }, // for asJwt (HS256 projects)
  });
}
// #endregion open

// #region pooler
export function openBehindPooler(): OrgDb {
  // Supavisor in transaction mode (port 6543) or PgBouncer with pool_mode = transaction:
  // a connection changes hands between transactions, so no prepared statements.
  return createOrgDb(process.env.POOLER_URL!, { prepare: false });
}
// #endregion pooler

// #region jwks
export function openWithJwks(projectRef: string): OrgDb {
  return createOrgDb(process.env.DATABASE_URL!, {
    jwt: {
      jwks: `https://${projectRef}.supabase.co/auth/v1/.well-known/jwks.json`,
      issuer: `https://${projectRef}.supabase.co/auth/v1`,
    },
  });
}
// #endregion jwks

// #region as-user
export async function dashboard(db: OrgDb, userId: string) {
  return db.asUser(userId, async (tx) => {
    const orgs = await organizations.listMyOrganizations(tx); // with the caller's roles in each
    const first = orgs[0];
    if (!first) return { orgs, clients: [] };
    const page = await clients.listClients(tx, { organizationId: first.id, limit: 20 });
    return { orgs, clients: page.items }; // only the clients RLS lets this user see
  });
}
// #endregion as-user

// #region as-jwt
export async function handleListClients(db: OrgDb, request: Request): Promise<Response> {
  const token = request.headers.get("authorization")?.replace(/^Bearer /i, "") ?? "";
  const params = new URL(request.url).searchParams;
  try {
    const page = await db.asJwt(token, (tx) =>
      clients.listClients(tx, {
        organizationId: params.get("org") ?? "",
        search: params.get("q") || undefined,
        limit: 50,
      }),
    );
    return Response.json(page);
  } catch (error) {
    return errorResponse(error);
  }
}
// #endregion as-jwt

// #region errors
export function httpStatus(error: unknown): number {
  if (error instanceof ValidationError) return 400; // zod (no code) or a database check (22xxx, 23502, 23514)
  if (error instanceof ForbiddenError) return 403; // 42501, or an invalid access token (PGRST301)
  if (error instanceof NotFoundError) return 404; // P0002: missing, or hidden by RLS
  if (error instanceof ConflictError) return 409; // 23505, 23503 (error.constraint names it); InvariantError: P0001, a rule
  if (error instanceof ConcurrencyError) return 503; // 40001, 40P01 after the retries
  return 500;
}

export function errorResponse(error: unknown): Response {
  if (!(error instanceof DatabaseError)) return Response.json({ error: "internal" }, { status: 500 });
  const body = {
    error: error.name,
    code: error.code,
    rule: error.rule, // stable, for programs: "requires:clients.update", "organization-keeps-an-owner", ...
    message: error.message,
    issues: error instanceof ValidationError ? error.issues : undefined,
  };
  return Response.json(body, { status: httpStatus(error) });
}
// #endregion errors

// #region unit-of-work
export async function createAndAssign(db: OrgDb, managerId: string, organizationId: string, assigneeId: string) {
  // One transaction: both writes happen, or neither. The callback may run again
  // after a serialization failure or deadlock, so keep side effects out of it.
  return db.asUser(managerId, async (tx) => {
    const client = await clients.createClient(tx, { organizationId, name: "Northwind Traders", status: "lead" });
    await clients.assignClient(tx, { clientId: client.id, userId: assigneeId });
    return client;
  });
}
// #endregion unit-of-work

// #region dry-run
export async function previewRename(db: OrgDb, userId: string, organizationId: string, name: string) {
  // Runs every check a real rename runs (policies, triggers, deferred constraints),
  // then rolls back: the promise resolves with the work's result, nothing is kept.
  return db.asUser(userId, (tx) => organizations.updateOrganization(tx, { organizationId, name }), { rollback: true });
}
// #endregion dry-run

// #region leave
export async function leave(db: OrgDb, userId: string, organizationId: string): Promise<"left" | "last owner"> {
  try {
    await db.asUser(userId, (tx) => members.leaveOrganization(tx, { organizationId }));
    return "left";
  } catch (error) {
    // "At least one owner" is a deferred constraint: it fails at COMMIT, which
    // rejects asUser's promise (not the helper's call inside the callback).
    if (error instanceof InvariantError && error.code === "P0001") return "last owner";
    throw error;
  }
}
// #endregion leave

// #region members
export async function promoteToManager(db: OrgDb, adminId: string, organizationId: string, userId: string) {
  return db.asUser(adminId, async (tx) => {
    if (!(await members.authorize(tx, { organizationId, permission: "members.manage" }))) {
      throw new ForbiddenError("members.manage is required", { code: "42501" });
    }
    await members.setMemberRoles(tx, { organizationId, userId, roles: ["manager"] });
    return members.listMembers(tx, { organizationId }); // [{ userId, email, fullName, roles, joinedAt }]
  });
}
// #endregion members

// #region invitations
export async function inviteColleague(db: OrgDb, adminId: string, organizationId: string, email: string) {
  const issued = await db.asUser(adminId, (tx) =>
    invitations.inviteMember(tx, { organizationId, email, role: "member", expiresInHours: 72 }),
  );
  // Send the token now: only its hash is stored, it cannot be shown again.
  return { invitationId: issued.invitationId, link: `https://app.example.com/join?token=${issued.token}` };
}

export async function join(db: OrgDb, userId: string, token: string): Promise<string> {
  // The signed-in user's email must be the invited one (case-insensitive).
  return db.asUser(userId, (tx) => invitations.acceptInvitation(tx, { token })); // the organization id
}
// #endregion invitations

// #region pages
export async function exportActiveClients(db: OrgDb, userId: string, organizationId: string) {
  const all: clients.Client[] = [];
  let after: clients.ClientPage["next"] = null;
  do {
    const page = await db.asUser(userId, (tx) =>
      clients.listClients(tx, { organizationId, status: "active", limit: 200, ...(after ? { after } : {}) }),
    );
    all.push(...page.items);
    after = page.next; // keyset cursor: the last row's name and id
  } while (after);
  return all;
}
// #endregion pages

// #region audit
export async function recentClientChanges(db: OrgDb, adminId: string, organizationId: string) {
  const page = await db.asUser(adminId, (tx) =>
    audit.listAuditLog(tx, { organizationId, tableName: "clients", limit: 20 }),
  );
  // Latest first; owners and admins only (others get an empty page). page.next pages on.
  return page.items.map((e) => `${e.createdAt} ${e.actorId ?? "service"} ${e.action} ${e.recordId}`);
}
// #endregion audit

// #region drizzle
export async function countVisibleClients(db: OrgDb, userId: string): Promise<number> {
  // Plain Drizzle inside a unit of work runs under the same RLS as the helpers.
  return db.asUser(userId, async (tx) => {
    const [row] = await tx.select({ n: count() }).from(schema.clients);
    return row?.n ?? 0;
  });
}
// #endregion drizzle

// #region service
export async function archiveStaleLeads(db: OrgDb, before: string) {
  // service_role bypasses RLS: for trusted jobs only, never with a user's input unchecked.
  return db.asService((tx) =>
    tx
      .update(schema.clients)
      .set({ status: "archived" })
      .where(and(eq(schema.clients.status, "lead"), lt(schema.clients.updatedAt, before)))
      .returning({ id: schema.clients.id }),
  );
}
// #endregion service

// #region not-found
export async function clientOr404(db: OrgDb, userId: string, clientId: string) {
  try {
    return await db.asUser(userId, (tx) => clients.getClient(tx, { clientId }));
  } catch (error) {
    // A client of another organization, or one a `member` is not assigned to,
    // is not found: RLS hides it, and the layer does not tell it apart.
    if (error instanceof NotFoundError) return null;
    throw error;
  }
}
// #endregion not-found

// #region replicas
export function openWithReplicas(): OrgDb {
  // Each Supabase read replica has its own connection string (Database settings).
  return createOrgDb(process.env.DATABASE_URL!, {
    readReplicas: [process.env.READ_REPLICA_URL!],
    replicas: { maxLagBytes: 16 * 1024 * 1024, maxWaitMs: 1000 }, // the defaults
  });
}

export async function clientPage(db: OrgDb, userId: string, organizationId: string) {
  // A read: a healthy replica serves it (the primary when none is healthy).
  return db.asUser(userId, (tx) => clients.listClients(tx, { organizationId, limit: 50 }), { readOnly: true });
}

export async function renameThenShow(db: OrgDb, userId: string, clientId: string, name: string) {
  await db.asUser(userId, (tx) => clients.updateClient(tx, { clientId, name }));
  const token = await db.writeToken();
  // Read your own write: a replica that has replayed it, else (after at most maxWaitMs) the primary.
  return db.asUser(userId, (tx) => clients.getClient(tx, { clientId }), { readOnly: true, after: token });
}
// #endregion replicas

/**
 * The audit log through the typed layer: every change is recorded by the
 * database with its actor; owners and admins (audit.read) read their
 * organization's history latest first with keyset pages and filters; everyone
 * else gets an empty page; entries never carry secrets, cannot be changed by
 * users, and outlive their organization.
 */
import { eq, sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { expectError } from "../tests/support/errors.ts";
import { useOrgDb } from "../tests/support/orgdb.ts";
import { client, ORG, USER } from "../tests/support/personas.ts";
import { listAuditLog, type AuditListInput } from "./audit.ts";
import { updateClient } from "./clients.ts";
import { type Tx } from "./db.ts";
import { ForbiddenError, ValidationError } from "./errors.ts";
import { inviteMember } from "./invitations.ts";
import { createOrganization, deleteOrganization } from "./organizations.ts";
import { auditLog } from "./schema/index.ts";

const suite = useOrgDb();
const { test, as } = suite;

/** Entry ids of an organization as the superuser sees them, latest first, with the same filters. */
async function allEntryIds(
  organizationId: string,
  f: { tableName?: string; action?: string; actorId?: string; recordId?: string } = {},
): Promise<string[]> {
  const rows = await test.sql<{ id: string }[]>`
    select id from public.audit_log
    where organization_id = ${organizationId}
      and (${f.tableName ?? null}::text is null or table_name = ${f.tableName ?? null}::text)
      and (${f.action ?? null}::text is null or action = ${f.action ?? null}::text)
      and (${f.actorId ?? null}::uuid is null or actor_id = ${f.actorId ?? null}::uuid)
      and (${f.recordId ?? null}::uuid is null or record_id = ${f.recordId ?? null}::uuid)
    order by created_at desc, id desc`;
  return rows.map((r) => r.id);
}

/** Every page of listAuditLog, following the cursor to the end. */
async function allPages(run: <T>(work: (tx: Tx) => Promise<T>) => Promise<T>, input: AuditListInput) {
  const entries: Awaited<ReturnType<typeof listAuditLog>>["items"] = [];
  let before: AuditListInput["before"];
  for (let pages = 0; ; pages++) {
    if (pages > 200) throw new Error("pagination does not end");
    const page = await run((tx) => listAuditLog(tx, { ...input, ...(before ? { before } : {}) }));
    expect(page.items.length).toBeLessThanOrEqual(input.limit ?? 50);
    entries.push(...page.items);
    if (!page.next) break;
    before = page.next;
  }
  return entries;
}

const asUserRun =
  (user: string) =>
  <T>(work: (tx: Tx) => Promise<T>) =>
    suite.db.asUser(user, work);

describe("listAuditLog", () => {
  it("the seed's history is there, latest first; keyset pages return every entry exactly once, in order", async () => {
    const expected = await allEntryIds(ORG.acme);
    expect(expected.length).toBeGreaterThanOrEqual(49); // organization, 6 memberships, 6 roles, 25 clients, 10 assignments, 1 invitation
    for (const limit of [1, 7, 50, 500]) {
      const entries = await allPages(asUserRun(USER.alice), { organizationId: ORG.acme, limit });
      expect(entries.map((e) => e.id)).toEqual(expected);
      for (let i = 1; i < entries.length; i++) {
        expect(new Date(entries[i - 1]!.createdAt).getTime()).toBeGreaterThanOrEqual(
          new Date(entries[i]!.createdAt).getTime(),
        );
      }
    }
  });

  it("a change made through the layer comes first, with its actor, table, action, record and old and new rows", async () => {
    await as(USER.carol, (tx) => updateClient(tx, { clientId: client(1, 3), name: "Renamed by Carol" }));
    const page = await as(USER.bob, (tx) => listAuditLog(tx, { organizationId: ORG.acme, limit: 1 }));
    expect(page.items).toHaveLength(1);
    expect(page.next).not.toBeNull();
    const [entry] = page.items;
    expect(entry).toMatchObject({
      organizationId: ORG.acme,
      actorId: USER.carol,
      tableName: "clients",
      action: "update",
      recordId: client(1, 3),
    });
    expect((entry!.new as { name: string }).name).toBe("Renamed by Carol");
    expect((entry!.old as { name: string }).name).not.toBe("Renamed by Carol");
  });

  it("a change by the service is recorded with no actor", async () => {
    await suite.db.asService((tx) => updateClient(tx, { clientId: client(1, 4), notes: "batch import" }));
    const [entry] = (await as(USER.alice, (tx) => listAuditLog(tx, { organizationId: ORG.acme, limit: 1 }))).items;
    expect(entry).toMatchObject({ actorId: null, tableName: "clients", action: "update", recordId: client(1, 4) });
  });

  it("filters (table, action, actor, record), alone and together, return exactly the matching entries across pages", async () => {
    const filters: Omit<AuditListInput, "organizationId">[] = [
      { tableName: "clients" },
      { tableName: "user_roles" },
      { action: "update" },
      { action: "insert", tableName: "user_clients" },
      { actorId: USER.carol },
      { recordId: client(1, 3) },
      { tableName: "clients", action: "update", actorId: USER.carol, recordId: client(1, 3) },
    ];
    for (const f of filters) {
      const entries = await allPages(asUserRun(USER.alice), { organizationId: ORG.acme, limit: 4, ...f });
      const expected = await allEntryIds(ORG.acme, f);
      expect(expected.length, JSON.stringify(f)).toBeGreaterThan(0);
      expect(
        entries.map((e) => e.id),
        JSON.stringify(f),
      ).toEqual(expected);
    }
  });

  it("only owners and admins (audit.read) read it: every other member, and non-members, get an empty page", async () => {
    expect((await as(USER.bob, (tx) => listAuditLog(tx, { organizationId: ORG.acme }))).items.length).toBe(50);
    expect(
      (await as(USER.grace, (tx) => listAuditLog(tx, { organizationId: ORG.globex }))).items.length,
    ).toBeGreaterThan(0);
    for (const user of [USER.carol, USER.dave, USER.erin, USER.mallory, USER.frank, USER.nora]) {
      expect(await as(user, (tx) => listAuditLog(tx, { organizationId: ORG.acme }))).toEqual({ items: [], next: null });
    }
    expect(await as(USER.alice, (tx) => listAuditLog(tx, { organizationId: ORG.globex }))).toEqual({
      items: [],
      next: null,
    });
  });

  it("invitation entries never carry the token hash", async () => {
    await as(USER.bob, (tx) =>
      inviteMember(tx, { organizationId: ORG.acme, email: "audited@example.com", role: "viewer" }),
    );
    const entries = await allPages(asUserRun(USER.alice), {
      organizationId: ORG.acme,
      tableName: "invitations",
      limit: 10,
    });
    expect(entries.length).toBeGreaterThanOrEqual(2);
    for (const e of entries) {
      expect(Object.keys(e.new ?? {})).not.toContain("token_hash");
      expect(Object.keys(e.old ?? {})).not.toContain("token_hash");
    }
    expect(entries[0]).toMatchObject({ action: "insert", actorId: USER.bob });
    expect((entries[0]!.new as { email: string }).email).toBe("audited@example.com");
  });

  it("entries are append-only for users: even an owner cannot change or delete one (ForbiddenError 42501)", async () => {
    const [entry] = (await as(USER.alice, (tx) => listAuditLog(tx, { organizationId: ORG.acme, limit: 1 }))).items;
    await expectError(
      as(USER.alice, (tx) => tx.update(auditLog).set({ action: "delete" }).where(eq(auditLog.id, entry!.id))),
      ForbiddenError,
      "42501",
    );
    await expectError(
      as(USER.alice, (tx) => tx.delete(auditLog).where(eq(auditLog.id, entry!.id))),
      ForbiddenError,
      "42501",
    );
    const [row] = await test.sql<{ action: string }[]>`select action from public.audit_log where id = ${entry!.id}`;
    expect(row?.action).toBe(entry!.action);
  });

  it("the history outlives its organization: after deletion only the service reads it", async () => {
    const org = await as(USER.nora, (tx) => createOrganization(tx, { name: "Gone Soon", slug: "gone-soon" }));
    const whileAlive = await allPages(asUserRun(USER.nora), { organizationId: org.id });
    expect(whileAlive.map((e) => e.tableName).sort()).toEqual(["organization_users", "organizations", "user_roles"]);
    await as(USER.nora, (tx) => deleteOrganization(tx, { organizationId: org.id }));
    expect(await as(USER.nora, (tx) => listAuditLog(tx, { organizationId: org.id }))).toEqual({
      items: [],
      next: null,
    });
    const kept = await allPages((work) => suite.db.asService(work), { organizationId: org.id });
    expect(kept.map((e) => e.id)).toEqual(await allEntryIds(org.id));
    expect(kept[0]).toMatchObject({ tableName: expect.any(String), action: "delete", actorId: USER.nora });
    expect(
      kept
        .filter((e) => e.tableName === "organizations")
        .map((e) => e.action)
        .sort(),
    ).toEqual(["delete", "insert"]);
  });

  it("bad input is ValidationError before the database: unknown table or action, limit, ids, cursor", async () => {
    const bad: unknown[] = [
      { organizationId: ORG.acme, tableName: "users" },
      { organizationId: ORG.acme, action: "truncate" },
      { organizationId: ORG.acme, limit: 0 },
      { organizationId: ORG.acme, limit: 501 },
      { organizationId: ORG.acme, actorId: "alice" },
      { organizationId: ORG.acme, recordId: "1" },
      { organizationId: ORG.acme, before: { createdAt: "2026-01-01T00:00:00Z", id: "x" } },
      { organizationId: "acme" },
    ];
    for (const input of bad) {
      await expectError(
        as(USER.alice, (tx) => listAuditLog(tx, input as AuditListInput)),
        ValidationError,
        undefined,
      );
    }
  });

  describe("a long history", () => {
    // An organization of nora's with 6,000 entries over a year: 3,000 records (an insert and an update each,
    // a delete for one in a hundred), 30 actors, a rare table (invitations, one entry in fifty).
    let organizationId = "";
    const record = (n: number) => `a0000000-0000-4000-8000-${String(n).padStart(12, "0")}`;
    const actor = (n: number) => `b0000000-0000-4000-8000-${String(n).padStart(12, "0")}`;

    /** Heap rows of audit_log this transaction read so far: fetched through any of its indexes (counted on the
     * index), by bitmap scans (counted on the table) or sequentially. */
    const auditRowsRead = async (tx: Tx) => {
      const [row] = await tx.execute<{ n: string }>(
        sql`select sum(pg_stat_get_xact_tuples_fetched(r.oid)) + pg_stat_get_xact_tuples_returned('public.audit_log'::regclass) as n
              from (select 'public.audit_log'::regclass::oid as oid
                    union all select i.indexrelid from pg_index i where i.indrelid = 'public.audit_log'::regclass) r`,
      );
      return Number(row!.n);
    };

    beforeAll(async () => {
      organizationId = (
        await as(USER.nora, (tx) => createOrganization(tx, { name: "Long history", slug: "long-history" }))
      ).id;
      await test.sql`
        insert into public.audit_log (organization_id, actor_id, action, table_name, record_id, created_at)
        select ${organizationId}, ${test.sql.unsafe("('b0000000-0000-4000-8000-' || lpad((i % 30)::text, 12, '0'))::uuid")},
               case when i % 200 = 0 then 'delete' when i % 2 = 0 then 'update' else 'insert' end,
               case when i % 50 = 0 then 'invitations' else 'clients' end,
               ('a0000000-0000-4000-8000-' || lpad((i / 2)::text, 12, '0'))::uuid,
               now() - interval '1 year' + i * interval '1 hour'
          from generate_series(1, 6000) i`;
      await test.sql`analyze public.audit_log`;
    });

    it("a page deep in it reads its own entries, not every entry before it (the cursor is an index condition)", async () => {
      const expected = await allEntryIds(organizationId);
      const cursor = (
        await test.sql<{ created_at: string; id: string }[]>`
        select created_at::text, id from public.audit_log where id = ${expected[5000]!}`
      )[0]!;
      const { items, read } = await as(USER.nora, async (tx) => {
        const before = await auditRowsRead(tx);
        const page = await listAuditLog(tx, {
          organizationId,
          limit: 20,
          before: { createdAt: cursor.created_at, id: cursor.id },
        });
        return { items: page.items, read: (await auditRowsRead(tx)) - before };
      });
      expect(items.map((e) => e.id)).toEqual(expected.slice(5001, 5021));
      expect(read).toBeLessThan(200);
    });

    it("record, actor, table and deletions each reach the log through an index of their own within the organization", async () => {
      const cases: [{ recordId?: string; actorId?: string; tableName?: "invitations"; action?: "delete" }, RegExp][] = [
        [{ recordId: record(1234) }, /^audit_log_organization_id_record_id_created_at_idx$/],
        [{ actorId: actor(7) }, /^audit_log_organization_id_actor_id_created_at_idx$/],
        [{ tableName: "invitations" }, /^audit_log_organization_id_table_name_created_at_idx$/],
        [{ action: "delete" }, /^audit_log_organization_id_deletes_created_at_idx$/],
      ];
      for (const [filter, index] of cases) {
        const { read, found } = await as(USER.nora, async (tx) => {
          const before = await auditRowsRead(tx);
          const page = await listAuditLog(tx, { organizationId, limit: 20, ...filter });
          return { read: (await auditRowsRead(tx)) - before, found: page.items.length };
        });
        expect(found, JSON.stringify(filter)).toBeGreaterThan(0);
        // Only the matching entries are read: a walk of the organization's time index would read thousands.
        expect(read, JSON.stringify(filter)).toBeLessThan(100);
        const column = { recordId: "record_id", actorId: "actor_id", tableName: "table_name", action: "action" };
        const where = Object.entries(filter)
          .map(([key, value]) => `${column[key as keyof typeof column]} = '${value}'`)
          .join(" and ");
        // Planned as nora, under the read policy, with the values known (as the typed layer's first runs plan it).
        const [plan] = await as(USER.nora, (tx) =>
          tx.execute<{ "QUERY PLAN": unknown }>(
            sql.raw(`explain (format json) select * from public.audit_log
                     where organization_id = '${organizationId}' and ${where}
                     order by created_at desc, id desc limit 21`),
          ),
        );
        expect(
          JSON.stringify(plan!["QUERY PLAN"]).match(/"Index Name":"([a-z_]+)"/)?.[1],
          JSON.stringify(filter),
        ).toMatch(index);
      }
    });
  });
});

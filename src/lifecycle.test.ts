/**
 * The data lifecycle through the typed layer, as the seed's personas:
 * deleting an organization (the RPC, its size limit, the batched deletion as
 * the service), the one-document export, the streaming export, a user's own
 * data and what blocks deleting an account. Refusals are typed errors with a
 * rule; bad input is refused before the database.
 */
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { exportMyDataFromServer } from "../docs/examples/lifecycle.ts";
import { expectError } from "../tests/support/errors.ts";
import { organizationLeftovers } from "../tests/support/leftovers.ts";
import { useOrgDb } from "../tests/support/orgdb.ts";
import { ORG, USER } from "../tests/support/personas.ts";
import { createClient } from "./clients.ts";
import {
  ConflictError,
  ForbiddenError,
  InvariantError,
  NotFoundError,
  ValidationError,
  toTypedError,
} from "./errors.ts";
import {
  accountDeletionBlockers,
  deleteOrganizationInBatches,
  exportMyData,
  exportOrganizationDocument,
  streamOrganizationExport,
  type ExportRecord,
} from "./lifecycle.ts";
import { createOrganization, deleteOrganization } from "./organizations.ts";

const suite = useOrgDb();
const { test, as } = suite;

/** A fresh organization of nora's with `clients` clients. */
async function noraOrganization(slug: string, clients: number): Promise<string> {
  const org = await as(USER.nora, (tx) => createOrganization(tx, { name: slug, slug }));
  await test.sql`insert into public.clients (organization_id, name)
                 select ${org.id}, 'Client ' || i from generate_series(1, ${clients}::int) i`;
  return org.id;
}

async function summaryOf(organizationId: string) {
  return test.sql<{ actor_id: string | null; new: { deleted_rows: Record<string, number>; method: string } }[]>`
    select actor_id, new from public.audit_log
     where organization_id = ${organizationId} and table_name = 'organizations' and action = 'delete'`;
}

describe("deleteOrganization (delete_organization)", () => {
  it("the owner deletes; one summary audit entry names her and the rows that went; nothing is left", async () => {
    const orgId = await noraOrganization("lifecycle-small", 12);
    await as(USER.nora, (tx) => deleteOrganization(tx, { organizationId: orgId }));
    expect(await organizationLeftovers(test.sql, orgId)).toEqual([]);
    const summary = await summaryOf(orgId);
    expect(summary).toHaveLength(1);
    expect(summary[0]).toMatchObject({
      actor_id: USER.nora,
      new: {
        method: "delete_organization",
        deleted_rows: {
          "public.clients": 12,
          "public.organization_users": 1,
          "public.user_roles": 1,
          "public.organizations": 1,
        },
      },
    });
    const [perRow] = await test.sql<{ n: number }[]>`
      select count(*)::int as n from public.audit_log where organization_id = ${orgId} and action = 'delete' and table_name <> 'organizations'`;
    expect(perRow!.n).toBe(0);
  });

  it("the id of a deleted organization is never used again (ConflictError with its rule)", async () => {
    const orgId = await noraOrganization("lifecycle-tombstone", 0);
    await as(USER.nora, (tx) => deleteOrganization(tx, { organizationId: orgId }));
    const error = await expectError(
      test.sql`insert into public.organizations (id, name, slug) values (${orgId}, 'Again', 'lifecycle-again')`.then(
        () => undefined,
        (e: unknown) => Promise.reject(toTypedError(e)),
      ),
      ConflictError,
      "23505",
    );
    expect(error.rule).toBe("organization-id-of-deleted-organization");
  });

  it("an admin is refused (ForbiddenError, requires:organization.delete), a non-member gets NotFoundError", async () => {
    const error = await expectError(
      as(USER.bob, (tx) => deleteOrganization(tx, { organizationId: ORG.acme })),
      ForbiddenError,
      "42501",
    );
    expect(error.rule).toBe("requires:organization.delete");
    await expectError(
      as(USER.nora, (tx) => deleteOrganization(tx, { organizationId: ORG.acme })),
      NotFoundError,
      "P0002",
    );
  });

  it("above settings.delete_organization_max_rows it refuses with a rule pointing to the batched deletion, and deletes nothing", async () => {
    const orgId = await noraOrganization("lifecycle-large", 30);
    await test.sql`update public.settings set delete_organization_max_rows = 20 where id`;
    try {
      const error = await expectError(
        as(USER.nora, (tx) => deleteOrganization(tx, { organizationId: orgId })),
        InvariantError,
        "P0001",
      );
      expect(error.rule).toBe("organization-too-large-to-delete");
      expect(error.hint).toMatch(/deleteOrganizationInBatches/);
    } finally {
      await test.sql`update public.settings set delete_organization_max_rows = default where id`;
    }
    const [row] = await test.sql<
      { n: number }[]
    >`select count(*)::int as n from public.clients where organization_id = ${orgId}`;
    expect(row!.n).toBe(30);
  });
});

describe("deleteOrganizationInBatches (as the service)", () => {
  it("deletes in batches, then the organization, with one summary entry counting every batch", async () => {
    const orgId = await noraOrganization("lifecycle-batched", 25);
    const progress: number[] = [];
    const counts = await deleteOrganizationInBatches(
      suite.db,
      { organizationId: orgId, batchSize: 10, requestedBy: USER.nora },
      { onProgress: (p) => progress.push(p.deleted) },
    );
    expect(progress).toEqual([10, 20, 25, 25]);
    expect(counts).toEqual({
      "public.clients": 25,
      "public.organization_users": 1,
      "public.user_roles": 1,
      "public.organizations": 1,
    });
    expect(await organizationLeftovers(test.sql, orgId)).toEqual([]);
    const summary = await summaryOf(orgId);
    expect(summary).toHaveLength(1);
    expect(summary[0]).toMatchObject({ actor_id: USER.nora, new: { method: "batched", deleted_rows: counts } });
    const [perRow] = await test.sql<{ n: number }[]>`
      select count(*)::int as n from public.audit_log where organization_id = ${orgId} and action = 'delete' and table_name = 'clients'`;
    expect(perRow!.n).toBe(0);
  });

  it("an unknown organization is NotFoundError; bad input is ValidationError before the database", async () => {
    await expectError(
      deleteOrganizationInBatches(suite.db, { organizationId: "00000000-0000-4000-8000-00000000dead" }),
      NotFoundError,
      "P0002",
    );
    await expectError(
      deleteOrganizationInBatches(suite.db, { organizationId: ORG.acme, batchSize: 0 }),
      ValidationError,
      undefined,
    );
    await expectError(deleteOrganizationInBatches(suite.db, { organizationId: "acme" }), ValidationError, undefined);
    // Options and the handle are checked before the first batch, as the input is: nothing is deleted.
    const untyped = deleteOrganizationInBatches as (db: unknown, input: unknown, options?: unknown) => Promise<unknown>;
    for (const options of [{ onProgress: 5 }, { onProgres: () => {} }, "fast"])
      await expect(untyped(suite.db, { organizationId: ORG.acme, batchSize: 1 }, options)).rejects.toThrow(
        ValidationError,
      );
    await expect(untyped(null, { organizationId: ORG.acme })).rejects.toThrow(ValidationError);
    const stream = streamOrganizationExport as (db: unknown, input: unknown, write: unknown) => Promise<unknown>;
    await expect(stream(suite.db, { organizationId: ORG.acme }, "out.ndjson")).rejects.toThrow(
      /^invalid arguments: write must be a function/,
    );
    await expect(stream(undefined, { organizationId: ORG.acme }, () => {})).rejects.toThrow(ValidationError);
    const [row] = await test.sql<
      { n: number }[]
    >`select count(*)::int as n from public.clients where organization_id = ${ORG.acme}`;
    expect(row!.n).toBeGreaterThan(0);
  });
});

describe("exportOrganizationDocument (export_organization)", () => {
  it("the owner gets one document: members with roles, clients, assignments, invitations without tokens, the audit log", async () => {
    const doc = await as(USER.frank, (tx) => exportOrganizationDocument(tx, { organizationId: ORG.globex }));
    expect(doc.organization).toMatchObject({ id: ORG.globex, slug: "globex" });
    expect(doc.members.find((m) => m.id === USER.grace)).toMatchObject({
      email: "grace@globex.example",
      roles: ["admin", "manager"],
    });
    const [counts] = await test.sql<{ clients: number; assignments: number; audit: number }[]>`
      select (select count(*)::int from public.clients where organization_id = ${ORG.globex}) as clients,
             (select count(*)::int from public.user_clients where organization_id = ${ORG.globex}) as assignments,
             (select count(*)::int from public.audit_log where organization_id = ${ORG.globex}) as audit`;
    expect({ clients: doc.clients.length, assignments: doc.assignments.length, audit: doc.audit_log.length }).toEqual(
      counts,
    );
    expect(JSON.stringify(doc)).not.toMatch(/token|hash/);
  });

  it("an admin is refused, a non-member gets NotFoundError, a bad id ValidationError", async () => {
    await expectError(
      as(USER.grace, (tx) => exportOrganizationDocument(tx, { organizationId: ORG.globex })),
      ForbiddenError,
      "42501",
    );
    await expectError(
      as(USER.alice, (tx) => exportOrganizationDocument(tx, { organizationId: ORG.globex })),
      NotFoundError,
      "P0002",
    );
    await expectError(
      as(USER.frank, (tx) => exportOrganizationDocument(tx, { organizationId: "globex" })),
      ValidationError,
      undefined,
    );
  });

  it("above settings.export_organization_max_rows it refuses with a rule pointing to the streaming export", async () => {
    await test.sql`update public.settings set export_organization_max_rows = 10 where id`;
    try {
      const error = await expectError(
        as(USER.frank, (tx) => exportOrganizationDocument(tx, { organizationId: ORG.globex })),
        InvariantError,
        "P0001",
      );
      expect(error.rule).toBe("organization-too-large-to-export");
      expect(error.hint).toMatch(/org:export/);
    } finally {
      await test.sql`update public.settings set export_organization_max_rows = default where id`;
    }
  });
});

describe("streamOrganizationExport (as the service)", () => {
  it("writes the header, every record of the organization in order, and an end record with the counts", async () => {
    const records: ExportRecord[] = [];
    const counts = await streamOrganizationExport(suite.db, { organizationId: ORG.globex, batchSize: 3 }, (r) => {
      records.push(r);
    });
    expect(records[0]).toMatchObject({ type: "export", data: { organization_id: ORG.globex, version: 1 } });
    expect(records.at(-1)).toEqual({ type: "end", data: { counts } });
    const doc = await as(USER.frank, (tx) => exportOrganizationDocument(tx, { organizationId: ORG.globex }));
    expect(counts).toEqual({
      organization: 1,
      member: doc.members.length,
      role: doc.roles.length,
      client: doc.clients.length,
      assignment: doc.assignments.length,
      invitation: doc.invitations.length,
      audit_log: doc.audit_log.length,
      table_row: Object.values(doc.tables).flat().length,
    });
    const types = records.map((r) => r.type);
    expect(types.indexOf("client")).toBeGreaterThan(types.lastIndexOf("member"));
    expect(
      records
        .filter((r) => r.type === "client")
        .every((r) => (r.data as { organization_id: string }).organization_id === ORG.globex),
    ).toBe(true);
    expect(JSON.stringify(records)).not.toMatch(/token|hash/);
  });

  it("writes the rows of the project's own registered tables as table_row records, as export_organization holds them under tables", async () => {
    await test.sql`create table public.lifecycle_notes (
      id uuid primary key,
      organization_id uuid not null references public.organizations (id) on delete cascade,
      body text not null,
      secret text)`;
    await test.sql`select private.register_audited_table('public.lifecycle_notes', record_id_column => 'id',
                     organization_id_column => 'organization_id', secret_columns => '{secret}')`;
    await test.sql`grant select on public.lifecycle_notes to service_role`;
    await test.sql`insert into public.lifecycle_notes (id, organization_id, body, secret) values
      ('43000000-0000-4000-9000-000000000002', ${ORG.globex}, 'Globex note 2', 's'),
      ('43000000-0000-4000-9000-000000000001', ${ORG.globex}, 'Globex note 1', 's'),
      ('43000000-0000-4000-9000-000000000003', ${ORG.acme}, 'Acme note', 's')`;
    const records: ExportRecord[] = [];
    const counts = await streamOrganizationExport(suite.db, { organizationId: ORG.globex }, (r) => {
      records.push(r);
    });
    const expected = [
      { id: "43000000-0000-4000-9000-000000000001", organization_id: ORG.globex, body: "Globex note 1" },
      { id: "43000000-0000-4000-9000-000000000002", organization_id: ORG.globex, body: "Globex note 2" },
    ];
    expect(records.filter((r) => r.type === "table_row")).toEqual(
      expected.map((row) => ({ type: "table_row", data: { table: "lifecycle_notes", row } })),
    );
    expect(counts.table_row).toBe(2);
    expect(records.map((r) => r.type).indexOf("table_row")).toBeGreaterThan(
      records.map((r) => r.type).lastIndexOf("audit_log"),
    );
    const doc = await as(USER.frank, (tx) => exportOrganizationDocument(tx, { organizationId: ORG.globex }));
    expect(doc.tables.lifecycle_notes).toEqual(expected);
  });

  it("what the caller's write throws (its response closed: EPIPE; its own error class) reaches it unchanged, not as a database error", async () => {
    class ClientGone extends Error {
      override name = "ClientGone";
    }
    const epipe = Object.assign(new Error("write EPIPE"), { code: "EPIPE", syscall: "write", errno: -32 });
    for (const thrown of [epipe, new ClientGone("client disconnected")]) {
      let writes = 0;
      const failure = await streamOrganizationExport(suite.db, { organizationId: ORG.globex }, () => {
        if (++writes === 3) throw thrown;
      }).catch((error: unknown) => error);
      expect(failure).toBe(thrown);
      expect(writes).toBe(3);
    }
  });

  it("an unknown organization is NotFoundError and writes nothing; a bad id ValidationError", async () => {
    const records: ExportRecord[] = [];
    await expectError(
      streamOrganizationExport(suite.db, { organizationId: "00000000-0000-4000-8000-00000000dead" }, (r) => {
        records.push(r);
      }),
      NotFoundError,
      "P0002",
    );
    expect(records).toEqual([]);
    await expectError(
      streamOrganizationExport(suite.db, { organizationId: "x" }, () => {}),
      ValidationError,
      undefined,
    );
  });
});

describe("exportMyData and accountDeletionBlockers", () => {
  it("a user's own data: profile, memberships with roles, assignments, audit entries as metadata only", async () => {
    await as(USER.dave, (tx) => createClient(tx, { organizationId: ORG.acme, name: "Dave's own" }));
    const mine = await as(USER.dave, (tx) => exportMyData(tx));
    expect(mine.profile).toMatchObject({ id: USER.dave, email: "dave@acme.example" });
    expect(mine.memberships).toEqual([expect.objectContaining({ organization_id: ORG.acme, roles: ["member"] })]);
    expect(mine.assignments.length).toBeGreaterThan(0);
    expect(mine.audit_entries.length).toBeGreaterThan(0);
    for (const entry of mine.audit_entries)
      expect(Object.keys(entry).sort()).toEqual(["action", "created_at", "record_id", "table_name"]);
    // The layer has no table of a project's own with a user_id column (T420.37-39 cover one); in a
    // project that added some (entity:new --assignable), dave has no rows there.
    for (const [table, rows] of Object.entries(mine.tables)) expect(rows, table).toEqual([]);
  });

  it("from a server, the unit may give the export more time than the API's statement timeout (docs/examples/lifecycle.ts)", async () => {
    const mine = await exportMyDataFromServer(suite.db, USER.dave);
    expect(mine.profile).toMatchObject({ id: USER.dave });
    // The longer timeout was the unit's own: the next unit has the role's again.
    const [row] = await as(USER.dave, (tx) =>
      tx.execute<{ t: string }>(sql`select current_setting('statement_timeout') as t`),
    );
    expect(row!.t).not.toBe("2min");
  });

  it("blockers: the only owner with other members is blocked, an admin is not", async () => {
    expect(await as(USER.alice, (tx) => accountDeletionBlockers(tx))).toEqual([
      { organizationId: ORG.acme, name: "Acme Corporation", reason: "only_owner" },
    ]);
    expect(await as(USER.bob, (tx) => accountDeletionBlockers(tx))).toEqual([]);
  });
});

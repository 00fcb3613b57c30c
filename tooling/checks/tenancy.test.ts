/**
 * The tenant-key check (tooling/checks/tenancy.ts) passes on the schema the
 * migrations build, reporting the Citus plan's work, and fails on a table
 * that breaks each of its rules. Every bad table is made in a transaction
 * that is rolled back.
 */
import { describe, expect, it } from "vitest";
import { useTestDatabase } from "../../tests/support/database.ts";
import { RESERVED_NAMES } from "../../src/cli/entity/names.ts";
import { bareCalls, rowDependentCalls, subLinkShapes, tenancyReport, type TenancyReport } from "./tenancy.ts";

const test = useTestDatabase();

/**
 * The layer's own tables. A project's tables (entity:new) pass the same check, proved where they
 * are generated (scripts/entity-new.test.ts); the cases below name what the layer's tables report.
 */
const layers = (table: string) => RESERVED_NAMES.has(table);

/** The report with `ddl` applied, then undone. */
async function reportWith(ddl: string): Promise<TenancyReport> {
  let report: TenancyReport | undefined;
  await test.sql
    .begin(async (tx) => {
      await tx.unsafe(ddl);
      report = await tenancyReport(tx);
      throw new Error("roll back");
    })
    .catch((error: Error) => {
      if (error.message !== "roll back") throw error;
    });
  return report!;
}

describe("the schema the migrations build", () => {
  it("passes: every tenant table keyed by a non-null organization_id, foreign keys paired, policies of accepted shapes", async () => {
    const report = await test.sql.begin((tx) => tenancyReport(tx));
    expect(report.failures).toEqual([]);
    expect(Object.fromEntries(Object.entries(report.tenantTables).filter(([table]) => layers(table)))).toEqual({
      organization_users: "organization_id",
      user_roles: "organization_id",
      clients: "organization_id",
      user_clients: "organization_id",
      invitations: "organization_id",
    });
  });

  it("reports the plan's work: keys without organization_id and the (select f()) wrappers to unwrap", async () => {
    const report = await test.sql.begin((tx) => tenancyReport(tx));
    const work = report.planWork.filter((f) => layers(f.table));
    const keys = work.filter((f) => f.rule === "unique-key").map((f) => `${f.table}:${f.object}`);
    expect(keys).toEqual([
      "clients:clients_pkey",
      "invitations:invitations_pkey",
      "invitations:invitations_token_hash_key",
    ]);
    // The clients read policy's planner hint is the only bare call of a helper that is not immutable.
    expect(work.filter((f) => f.rule === "policy-bare-call").map((f) => `${f.table}:${f.object}`)).toEqual([
      "clients:clients_select_readers_or_assigned",
    ]);
    const wrapped = work.filter((f) => f.rule === "policy-wrapped-call").map((f) => f.object);
    expect(wrapped).toEqual(
      expect.arrayContaining([
        "clients_select_readers_or_assigned",
        "organizations_select_member",
        "users_update_self",
      ]),
    );
  });
});

describe("a table that breaks a rule fails the check", () => {
  const rules = (report: TenancyReport) => report.failures.map((f) => `${f.rule} ${f.table}.${f.object}`);

  it("1. organization_id that may be null", async () => {
    const report = await reportWith(
      `create table public.bad_notes (id uuid primary key, organization_id uuid references public.organizations (id))`,
    );
    expect(rules(report)).toEqual(["nullable-key bad_notes.bad_notes.organization_id"]);
  });

  it("2. a foreign key between tenant tables without organization_id", async () => {
    const report = await reportWith(`
      create table public.bad_notes (
        id uuid primary key,
        organization_id uuid not null references public.organizations (id),
        client_id uuid references public.clients (id)
      )`);
    expect(rules(report)).toEqual(["foreign-key bad_notes.bad_notes_client_id_fkey"]);
  });

  it("2. ... and the same foreign key paired with organization_id passes", async () => {
    const report = await reportWith(`
      create table public.good_notes (
        id uuid primary key,
        organization_id uuid not null references public.organizations (id),
        client_id uuid,
        foreign key (organization_id, client_id) references public.clients (organization_id, id)
      )`);
    expect(report.failures).toEqual([]);
    expect(report.planWork.map((f) => f.object)).toContain("good_notes_pkey");
  });

  it("3. a policy with a subquery that reads a table", async () => {
    const report = await reportWith(`
      create table public.bad_notes (id uuid primary key, organization_id uuid not null references public.organizations (id));
      alter table public.bad_notes enable row level security;
      create policy bad_notes_select on public.bad_notes for select to authenticated
        using (organization_id in (select ou.organization_id from public.organization_users ou where ou.user_id = (select auth.uid())))`);
    expect(rules(report)).toEqual(["policy-subquery bad_notes.bad_notes_select"]);
  });

  it("3. a correlated subquery without FROM fails too", async () => {
    const report = await reportWith(`
      create table public.bad_notes (id uuid primary key, organization_id uuid not null references public.organizations (id));
      create policy bad_notes_select on public.bad_notes for select to authenticated
        using ((select private.is_member(organization_id, (select auth.uid()))))`);
    expect(rules(report)).toContain("policy-subquery bad_notes.bad_notes_select");
  });

  it("4. a policy that passes a column of the row to a helper that reads tables", async () => {
    const report = await reportWith(`
      create table public.bad_notes (id uuid primary key, organization_id uuid not null references public.organizations (id));
      create policy bad_notes_select on public.bad_notes for select to authenticated
        using (private.has_permission(organization_id, 'clients.read'))`);
    expect(rules(report)).toEqual(["policy-row-helper bad_notes.bad_notes_select"]);
  });

  it("a table without organization_id that references a tenant table is the plan's work (a reference table cannot point into a distributed one)", async () => {
    const report = await reportWith(
      `create table public.client_tags (id uuid primary key, client_id uuid references public.clients (id))`,
    );
    expect(report.failures).toEqual([]);
    expect(report.planWork.filter((f) => f.rule === "reference-fk").map((f) => f.object)).toEqual([
      "client_tags_client_id_fkey",
    ]);
  });

  it("a bare call of a helper that is not immutable, without a column of the row, is the plan's work, not a failure", async () => {
    const report = await reportWith(`
      create table public.hinted_notes (id uuid primary key, organization_id uuid not null references public.organizations (id));
      create policy hinted_notes_select on public.hinted_notes for select to authenticated
        using (organization_id = any ((select private.organization_ids_with('clients.read'))::uuid[])
               and ((select null::boolean) is null or id <> any (private.planner_hint_holds('clients.read'))))`);
    expect(report.failures).toEqual([]);
    expect(report.planWork.filter((f) => f.rule === "policy-bare-call").map((f) => `${f.table}:${f.object}`)).toEqual(
      expect.arrayContaining(["hinted_notes:hinted_notes_select"]),
    );
  });

  it("a unique key without organization_id is the plan's work, not a failure", async () => {
    const report = await reportWith(`
      create table public.coded_notes (id uuid primary key, organization_id uuid not null references public.organizations (id), code text unique)`);
    expect(report.failures).toEqual([]);
    expect(report.planWork.map((f) => f.object)).toEqual(
      expect.arrayContaining(["coded_notes_pkey", "coded_notes_code_key"]),
    );
  });
});

describe("reading policy expressions", () => {
  it("an uncorrelated (select f('...')) is a subquery without FROM or outer column, and no row-dependent call", async () => {
    const [row] = await test.sql<
      { tree: string }[]
    >`select polqual::text as tree from pg_policy where polname = 'clients_delete_deleters'`;
    expect(subLinkShapes(row!.tree)).toEqual([{ readsFrom: false, correlated: false }]);
    expect(rowDependentCalls(row!.tree)).toEqual([]);
    expect(bareCalls(row!.tree)).toEqual([]);
  });
});

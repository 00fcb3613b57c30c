/**
 * Plan guards for a table made by `npm run entity:new` (each generated table
 * has a tests/plans/<name>.plan.test.ts calling this): at 100,000 rows spread
 * over 200 organizations, the statements a signed-in user sends (the policy
 * alone, a page of one organization, one row by id, an update, a delete)
 * reach the table through an index, never by a sequential scan and never with
 * a per-row subplan. A policy written in a naive shape (a join, a per-row
 * function call, an EXISTS on the membership tables) fails here.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadDataset } from "../../tooling/bench/dataset.ts";
import { connect, type Sql } from "../../tooling/server/sql.ts";
import { useTestDatabase } from "../support/database.ts";
import { nodes, planAsUser, shapeOf } from "./plans.ts";

export interface EntityGuardOptions {
  /** public.<table>. */
  table: string;
  /** A SQL literal for each column the rows need (at least the not-null ones without a default). */
  values: Record<string, string>;
  /** Assignable tables: the assignment table and its column naming the row. */
  assignments?: { table: string; column: string };
  /** Rows to load (100,000). */
  rows?: number;
}

const ident = (name: string) => {
  if (!/^[a-z][a-z0-9_]*$/.test(name)) throw new Error(`not an identifier: ${name}`);
  return name;
};

export function entityPlanGuards(options: EntityGuardOptions): void {
  const test = useTestDatabase();
  const table = ident(options.table);
  const rows = options.rows ?? 100_000;
  const updated = ident(Object.keys(options.values)[0] ?? "");
  let sql: Sql;
  let reader: { user: string; org: string };
  let member: { user: string; org: string } | undefined;
  let rowId: string;

  beforeAll(async () => {
    sql = connect(test.url, { max: 1 });
    await loadDataset(test.url, { organizations: 200, users: 2000, clients: 2000 });
    const columns = Object.keys(options.values).map(ident);
    const [{ count } = { count: -1 }] = await sql<
      { count: number }[]
    >`select count(*)::int as count from public.organizations where id::text like 'b1000000-%'`;
    if (count !== 200) throw new Error(`the data set has ${count} organizations, not 200`);
    // Rows spread over the organizations one by one (interleaved, as tenants' rows arrive), each created by a member of its organization.
    await sql.unsafe(`
      with orgs as (select id, row_number() over (order by id) - 1 as n from public.organizations where id::text like 'b1000000-%'),
           creators as (select distinct on (organization_id) organization_id, user_id from public.organization_users order by organization_id, user_id)
      insert into public.${table} (organization_id, created_by, created_at${columns.map((c) => `, ${c}`).join("")})
      select o.id, c.user_id, now() - (i || ' seconds')::interval${columns.map((c) => `, ${options.values[c]}`).join("")}
      from generate_series(0, ${rows - 1}) i
      join orgs o on o.n = i % 200
      join creators c on c.organization_id = o.id`);
    if (options.assignments) {
      const a = { table: ident(options.assignments.table), column: ident(options.assignments.column) };
      // Every tenth row assigned to a member of its organization.
      await sql.unsafe(`
        insert into public.${a.table} (organization_id, user_id, ${a.column})
        select t.organization_id, m.user_id, t.id
        from (select id, organization_id, row_number() over (order by id) as n from public.${table}) t
        join lateral (select ur.user_id from public.user_roles ur join public.roles r on r.id = ur.role_id
                      where ur.organization_id = t.organization_id and r.key = 'member' order by ur.user_id limit 1) m on true
        where t.n % 10 = 0
        on conflict do nothing`);
    }
    await sql.unsafe(`analyze public.${table}`);
    if (options.assignments) await sql.unsafe(`analyze public.${ident(options.assignments.table)}`);
    const [r] = await sql<{ user_id: string; organization_id: string }[]>`
      select ur.user_id, ur.organization_id from public.user_roles ur join public.roles r on r.id = ur.role_id
      where r.key = 'owner' and ur.organization_id::text like 'b1000000-%' order by ur.user_id limit 1`;
    reader = { user: r!.user_id, org: r!.organization_id };
    if (options.assignments) {
      const [m] = await sql<{ user_id: string; organization_id: string }[]>`
        select ur.user_id, ur.organization_id from public.user_roles ur join public.roles r on r.id = ur.role_id
        where r.key = 'member' and ur.organization_id::text like 'b1000000-%'
          and (select count(*) from public.user_roles x where x.user_id = ur.user_id) = 1
        order by ur.user_id limit 1`;
      member = m ? { user: m.user_id, org: m.organization_id } : undefined;
    }
    const [row] = await sql.unsafe<{ id: string }[]>(
      `select id from public.${table} where organization_id = $1 order by id limit 1 offset 3`,
      [reader.org],
    );
    rowId = row!.id;
  }, 300_000);
  afterAll(() => sql?.end({ timeout: 5 }));

  const statements: [string, string, () => unknown[]][] = [
    ["the policy alone (every row the user may read)", `select count(*) from public.${table}`, () => []],
    [
      "a page of one organization",
      `select * from public.${table} where organization_id = $1 order by created_at, id limit 50`,
      () => [reader.org],
    ],
    ["one row by id", `select * from public.${table} where id = $1`, () => [rowId]],
    ["an update by id", `update public.${table} set ${updated} = ${updated} where id = $1`, () => [rowId]],
    ["a delete by id", `delete from public.${table} where id = $1`, () => [rowId]],
  ];

  describe(`plan guards: ${table} at ${rows.toLocaleString("en")} rows`, () => {
    const check = async (user: () => string, statement: string, params: unknown[]) => {
      const plan = await planAsUser(sql, user(), statement, params);
      const all = [...nodes(plan)];
      const shape = shapeOf(plan);
      expect(
        all.filter((n) => n.node["Relation Name"] === table && n.node["Node Type"] === "Seq Scan"),
        shape,
      ).toEqual([]);
      expect(
        all.filter((n) => n.insideSubplan),
        shape,
      ).toEqual([]);
      expect(
        all.some((n) => n.node["Relation Name"] === table && /Index|Bitmap Heap/.test(n.node["Node Type"])),
        shape,
      ).toBe(true);
    };
    for (const [what, statement, params] of statements) {
      it(`${what}: an index search, no sequential scan, no per-row subplan (an owner)`, () =>
        check(() => reader.user, statement, params()));
    }
    if (options.assignments) {
      it("the policy alone for a member (assigned rows): an index search, no sequential scan, no per-row subplan", async () => {
        expect(member, "the data set has a member of one organization").toBeDefined();
        await check(() => member!.user, `select count(*) from public.${table}`, []);
      });
    }
  });
}

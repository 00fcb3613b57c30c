/**
 * The benchmark's consultant (SPEC section 8: a plain member of 50
 * organizations with 40 to 150 assigned clients in each): the data set gives
 * them the number of clients asked for in each of their organizations (all of
 * a smaller one), and refuses a number that is not one.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useTestDatabase } from "../../tests/support/database.ts";
import { connect, type Sql } from "../server/sql.ts";
import {
  CONSULTANT_CLIENTS,
  CONSULTANT_EMAIL,
  datasetSteps,
  loadDataset,
  sizeFor,
  type DatasetSize,
} from "./dataset.ts";

describe("the benchmark's consultant", () => {
  const test = useTestDatabase({ seed: false });
  let sql: Sql;
  // 6 organizations: the whale holds 30 % (300 clients), the others about 140 each.
  const size: DatasetSize = { organizations: 6, users: 60, clients: 1_000, consultantClients: 150 };

  beforeAll(async () => {
    sql = connect(test.url, { max: 2 });
    await loadDataset(test.url, size);
  });
  afterAll(() => sql?.end({ timeout: 5 }));

  it("is a plain member of every organization with the clients asked for assigned in each", async () => {
    const rows = await sql<{ slug: string; roles: string[]; assigned: number; clients: number }[]>`
      select o.slug,
             array(select r.key from public.user_roles ur join public.roles r on r.id = ur.role_id
                   where ur.user_id = u.id and ur.organization_id = o.id) as roles,
             (select count(*)::int from public.user_clients uc where uc.user_id = u.id and uc.organization_id = o.id) as assigned,
             (select count(*)::int from public.clients c where c.organization_id = o.id) as clients
      from public.users u
      join public.organization_users ou on ou.user_id = u.id
      join public.organizations o on o.id = ou.organization_id
      where u.email = ${CONSULTANT_EMAIL}
      order by o.slug`;
    expect(rows).toHaveLength(size.organizations);
    for (const row of rows) {
      expect(row.roles, row.slug).toEqual(["member"]);
      expect(row.clients, row.slug).toBeGreaterThan(0);
      expect(row.assigned, row.slug).toBe(Math.min(150, row.clients));
    }
    // The whale holds more than 150: the number asked for; a smaller organization: all of it.
    expect(rows.some((r) => r.clients > 150 && r.assigned === 150)).toBe(true);
    expect(rows.some((r) => r.clients < 150 && r.assigned === r.clients)).toBe(true);
  });

  it("has 40 clients in each organization unless told otherwise, and refuses a number that is not a count", () => {
    expect(CONSULTANT_CLIENTS).toBe(40);
    expect(sizeFor(0.01).consultantClients).toBe(40);
    const step = (s: DatasetSize) => datasetSteps(s).find((x) => x.label.startsWith("the consultant's assignments"))!;
    expect(step({ organizations: 6, users: 60, clients: 1_000 }).parts[0]).toContain("limit 40");
    expect(step(size).parts[0]).toContain("limit 150");
    for (const bad of [0, -1, 1.5, Number.NaN]) {
      expect(() => datasetSteps({ ...size, consultantClients: bad }), String(bad)).toThrow(
        /consultant's clients per organization must be a positive integer/,
      );
    }
  });
});

describe("the benchmark's data set at 10,000 clients (SPEC section 8)", () => {
  const test = useTestDatabase({ seed: false });
  let sql: Sql;
  const size = sizeFor(0.01);

  beforeAll(async () => {
    sql = connect(test.url, { max: 2 });
    await loadDataset(test.url, size);
  });
  afterAll(() => sql?.end({ timeout: 5 }));

  it("puts each user but the consultant in 1 to 3 organizations, and the whale's 30 % of the clients in one", async () => {
    const [users] = await sql<{ fewest: number; most: number; consultant: number }[]>`
      select min(n) filter (where u.email <> ${CONSULTANT_EMAIL})::int as fewest,
             max(n) filter (where u.email <> ${CONSULTANT_EMAIL})::int as most,
             max(n) filter (where u.email = ${CONSULTANT_EMAIL})::int as consultant
      from public.users u
      join lateral (select count(*) as n from public.organization_users ou where ou.user_id = u.id) m on true`;
    expect(users).toEqual({ fewest: 1, most: 3, consultant: size.organizations });
    const [whale] = await sql<{ share: number }[]>`
      select max(n)::float / sum(n) as share
      from (select count(*) as n from public.clients group by organization_id) c`;
    expect(whale!.share).toBeCloseTo(0.3, 2);
  });

  it("assigns every client to 1 or 2 members, the consultant's clients included", async () => {
    const rows = await sql<{ assignees: number; clients: number }[]>`
      select coalesce(a.n, 0)::int as assignees, count(*)::int as clients
      from public.clients c
      left join (select client_id, count(*) as n from public.user_clients group by client_id) a on a.client_id = c.id
      group by 1 order by 1`;
    expect(rows.map((r) => r.assignees)).toEqual([1, 2]);
  });
});

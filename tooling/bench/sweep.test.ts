/**
 * The benchmark's sweep (`npm run bench -- --only=sweep`) takes callers of each
 * kind, and each is what it is said to be: checked against what the read
 * policy lets them see, on a small data set with the benchmark's skew.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postgrestPreamble } from "../../src/postgrest.ts";
import { useTestDatabase } from "../../tests/support/database.ts";
import { connect, type Sql } from "../server/sql.ts";
import { loadDataset } from "./dataset.ts";
import { asUser } from "./queries.ts";
import { CALLER_KINDS, pickSweepCallers, summarizeSweep, type SweepCaller, type SweepResult } from "./sweep.ts";

describe("the benchmark's sweep of callers", () => {
  const test = useTestDatabase({ seed: false });
  let sql: Sql;
  let callers: SweepCaller[];

  beforeAll(async () => {
    sql = connect(test.url, { max: 2 });
    await loadDataset(test.url, { organizations: 10, users: 200, clients: 10_000 });
    callers = await pickSweepCallers(sql, 2);
  });
  afterAll(() => sql?.end({ timeout: 5 }));

  /** How many clients of the organization the caller sees through the table under RLS, as PostgREST runs it. */
  const visible = (c: SweepCaller) =>
    sql.begin(async (tx) => {
      const actor = asUser(c.persona);
      await postgrestPreamble(tx, actor.role, actor.claims);
      const [row] = await tx<{ n: number }[]>`
        select count(*)::int as n from public.clients where organization_id = ${c.persona.org}`;
      return row!.n;
    });

  it("takes callers of every kind, at most the number asked for of a kind in a kind of organization", () => {
    for (const kind of CALLER_KINDS) expect(callers.filter((c) => c.kind === kind).length, kind).toBeGreaterThan(0);
    const groups = new Map<string, number>();
    for (const c of callers) groups.set(`${c.kind}/${c.orgKind}`, (groups.get(`${c.kind}/${c.orgKind}`) ?? 0) + 1);
    for (const [group, n] of groups) expect(n, group).toBeLessThanOrEqual(2);
    expect(callers.some((c) => c.orgKind === "whale")).toBe(true);
  });

  it("a reader sees every client of the organization; the others their assigned ones, and read elsewhere only if mixed", async () => {
    for (const c of callers) {
      const [row] = await sql<{ total: number; assigned: number }[]>`
        select (select count(*) from public.clients where organization_id = ${c.persona.org})::int as total,
               (select count(*) from public.user_clients
                 where user_id = ${c.persona.id} and organization_id = ${c.persona.org})::int as assigned`;
      const what = `${c.kind} ${c.persona.id} in ${c.persona.org}`;
      expect(row!.total, what).toBe(c.orgClients);
      if (c.kind === "reader") {
        expect(c.persona.readOrgs, what).toContain(c.persona.org);
        expect(await visible(c), what).toBe(row!.total);
      } else {
        expect(c.persona.readOrgs, what).not.toContain(c.persona.org);
        expect(row!.assigned, what).toBeGreaterThan(0);
        expect(await visible(c), what).toBe(row!.assigned);
        expect(c.persona.readOrgs.length > 0, what).toBe(c.kind === "mixed");
      }
    }
  });

  it("counts a caller as within the target by ratio or by difference, and names the furthest", () => {
    const result = (ratio: number, deltaMs: number, orgClients: number): SweepResult => ({
      kind: "mixed",
      orgKind: "small",
      orgClients,
      user: "u",
      organization: "o",
      assigned: 1,
      explicit: { runs: 1, median: 1, p95: 1 },
      explicitRounds: [1],
      table: { median: orgClients / 10, ratio, deltaMs, rounds: [{ median: orgClients / 10, ratio, deltaMs }] },
      listClients: { median: 1, ratio: 1, deltaMs: 0, rounds: [{ median: 1, ratio: 1, deltaMs: 0 }] },
    });
    const [table, list] = summarizeSweep(
      // Within by ratio; within by difference only; a miss; the furthest miss.
      [result(1.1, 0.3, 1), result(3, 0.05, 2), result(1.3, 0.2, 3), result(1.6, 0.4, 4)],
      1.2,
      0.1,
    );
    expect(table).toMatchObject({ kind: "mixed", through: "table", callers: 4, withinTarget: 2, withinOneAndAHalf: 3 });
    expect(table!.worst).toMatchObject({ ratio: 1.6, deltaMs: 0.4, orgClients: 4 });
    expect(table!.slowestMs).toBe(0.4);
    expect(list).toMatchObject({ through: "list_clients", withinTarget: 4 });
  });
});

/**
 * Plan guards (no timings): on a moderately sized data set, every benchmark
 * query run as a signed-in user reaches clients through an index on
 * organization_id, the primary key or the assignments, never a sequential
 * scan of clients and never a per-row subplan. A policy change that breaks
 * that shape fails here, long before anyone runs the benchmark.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadDataset } from "../../scripts/bench/dataset.ts";
import { postgrestPreamble } from "../../src/postgrest.ts";
import { pickPersonas, queries, type BenchQuery } from "../../scripts/bench/queries.ts";
import { connect, type Sql } from "../../scripts/lib/database.ts";
import { useTestDatabase } from "../support/database.ts";
import { nodes, type PlanNode } from "./plans.ts";

const test = useTestDatabase();
let sql: Sql;
let benchQueries: BenchQuery[];

/** Indexes through which clients may be reached. */
const PRIMARY = /^(clients_pkey|clients_organization_id_[a-z_]+|user_clients_[a-z_]+)$/;
/** The creator arm of the read policy may add its own index, combined with one of the above. */
const ALLOWED = /^(clients_pkey|clients_organization_id_[a-z_]+|user_clients_[a-z_]+|clients_created_by_created_at_idx)$/;

beforeAll(async () => {
  sql = connect(test.url, { max: 1 });
  await loadDataset(test.url, { organizations: 200, users: 2000, clients: 20_000 });
  benchQueries = queries(await pickPersonas(sql));
});
afterAll(() => sql?.end({ timeout: 5 }));

const literal = (value: unknown) => `'${String(value).replace(/'/g, "''")}'`;

/**
 * The plan of a benchmark query run as its user. `generic`: the plan a
 * prepared statement (PostgREST, the typed layer) settles on, which cannot
 * look at the parameters' values.
 */
async function planAsUser(q: BenchQuery, { generic = false } = {}): Promise<PlanNode> {
  return sql.begin(async (tx) => {
    await postgrestPreamble(tx, q.actor.role, q.actor.claims);
    let rows: readonly unknown[];
    if (generic) {
      await tx`set local plan_cache_mode = force_generic_plan`;
      await tx.unsafe(`prepare guarded as ${q.explain.text}`);
      rows = await tx.unsafe(`explain (format json) execute guarded(${q.explain.params.map(literal).join(", ")})`);
      await tx.unsafe("deallocate guarded");
    } else {
      rows = await tx.unsafe(`explain (format json) ${q.explain.text}`, q.explain.params as never[]);
    }
    return (rows[0] as Record<string, [{ Plan: PlanNode }]>)["QUERY PLAN"]![0].Plan;
  });
}

describe("plan guards", () => {
  const keys = ["admin_first_page", "member_assigned_page", "client_by_id", "count_three_orgs", "name_prefix_search", "insert_client"];
  for (const key of keys) {
    it(`${key}: clients is reached through an index, with no sequential scan and no per-row subplan`, async () => {
      const q = benchQueries.find((x) => x.key === key)!;
      const plan = await planAsUser(q);
      const all = [...nodes(plan)];
      const onClients = all.filter((n) => n.node["Relation Name"] === "clients");
      const shape = JSON.stringify(all.map((n) => [n.node["Node Type"], n.node["Relation Name"], n.node["Index Name"], n.node["Subplan Name"]]));
      expect(onClients.filter((n) => n.node["Node Type"] === "Seq Scan"), shape).toEqual([]);
      expect(all.filter((n) => n.insideSubplan), shape).toEqual([]);
      if (key !== "insert_client") {
        const indexes = all.map((n) => n.node["Index Name"]).filter((name): name is string => Boolean(name));
        expect(indexes.some((name) => PRIMARY.test(name)), shape).toBe(true);
        expect(indexes.every((name) => ALLOWED.test(name)), shape).toBe(true);
      }
    });
  }

  it("name_prefix_search: the name range is an index condition, with literal values and with parameters", async () => {
    const q = benchQueries.find((x) => x.key === "name_prefix_search")!;
    for (const generic of [false, true]) {
      const all = [...nodes(await planAsUser(q, { generic }))];
      const conditions = all.filter((n) => n.node["Index Name"] === "clients_organization_id_name_lower_idx").map((n) => n.node["Index Cond"] ?? "");
      expect(conditions.some((c) => /name_lower >= /.test(c) && /name_lower < /.test(c)), `${generic ? "generic" : "custom"}: ${JSON.stringify(conditions)}`).toBe(true);
    }
  });

  it("members_with_roles: membership tables are reached through their indexes", async () => {
    const q = benchQueries.find((x) => x.key === "members_with_roles")!;
    const all = [...nodes(await planAsUser(q))];
    const seq = all.filter((n) => n.node["Node Type"] === "Seq Scan" && ["organization_users", "user_roles"].includes(n.node["Relation Name"] ?? ""));
    expect(seq).toEqual([]);
    expect(all.filter((n) => n.insideSubplan)).toEqual([]);
  });
});

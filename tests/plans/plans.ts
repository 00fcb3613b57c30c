/**
 * Plans as JSON and their walk, for the core guards (plan-guards.test.ts) and
 * the guards of generated tables (entity-guard.ts): EXPLAIN a statement as a
 * signed-in user, with the PostgREST preamble, and walk the plan.
 */
import type { Sql } from "../../tooling/server/sql.ts";
import { postgrestPreamble } from "../../src/postgrest.ts";

export interface PlanNode {
  "Node Type": string;
  "Relation Name"?: string;
  "Index Name"?: string;
  "Subplan Name"?: string;
  "Parent Relationship"?: string;
  "Index Cond"?: string;
  "Recheck Cond"?: string;
  Filter?: string;
  Plans?: PlanNode[];
}

/** Every "hashed SubPlan N" a plan mentions: run once per statement, then looked up (not a per-row subplan). */
function hashedSubplans(plan: PlanNode): Set<string> {
  return new Set([...JSON.stringify(plan).matchAll(/hashed (SubPlan \d+)/g)].map((m) => m[1]!));
}

/**
 * The plan's nodes, each marked when it runs per row inside a correlated
 * subplan (an InitPlan or a hashed subplan runs once per statement: not
 * counted).
 */
export function* nodes(
  node: PlanNode,
  insideSubplan = false,
  hashed = hashedSubplans(node),
): Generator<{ node: PlanNode; insideSubplan: boolean }> {
  const perRow =
    node["Parent Relationship"] === "SubPlan" &&
    !node["Subplan Name"]?.startsWith("InitPlan") &&
    !hashed.has(node["Subplan Name"] ?? "");
  const sub = insideSubplan || perRow;
  yield { node, insideSubplan: sub };
  for (const child of node.Plans ?? []) yield* nodes(child, sub, hashed);
}

/** Who a plan is made for: the role and claims the PostgREST preamble sets. */
export interface PlanActor {
  role: string;
  claims: object;
}

const literal = (value: unknown) => `'${String(value).replace(/'/g, "''")}'`;

/**
 * The plan of `statement` run as `actor` (nothing is executed). `generic`:
 * the plan a prepared statement (PostgREST, the typed layer) settles on,
 * which cannot look at the parameters' values.
 */
export async function planAs(
  sql: Sql,
  actor: PlanActor,
  statement: string,
  params: readonly unknown[] = [],
  { generic = false } = {},
): Promise<PlanNode> {
  return sql.begin(async (tx) => {
    await postgrestPreamble(tx, actor.role, actor.claims);
    let rows: readonly unknown[];
    if (generic) {
      await tx`set local plan_cache_mode = force_generic_plan`;
      await tx.unsafe(`prepare guarded as ${statement}`);
      rows = await tx.unsafe(`explain (format json) execute guarded(${params.map(literal).join(", ")})`);
      await tx.unsafe("deallocate guarded");
    } else {
      rows = await tx.unsafe(`explain (format json) ${statement}`, params as never[]);
    }
    return (rows[0] as Record<string, [{ Plan: PlanNode }]>)["QUERY PLAN"]![0].Plan;
  });
}

/** The plan of `statement` run as the signed-in user `userId` (nothing is executed). */
export function planAsUser(sql: Sql, userId: string, statement: string, params: unknown[] = []): Promise<PlanNode> {
  return planAs(
    sql,
    { role: "authenticated", claims: { sub: userId, role: "authenticated", aud: "authenticated" } },
    statement,
    params,
  );
}

/** A compact description of a plan, for assertion messages. */
export function shapeOf(plan: PlanNode): string {
  return JSON.stringify(
    [...nodes(plan)].map((n) => [
      n.node["Node Type"],
      n.node["Relation Name"],
      n.node["Index Name"],
      n.node["Subplan Name"],
    ]),
  );
}

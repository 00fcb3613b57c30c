/**
 * The tenant-key check behind `npm run db:check`: keeps the schema within
 * what a Citus cluster distributed by `organization_id` accepts
 * (docs/scale-out.md has the plan this check guards).
 *
 * Tenant tables are the tables of `public` with an `organization_id` column,
 * except `audit_log` (its rows outlive their organization, and some have
 * none), `roles` and `role_permissions` (their built-in rows belong to no
 * organization; an organization's own roles ride along as reference rows): in the
 * plan they are distributed by `organization_id` and co-located. Every other
 * table of `public` (`organizations` itself, `users`, the role catalog)
 * becomes a reference table, copied to every node. Whatever a migration or
 * the entity generator adds to `public` is covered the same way.
 *
 * Failures (the check fails):
 * 1. a tenant table whose `organization_id` may be null: Citus refuses a row
 *    whose distribution column is null;
 * 2. a foreign key between tenant tables that does not pair
 *    `organization_id` with the referenced table's distribution column: Citus
 *    only enforces foreign keys between co-located distributed tables that
 *    include the distribution column;
 * 3. a policy (on any table of `public`: reference tables are Citus tables
 *    too) with a subquery that reads a table or refers
 *    to the row (correlated): Citus refuses every subquery in a policy on a
 *    distributed table (`ErrorIfUnsupportedPolicyExpr`, which calls
 *    `checkExprHasSubLink`, in citusdata/citus
 *    src/backend/distributed/commands/policy.c) and there is no mechanical
 *    rewrite of these;
 * 4. a policy that passes a column of the row to a helper
 *    written in SQL or PL/pgSQL that is not immutable: evaluated row by row on
 *    the shards, where a helper that reads distributed tables fails with
 *    "cannot execute a distributed query from a query on a shard"
 *    (citusdata/citus#5887, #5924).
 *
 * Plan work (reported, not failed):
 * - an uncorrelated `(select f(...))` without FROM, the shape the policies use
 *   so that PostgreSQL evaluates the helper once per statement: Citus refuses
 *   the subquery wrapper as written, and the plan's migration replaces it by
 *   a bare call without column arguments of a helper that reads only the
 *   request's settings (Citus evaluates a stable function of a SELECT on the
 *   shards, not on the coordinator: citusdata/citus#8427), so it is judged
 *   safe to keep until the move, not banned;
 * - a bare call (outside a sub-select, without column arguments) of a
 *   helper in SQL or PL/pgSQL that is not immutable, such as the read
 *   policies' planner hint (private.planner_hint_bound): PostgreSQL evaluates
 *   it while planning, and on Citus the shards plan too, where a helper that
 *   reads distributed tables fails; the plan's migration drops it or gives it
 *   a helper that reads only the request's settings;
 * - a primary key or unique constraint/index of a tenant table without
 *   `organization_id` (Citus cannot enforce it across shards);
 * - a foreign key from a table that is not a tenant table (a reference or
 *   coordinator-local table in the plan) to a tenant table.
 */
import type postgres from "postgres";

/** Tables with `organization_id` that are not distributed by it (see above). */
export const NOT_DISTRIBUTED = ["audit_log", "roles", "role_permissions"] as const;

export interface TenancyFinding {
  rule:
    | "nullable-key"
    | "foreign-key"
    | "policy-subquery"
    | "policy-row-helper"
    | "policy-wrapped-call"
    | "policy-bare-call"
    | "unique-key"
    | "reference-fk";
  table: string;
  /** The constraint, index or policy concerned. */
  object: string;
  message: string;
}

export interface TenancyReport {
  /** Tenant tables and the column each is distributed by. */
  tenantTables: Record<string, string>;
  failures: TenancyFinding[];
  planWork: TenancyFinding[];
}

/** The balanced `{...}` node starting at `start` in a pg_node_tree text. */
function nodeAt(tree: string, start: number): string {
  let depth = 0;
  let inString = false;
  for (let i = start; i < tree.length; i++) {
    const ch = tree[i];
    if (inString) {
      if (ch === "\\") i++;
      else if (ch === '"') inString = false;
      continue;
    }
    if (ch === '"') inString = true;
    else if (ch === "{") depth++;
    else if (ch === "}" && --depth === 0) return tree.slice(start, i + 1);
  }
  return tree.slice(start);
}

/** Every node of a type (outermost first) in a pg_node_tree text. */
function nodesOf(tree: string, type: string): string[] {
  const found: string[] = [];
  const marker = `{${type} `;
  for (let at = tree.indexOf(marker); at !== -1; at = tree.indexOf(marker, at + 1)) found.push(nodeAt(tree, at));
  return found;
}

/** A node tree with its SubLinks cut out (their insides are judged on their own). */
function withoutSubLinks(tree: string): string {
  let out = tree;
  for (const sub of nodesOf(tree, "SUBLINK")) out = out.replace(sub, "{SUBLINK}");
  return out;
}

export interface SubLinkShape {
  /** The subquery has a FROM clause (reads a table, a function in FROM, ...). */
  readsFrom: boolean;
  /** The subquery refers to a column of the policy's row. */
  correlated: boolean;
}

/** The shape of each subquery in a policy expression (a pg_node_tree). */
export function subLinkShapes(tree: string): SubLinkShape[] {
  return nodesOf(tree, "SUBLINK").map((sub) => ({
    readsFrom: sub.includes("{RANGETBLENTRY"),
    correlated: /:varlevelsup [1-9]/.test(sub),
  }));
}

/** The functions a policy calls outside subqueries, each with whether an argument depends on the row (a level-0 Var). */
function topLevelCalls(tree: string): { id: number; rowArgument: boolean }[] {
  return nodesOf(withoutSubLinks(tree), "FUNCEXPR").flatMap((call) => {
    const id = /:funcid (\d+)/.exec(call)?.[1];
    const args = call.slice(call.indexOf(":args"));
    return id ? [{ id: Number(id), rowArgument: /\{VAR [^}]*:varlevelsup 0/.test(args) }] : [];
  });
}

/** Function ids called with an argument that depends on the row, outside subqueries. */
export const rowDependentCalls = (tree: string): number[] =>
  topLevelCalls(tree)
    .filter((c) => c.rowArgument)
    .map((c) => c.id);

/** Function ids called outside subqueries with no argument that depends on the row (bare calls). */
export const bareCalls = (tree: string): number[] =>
  topLevelCalls(tree)
    .filter((c) => !c.rowArgument)
    .map((c) => c.id);

export async function tenancyReport(sql: postgres.Sql | postgres.TransactionSql): Promise<TenancyReport> {
  const columns = await sql<{ table: string; nullable: boolean }[]>`
    select c.relname as table, not a.attnotnull as nullable
    from pg_class c
    join pg_namespace n on n.oid = c.relnamespace
    join pg_attribute a on a.attrelid = c.oid and a.attname = 'organization_id' and not a.attisdropped
    where n.nspname = 'public' and c.relkind in ('r', 'p')
    order by 1`;
  const tenantTables: Record<string, string> = {};
  const failures: TenancyFinding[] = [];
  const planWork: TenancyFinding[] = [];
  for (const { table, nullable } of columns) {
    if ((NOT_DISTRIBUTED as readonly string[]).includes(table)) continue;
    tenantTables[table] = "organization_id";
    if (nullable) {
      failures.push({
        rule: "nullable-key",
        table,
        object: `${table}.organization_id`,
        message: `public.${table}.organization_id may be null: a distributed table cannot hold a row without its distribution column (add NOT NULL)`,
      });
    }
  }
  const isTenant = (table: string) => table in tenantTables;

  // Keys and foreign keys of public tables, with their columns in order.
  const constraints = await sql<
    {
      name: string;
      type: string;
      table: string;
      ref_schema: string | null;
      ref: string | null;
      cols: string[];
      ref_cols: string[];
    }[]
  >`
    select co.conname as name, co.contype as type, t.relname as table, rn.nspname as ref_schema, r.relname as ref,
           array(select a.attname::text from unnest(co.conkey) with ordinality k(n, i)
                 join pg_attribute a on a.attrelid = co.conrelid and a.attnum = k.n order by k.i) as cols,
           array(select a.attname::text from unnest(co.confkey) with ordinality k(n, i)
                 join pg_attribute a on a.attrelid = co.confrelid and a.attnum = k.n order by k.i) as ref_cols
    from pg_constraint co
    join pg_class t on t.oid = co.conrelid
    join pg_namespace n on n.oid = t.relnamespace
    left join pg_class r on r.oid = co.confrelid
    left join pg_namespace rn on rn.oid = r.relnamespace
    where n.nspname = 'public' and co.contype in ('p', 'u', 'f')
    order by t.relname, co.conname`;
  for (const c of constraints) {
    if (c.type === "f") {
      const refTenant = c.ref_schema === "public" && c.ref !== null && isTenant(c.ref);
      if (isTenant(c.table) && refTenant) {
        const own = tenantTables[c.table]!;
        const theirs = tenantTables[c.ref!]!;
        const paired = c.cols.some((col, i) => col === own && c.ref_cols[i] === theirs);
        if (!paired) {
          failures.push({
            rule: "foreign-key",
            table: c.table,
            object: c.name,
            message: `foreign key ${c.name} (${c.table}(${c.cols.join(", ")}) -> ${c.ref}(${c.ref_cols.join(", ")})) joins two tenant tables without pairing ${own} with ${c.ref}.${theirs}: Citus enforces it only between co-located shards (reference (organization_id, ...) on a unique key that includes it)`,
          });
        }
      } else if (!isTenant(c.table) && refTenant) {
        planWork.push({
          rule: "reference-fk",
          table: c.table,
          object: c.name,
          message: `${c.table} is not distributed by organization_id but references the tenant table ${c.ref} (${c.name}): Citus refuses foreign keys from reference or local tables to distributed ones; the plan drops it or moves ${c.table}`,
        });
      }
    } else if (isTenant(c.table) && !c.cols.includes(tenantTables[c.table]!)) {
      planWork.push({
        rule: "unique-key",
        table: c.table,
        object: c.name,
        message: `${c.type === "p" ? "primary key" : "unique constraint"} ${c.name} on ${c.table}(${c.cols.join(", ")}) lacks ${tenantTables[c.table]}: unenforceable across shards; the plan's migration adds it`,
      });
    }
  }
  // Unique indexes that are not constraints.
  const indexes = await sql<{ name: string; table: string; def: string; has_key: boolean }[]>`
    select i.relname as name, t.relname as table, pg_get_indexdef(x.indexrelid) as def,
           exists (select 1 from unnest(x.indkey) k(n) join pg_attribute a on a.attrelid = t.oid and a.attnum = k.n
                   where a.attname = coalesce(${sql.json(tenantTables)}::jsonb ->> t.relname, 'organization_id')) as has_key
    from pg_index x
    join pg_class i on i.oid = x.indexrelid
    join pg_class t on t.oid = x.indrelid
    join pg_namespace n on n.oid = t.relnamespace
    where n.nspname = 'public' and x.indisunique
      and not exists (select 1 from pg_constraint co where co.conindid = x.indexrelid)
    order by t.relname, i.relname`;
  for (const ix of indexes) {
    if (!isTenant(ix.table) || ix.has_key) continue;
    planWork.push({
      rule: "unique-key",
      table: ix.table,
      object: ix.name,
      message: `unique index ${ix.name} on ${ix.table} lacks ${tenantTables[ix.table]} (${ix.def.replace(/^.* USING /, "using ")}): unenforceable across shards; the plan's migration adds it or moves the rule`,
    });
  }

  const policies = await sql<
    {
      table: string;
      name: string;
      qual: string | null;
      check: string | null;
      qual_text: string | null;
      check_text: string | null;
    }[]
  >`
    select c.relname as table, p.polname as name, p.polqual::text as qual, p.polwithcheck::text as check,
           pg_get_expr(p.polqual, p.polrelid) as qual_text, pg_get_expr(p.polwithcheck, p.polrelid) as check_text
    from pg_policy p join pg_class c on c.oid = p.polrelid join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = 'public'
    order by 1, 2`;
  const helpers = new Map(
    (
      await sql<{ oid: number; name: string; lang: string; volatility: string; schema: string }[]>`
        select p.oid::int as oid, p.oid::regprocedure::text as name, l.lanname as lang, p.provolatile as volatility, n.nspname as schema
        from pg_proc p join pg_language l on l.oid = p.prolang join pg_namespace n on n.oid = p.pronamespace
        where l.lanname in ('sql', 'plpgsql') and n.nspname not in ('pg_catalog', 'information_schema')`
    ).map((h) => [h.oid, h]),
  );
  for (const p of policies) {
    for (const [clause, tree, text] of [
      ["using", p.qual, p.qual_text],
      ["with check", p.check, p.check_text],
    ] as const) {
      if (!tree) continue;
      const shapes = subLinkShapes(tree);
      const bad = shapes.filter((s) => s.readsFrom || s.correlated);
      if (bad.length) {
        failures.push({
          rule: "policy-subquery",
          table: p.table,
          object: p.name,
          message: `policy ${p.name} on ${p.table} (${clause}) has a subquery that ${bad.some((s) => s.readsFrom) ? "reads a table" : "refers to the row"}: Citus refuses subqueries in policies on distributed tables (citus policy.c, ErrorIfUnsupportedPolicyExpr); move the lookup into a helper called without column arguments: ${text}`,
        });
      } else if (shapes.length) {
        planWork.push({
          rule: "policy-wrapped-call",
          table: p.table,
          object: p.name,
          message: `policy ${p.name} on ${p.table} (${clause}): ${shapes.length} uncorrelated (select f(...)) call(s) without FROM; Citus refuses the wrapper; the plan's migration makes them bare calls of helpers that read only the request's settings`,
        });
      }
      // Helpers in SQL or PL/pgSQL that are not immutable, called outside a sub-select.
      const calls = topLevelCalls(tree).filter((c) => {
        const helper = helpers.get(c.id);
        return helper && helper.volatility !== "i";
      });
      for (const { id, rowArgument } of new Map(calls.map((c) => [`${c.id}:${c.rowArgument}`, c])).values()) {
        const helper = helpers.get(id)!;
        const at = `policy ${p.name} on ${p.table} (${clause}) calls ${helper.name} (${helper.lang}, not immutable)`;
        if (rowArgument)
          failures.push({
            rule: "policy-row-helper",
            table: p.table,
            object: p.name,
            message: `${at} with a column of the row: on Citus it runs per row on the shards, where reading a distributed table fails ("cannot execute a distributed query from a query on a shard"); call a helper without column arguments and compare, e.g. organization_id = any (private.organization_ids_with('...'))`,
          });
        else
          planWork.push({
            rule: "policy-bare-call",
            table: p.table,
            object: p.name,
            message: `${at} outside a sub-select: PostgreSQL evaluates it while planning (a planner's hint such as private.planner_hint_bound) or once per row; on Citus the shards plan and run it, where reading a distributed table fails; the plan's migration drops it or gives it a helper that reads only the request's settings`,
          });
      }
    }
  }
  return { tenantTables, failures, planWork };
}

/** The report as lines for db:check. */
export function describeTenancy(report: TenancyReport): { failures: string; planWork: string } {
  return {
    failures: report.failures.map((f) => `[${f.rule}] ${f.message}`).join("\n"),
    planWork: report.planWork.map((f) => `[${f.rule}] ${f.message}`).join("\n"),
  };
}

/**
 * npm run db:check — migration safety and drift, before a migration ships:
 *
 * 1. squawk over supabase/migrations (.squawk.toml lists the rules accepted on
 *    purpose), and no `set local` in a migration (it does nothing under db push);
 * 2. the GitHub workflows against their schema;
 * 3. on a throwaway system PostgreSQL (15) built from the migrations:
 *    `supabase db lint` with plpgsql_check, `supabase db advisors`, the
 *    generated types compared with the committed ones, and the tenant-key
 *    check (tooling/checks/tenancy.ts): the schema stays within what a Citus
 *    cluster distributed by organization_id accepts; what the Citus plan
 *    would still change is listed, not failed (docs/scale-out.md).
 */
import path from "node:path";
import { describeFindings, runAdvisors, serious } from "../tooling/checks/advisors.ts";
import {
  hasPlpgsqlCheck,
  installPlpgsqlCheck,
  lint,
  noSetLocal,
  PLPGSQL_CHECK_HINT,
  squawk,
  validateWorkflow,
  workflowFiles,
} from "../tooling/checks/checks.ts";
import { drift, generate } from "../tooling/build/codegen.ts";
import { ROOT, withDatabase } from "../tooling/server/config.ts";
import { build } from "../tooling/build/database.ts";
import { createDatabase, withSql } from "../tooling/server/sql.ts";
import { resolveEngine } from "../tooling/server/engine.ts";
import { fail, indent, main, step } from "../tooling/output.ts";
import { describeTenancy, tenancyReport } from "../tooling/checks/tenancy.ts";
import { startThrowawayServer } from "../tooling/testing/throwaway.ts";

main(async () => {
  const problems: string[] = [];
  const record = (label: string, ok: boolean, output = "") => {
    step(`${ok ? "✔" : "✖"} ${label}`);
    if (!ok) problems.push(`${label}:\n${indent(output)}`);
  };

  const sq = squawk();
  record("squawk: migrations are safe to apply", sq.ok, sq.output);
  const local = noSetLocal();
  record("no `set local` in a migration (no effect under supabase db push)", local.ok, local.output);
  for (const file of workflowFiles()) {
    const wf = validateWorkflow(file);
    record(`workflow ${path.relative(ROOT, file)} is valid`, wf.ok, wf.output);
  }

  const engine = await resolveEngine("system");
  if (!hasPlpgsqlCheck(engine)) fail(`supabase db lint needs plpgsql_check. ${PLPGSQL_CHECK_HINT}`);
  step(`building the schema on a throwaway PostgreSQL ${engine.version}`);
  const server = await startThrowawayServer(engine);
  try {
    await createDatabase(server.url, "check");
    const url = withDatabase(server.url, "check");
    await build(url, { seed: false });
    await installPlpgsqlCheck(url);
    const linted = lint(url);
    record("supabase db lint (plpgsql_check): no warning", linted.ok, linted.output);
    const findings = serious(runAdvisors(url));
    record("supabase db advisors: nothing at warn level or above", findings.length === 0, describeFindings(findings));
    const tenancy = await withSql(url, (sql) => tenancyReport(sql));
    const described = describeTenancy(tenancy);
    record(
      `tenant keys: ${Object.keys(tenancy.tenantTables).length} tenant tables keyed by a non-null organization_id, foreign keys paired with it, policies Citus accepts`,
      tenancy.failures.length === 0,
      `${described.failures}
(docs/scale-out.md: the rules, and why)`,
    );
    if (tenancy.planWork.length)
      step(
        `  the Citus plan's work (${tenancy.planWork.length} item(s), not failures; docs/scale-out.md):\n${indent(described.planWork)}`,
      );
    const changed = drift(await generate(url));
    record(
      "generated Drizzle schema and Database types match the migrations",
      changed.length === 0,
      `out of date: ${changed.join(", ")}; run npm run db:types`,
    );
  } finally {
    server.stop();
  }
  if (problems.length) fail(`db:check found problems:\n\n${problems.join("\n\n")}`);
  step("db:check passed");
});

/**
 * npm test — the whole suite on throwaway databases.
 *
 * 1. Type-check (tsc).
 * 2. For each PostgreSQL engine (embedded 17 and system 15; `--engine=...` or
 *    `TEST_ENGINES=embedded,system` narrows it; `DATABASE_URL` runs on that
 *    server instead): start a throwaway server, build two template databases
 *    (platform baseline and migrations through the Supabase CLI; one with the
 *    demo seed, one without), run the pgTAP suite with pg_prove on a copy of
 *    each (the suite makes its own fixtures, so it must pass on a database
 *    without the seed, as in a project that installed the layer, and on one
 *    with it, as in this repository's local database), then the vitest
 *    suites (on the seeded template), then, on the embedded engine, the
 *    install journey (tests/install) in a vitest run of its own; remove the
 *    server.
 * 3. Print one closing line: "N passed, N failed".
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { ROOT, withDatabase } from "../tooling/server/config.ts";
import {
  BARE_TEMPLATE_DB,
  copyTemplate,
  buildTemplate,
  ensurePgtap,
  installPgtap,
  PGTAP_INSTALL_HINT,
  startThrowawayServer,
  TEMPLATE_DB,
  type ThrowawayServer,
} from "../tooling/testing/throwaway.ts";
import { ENGINE_NAMES, resolveEngine, type EngineName } from "../tooling/server/engine.ts";
import { CommandError, fail, indent, main, step } from "../tooling/output.ts";
import { dropDatabase } from "../tooling/server/sql.ts";
import { runPgProve } from "../tooling/testing/pgprove.ts";

const PGTAP_DIR = path.join(ROOT, "supabase", "tests", "database");

interface Tally {
  label: string;
  passed: number;
  failed: number;
  notes: string[];
}

function run(file: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  return spawnSync(file, args, { cwd: ROOT, stdio: "inherit", env: { ...process.env, ...env } });
}

function bin(name: string): string {
  return path.join(ROOT, "node_modules", ".bin", name);
}

function typecheck(): Tally {
  step("type-check (tsc --noEmit)");
  const result = run(bin("tsc"), ["--noEmit", "-p", "tsconfig.json"]);
  return { label: "typecheck", passed: result.status === 0 ? 1 : 0, failed: result.status === 0 ? 0 : 1, notes: [] };
}

function pgTapFiles(): string[] {
  if (!existsSync(PGTAP_DIR)) return [];
  return readdirSync(PGTAP_DIR)
    .filter((f) => f.endsWith(".test.sql"))
    .sort()
    .map((f) => path.join(PGTAP_DIR, f));
}

function checkPgProve(): void {
  if (spawnSync("pg_prove", ["--version"], { stdio: "ignore" }).status !== 0) {
    fail(`pg_prove is not installed, so the pgTAP suite cannot run. ${PGTAP_INSTALL_HINT}`);
  }
}

/** pg_prove over every supabase/tests/database/*.test.sql on a copy of a template. */
async function runPgTap(serverUrl: string, tally: Tally, template: string, label: string): Promise<void> {
  const files = pgTapFiles();
  if (files.length === 0) fail("No pgTAP files found in supabase/tests/database.");
  const dbUrl = await copyTemplate(serverUrl, "pgtap_run", template);
  await installPgtap(dbUrl);
  step(`pgTAP (${label}): ${files.length} file(s) with pg_prove`);
  const result = runPgProve(dbUrl, files, { cwd: ROOT, flags: ["--comments"] });
  process.stdout.write(result.stdout);
  process.stderr.write(result.stderr);
  await dropDatabase(serverUrl, "pgtap_run");
  const { passed, failed } = result;
  tally.passed += passed;
  tally.failed += failed;
  if (result.status !== 0 || passed === 0) {
    // pg_prove failed without a report we could read (psql could not connect, no test ran): still a failure.
    if (failed === 0) tally.failed += 1;
    tally.notes.push(`pgTAP suite failed (${label})`);
  }
}

/** vitest over every *.test.ts, told which server and template to use. */
const INSTALL_TESTS = "tests/install";

/**
 * The vitest runs for one server: every suite but the install journey, then
 * the install journey on its own (npm pack, npm install, supabase db push into
 * a scratch project: a few minutes of CPU that would otherwise slow the
 * timing-sensitive suites running beside it). It tests packaging and the bin,
 * not the PostgreSQL major, so it runs on the embedded engine (17) only, and
 * only when no file filter given to npm test leaves it out.
 */
function runVitestSuites(server: ThrowawayServer | { url: string; label: string }, tally: Tally): void {
  const extra = process.argv.slice(2).filter((a) => !a.startsWith("--engine="));
  const filters = extra.filter((a) => !a.startsWith("-"));
  const flags = extra.filter((a) => a.startsWith("-"));
  const installFilters = filters.filter((f) => f.includes(INSTALL_TESTS));
  const otherFilters = filters.filter((f) => !f.includes(INSTALL_TESTS));
  if (filters.length === 0 || otherFilters.length > 0) {
    runVitest(server, tally, [...flags, ...otherFilters, `--exclude=${INSTALL_TESTS}/**`], "vitest");
  }
  const onEmbedded = !("engine" in server) || server.engine.name === "embedded";
  if (onEmbedded && (filters.length === 0 || installFilters.length > 0)) {
    runVitest(
      server,
      tally,
      [...flags, ...(installFilters.length ? installFilters : [INSTALL_TESTS])],
      "vitest: install journey",
    );
  }
}

function runVitest(
  server: ThrowawayServer | { url: string; label: string },
  tally: Tally,
  extra: string[],
  label: string,
): void {
  const reportDir = mkdtempSync(path.join(os.tmpdir(), "vitest-report-"));
  const report = path.join(reportDir, "report.json");
  step(label);
  const result = run(
    bin("vitest"),
    ["run", "--reporter=default", "--reporter=json", `--outputFile.json=${report}`, ...extra],
    {
      TEST_SERVER_URL: server.url,
      TEST_ENGINE: "engine" in server ? server.engine.name : "external",
    },
  );
  try {
    const json = JSON.parse(readFileSync(report, "utf8")) as {
      numPassedTests: number;
      numFailedTests: number;
      numTotalTests: number;
    };
    tally.passed += json.numPassedTests;
    tally.failed += json.numFailedTests;
    if (json.numTotalTests === 0) {
      tally.failed += 1;
      tally.notes.push("vitest ran no test");
    }
  } catch {
    tally.failed += 1;
    tally.notes.push("vitest did not report");
  }
  if (result.status !== 0 && !tally.notes.length) tally.notes.push(`vitest exited with ${result.status}`);
  if (result.status !== 0 && tally.failed === 0) tally.failed += 1;
  rmSync(reportDir, { recursive: true, force: true });
}

function enginesToRun(): EngineName[] {
  const flag = process.argv.find((a) => a.startsWith("--engine="))?.slice("--engine=".length);
  const list = (flag ?? process.env.TEST_ENGINES ?? ENGINE_NAMES.join(",")).split(",").map((s) => s.trim());
  for (const name of list)
    if (!ENGINE_NAMES.includes(name as EngineName)) fail(`Unknown engine "${name}" (use embedded, system).`);
  return list as EngineName[];
}

async function suiteOn(label: string, url: string, server: ThrowawayServer | null): Promise<Tally> {
  const tally: Tally = { label, passed: 0, failed: 0, notes: [] };
  try {
    step(`${label}: building the template database without the seed (baseline, migrations)`);
    await buildTemplate(url, (m) => step(`  ${m}`), { seed: false });
    step(`${label}: building the template database with the demo seed (baseline, migrations, seed)`);
    await buildTemplate(url, (m) => step(`  ${m}`));
    await runPgTap(url, tally, BARE_TEMPLATE_DB, "without the seed");
    await runPgTap(url, tally, TEMPLATE_DB, "with the demo seed");
    runVitestSuites(server ?? { url, label }, tally);
  } catch (error) {
    tally.failed += 1;
    tally.notes.push(error instanceof CommandError ? error.message : String(error));
    process.stderr.write(`\n✖ ${label}:\n${indent(error instanceof Error ? error.message : String(error))}\n`);
  }
  return tally;
}

main(async () => {
  const started = Date.now();
  checkPgProve();
  const tallies: Tally[] = [typecheck()];
  if (process.env.DATABASE_URL) {
    tallies.push(await suiteOn(`DATABASE_URL server`, withDatabase(process.env.DATABASE_URL, "postgres"), null));
  } else {
    for (const name of enginesToRun()) {
      const engine = await resolveEngine(name);
      ensurePgtap(engine);
      const label = `PostgreSQL ${engine.version} (${engine.name})`;
      // The system PostgreSQL (15) runs every session under safeupdate, as
      // hosted's API path does: UPDATE and DELETE need a WHERE clause.
      const safeupdate = engine.name === "system";
      step(`${label}: starting a throwaway server${safeupdate ? " (safeupdate on in every session)" : ""}`);
      const server = await startThrowawayServer(engine, { safeupdate });
      try {
        tallies.push(await suiteOn(label, server.url, server));
      } finally {
        server.stop();
      }
    }
  }
  console.log("\nSummary");
  for (const t of tallies) {
    console.log(
      `  ${t.failed ? "✖" : "✔"} ${t.label}: ${t.passed} passed, ${t.failed} failed${t.notes.length ? ` (${t.notes.join("; ")})` : ""}`,
    );
  }
  const passed = tallies.reduce((n, t) => n + t.passed, 0);
  const failed = tallies.reduce((n, t) => n + t.failed, 0);
  console.log(`Finished in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  console.log(`${passed} passed, ${failed} failed`);
  if (failed > 0) throw new CommandError("Some tests failed.");
});

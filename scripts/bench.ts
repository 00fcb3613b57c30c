/**
 * npm run bench — RLS cost at scale (SPEC section 8).
 *
 * For each scale (10,000, 100,000 and 1,000,000 clients; `--quick`: 10,000
 * and 100,000; `--scale=N` one scale, 1 = 1,000,000 clients) it builds a database
 * from the migrations on `DATABASE_URL`'s server or a throwaway local
 * PostgreSQL 17, generates the data set in SQL, and times each query as a
 * signed-in user through PostgREST's preamble against its explicit-filter
 * equivalent without RLS, side by side. It also times the common naive policy
 * shapes on copies of the tables, and the typed layer's as-user fetch against
 * a plain fetch. Prints markdown tables and writes bench-results/*.json.
 * `--keep` (with DATABASE_URL) keeps the generated databases for EXPLAIN;
 * `--only=key,key` times just those queries (no typed layer, no naive shapes);
 * every run also times the first page for many callers of each kind,
 * through the table and through list_clients (the sweep,
 * tooling/bench/sweep.ts; `--only=sweep` for the sweep alone);
 * `--typed-only` times just the typed layer (no queries, no naive shapes);
 * `--plans=custom` plans every statement for its own caller and values
 * (`plan_cache_mode = force_custom_plan` on the benchmark's connections, as
 * behind a transaction-mode pooler with prepared statements off; no naive
 * shapes) instead of letting PostgreSQL cache a generic plan (`--plans=cached`,
 * the default, as PostgREST's prepared statements run); `--plans=generic`
 * runs every statement on its generic plan (`force_generic_plan`), so that
 * both variants of each query run on the same kind of plan, which
 * `--plans=cached` leaves to PostgreSQL (a target met there on unlike plans
 * says so);
 * `--consultant-clients=N` assigns the consultant N clients in each of their
 * organizations instead of 40 (SPEC section 8: 40 to 150).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { eq } from "drizzle-orm";
import { createOrgDb } from "../src/db.ts";
import { postgrestPreamble } from "../src/postgrest.ts";
import { clients } from "../src/schema/index.ts";
import { CONSULTANT_CLIENTS, loadDataset, sizeFor } from "../tooling/bench/dataset.ts";
import {
  compare,
  median,
  medianStats,
  planUse,
  planUseSince,
  stats,
  type PlanUse,
  type Stats,
} from "../tooling/bench/measure.ts";
import { dropNaive, NAIVE_SHAPES, setupNaive, useShape } from "../tooling/bench/naive.ts";
import {
  asService,
  pickPersonas,
  PREPARED,
  queries,
  type BenchQuery,
  type Personas,
} from "../tooling/bench/queries.ts";
import {
  measureSweep,
  pickSweepCallers,
  summarizeSweep,
  type SweepGroup,
  type SweepResult,
} from "../tooling/bench/sweep.ts";
import { ROOT, withDatabase } from "../tooling/server/config.ts";
import type postgres from "postgres";
import { build } from "../tooling/build/database.ts";
import { connect, createDatabase, dropDatabase, type Sql } from "../tooling/server/sql.ts";
import { resolveEngine } from "../tooling/server/engine.ts";
import { fail, main, step } from "../tooling/output.ts";
import { startThrowawayServer } from "../tooling/testing/throwaway.ts";

interface RoundResult {
  rls: Stats;
  explicit: Stats | null;
  /** RLS median / explicit median, and their difference in ms. */
  ratio: number | null;
  deltaMs: number | null;
  /** Which plans this round's executions (warm-up included) ran on, under RLS and explicitly. */
  plans: { rls: PlanUse; explicit: PlanUse | null };
}

interface QueryResult {
  key: string;
  title: string;
  singlePage: boolean;
  /** Absolute target for the median (search_clients), ms. */
  maxMs: number | null;
  /** One per interleaved round. */
  rounds: RoundResult[];
  /** Medians over the rounds: of the RLS and explicit medians, of the ratios and of the differences. */
  rls: Stats;
  explicit: Stats | null;
  ratio: number | null;
  deltaMs: number | null;
  /** Plan use over all rounds: the generic plan of the shared statement, or plans made for each execution's values. */
  plans: { rls: PlanUse; explicit: PlanUse | null };
  /** The RLS statement's plan for the run's values (a custom plan), as EXPLAIN gives it under the preamble. */
  plan: string;
  /**
   * The RLS statement's generic plan (EXPLAIN (GENERIC_PLAN), PostgreSQL 16 and later; null before), the plan
   * its executions ran on when `plans` says generic.
   */
  genericPlan: string | null;
}

interface NaiveResult {
  shape: string;
  title: string;
  query: string;
  rls: Stats | null;
  timedOut: boolean;
}

interface ScaleResult {
  scale: number;
  size: ReturnType<typeof sizeFor>;
  loadSeconds: number;
  queries: QueryResult[];
  naive: NaiveResult[];
  /** Medians over the rounds, and each round; null when not measured (`--only`). */
  typedLayer: (Throughput & { rounds: Throughput[] }) | null;
  /** Every caller's first page (the sweep): each caller, and per kind of caller; null when not run. */
  sweep: { callers: SweepResult[]; groups: SweepGroup[] } | null;
}

/** Units per second on one connection, as a user and plainly, and their ratio (plain time / as-user time). */
interface Throughput {
  asUserPerSecond: number;
  plainPerSecond: number;
  ratio: number;
}

const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const quick = process.argv.includes("--quick");
/** Keep the generated databases (to look at plans); only with DATABASE_URL, whose server outlives the run. */
const keep = process.argv.includes("--keep") && Boolean(process.env.DATABASE_URL);
const scales = arg("scale") ? [Number(arg("scale"))] : quick ? [0.01, 0.1] : [0.01, 0.1, 1];
/** Timed runs per query and variant, split over ROUNDS interleaved rounds. */
const runs = Number(arg("runs") ?? (quick ? 60 : 300));
const ROUNDS = 3;
/** `--only=key,key`: just these queries (no typed layer, no naive shapes), while working on them. */
const only = arg("only")?.split(",");
/** `--typed-only`: just the typed layer's fetch, while working on it. */
const typedOnly = process.argv.includes("--typed-only");
/** Many callers' first pages (tooling/bench/sweep.ts): in every run but `--typed-only`, and with `--only` when `sweep` is among its keys. */
const sweepOn = !typedOnly && (!only || only.includes("sweep"));
/** Callers of each kind in each kind of organization that the sweep takes. */
const SWEEP_PER_GROUP = 5;
/**
 * `--plans=custom`: every statement planned for its caller and values; `generic`: every statement on the one plan
 * made without its values; `cached` (the default): as PostgreSQL's plan cache decides.
 */
const PLAN_MODES = ["cached", "custom", "generic"] as const;
type PlanMode = (typeof PLAN_MODES)[number];
const planMode = (arg("plans") ?? "cached") as PlanMode;
/** The session setting of `--plans=custom|generic`, sent when each of the benchmark's connections opens. */
const planSetting: Parameters<typeof connect>[1] =
  planMode === "cached" ? {} : { connection: { plan_cache_mode: `force_${planMode}_plan` } };
/** What `--plans=custom|generic` changes, said once for the progress line and the report. */
const PLAN_NOTES: Record<PlanMode, string> = {
  cached: "",
  custom:
    "every statement planned for its own caller and values (`--plans=custom`: plan_cache_mode = force_custom_plan), " +
    "as behind a transaction-mode pooler with prepared statements off",
  generic:
    "every statement on its generic plan, made once without its values (`--plans=generic`: plan_cache_mode = " +
    "force_generic_plan), as prepared statements run once PostgreSQL settles on that plan",
};
const planNote = PLAN_NOTES[planMode];
/** `--consultant-clients=N`: the consultant's assigned clients in each of their organizations (40 by default). */
const consultantClientsArg = arg("consultant-clients");
const consultantClients = Number(consultantClientsArg ?? CONSULTANT_CLIENTS);
const warmup = Math.max(5, Math.round(runs / 10));
/** Connections loading the data set in parallel: one per core, at least 2. */
const LOAD_CONNECTIONS = Math.max(2, os.availableParallelism());
/** A naive shape's query is given up after this long (they take seconds to minutes at scale). */
const NAIVE_TIMEOUT_MS = quick ? 2000 : 20000;
type ReservedSql = postgres.ReservedSql;
const fmt = (ms: number) => (ms < 10 ? ms.toFixed(3) : ms.toFixed(1));

const sumPlanUse = (all: PlanUse[]): PlanUse => ({
  generic: all.reduce((n, x) => n + x.generic, 0),
  custom: all.reduce((n, x) => n + x.custom, 0),
});

/** "generic", "custom", or the generic plan's share when executions used both. */
function planKind(use: PlanUse): string {
  const total = use.generic + use.custom;
  if (total === 0) return "–";
  if (use.custom === 0) return "generic";
  if (use.generic === 0) return "custom";
  return `generic ${Math.round((use.generic / total) * 100)} %`;
}

/**
 * EXPLAIN of a query's RLS statement as its user, through the preamble, in one transaction: the plan for the
 * run's values, and the statement's generic plan (its parameters left unknown), null where the server cannot
 * say (before PostgreSQL 16).
 */
async function plansOf(conn: ReservedSql, q: BenchQuery): Promise<{ plan: string; genericPlan: string | null }> {
  const text = (rows: postgres.Row[]) => rows.map((row) => (row as Record<string, string>)["QUERY PLAN"]).join("\n");
  await conn`begin`;
  try {
    await postgrestPreamble(conn, q.actor.role, q.actor.claims);
    const plan = text(await conn.unsafe(`explain (costs off) ${q.explain.text}`, q.explain.params as never[]));
    await conn`savepoint generic`;
    const genericPlan = await conn
      .unsafe(`explain (costs off, generic_plan) ${q.explain.text}`)
      .then(text, () => conn`rollback to savepoint generic`.then(() => null));
    return { plan, genericPlan };
  } finally {
    await conn`rollback`;
  }
}

/** RLS / explicit. */
const describePlans = (plans: QueryResult["plans"]) =>
  `${planKind(plans.rls)} / ${plans.explicit ? planKind(plans.explicit) : "–"}`;

/**
 * Each SPEC query as its user under RLS against its explicit-filter
 * equivalent, in ROUNDS rounds interleaved over all the queries (round 1 of
 * every query, then round 2, ...), so that a passing disturbance on this
 * shared machine hits one round, not one query; with the plan under RLS.
 */
async function measureQueries(conn: ReservedSql, personas: Personas): Promise<QueryResult[]> {
  const list = queries(personas).filter((q) => !only || only.includes(q.key));
  if (list.length === 0) return [];
  const rounds: RoundResult[][] = list.map(() => []);
  const perRound = Math.max(10, Math.round(runs / ROUNDS));
  for (let round = 0; round < ROUNDS; round++) {
    for (const [i, q] of list.entries()) {
      const variants = [
        { actor: q.actor, statement: q.rls },
        ...(q.explicit ? [{ actor: asService, statement: q.explicit }] : []),
      ];
      const texts = [q.explain.text, ...(q.explicitText ? [q.explicitText] : [])];
      const before = await planUse(conn, texts);
      const [rlsSamples, explicitSamples] = await compare(
        conn,
        variants,
        perRound,
        round === 0 ? warmup : Math.ceil(warmup / 3),
      );
      const after = await planUse(conn, texts);
      const [rlsPlans, explicitPlans] = after.map((use, v) => planUseSince(before[v]!, use));
      const rls = stats(rlsSamples!);
      const explicit = explicitSamples ? stats(explicitSamples) : null;
      rounds[i]!.push({
        rls,
        explicit,
        ratio: explicit && rls.median / explicit.median,
        deltaMs: explicit && rls.median - explicit.median,
        plans: { rls: rlsPlans!, explicit: explicitPlans ?? null },
      });
    }
    step(`  round ${round + 1} of ${ROUNDS} done`);
  }
  const results: QueryResult[] = [];
  for (const [i, q] of list.entries()) {
    const r = rounds[i]!;
    const { plan, genericPlan } = await plansOf(conn, q);
    const result: QueryResult = {
      key: q.key,
      title: q.title,
      singlePage: q.singlePage,
      maxMs: q.maxMs ?? null,
      rounds: r,
      rls: medianStats(r.map((x) => x.rls)),
      explicit: q.explicit ? medianStats(r.map((x) => x.explicit!)) : null,
      ratio: q.explicit ? median(r.map((x) => x.ratio!)) : null,
      deltaMs: q.explicit ? median(r.map((x) => x.deltaMs!)) : null,
      plans: {
        rls: sumPlanUse(r.map((x) => x.plans.rls)),
        explicit: q.explicit ? sumPlanUse(r.map((x) => x.plans.explicit!)) : null,
      },
      plan,
      genericPlan,
    };
    results.push(result);
    step(
      `  ${q.key}: RLS ${fmt(result.rls.median)} ms` +
        (result.explicit
          ? `, explicit ${fmt(result.explicit.median)} ms, ratio ${result.ratio!.toFixed(2)}, +${fmt(result.deltaMs!)} ms`
          : "") +
        `; plans ${describePlans(result.plans)}`,
    );
  }
  return results;
}

/**
 * The typed layer's one-client fetch as a user against the same Drizzle query
 * run plainly, interleaved, in ROUNDS rounds like the queries: the verdict
 * takes the median round, so one stall (a collection, autovacuum) does not
 * decide it.
 */
async function measureTypedLayer(url: string, personas: Personas): Promise<NonNullable<ScaleResult["typedLayer"]>> {
  step("  typed layer: as-user fetch of one client vs the same fetch without RLS");
  const orgDb = createOrgDb(url, { max: 1, postgres: planSetting });
  const perRound = Math.round((quick ? 500 : 3000) / ROUNDS);
  const byId = eq(clients.id, personas.clientId);
  const rounds: Throughput[] = [];
  /** The fetch as the user, then plainly: their times in milliseconds. */
  const fetchPair = async () => {
    const t0 = process.hrtime.bigint();
    await orgDb.asUser(personas.admin.id, (tx) => tx.select().from(clients).where(byId));
    const t1 = process.hrtime.bigint();
    await orgDb.unsafeLoginDb.select().from(clients).where(byId);
    const t2 = process.hrtime.bigint();
    return [Number(t1 - t0) / 1e6, Number(t2 - t1) / 1e6] as const;
  };
  try {
    for (let i = 0; i < 50; i++) await fetchPair();
    for (let round = 0; round < ROUNDS; round++) {
      let asUserMs = 0;
      let plainMs = 0;
      for (let i = 0; i < perRound; i++) {
        const [asUser, plain] = await fetchPair();
        asUserMs += asUser;
        plainMs += plain;
      }
      rounds.push({
        asUserPerSecond: (perRound / asUserMs) * 1000,
        plainPerSecond: (perRound / plainMs) * 1000,
        ratio: plainMs / asUserMs,
      });
    }
  } finally {
    await orgDb.close();
  }
  const typedLayer = {
    asUserPerSecond: median(rounds.map((r) => r.asUserPerSecond)),
    plainPerSecond: median(rounds.map((r) => r.plainPerSecond)),
    ratio: median(rounds.map((r) => r.ratio)),
    rounds,
  };
  step(`    ${describeThroughput(typedLayer)}`);
  return typedLayer;
}

const percent = (ratio: number) => `${(ratio * 100).toFixed(1)} %`;

function describeThroughput(t: NonNullable<ScaleResult["typedLayer"]>): string {
  return (
    `${t.asUserPerSecond.toFixed(0)}/s as a user, ${t.plainPerSecond.toFixed(0)}/s plain without RLS ` +
    `(${percent(t.ratio)}, the median of rounds ${t.rounds.map((r) => percent(r.ratio)).join(", ")})`
  );
}

/** The naive policy shapes on copies of the tables (schema bench_naive), for contrast. */
async function measureNaive(sql: Sql, conn: ReservedSql, personas: Personas): Promise<NaiveResult[]> {
  step("  naive policy shapes (copies of the tables in schema bench_naive)");
  await setupNaive(sql);
  const naive: NaiveResult[] = [];
  const naiveQueries = queries(personas).filter((q) => q.key === "admin_first_page" || q.key === "count_three_orgs");
  for (const shape of NAIVE_SHAPES) {
    await useShape(sql, shape);
    for (const q of naiveQueries) {
      const text = q.explain.text.replace("public.clients", "bench_naive.clients");
      const statement = (c: ReservedSql) => c.unsafe(text, q.explain.params as never[], PREPARED);
      let result: Stats | null = null;
      let timedOut = false;
      try {
        await conn.unsafe(`set statement_timeout = ${NAIVE_TIMEOUT_MS}`);
        const [samples] = await compare(conn, [{ actor: q.actor, statement }], quick ? 2 : 10, 1);
        result = stats(samples!);
      } catch (error) {
        if ((error as { code?: string }).code !== "57014") throw error;
        timedOut = true;
      } finally {
        await conn`reset statement_timeout`;
      }
      naive.push({ shape: shape.key, title: shape.title, query: q.key, rls: result, timedOut });
      step(
        `    ${shape.key} / ${q.key}: ${timedOut ? `> ${NAIVE_TIMEOUT_MS / 1000} s (timed out)` : `${fmt(result!.median)} ms`}`,
      );
    }
  }
  await dropNaive(sql);
  return naive;
}

/** The sweep on the queries' connection, after them: the table's page is one prepared statement for every caller there. */
async function runSweep(sql: Sql, conn: ReservedSql): Promise<NonNullable<ScaleResult["sweep"]>> {
  const callers = await pickSweepCallers(sql, SWEEP_PER_GROUP);
  step(`  sweep: the first page for ${callers.length} callers, through the table and through list_clients`);
  const results = await measureSweep(conn, callers, {
    rounds: ROUNDS,
    perRound: Math.max(10, Math.round(runs / ROUNDS / 5)),
    warmup: 3,
  });
  const groups = summarizeSweep(results, RATIO, DELTA_MS);
  for (const g of groups) step(`    ${describeSweepGroup(g)}`);
  return { callers: results, groups };
}

const SWEEP_KIND_TITLES: Record<SweepGroup["kind"], string> = {
  reader: "readers of the organization",
  assigned_only: "assigned clients only, reading nowhere",
  mixed: "assigned clients only, reading in another organization",
};

function describeSweepGroup(g: SweepGroup): string {
  return (
    `${SWEEP_KIND_TITLES[g.kind]}, through ${g.through === "table" ? "the table" : "list_clients"}: ` +
    `${g.withinTarget} of ${g.callers} within ${RATIO} or +${DELTA_MS} ms, ${g.withinOneAndAHalf} within 1.5 or +${DELTA_MS} ms; ` +
    `median ratio ${g.medianRatio.toFixed(2)}, furthest ${describeWorst(g)}; slowest ${fmt(g.slowestMs)} ms`
  );
}

const describeWorst = ({ worst }: SweepGroup) =>
  `${worst.ratio.toFixed(2)}, ${worst.deltaMs >= 0 ? "+" : ""}${fmt(worst.deltaMs)} ms ` +
  `(${worst.orgKind === "small" ? "a small" : `the ${worst.orgKind}`} organization, ${worst.orgClients.toLocaleString("en")} clients)`;

async function runScale(serverUrl: string, scale: number): Promise<ScaleResult> {
  const size = sizeFor(scale, consultantClients);
  const name = `bench_${String(scale).replace(".", "_")}`;
  step(`scale ${scale}: ${size.clients.toLocaleString("en")} clients — building ${name} from the migrations`);
  await createDatabase(serverUrl, name, { replace: true });
  const url = withDatabase(serverUrl, name);
  await build(url, { seed: false });

  const sql = connect(url, { max: LOAD_CONNECTIONS, ...planSetting });
  try {
    const loadStart = Date.now();
    await loadDataset(url, size, {
      parallel: LOAD_CONNECTIONS,
      onStep: (label, seconds) => step(`  ${label} (${seconds.toFixed(1)} s)`),
    });
    const loadSeconds = (Date.now() - loadStart) / 1000;
    step(`  data set ready in ${loadSeconds.toFixed(1)} s (index rebuild and vacuum analyze included)`);

    const personas = await pickPersonas(sql);
    const conn = await sql.reserve();
    try {
      const results = typedOnly ? [] : await measureQueries(conn, personas);
      const sweep = sweepOn ? await runSweep(sql, conn) : null;
      // Before the naive shapes, whose table copies keep autovacuum busy for a while.
      const typedLayer = only ? null : await measureTypedLayer(url, personas);
      const naive = only || typedOnly || planMode !== "cached" ? [] : await measureNaive(sql, conn, personas);
      return { scale, size, loadSeconds, queries: results, naive, typedLayer, sweep };
    } finally {
      conn.release();
    }
  } finally {
    await sql.end({ timeout: 5 });
    if (keep) step(`  kept ${url}`);
    else await dropDatabase(serverUrl, name);
  }
}

interface Check {
  target: string;
  ok: boolean;
  detail: string;
  /** A ratio whose two variants ran on different kinds of plan (generic / custom): no like-for-like comparison. */
  unlikePlans?: boolean;
}

/** SPEC 8: ratio ≤ 1.2, or at most 0.1 ms over the explicit filter (the per-statement helper calls). */
const RATIO = 1.2;
const DELTA_MS = 0.1;

function checks(results: ScaleResult[]): Check[] {
  const largest = results.at(-1)!;
  const out: Check[] = [];
  for (const r of results) {
    const at = `at ${r.size.clients.toLocaleString("en")}`;
    for (const q of r.queries) {
      if (q.ratio !== null && q.deltaMs !== null) {
        const unlikePlans = !!q.plans.explicit && planKind(q.plans.rls) !== planKind(q.plans.explicit);
        out.push({
          target: `ratio ≤ ${RATIO} or ≤ +${DELTA_MS} ms ${at}: ${q.key}`,
          ok: q.ratio <= RATIO || q.deltaMs <= DELTA_MS,
          // Where the two ran on different kinds of plan, the comparison says so.
          detail:
            `${q.ratio.toFixed(2)}, ${q.deltaMs >= 0 ? "+" : ""}${fmt(q.deltaMs)} ms` +
            (unlikePlans ? ` (plans ${describePlans(q.plans)})` : ""),
          unlikePlans,
        });
      }
      if (q.maxMs !== null)
        out.push({
          target: `median ≤ ${q.maxMs} ms ${at}: ${q.key}`,
          ok: q.rls.median <= q.maxMs,
          detail: `${fmt(q.rls.median)} ms`,
        });
    }
  }
  for (const r of results) {
    for (const g of r.sweep?.groups ?? []) {
      out.push({
        target: `every caller's first page ratio ≤ ${RATIO} or ≤ +${DELTA_MS} ms at ${r.size.clients.toLocaleString("en")}: ${g.kind}, through ${g.through}`,
        ok: g.withinTarget === g.callers,
        detail: `${g.withinTarget} of ${g.callers}; furthest ${describeWorst(g)}`,
      });
    }
  }
  if (largest.size.clients >= 1_000_000) {
    for (const q of largest.queries.filter((x) => x.singlePage)) {
      out.push({
        target: `single page ≤ 1 ms median at 1M clients: ${q.key}`,
        ok: q.rls.median <= 1,
        detail: `${fmt(q.rls.median)} ms`,
      });
    }
    for (const g of largest.sweep?.groups ?? []) {
      out.push({
        target: `single page ≤ 1 ms median at 1M clients: every caller's first page, ${g.kind}, through ${g.through}`,
        ok: g.slowestMs <= 1,
        detail: `slowest ${fmt(g.slowestMs)} ms`,
      });
    }
  }
  for (const [i, r] of results.entries()) {
    const before = results[i - 1];
    if (!before || r.size.clients !== before.size.clients * 10) continue;
    for (const q of r.queries) {
      const prior = before.queries.find((x) => x.key === q.key);
      if (!prior) continue;
      const growth = q.rls.median / prior.rls.median;
      out.push({
        target: `10x more clients (${before.size.clients.toLocaleString("en")} → ${r.size.clients.toLocaleString("en")}) changes the median ≤ 1.3x: ${q.key}`,
        ok: growth <= 1.3,
        detail: `${growth.toFixed(2)}x`,
      });
    }
  }
  if (largest.typedLayer)
    out.push({
      target: "typed layer as-user fetch ≥ 50 % of plain throughput",
      ok: largest.typedLayer.ratio >= 0.5,
      detail: percent(largest.typedLayer.ratio),
    });
  return out;
}

/** A target's verdict: met, met on unlike plans, or missed. */
const verdictOf = (v: Check) => (!v.ok ? "MISSED" : v.unlikePlans ? "met (unlike plans)" : "met");

function markdown(results: ScaleResult[], verdicts: Check[]): string {
  const lines: string[] = [];
  for (const r of results) {
    lines.push(
      `### ${r.size.clients.toLocaleString("en")} clients, ${r.size.organizations.toLocaleString("en")} organizations, ${r.size.users.toLocaleString("en")} users` +
        (r.size.consultantClients !== CONSULTANT_CLIENTS
          ? `, the consultant with ${r.size.consultantClients} clients in each of their organizations`
          : "") +
        ` (loaded in ${r.loadSeconds.toFixed(1)} s)`,
      "",
    );
    if (r.queries.length > 0) {
      lines.push(
        `Medians of the ${ROUNDS} interleaved rounds' medians (and of their ratios and differences). ` +
          "Plans: whether the executions ran on their statement's generic plan (one plan, made once and shared by every caller of the statement's text) " +
          "or on plans made for their own caller and values (custom)." +
          (planNote ? ` This run: ${planNote}.` : ""),
        "",
        "| query | RLS median ms | RLS p95 ms | explicit median ms | explicit p95 ms | ratio | difference ms | ratio per round | plans, RLS / explicit |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |",
      );
      const dash = "–";
      for (const q of r.queries) {
        lines.push(
          `| ${q.title} | ${fmt(q.rls.median)} | ${fmt(q.rls.p95)} | ${q.explicit ? fmt(q.explicit.median) : dash} | ${q.explicit ? fmt(q.explicit.p95) : dash} | ` +
            `${q.ratio !== null ? q.ratio.toFixed(2) : dash} | ${q.deltaMs !== null ? fmt(q.deltaMs) : dash} | ${q.rounds.map((x) => (x.ratio !== null ? x.ratio.toFixed(2) : fmt(x.rls.median))).join(", ")} | ${describePlans(q.plans)} |`,
        );
      }
    }
    if (r.naive.length > 0) {
      lines.push("", "| naive policy shape | query | median ms |", "| --- | --- | ---: |");
      for (const n of r.naive)
        lines.push(
          `| ${n.title} | ${n.query} | ${n.timedOut ? `> ${NAIVE_TIMEOUT_MS.toLocaleString("en")} (timed out)` : fmt(n.rls!.median)} |`,
        );
    }
    if (r.typedLayer) lines.push("", `Typed layer, one-client fetch: ${describeThroughput(r.typedLayer)}.`);
    if (r.sweep) {
      lines.push(
        "",
        `Every caller's first page (the sweep): up to ${SWEEP_PER_GROUP} callers of each kind in the whale, the scattered and the small organizations, ` +
          "each the median of the rounds against the explicit page; the table's page is one statement shared by every caller on the connection.",
        "",
        `| who | through | callers | within ${RATIO} or +${DELTA_MS} ms | within 1.5 or +${DELTA_MS} ms | median ratio | furthest from the target | slowest median ms |`,
        "| --- | --- | ---: | ---: | ---: | ---: | --- | ---: |",
      );
      for (const g of r.sweep.groups)
        lines.push(
          `| ${SWEEP_KIND_TITLES[g.kind]} | ${g.through === "table" ? "the table" : "list_clients"} | ${g.callers} | ${g.withinTarget} | ${g.withinOneAndAHalf} | ${g.medianRatio.toFixed(2)} | ${describeWorst(g)} | ${fmt(g.slowestMs)} |`,
        );
    }
    lines.push("");
  }
  lines.push("### Targets", "", "| target | result | |", "| --- | ---: | --- |");
  for (const v of verdicts) lines.push(`| ${v.target} | ${v.detail} | ${verdictOf(v)} |`);
  const unlike = verdicts.filter((v) => v.ok && v.unlikePlans).length;
  if (unlike)
    lines.push(
      "",
      `${unlike} target(s) met on unlike plans: the two variants ran on different kinds of plan, so the ratio compares ` +
        "planning as well as execution; `--plans=custom` and `--plans=generic` compare each kind with itself.",
    );
  return lines.join("\n");
}

main(async () => {
  if (!PLAN_MODES.includes(planMode)) fail(`--plans must be one of ${PLAN_MODES.join(", ")}, not "${planMode}"`);
  if (!Number.isInteger(consultantClients) || consultantClients < 1 || consultantClients > 10_000) {
    fail(`--consultant-clients must be a whole number from 1 to 10000, not "${consultantClientsArg}"`);
  }
  const started = Date.now();
  const external = process.env.DATABASE_URL;
  const engine = await resolveEngine("embedded");
  const server = external ? null : await startThrowawayServer(engine);
  const serverUrl = external ? withDatabase(external, "postgres") : server!.url;
  step(
    external ? `server: DATABASE_URL (${new URL(external).host})` : `server: throwaway PostgreSQL ${engine.version}`,
  );
  step(
    `${runs} timed runs per query and variant in ${ROUNDS} interleaved rounds (after ${warmup} warm-up runs), scales ${scales.join(", ")}` +
      (planNote ? `; ${planNote}` : ""),
  );
  const results: ScaleResult[] = [];
  try {
    for (const scale of scales) results.push(await runScale(serverUrl, scale));
  } finally {
    server?.stop();
  }
  const verdicts = checks(results);
  const report = markdown(results, verdicts);
  console.log(`\n${report}\n`);
  const dir = path.join(ROOT, "bench-results");
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `bench-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
  const json = {
    date: new Date().toISOString(),
    machine: { cpus: os.cpus().length, memoryGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version },
    quick,
    plans: planMode,
    runs,
    rounds: ROUNDS,
    results,
    targets: verdicts,
  };
  writeFileSync(file, `${JSON.stringify(json, null, 2)}\n`);
  writeFileSync(path.join(dir, "latest.json"), `${JSON.stringify(json, null, 2)}\n`);
  writeFileSync(path.join(dir, "latest.md"), `${report}\n`);
  step(
    `results: ${path.relative(ROOT, file)} (and bench-results/latest.json, latest.md); ${((Date.now() - started) / 1000).toFixed(0)} s`,
  );
  const missed = verdicts.filter((v) => !v.ok);
  const unlike = verdicts.filter((v) => v.ok && v.unlikePlans);
  step(
    (missed.length ? `${missed.length} target(s) missed: see the table` : "every target met") +
      (unlike.length
        ? `; ${unlike.length} met on unlike plans (--plans=custom and --plans=generic compare like with like)`
        : ""),
  );
});

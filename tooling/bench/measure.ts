/** Timing: run a statement many times inside PostgREST's transaction preamble. */
import type postgres from "postgres";
import { postgrestPreamble } from "../../src/postgrest.ts";

export interface Stats {
  runs: number;
  median: number;
  p95: number;
}

export function stats(samples: number[]): Stats {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
  return { runs: samples.length, median: at(0.5), p95: at(0.95) };
}

/** The middle value (the mean of the two middle ones for an even count). */
export const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/** The median of each field over several rounds' stats; runs add up. */
export const medianStats = (all: Stats[]): Stats => ({
  runs: all.reduce((n, x) => n + x.runs, 0),
  median: median(all.map((x) => x.median)),
  p95: median(all.map((x) => x.p95)),
});

export interface Actor {
  /** Database role for the transaction: authenticated (RLS) or service_role (no RLS). */
  role: "authenticated" | "service_role";
  claims: object;
}

/**
 * Time one statement (milliseconds, client side) in a transaction that first
 * sets role and claims exactly as PostgREST does; the transaction is rolled
 * back so the data set never changes.
 */
export async function timeOnce(
  conn: postgres.ReservedSql,
  actor: Actor,
  statement: (c: postgres.ReservedSql) => Promise<unknown>,
): Promise<number> {
  await conn`begin`;
  try {
    await postgrestPreamble(conn, actor.role, actor.claims);
    const start = process.hrtime.bigint();
    await statement(conn);
    return Number(process.hrtime.bigint() - start) / 1e6;
  } finally {
    await conn`rollback`;
  }
}

/** Interleave runs of several variants so drift affects them alike; returns samples per variant. */
export async function compare(
  conn: postgres.ReservedSql,
  variants: { actor: Actor; statement: (c: postgres.ReservedSql) => Promise<unknown> }[],
  runs: number,
  warmup: number,
): Promise<number[][]> {
  const samples = variants.map(() => [] as number[]);
  for (let i = 0; i < warmup + runs; i++) {
    for (const [v, variant] of variants.entries()) {
      const ms = await timeOnce(conn, variant.actor, variant.statement);
      if (i >= warmup) samples[v]!.push(ms);
    }
  }
  return samples;
}

/** How many executions of a prepared statement used its generic plan, and how many a plan made for their values. */
export interface PlanUse {
  generic: number;
  custom: number;
}

/**
 * The plan use so far of each statement text prepared on this connection
 * (pg_prepared_statements; every caller of one text shares its statement,
 * as they do through PostgREST). Zero counts for a text not prepared yet.
 */
export async function planUse(conn: postgres.ReservedSql, texts: string[]): Promise<PlanUse[]> {
  const rows = await conn<{ statement: string; generic: string; custom: string }[]>`
    select statement, generic_plans as generic, custom_plans as custom
    from pg_catalog.pg_prepared_statements where statement = any (${texts})`;
  return texts.map((text) => {
    const row = rows.find((r) => r.statement === text);
    return { generic: Number(row?.generic ?? 0), custom: Number(row?.custom ?? 0) };
  });
}

/** The plan use between two readings of planUse. */
export const planUseSince = (before: PlanUse, after: PlanUse): PlanUse => ({
  generic: after.generic - before.generic,
  custom: after.custom - before.custom,
});

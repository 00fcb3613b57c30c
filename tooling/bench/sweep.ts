/**
 * The benchmark's sweep (in every run; `npm run bench -- --only=sweep`
 * alone): the first page (50) of an organization by name for many callers,
 * not one persona each. The fixed queries pick one user per shape; a
 * user's real traffic comes from every member, and how a policy's plan
 * serves a caller depends on what they read in the organization they look
 * at and elsewhere. The sweep takes, from the generated data set, up to
 * `perGroup` (user, organization) pairs of each kind of caller in each kind
 * of organization (deterministically), and times the page through the table
 * and through list_clients against the explicit-filter page, on the
 * benchmark's one connection, where the table's page is one prepared
 * statement shared by every caller, as PostgREST shares it.
 */
import type postgres from "postgres";
import { SCATTERED, WHALE } from "./dataset.ts";
import { compare, median, medianStats, stats, type Stats } from "./measure.ts";
import { asService, orgPage, persona, type Persona } from "./queries.ts";

/**
 * What a caller reads in the organization they look at: every client
 * (`reader`: clients.read there), or their assigned clients only, while
 * reading clients nowhere (`assigned_only`) or in another organization
 * (`mixed`: the owner of a small organization who is a member of a client's).
 */
export const CALLER_KINDS = ["reader", "assigned_only", "mixed"] as const;
export type CallerKind = (typeof CALLER_KINDS)[number];
/** The organization looked at: the whale (30 % of clients), the one scattered over the table, or a small one. */
export const ORG_KINDS = ["whale", "scattered", "small"] as const;
export type OrgKind = (typeof ORG_KINDS)[number];

export interface SweepCaller {
  kind: CallerKind;
  orgKind: OrgKind;
  /** Clients in the organization looked at. */
  orgClients: number;
  persona: Persona;
}

/**
 * Up to `perGroup` callers of each kind in each kind of organization, in a
 * fixed pseudo-random order (md5 of the pair), so that runs compare.
 * Assigned-only callers are taken only where they have assigned clients.
 */
export async function pickSweepCallers(sql: postgres.Sql, perGroup: number): Promise<SweepCaller[]> {
  const rows = await sql<
    { user_id: string; organization_id: string; kind: CallerKind; org_kind: OrgKind; n: number }[]
  >`
    with orgs as (
      select o.id, case o.slug when ${`org-${WHALE}`} then 'whale' when ${`org-${SCATTERED}`} then 'scattered' else 'small' end as org_kind,
             (select count(*) from public.clients c where c.organization_id = o.id)::int as n
      from public.organizations o
    ),
    held as (
      select ur.user_id, ur.organization_id,
             bool_or(rp.permission = 'clients.read') as reads,
             bool_or(rp.permission = 'clients.work_assigned') as works
      from public.user_roles ur join public.role_permissions rp on rp.role_id = ur.role_id
      group by ur.user_id, ur.organization_id
    ),
    callers as (
      select h.user_id, h.organization_id, o.org_kind, o.n,
             case when h.reads then 'reader'
                  when exists (select from held e where e.user_id = h.user_id and e.reads) then 'mixed'
                  else 'assigned_only' end as kind
      from held h join orgs o on o.id = h.organization_id
      where h.reads
         or (h.works and exists (select from public.user_clients uc
                                 where uc.user_id = h.user_id and uc.organization_id = h.organization_id))
    )
    select user_id, organization_id, kind, org_kind, n
    from (select c.*, row_number() over (partition by kind, org_kind order by md5(user_id::text || organization_id::text)) as k
          from callers c) ranked
    where k <= ${perGroup}
    order by k, kind, org_kind`;
  const out: SweepCaller[] = [];
  for (const row of rows)
    out.push({
      kind: row.kind,
      orgKind: row.org_kind,
      orgClients: row.n,
      persona: await persona(sql, row.user_id, row.organization_id),
    });
  return out;
}

/** One variant's median over the rounds and, against the explicit page, its ratio and difference (medians over the rounds). */
export interface SweepTiming {
  median: number;
  ratio: number;
  deltaMs: number;
  /** Each round's median, ratio and difference, in round order. */
  rounds: { median: number; ratio: number; deltaMs: number }[];
}

export interface SweepResult {
  kind: CallerKind;
  orgKind: OrgKind;
  orgClients: number;
  user: string;
  organization: string;
  /** Clients assigned to the caller (in every organization where they work assigned ones). */
  assigned: number;
  explicit: Stats;
  /** The explicit page's median in each round. */
  explicitRounds: number[];
  table: SweepTiming;
  listClients: SweepTiming;
}

/**
 * Each caller's page through the table and through list_clients against the
 * explicit page, in `rounds` rounds interleaved over all the callers (as the
 * queries are), judged on the median round.
 */
export async function measureSweep(
  conn: postgres.ReservedSql,
  callers: SweepCaller[],
  { rounds, perRound, warmup }: { rounds: number; perRound: number; warmup: number },
): Promise<SweepResult[]> {
  const samples = callers.map(() => ({ table: [] as Stats[], list: [] as Stats[], explicit: [] as Stats[] }));
  for (let round = 0; round < rounds; round++) {
    for (const [i, c] of callers.entries()) {
      const table = orgPage("sweep", "sweep", c.persona);
      const list = orgPage("sweep", "sweep", c.persona, "list_clients");
      const [t, l, e] = await compare(
        conn,
        [
          { actor: table.actor, statement: table.rls },
          { actor: list.actor, statement: list.rls },
          { actor: asService, statement: table.explicit! },
        ],
        perRound,
        round === 0 ? warmup : Math.ceil(warmup / 3),
      );
      samples[i]!.table.push(stats(t!));
      samples[i]!.list.push(stats(l!));
      samples[i]!.explicit.push(stats(e!));
    }
  }
  return callers.map((c, i) => {
    const s = samples[i]!;
    const timing = (variant: Stats[]): SweepTiming => {
      const rounds = variant.map((x, r) => ({
        median: x.median,
        ratio: x.median / s.explicit[r]!.median,
        deltaMs: x.median - s.explicit[r]!.median,
      }));
      return {
        median: median(rounds.map((x) => x.median)),
        ratio: median(rounds.map((x) => x.ratio)),
        deltaMs: median(rounds.map((x) => x.deltaMs)),
        rounds,
      };
    };
    return {
      kind: c.kind,
      orgKind: c.orgKind,
      orgClients: c.orgClients,
      user: c.persona.id,
      organization: c.persona.org,
      assigned: c.persona.assigned.length,
      explicit: medianStats(s.explicit),
      explicitRounds: s.explicit.map((x) => x.median),
      table: timing(s.table),
      listClients: timing(s.list),
    };
  });
}

/** Within a ratio, or at most `deltaMs` over the explicit page. */
export const within = (t: SweepTiming, ratio: number, deltaMs: number) => t.ratio <= ratio || t.deltaMs <= deltaMs;

export interface SweepGroup {
  kind: CallerKind;
  through: "table" | "list_clients";
  callers: number;
  /** Callers within SPEC 8's ratio or difference, and within 1.5x or the same difference. */
  withinTarget: number;
  withinOneAndAHalf: number;
  medianRatio: number;
  /** The slowest caller's median, ms. */
  slowestMs: number;
  /** The caller furthest from the target: their ratio, difference and organization. */
  worst: { ratio: number; deltaMs: number; orgKind: OrgKind; orgClients: number };
}

/** Per kind of caller and way to the page: how many callers are within the targets, and the worst. */
export function summarizeSweep(results: SweepResult[], ratio: number, deltaMs: number): SweepGroup[] {
  const groups: SweepGroup[] = [];
  for (const kind of CALLER_KINDS) {
    const ofKind = results.filter((r) => r.kind === kind);
    if (ofKind.length === 0) continue;
    for (const through of ["table", "list_clients"] as const) {
      const timings = ofKind.map((r) => ({ r, t: through === "table" ? r.table : r.listClients }));
      // How far a caller is from the target: over 1 is a miss.
      const distance = (t: SweepTiming) => Math.min(t.ratio / ratio, t.deltaMs / deltaMs);
      const worst = timings.reduce((a, b) => (distance(b.t) > distance(a.t) ? b : a));
      groups.push({
        kind,
        through,
        callers: ofKind.length,
        withinTarget: timings.filter(({ t }) => within(t, ratio, deltaMs)).length,
        withinOneAndAHalf: timings.filter(({ t }) => within(t, 1.5, deltaMs)).length,
        medianRatio: median(timings.map(({ t }) => t.ratio)),
        slowestMs: Math.max(...timings.map(({ t }) => t.median)),
        worst: {
          ratio: worst.t.ratio,
          deltaMs: worst.t.deltaMs,
          orgKind: worst.r.orgKind,
          orgClients: worst.r.orgClients,
        },
      });
    }
  }
  return groups;
}

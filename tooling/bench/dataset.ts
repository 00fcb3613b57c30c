/**
 * The benchmark data set, generated in SQL: at scale 1, 1,000 organizations,
 * 20,000 users each a member of 1 to 3 organizations with mixed roles,
 * 1,000,000 clients each assigned to 1 or 2 members of its organization.
 * Every fifth organization, the whale included, defines roles of its own
 * (billing: clients.read; field_agent: clients.create and
 * clients.work_assigned), held by some of its members instead of viewer;
 * from 6 organizations up, a small organization too (number 6).
 * `scale` multiplies every count.
 *
 * Skewed as users' data is (SPEC section 8), at every scale:
 * - organization 1 is the "whale": 30 % of all clients, scattered over the
 *   whole table (3 rows in 10), and a tenth of the users as extra members;
 * - organization 2's rows are scattered too (one in ten rows every
 *   organizations - 1 blocks of ten), as when a live tenant's rows arrive
 *   interleaved with everyone else's;
 * - every other organization is small, its rows stored in one stretch of the
 *   table (between the whale's), as after a per-tenant import;
 * - a "consultant" (the user after the last, CONSULTANT_EMAIL) is a plain
 *   `member` of min(50, all) organizations, the whale included, with 40
 *   clients assigned in each (`consultantClients`: SPEC section 8 says 40 to
 *   150).
 * Within each organization the names cover every prefix evenly, so a prefix
 * search always has matches.
 *
 * Triggers are off while loading (session_replication_role = replica): the
 * rows are consistent by construction, profiles are written directly, and the
 * audit log stays empty. The secondary indexes of the two big tables are
 * dropped before the load and rebuilt after it, which is faster than
 * maintaining them row by row. The big steps are split into parts run on
 * parallel connections. Deterministic: the same size gives the same data.
 * Meant for an empty, migrated database: a failed load leaves it partial.
 */
import postgres from "postgres";
import { superuserUrl } from "../server/config.ts";

export interface DatasetSize {
  organizations: number;
  users: number;
  clients: number;
  /** Clients assigned to the consultant in each of their organizations (CONSULTANT_CLIENTS when absent). */
  consultantClients?: number;
}

/** The consultant's assigned clients in each of their organizations, unless the size says otherwise. */
export const CONSULTANT_CLIENTS = 40;

export function sizeFor(scale: number, consultantClients = CONSULTANT_CLIENTS): DatasetSize {
  return {
    organizations: Math.max(3, Math.round(1000 * scale)),
    users: Math.max(30, Math.round(20000 * scale)),
    clients: Math.max(100, Math.round(1_000_000 * scale)),
    consultantClients,
  };
}

/**
 * One step of the load; its parts run on parallel connections. Rows are
 * loaded in transactions with triggers off; the maintenance step's parts are
 * lists of tables, each vacuumed and analyzed in one statement (those of them
 * the database has: the derived tables come with later migrations); the
 * index step rebuilds the indexes set aside by the first step.
 */
export interface DatasetStep {
  label: string;
  kind: "rows" | "indexes" | "maintenance";
  parts: string[];
}

/** The consultant's email: a plain member of min(50, all) organizations with 40 assigned clients in each (by default). */
export const CONSULTANT_EMAIL = "consultant@bench.example";
/** Organizations the consultant belongs to. */
export const consultantOrganizations = (size: DatasetSize) => Math.min(50, size.organizations);
/** The whale organization's number (1) and the scattered one's (2); their ids come from `oid`. */
export const WHALE = 1;
export const SCATTERED = 2;

const uid = (expr: string) => `('b0000000-0000-4000-8000-' || lpad((${expr})::text, 12, '0'))::uuid`;
const oid = (expr: string) => `('b1000000-0000-4000-8000-' || lpad((${expr})::text, 12, '0'))::uuid`;
const cid = (expr: string) => `('b2000000-0000-4000-8000-' || lpad((${expr})::text, 12, '0'))::uuid`;
/** Whether client number `c` gets a second member: half the clients of every organization, by a hash of the number. */
const twoMembers = (c: string) => `((('x' || substr(md5((${c})::text), 1, 8))::bit(32)::int & 1) = 1)`;
/** A client's number, from its id (cid). */
const clientNumber = (id: string) => `right((${id})::text, 12)::bigint`;

/** [first, last] ranges splitting 1..n into `parts` contiguous slices. */
function ranges(n: number, parts: number): [number, number][] {
  const size = Math.ceil(n / parts);
  const out: [number, number][] = [];
  for (let first = 1; first <= n; first += size) out.push([first, Math.min(n, first + size - 1)]);
  return out;
}

/**
 * SQL for the organization number of client c (1..C) and its rank in that
 * organization (which picks its name). Whale: 3 rows in 10; the scattered
 * organization: the fourth row of every (O - 1)th block of ten; the others
 * share the remaining rows in contiguous stretches of the table.
 */
function placement(size: DatasetSize): { org: (c: string) => string; rank: (c: string) => string } {
  const { organizations: O, clients: C } = size;
  const K = Math.max(1, O - 1);
  const rest = Math.max(1, O - 2);
  return {
    org: (c) => `(case when ${c} % 10 < 3 then 1 when ${c} % 10 = 3 and (${c} / 10) % ${K} = 0 then 2
                  else 3 + least(${rest - 1}, ((${c} - 1)::bigint * ${rest} / ${C})::int) end)`,
    rank: (
      c,
    ) => `(case when ${c} % 10 < 3 then (${c} / 10) * 3 + ${c} % 10 when ${c} % 10 = 3 and (${c} / 10) % ${K} = 0 then ${c} / 10 / ${K}
                   else ${c} end)`,
  };
}

/** The statements that load the data set, step by step. */
export function datasetSteps(size: DatasetSize, parallel = 2): DatasetStep[] {
  const { organizations: O, users: U, clients: C } = size;
  const slices = ranges(C, Math.max(1, parallel));
  const { org, rank } = placement(size);
  const consultant = U + 1;
  const consultantOrgs = consultantOrganizations(size);
  const consultantClients = size.consultantClients ?? CONSULTANT_CLIENTS;
  if (!Number.isInteger(consultantClients) || consultantClients < 1) {
    throw new Error(`the consultant's clients per organization must be a positive integer, not ${consultantClients}`);
  }
  return [
    {
      label: "secondary indexes of clients and user_clients set aside (rebuilt at the end)",
      kind: "rows",
      parts: [
        `
        create schema bench_load;
        create table bench_load.indexes as
        select pg_get_indexdef(i.indexrelid) as definition, i.indexrelid::regclass::text as name
        from pg_index i
        where i.indrelid in ('public.clients'::regclass, 'public.user_clients'::regclass)
          and not exists (select 1 from pg_constraint c where c.conindid = i.indexrelid);
        do $$
        declare r record;
        begin
          for r in select name from bench_load.indexes loop execute 'drop index ' || r.name; end loop;
        end
        $$;`,
      ],
    },
    {
      label: `${U.toLocaleString("en")} users, ${O.toLocaleString("en")} organizations, memberships (1 to 3 organizations per user) with mixed roles`,
      kind: "rows",
      parts: [
        `
        insert into auth.users (id, aud, role, email, raw_user_meta_data, created_at, updated_at)
        select ${uid("u")}, 'authenticated', 'authenticated', 'user' || u || '@bench.example',
               jsonb_build_object('full_name', 'User ' || u), now(), now()
        from generate_series(1, ${U}) u;
        insert into public.users (id, email, full_name)
        select ${uid("u")}, 'user' || u || '@bench.example', 'User ' || u from generate_series(1, ${U}) u;
        insert into public.organizations (id, name, slug)
        select ${oid("o")}, 'Organization ' || o, 'org-' || o from generate_series(1, ${O}) o;
        create table bench_load.membership as
        select distinct on (org, u) org, u, k
        from (
          select o.org, u, k
          from generate_series(1, ${U}) u
          -- The whale's extra members (below) keep at most two of these: 1 to 3 organizations in all.
          cross join lateral generate_series(0, u % 3 - (u % 10 = 5 and u % 3 = 2)::int) k
          cross join lateral (select 1 + ((u - 1) + k * 7919 * (k > 0)::int + k * 17) % ${O} as org) o
          union all
          -- The whale's extra members: a tenth of the users.
          select ${WHALE}, u, 3 from generate_series(5, ${U}, 10) u
        ) m
        order by org, u, k;
        insert into public.organization_users (organization_id, user_id)
        select ${oid("org")}, ${uid("u")} from bench_load.membership;
        -- The first member of each organization owns it; the others get mixed roles.
        insert into public.user_roles (organization_id, user_id, role_id)
        select ${oid("m.org")}, ${uid("m.u")}, r.id
        from (
          select org, u, row_number() over (partition by org order by u) as nth from bench_load.membership
        ) m
        join public.roles r on r.key = case
          when m.nth = 1 then 'owner'
          when m.u % 20 = 0 then 'admin'
          when m.u % 20 in (1, 2, 3) then 'manager'
          when m.u % 20 < 14 then 'member'
          else 'viewer' end;
        -- Every fifth organization (the whale, 6, 11, ...) defines two roles of its own, billing (reads
        -- every client) and field_agent (creates clients, works on those
        -- assigned), which its viewers hold instead, alternately. Skipped on a
        -- schema from before organization-defined roles (the migration tests
        -- load this data set at every step of the history).
        do $bench$
        begin
          if exists (select 1 from pg_attribute a where a.attrelid = 'public.roles'::regclass
                     and a.attname = 'organization_id' and not a.attisdropped) then
            execute $q$
              insert into public.roles (organization_id, key, name, rank)
              select ${oid("o")}, v.key, v.name, 15
              from generate_series(1, ${O}) o
              cross join (values ('billing', 'Billing'), ('field_agent', 'Field agent')) v (key, name)
              where o % 5 = 1 $q$;
            -- Triggers are off: the permissions' organization is written out.
            execute $q$
              insert into public.role_permissions (role_id, permission, organization_id)
              select r.id, p.permission, r.organization_id
              from public.roles r
              join (values ('billing', 'clients.read'), ('field_agent', 'clients.create'), ('field_agent', 'clients.work_assigned')) p (key, permission)
                on p.key = r.key
              where r.organization_id in (select ${oid("o")} from generate_series(1, ${O}) o where o % 5 = 1) $q$;
            execute $q$
              update public.user_roles ur set role_id = r.id
              from (select org, u, row_number() over (partition by org order by u) as nth from bench_load.membership) m
              join public.roles r on r.organization_id = ${oid("m.org")}
                and r.key = case when m.nth % 2 = 0 then 'billing' else 'field_agent' end
              where m.org % 5 = 1
                and ur.organization_id = ${oid("m.org")} and ur.user_id = ${uid("m.u")}
                and ur.role_id = (select v.id from public.roles v where v.key = 'viewer' and v.organization_id is null) $q$;
          end if;
        end
        $bench$;
        create table bench_load.org_members as
        select org, array_agg(u order by u) as members from bench_load.membership group by org;
        create unique index on bench_load.org_members (org);
        analyze bench_load.org_members;
        -- The consultant: a plain member of min(50, all) organizations (no other role).
        insert into auth.users (id, aud, role, email, raw_user_meta_data, created_at, updated_at)
        values (${uid(String(consultant))}, 'authenticated', 'authenticated', '${CONSULTANT_EMAIL}', '{"full_name":"Consultant"}', now(), now());
        insert into public.users (id, email, full_name) values (${uid(String(consultant))}, '${CONSULTANT_EMAIL}', 'Consultant');
        insert into public.organization_users (organization_id, user_id)
        select ${oid("o")}, ${uid(String(consultant))} from generate_series(1, ${consultantOrgs}) o;
        insert into public.user_roles (organization_id, user_id, role_id)
        select ${oid("o")}, ${uid(String(consultant))}, r.id from generate_series(1, ${consultantOrgs}) o
        join public.roles r on r.key = 'member';`,
      ],
    },
    {
      // Client c's organization and rank there come from placement(): the
      // rank picks the name, so every organization has every name prefix.
      label: `${C.toLocaleString("en")} clients`,
      kind: "rows",
      parts: slices.map(
        ([first, last]) => `
        insert into public.clients (id, organization_id, name, email, status, created_at, updated_at)
        select ${cid("c")}, ${oid("p.org")},
               (array['Acme','Apex','Atlas','Beacon','Summit','Vertex','Nimbus','Orion','Pioneer','Quantum',
                      'Harbor','Keystone','Lumen','Meridian','Northstar','Evergreen'])[1 + p.rank % 16]
                 || ' ' || (array['Labs','Group','Partners','Systems','Foods','Logistics','Health','Capital'])[1 + (p.rank / 16) % 8]
                 || ' ' || c,
               'contact' || c || '@client.example',
               (array['lead','active','active','active','inactive','archived'])[1 + p.rank % 6]::public.client_status,
               now(), now()
        from generate_series(${first}, ${last}) c
        cross join lateral (select ${org("c")} as org, ${rank("c")} as rank) p;`,
      ),
    },
    {
      // What the triggers on clients (off while loading) keep: the words of
      // client names per organization, which search_clients looks words up in,
      // and each word's clients by name (on a database migrated that far; a
      // later migration fills them itself).
      label: "the dictionary of client name words, and each word's clients by name",
      kind: "rows",
      parts: [
        `
        do $$
        begin
          if to_regclass('private.client_name_words') is not null then
            insert into private.client_name_words (organization_id, word)
            select distinct c.organization_id, w.word
            from public.clients c cross join lateral unnest(private.search_words(c.name)) as w (word)
            on conflict do nothing;
            analyze private.client_name_words;
          end if;
        end
        $$;`,
        // Every client listed anew (those already there too), in key order, beside the dictionary.
        `
        do $$
        begin
          if to_regclass('private.client_words') is not null then
            perform set_config('work_mem', '256MB', true);
            truncate private.client_words;
            insert into private.client_words (organization_id, word, name, client_id)
            select c.organization_id, w.word, c.name, c.id
            from public.clients c cross join lateral unnest(private.client_list_words(c.name)) as w (word)
            order by 1, 2, 3, 4;
            analyze private.client_words;
          end if;
        end
        $$;`,
      ],
    },
    {
      // Every client gets its organization's member at position c % n, and
      // half of them (twoMembers) a second, different one; written in primary key order.
      label: "assignments (1 or 2 members per client)",
      kind: "rows",
      parts: slices.map(
        ([first, last]) => `
        insert into public.user_clients (organization_id, client_id, user_id)
        select ${oid("m.org")}, ${cid("c")}, ${uid("m.members[1 + (c + (k - 1) * (1 + (c / " + O + ") % greatest(n - 1, 1))) % n]")}
        from generate_series(${first}, ${last}) c
        join bench_load.org_members m on m.org = ${org("c")}
        cross join lateral (select cardinality(m.members) as n) s
        cross join lateral generate_series(1, least(1 + ${twoMembers("c")}::int, n)) k
        order by 1, 2, 3;`,
      ),
    },
    {
      // consultantClients in each of the consultant's organizations (all of a smaller one), spread over it (by a hash of the id).
      label: `the consultant's assignments (${consultantClients} in each of their organizations)`,
      kind: "rows",
      parts: [
        `
        insert into public.user_clients (organization_id, client_id, user_id)
        select ${oid("o")}, picked.id, ${uid(String(consultant))}
        from generate_series(1, ${consultantOrgs}) o
        cross join lateral (
          -- Clients with one member first (the assignments above), so that each keeps 1 or 2.
          select c.id from public.clients c where c.organization_id = ${oid("o")}
          order by ${twoMembers(clientNumber("c.id"))}, md5(c.id::text) limit ${consultantClients}
        ) picked;`,
      ],
    },
    { label: "secondary indexes rebuilt", kind: "indexes", parts: [] },
    {
      label: "vacuum analyze",
      kind: "maintenance",
      parts: [
        "public.clients",
        "public.user_clients",
        "public.organization_users, public.user_roles, public.users, public.organizations, public.roles, public.role_permissions, auth.users",
        // Written with triggers off: their GIN indexes' pending entries merged, and the visibility map set for
        // index-only scans, as autovacuum leaves them minutes after a load (search_clients reads both).
        "private.client_name_words, private.client_words",
      ],
    },
  ];
}

/** Run `work` on each item with at most `limit` running at once. */
async function pool<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  await Promise.all(
    Array.from({ length: Math.min(limit, queue.length) }, async () => {
      for (let item = queue.shift(); item !== undefined; item = queue.shift()) await work(item);
    }),
  );
}

/**
 * Load the data set into an empty, migrated database at `url`, on `parallel`
 * connections of the superuser `supabase_admin` (only a superuser may set
 * session_replication_role; `postgres` is not one, as on hosted Supabase).
 * Reports each step and its duration.
 */
export async function loadDataset(
  url: string,
  size: DatasetSize,
  options: { parallel?: number; onStep?: (label: string, seconds: number) => void } = {},
): Promise<void> {
  const parallel = Math.max(1, options.parallel ?? 2);
  const sql = postgres(superuserUrl(url), { max: parallel, onnotice: () => {}, connect_timeout: 10 });
  try {
    await load(sql, size, parallel, options.onStep);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

async function load(
  sql: postgres.Sql,
  size: DatasetSize,
  parallel: number,
  onStep?: (label: string, seconds: number) => void,
): Promise<void> {
  const inTransaction = (statement: string) =>
    sql.begin(async (tx) => {
      await tx`set local session_replication_role = replica`;
      await tx.unsafe(statement).simple();
    });
  const run = (statement: string) => sql.unsafe(statement).simple();
  for (const step of datasetSteps(size, parallel)) {
    const started = Date.now();
    if (step.kind === "indexes") {
      const rows = await sql<{ definition: string }[]>`select definition from bench_load.indexes`;
      await pool(
        rows.map((r) => r.definition),
        parallel,
        async (definition) => void (await run(definition)),
      );
      await run("drop schema bench_load cascade");
    } else if (step.kind === "maintenance") {
      await pool(step.parts, parallel, async (list) => {
        const [row] = await sql<{ tables: string | null }[]>`
          select string_agg(t, ', ') as tables from unnest(string_to_array(${list}, ', ')) as t
          where to_regclass(t) is not null`;
        if (row?.tables) await run(`vacuum analyze ${row.tables}`);
      });
    } else {
      await pool(step.parts, parallel, async (statement) => void (await inTransaction(statement)));
    }
    onStep?.(step.label, (Date.now() - started) / 1000);
  }
}

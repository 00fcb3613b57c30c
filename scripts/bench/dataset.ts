/**
 * The benchmark data set, generated in SQL: at scale 1, 1,000 organizations,
 * 20,000 users each a member of 1 to 3 organizations with mixed roles,
 * 1,000,000 clients each assigned to 1 or 2 members of its organization.
 * `scale` multiplies every count.
 *
 * Triggers are off while loading (session_replication_role = replica): the
 * rows are consistent by construction, profiles are written directly, and the
 * audit log stays empty. Secondary indexes of the two big tables are dropped
 * before the load and rebuilt after it, which is faster than maintaining them
 * row by row. All steps run in the caller's transaction. Deterministic: the
 * same scale gives the same data.
 */
export interface DatasetSize {
  organizations: number;
  users: number;
  clients: number;
}

export function sizeFor(scale: number): DatasetSize {
  return {
    organizations: Math.max(3, Math.round(1000 * scale)),
    users: Math.max(30, Math.round(20000 * scale)),
    clients: Math.max(100, Math.round(1_000_000 * scale)),
  };
}

/** Statements that load the data set into an empty, migrated database; each is reported as a step. */
export function datasetSteps(size: DatasetSize): { label: string; sql: string }[] {
  const { organizations: O, users: U, clients: C } = size;
  const uid = (expr: string) => `('b0000000-0000-4000-8000-' || lpad((${expr})::text, 12, '0'))::uuid`;
  const oid = (expr: string) => `('b1000000-0000-4000-8000-' || lpad((${expr})::text, 12, '0'))::uuid`;
  const cid = (expr: string) => `('b2000000-0000-4000-8000-' || lpad((${expr})::text, 12, '0'))::uuid`;
  return [
    {
      label: "secondary indexes of clients and user_clients set aside (rebuilt at the end)",
      sql: `
        create temporary table bench_indexes on commit drop as
        select i.indexrelid::regclass::text as name, pg_get_indexdef(i.indexrelid) as definition
        from pg_index i
        where i.indrelid in ('public.clients'::regclass, 'public.user_clients'::regclass)
          and not exists (select 1 from pg_constraint c where c.conindid = i.indexrelid);
        do $$
        declare r record;
        begin
          for r in select name from bench_indexes loop execute 'drop index ' || r.name; end loop;
        end
        $$;`,
    },
    {
      label: `${U.toLocaleString("en")} users`,
      sql: `
        insert into auth.users (id, aud, role, email, raw_user_meta_data, created_at, updated_at)
        select ${uid("u")}, 'authenticated', 'authenticated', 'user' || u || '@bench.example',
               jsonb_build_object('full_name', 'User ' || u), now(), now()
        from generate_series(1, ${U}) u;
        insert into public.users (id, email, full_name)
        select ${uid("u")}, 'user' || u || '@bench.example', 'User ' || u from generate_series(1, ${U}) u;`,
    },
    {
      label: `${O.toLocaleString("en")} organizations`,
      sql: `
        insert into public.organizations (id, name, slug)
        select ${oid("o")}, 'Organization ' || o, 'org-' || o from generate_series(1, ${O}) o;`,
    },
    {
      label: "memberships (1 to 3 organizations per user) and mixed roles",
      sql: `
        create temporary table bench_membership on commit drop as
        select distinct on (org, u) org, u, k
        from generate_series(1, ${U}) u
        cross join lateral generate_series(0, u % 3) k
        cross join lateral (select 1 + ((u - 1) + k * 7919 * (k > 0)::int + k * 17) % ${O} as org) o;
        insert into public.organization_users (organization_id, user_id)
        select ${oid("org")}, ${uid("u")} from bench_membership;
        -- The first member of each organization owns it; the others get mixed roles.
        insert into public.user_roles (organization_id, user_id, role_id)
        select ${oid("m.org")}, ${uid("m.u")}, r.id
        from (
          select org, u, row_number() over (partition by org order by u) as nth from bench_membership
        ) m
        join public.roles r on r.key = case
          when m.nth = 1 then 'owner'
          when m.u % 20 = 0 then 'admin'
          when m.u % 20 in (1, 2, 3) then 'manager'
          when m.u % 20 < 14 then 'member'
          else 'viewer' end;
        create temporary table bench_org_members on commit drop as
        select org, array_agg(u order by u) as members from bench_membership group by org;`,
    },
    {
      label: `${C.toLocaleString("en")} clients`,
      sql: `
        insert into public.clients (id, organization_id, name, email, status, created_at, updated_at)
        select ${cid("c")}, ${oid("1 + c % " + O)},
               (array['Acme','Apex','Atlas','Beacon','Summit','Vertex','Nimbus','Orion','Pioneer','Quantum',
                      'Harbor','Keystone','Lumen','Meridian','Northstar','Evergreen'])[1 + (c * 7) % 16]
                 || ' ' || (array['Labs','Group','Partners','Systems','Foods','Logistics','Health','Capital'])[1 + (c * 13) % 8]
                 || ' ' || c,
               'contact' || c || '@client.example',
               (array['lead','active','active','active','inactive','archived'])[1 + c % 6]::public.client_status,
               now(), now()
        from generate_series(1, ${C}) c;`,
    },
    {
      label: "assignments (1 or 2 members per client)",
      sql: `
        insert into public.user_clients (organization_id, client_id, user_id)
        select distinct ${oid("1 + c % " + O)}, ${cid("c")}, ${uid("m.members[1 + (c * k) % cardinality(m.members)]")}
        from generate_series(1, ${C}) c
        join bench_org_members m on m.org = 1 + c % ${O}
        cross join lateral generate_series(1, 1 + c % 2) k;`,
    },
    {
      label: "secondary indexes rebuilt",
      sql: `
        do $$
        declare r record;
        begin
          for r in select definition from bench_indexes loop execute r.definition; end loop;
        end
        $$;`,
    },
  ];
}

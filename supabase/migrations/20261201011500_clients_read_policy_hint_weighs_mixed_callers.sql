-- The clients read policy's planner hint weighs callers who read clients in
-- some organizations and only work assigned ones in others.
--
-- The hint (20261201010000) tells the planner whether the caller reads
-- clients anywhere: a reader keeps the policy's estimate (about a tenth of
-- an organization's rows), a caller who reads nowhere gets 0.5 % of it, so
-- their page reads their assigned clients by index instead of walking the
-- organization. A caller who does both (the owner of a small organization
-- who is a plain member or a field agent of a large one, as consultants and
-- agencies are) counted as a reader everywhere: planned with their own
-- values, their page of the large organization walked its 30,000 clients by
-- name to find 50 of their 177 assigned ones (20 to 30 ms against 1.5 to 2.4
-- ms for the same query with the rule's arrays written out, 100,000
-- clients).
--
-- private.planner_hint_bound(table, permission) answers, for the planner
-- only, how large a share of the rows in the caller's organizations they
-- read: none (a null bound: 0 rows) for a caller who reads nowhere, no bound
-- (every row) for one who reads in every organization they belong to, and
-- for the others a uuid below which lies that share of the table's ids (the
-- midpoint of the bin of the id histogram at that share: with random ids,
-- not any row's id), the share weighed by the planner's own statistics (the
-- most common organization_id values and their frequencies, the same
-- estimate the planner makes of `organization_id = <that organization>`).
-- The policy's
-- last condition names it as `id <= all (<bound>)`, which the planner
-- estimates from the id histogram and the executor never evaluates (the
-- condition is always true at its first arm). The owner of three small
-- organizations who works 177 clients of a 30,000-client organization is
-- estimated at 7 % of the rows, and their page there reads their
-- assignments (about 2 ms through PostgREST's preamble); a reader of that organization who only works
-- assigned clients in a small one keeps about all of them, and walks.
--
-- It reads the statistics from pg_statistic (the owner of the layer's
-- functions may: a superuser, or hosted's postgres through
-- pg_read_all_data); without that privilege, or before the table has
-- statistics, a caller who reads somewhere keeps the readers' estimate, as
-- before. Callers who read everywhere or nowhere pay one query, as before;
-- the others about 0.1 ms more per plan.
--
-- What may be read is unchanged: the rule is the same three arms, and the
-- last condition is true for every row. planner_hint_holds stays for the
-- read policies of tables generated before this version; entity:new now
-- writes the new hint.

set lock_timeout = '10s';
set statement_timeout = '15min';

create function private.planner_hint_weight(org uuid, common bytea, common_freqs real[], rare_freq float8)
returns float8
language plpgsql
immutable
set search_path = pg_catalog, pg_temp
as $$
declare
  -- common: the most common values as array_send writes them (a 20-byte
  -- header, then each uuid as a 4-byte length and its 16 bytes).
  at constant int := position(uuid_send(org) in coalesce(common, ''::bytea));
begin
  if at >= 25 and (at - 25) % 20 = 0 then
    return common_freqs[(at - 25) / 20 + 1];
  end if;
  return rare_freq;
end;
$$;
comment on function private.planner_hint_weight(uuid, bytea, real[], float8) is
  'For private.planner_hint_bound: the planner''s estimate of the share of rows with organization_id = org, from the column''s statistics: its frequency among the most common values (as array_send bytes, and their frequencies), else rare_freq, the share of an organization outside them.';
revoke all on function private.planner_hint_weight(uuid, bytea, real[], float8) from public, anon, authenticated, service_role;

create function private.planner_hint_bound(scoped regclass, permission text)
returns uuid[]
language plpgsql
stable
cost 1
security definer
set search_path = pg_catalog, pg_temp
set enable_seqscan = off
set enable_bitmapscan = off
set enable_hashjoin = off
set enable_mergejoin = off
set enable_material = off
set plan_cache_mode = force_generic_plan
as $$
declare
  caller constant uuid := auth.uid();
  reading uuid[];
  other uuid[];
  common bytea;
  common_freqs real[];
  null_frac float8;
  distinct_n float8;
  rare_freq float8;
  bounds bytea;
  read_weight float8;
  all_weight float8;
  n_bounds int;
  org uuid;
  k int;
  halves bigint[];
  middle numeric;
begin
  select array_agg(m.organization_id) filter (where m.reads), array_agg(m.organization_id) filter (where not m.reads)
    into reading, other
    from (select ur.organization_id, bool_or(rp.role_id is not null) as reads
            from public.user_roles ur
            left join public.role_permissions rp
              on rp.role_id = ur.role_id and rp.permission = planner_hint_bound.permission
           where ur.user_id = caller
           group by ur.organization_id) m;
  if reading is null then
    return '{NULL}'::uuid[];
  end if;
  if other is null or not has_table_privilege('pg_catalog.pg_statistic', 'select') then
    return '{}'::uuid[];
  end if;
  select array_send(case 1 when o.stakind1 then o.stavalues1 when o.stakind2 then o.stavalues2
                      when o.stakind3 then o.stavalues3 when o.stakind4 then o.stavalues4
                      when o.stakind5 then o.stavalues5 end),
         case 1 when o.stakind1 then o.stanumbers1 when o.stakind2 then o.stanumbers2
                when o.stakind3 then o.stanumbers3 when o.stakind4 then o.stanumbers4
                when o.stakind5 then o.stanumbers5 end,
         o.stanullfrac,
         case when o.stadistinct < 0 then -o.stadistinct * greatest(c.reltuples, 0) else o.stadistinct end,
         array_send(case 2 when i.stakind1 then i.stavalues1 when i.stakind2 then i.stavalues2
                      when i.stakind3 then i.stavalues3 when i.stakind4 then i.stavalues4
                      when i.stakind5 then i.stavalues5 end)
    into common, common_freqs, null_frac, distinct_n, bounds
    from pg_catalog.pg_class c
    join pg_catalog.pg_attribute oa on oa.attrelid = c.oid and oa.attname = 'organization_id' and oa.atttypid = 'pg_catalog.uuid'::pg_catalog.regtype
    join pg_catalog.pg_attribute ia on ia.attrelid = c.oid and ia.attname = 'id' and ia.atttypid = 'pg_catalog.uuid'::pg_catalog.regtype
    join pg_catalog.pg_statistic o on o.starelid = c.oid and o.staattnum = oa.attnum and not o.stainherit
    join pg_catalog.pg_statistic i on i.starelid = c.oid and i.staattnum = ia.attnum and not i.stainherit
   where c.oid = scoped
     -- Only the table's own read permission: the share of another table's
     -- rows is not this hint's to tell.
     and c.relname operator(pg_catalog.||) '.read' = planner_hint_bound.permission;
  if bounds is null then
    return '{}'::uuid[];
  end if;
  -- Each organization weighs what the planner estimates of `organization_id = <it>`;
  -- one outside the most common values, an even share of the rest.
  rare_freq := greatest(1 - null_frac - coalesce((select sum(f) from unnest(common_freqs) f), 0), 0)
               / greatest(distinct_n - coalesce(cardinality(common_freqs), 0), 1);
  read_weight := 0;
  all_weight := 0;
  foreach org in array reading loop
    read_weight := read_weight + private.planner_hint_weight(org, common, common_freqs, rare_freq);
  end loop;
  all_weight := read_weight;
  foreach org in array other loop
    all_weight := all_weight + private.planner_hint_weight(org, common, common_freqs, rare_freq);
  end loop;
  if all_weight <= 0 or read_weight >= all_weight then
    return '{}'::uuid[];
  end if;
  -- The bin of the id histogram at that share (0-based k: between bounds k and
  -- k + 1) and a value inside it, the midpoint of its bounds (with random ids,
  -- no row's id), as unsigned 128-bit numbers from two 64-bit halves.
  n_bounds := (length(bounds) - 20) / 20;
  k := floor(read_weight / all_weight * (n_bounds - 1))::int;
  halves := array[('x' || encode(substr(bounds, 25 + 20 * k, 8), 'hex'))::bit(64)::bigint,
                  ('x' || encode(substr(bounds, 33 + 20 * k, 8), 'hex'))::bit(64)::bigint,
                  ('x' || encode(substr(bounds, 45 + 20 * k, 8), 'hex'))::bit(64)::bigint,
                  ('x' || encode(substr(bounds, 53 + 20 * k, 8), 'hex'))::bit(64)::bigint];
  middle := floor(((halves[1] + case when halves[1] < 0 then 18446744073709551616 else 0 end) * 18446744073709551616
                   + halves[2] + case when halves[2] < 0 then 18446744073709551616 else 0 end
                   + (halves[3] + case when halves[3] < 0 then 18446744073709551616 else 0 end) * 18446744073709551616
                   + halves[4] + case when halves[4] < 0 then 18446744073709551616 else 0 end) / 2);
  return array[(lpad(to_hex((div(middle, 18446744073709551616) - case when div(middle, 18446744073709551616) >= 9223372036854775808 then 18446744073709551616 else 0 end)::bigint), 16, '0')
                || lpad(to_hex((mod(middle, 18446744073709551616) - case when mod(middle, 18446744073709551616) >= 9223372036854775808 then 18446744073709551616 else 0 end)::bigint), 16, '0'))::uuid];
end;
$$;
comment on function private.planner_hint_bound(regclass, text) is
  'Extension API (policies), for the planner only: how large a share of the rows of the caller''s organizations in the table they hold the permission for, as the bound of `id <= all (...)`: {NULL} (no row) when they hold it nowhere, {} (every row) when they hold it in every organization they belong to, otherwise one uuid below which lies about that share of the table''s ids (the midpoint of the bin of the id histogram at that share: with random ids, no row''s id), the share weighed by the planner''s statistics of organization_id. Named in an arm of a read policy that is never evaluated, `and ((select null::boolean) is null or id <= all (private.planner_hint_bound(''public.<table>'', ''<table>.read'')))`: the planner evaluates it while estimating.';
revoke all on function private.planner_hint_bound(regclass, text) from public, anon, service_role;
-- The planner runs it as the caller when it plans a statement on a table whose policy names it.
grant execute on function private.planner_hint_bound(regclass, text) to authenticated;

-- alter, not drop and create: there is never a moment without the policy.
alter policy clients_select_readers_or_assigned on public.clients
  using (
    (
      organization_id = any ((select private.organization_ids_with('clients.read'))::uuid[])
      or id = any ((select private.workable_client_ids())::uuid[])
      or (
        created_by = (select auth.uid()) and created_at = (select pg_catalog.now())
        and organization_id = any ((select private.organization_ids_with('clients.create'))::uuid[])
      )
    )
    -- Always true at its first arm, one test of a precomputed value per row. For the planner only:
    -- how much of their organizations' clients the caller reads, and what checking a row costs.
    and (
      (select null::boolean) is null
      or (id <= all (private.planner_hint_bound('public.clients', 'clients.read'))
          and private.clients_read_row_cost(id) is not null)
    )
  );
comment on policy clients_select_readers_or_assigned on public.clients is
  'Holders of clients.read (owner, admin, manager, viewer, or an organization''s role with it) see every client of the organization; holders of clients.work_assigned (member, or an organization''s role with it) the clients assigned to them. Every arm is an index condition whose values are computed once per statement (sub-selects), so a bitmap scan of the arms checks no row against them again. The last condition is always true at its first arm and only informs the planner: how large a share of their organizations'' clients the caller reads (private.planner_hint_bound, evaluated while planning, never when rows are read), and what checking a row costs (private.clients_read_row_cost, never called), so that a caller who only works assigned clients in an organization reads them by index instead of walking the organization''s clients. The third arm lets a creator read back, in the transaction that created it, the client it just inserted (insert ... returning, supabase-js insert().select()): the creator''s assignment is written by an AFTER trigger, too late for RETURNING. created_by and created_at are not writable through the API, so the arm matches nothing outside that transaction, and only while the creator may still create clients there.';

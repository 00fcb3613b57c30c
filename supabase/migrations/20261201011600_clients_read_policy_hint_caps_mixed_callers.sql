-- The clients read policy's planner hint estimates a caller who reads clients
-- in some organizations and works assigned ones in others at no more than
-- the share of the table they read.
--
-- The hint (20261201011500) scales the rule's estimate by the share of their
-- organizations' rows such a caller reads. The rule's readers' arm names an
-- array the planner cannot see, which it prices as ten organizations of
-- average size: two thirds of a 10-organization table, a tenth of a
-- 100-organization one. A member of one 861-client organization who owns
-- another of the same size was estimated at half of that, 283 of the 861
-- rows of the organization they only work 14 clients of, and their first
-- page there walked the organization by name (0.44 ms of execution) where
-- the same query with the rule's arrays written out, estimated at the 9 %
-- of the table they read, reads their assignments and sorts them
-- (0.12 ms). The estimate is now the lesser of the two: that share of the
-- rule's estimate, and the share of the table the caller reads (the
-- planner's own estimate of their reading organizations, from the
-- statistics of organization_id). Callers whose organizations hold most of
-- a table keep the estimate they had; where the rule's estimate exceeds the
-- share of the table they read, they get the plan of the rule written out.
--
-- Callers who read everywhere or nowhere are unchanged, as is what may be
-- read: only the planner calls this function, in a condition the executor
-- never evaluates.

set lock_timeout = '10s';
set statement_timeout = '15min';

create or replace function private.planner_hint_bound(scoped regclass, permission text)
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
  rule_estimate float8;
  unknown_org float8;
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
  -- What the planner makes of the rule's readers' arm, `organization_id = any
  -- (<an array it cannot see>)`: ten values, each an organization of unknown
  -- size (the column's non-null share over its distinct values, never more
  -- than the most common value's), combined as independent. The caller's
  -- rows are estimated at that times the share; no more than the share of
  -- the table they read, as the planner estimates the rule with its arrays
  -- written out.
  unknown_org := least((1 - null_frac) / greatest(distinct_n, 1), coalesce(common_freqs[1], 1));
  rule_estimate := 1 - power(1 - unknown_org, 10);
  -- The bin of the id histogram at that share (0-based k: between bounds k and
  -- k + 1) and a value inside it, the midpoint of its bounds (with random ids,
  -- no row's id), as unsigned 128-bit numbers from two 64-bit halves.
  n_bounds := (length(bounds) - 20) / 20;
  k := floor(read_weight / greatest(all_weight, rule_estimate) * (n_bounds - 1))::int;
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
  'Extension API (policies), for the planner only: how large a share of the rows of the caller''s organizations in the table they hold the permission for, as the bound of `id <= all (...)`: {NULL} (no row) when they hold it nowhere, {} (every row) when they hold it in every organization they belong to, otherwise one uuid below which lies about that share of the table''s ids (the midpoint of the bin of the id histogram at that share: with random ids, no row''s id), the share weighed by the planner''s statistics of organization_id and never above the share of the table they read. Named in an arm of a read policy that is never evaluated, `and ((select null::boolean) is null or id <= all (private.planner_hint_bound(''public.<table>'', ''<table>.read'')))`: the planner evaluates it while estimating.';

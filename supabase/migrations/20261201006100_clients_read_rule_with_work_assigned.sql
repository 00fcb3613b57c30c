-- The clients read rule, once: organization-defined roles (20261201006000)
-- made assigned-only access the permission clients.work_assigned, and the
-- read policy's cheaper shape (20261201002020) was written against the older
-- rule. This migration gives the policy that shape with the new rule, and
-- search_clients, which restates the rule, the same rule: an assigned client
-- is readable where the caller holds clients.work_assigned.

set lock_timeout = '10s';
set statement_timeout = '15min';

-- alter, not drop and create: there is never a moment without the policy.
alter policy clients_select_readers_or_assigned on public.clients
  using (
    -- The rule, with the workable clients as a hashed set: one lookup per row.
    -- Wrapped in `(case when ... then true end) is not null` so that the
    -- planner, which cannot estimate a sub-select, takes it for nearly always
    -- true and keeps its estimates of the clause below.
    (case when
      organization_id = any ((select private.organization_ids_with('clients.read'))::uuid[])
      or id in (select pg_catalog.unnest((select private.workable_client_ids())::uuid[]))
      or (
        created_by = (select auth.uid()) and created_at = (select pg_catalog.now())
        and organization_id = any ((select private.organization_ids_with('clients.create'))::uuid[])
      )
     then true end) is not null
    -- The same rule as arrays compared with columns: every arm an index
    -- condition, so indexes find the rows and a bitmap scan drops the clause.
    and (
      organization_id = any ((select private.organization_ids_with('clients.read'))::uuid[])
      or id = any ((select private.workable_client_ids())::uuid[])
      or (
        created_by = (select auth.uid()) and created_at = (select pg_catalog.now())
        and organization_id = any ((select private.organization_ids_with('clients.create'))::uuid[])
      )
    )
  );
comment on policy clients_select_readers_or_assigned on public.clients is
  'Holders of clients.read (owner, admin, manager, viewer, or an organization''s role with it) see every client of the organization; holders of clients.work_assigned (member, or an organization''s role with it) the clients assigned to them. The rule is written twice: once with the workable clients as a hashed set (one lookup per row, wherever rows are checked), once as arrays compared with columns (every arm an index condition; created_at is compared with (select now()), computed once per statement), which indexes serve and a bitmap heap scan does not check again. The third arm lets a creator read back, in the transaction that created it, the client it just inserted (insert ... returning, supabase-js insert().select()): the creator''s assignment is written by an AFTER trigger, too late for RETURNING. created_by and created_at are not writable through the API, so the arm matches nothing outside that transaction, and only while the creator may still create clients there.';

-- The function sets pg_trgm.word_similarity_threshold. Until pg_trgm's library
-- is loaded in this session that name is only a placeholder, which a role that
-- is not a superuser (postgres, on hosted Supabase) may not set: call one of its
-- functions first, so the setting is pg_trgm's own (any user may set it).
select extensions.word_similarity('a', 'a');

create or replace function public.search_clients(organization_id uuid, query text, max_results integer default 20)
returns setof public.clients
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
-- Typo tolerance: a word of the name or email shares at least half of the
-- query's trigrams (pg_trgm's default, 0.6, misses one swapped letter in a
-- six-letter word). Set here, the caller's setting never changes what matches.
set pg_trgm.word_similarity_threshold = 0.5
rows 20
as $$
declare
  org constant uuid := search_clients.organization_id;
  uid uuid;
  term text;
  upper_bound text;
  pattern text;
  -- Prefix matches ranked per column: at most this many, the first by name (by email).
  prefix_cap constant integer := 500;
  reads_all boolean;
  may_create boolean;
  may_work boolean;
  prefix_ids uuid[] := '{}'::uuid[];
  other_ids uuid[] := '{}'::uuid[];
begin
  if org is null then
    raise exception 'organization_id is required' using errcode = '22004';
  end if;
  if query is null or pg_catalog.btrim(query) = '' then
    raise exception 'query must not be empty' using errcode = '22023';
  end if;
  if pg_catalog.char_length(query) > 200 then
    raise exception 'query is longer than 200 characters' using errcode = '22023';
  end if;
  if max_results is null or max_results < 1 or max_results > 100 then
    raise exception 'max_results must be between 1 and 100, got %', coalesce(max_results::text, 'null')
      using errcode = '22023';
  end if;
  uid := private.require_user();

  term := pg_catalog.lower(pg_catalog.btrim(query));
  upper_bound := term || U&'\+10FFFF';
  pattern := '%' || pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(term, '\', '\\'), '%', '\%'), '_', '\_') || '%';

  -- The read policy of public.clients, for this caller and this organization.
  reads_all := org = any (private.organization_ids_with('clients.read'));

  if not reads_all then
    may_create := org = any (private.organization_ids_with('clients.create'));
    may_work := org = any (private.organization_ids_with('clients.work_assigned'));
    -- Assigned clients where the caller holds clients.work_assigned (id = any (workable_client_ids())), and the creator arm.
    return query
    select c.*
    from public.clients c
    where c.organization_id = org
      and c.id in (
        select uc.client_id from public.user_clients uc
        where may_work and uc.organization_id = org and uc.user_id = uid
        union all
        select mine.id from public.clients mine
        where may_create and mine.created_by = uid and mine.created_at = pg_catalog.now() and mine.organization_id = org
      )
      and (
        pg_catalog.starts_with(c.name_lower, term)
        or pg_catalog.starts_with(pg_catalog.lower(c.email), term)
        or (pg_catalog.char_length(term) >= 3 and (
          pg_catalog.strpos(c.name_lower, term) > 0
          or pg_catalog.strpos(pg_catalog.lower(c.email), term) > 0
          or term operator(extensions.<%) c.name_lower))
      )
    order by
      (pg_catalog.starts_with(c.name_lower, term) or pg_catalog.starts_with(pg_catalog.lower(c.email), term)) desc,
      greatest(
        extensions.word_similarity(term, c.name_lower),
        case when pg_catalog.strpos(pg_catalog.lower(c.email), term) > 0
             then extensions.word_similarity(term, pg_catalog.lower(c.email)) else 0 end) desc,
      c.name, c.id
    limit max_results;
    return;
  end if;

  -- Readers: prefix matches first, through the (organization_id, name_lower)
  -- and (organization_id, lower(email)) ranges.
  select coalesce(pg_catalog.array_agg(p.id), '{}') into prefix_ids
  from (
    (select c.id from public.clients c
     where c.organization_id = org and c.name_lower >= term and c.name_lower < upper_bound
       and pg_catalog.starts_with(c.name_lower, term)
     order by c.name_lower
     limit prefix_cap)
    union
    (select c.id from public.clients c
     where c.organization_id = org
       and pg_catalog.lower(c.email) collate "C" >= term and pg_catalog.lower(c.email) collate "C" < upper_bound
       and pg_catalog.starts_with(pg_catalog.lower(c.email), term)
     order by pg_catalog.lower(c.email) collate "C"
     limit prefix_cap)
  ) p;

  -- Every prefix match ranks before any other match: other matches (contains,
  -- or similar words) are looked for only when the prefix matches leave room,
  -- and only for queries of three characters or more.
  if pg_catalog.cardinality(prefix_ids) < max_results and pg_catalog.char_length(term) >= 3 then
    select coalesce(pg_catalog.array_agg(o.id), '{}') into other_ids
    from (
      select c.id
      from public.clients c
      where c.organization_id = org
        and (c.name_lower like pattern
             or pg_catalog.lower(c.email) like pattern
             or term operator(extensions.<%) c.name_lower)
        and c.id <> all (prefix_ids)
      order by greatest(
        extensions.word_similarity(term, c.name_lower),
        case when pg_catalog.strpos(pg_catalog.lower(c.email), term) > 0
             then extensions.word_similarity(term, pg_catalog.lower(c.email)) else 0 end) desc,
               c.name, c.id
      limit max_results - pg_catalog.cardinality(prefix_ids)
    ) o;
  end if;

  return query
  select c.*
  from public.clients c
  where c.id = any (prefix_ids || other_ids) and c.organization_id = org
  order by
    (c.id = any (prefix_ids)) desc,
    greatest(
        extensions.word_similarity(term, c.name_lower),
        case when pg_catalog.strpos(pg_catalog.lower(c.email), term) > 0
             then extensions.word_similarity(term, pg_catalog.lower(c.email)) else 0 end) desc,
    c.name, c.id
  limit max_results;
end;
$$;

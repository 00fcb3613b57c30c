-- public.list_clients: a page of an organization's clients, ordered by name,
-- that indexes serve whoever calls it.
--
-- Through the table (supabase-js .from('clients').eq('organization_id', ...)
-- .order('name').limit(50)) one plan serves every caller: the planner cannot
-- see what the read policy's helpers return, so it plans a holder of
-- clients.work_assigned without clients.read (member, or an organization's
-- role with it) as it plans an admin. In a large organization both walk the
-- organization's name index; the admin stops after a page, the member reads
-- on until a page of their assigned clients has passed (8,000 of 30,000
-- rows for 177 assigned ones: 10 ms against 1.5 ms). This function decides
-- per caller: a reader walks the name index, anyone else starts from their
-- assignments.
--
-- It runs as its owner (no RLS) and restates the clients read policy, as
-- search_clients does: the organization's clients for holders of
-- clients.read; else the clients assigned to the caller where they hold
-- clients.work_assigned, and the clients they created in the current
-- transaction where they hold clients.create.

set lock_timeout = '10s';
set statement_timeout = '15min';

create function public.list_clients(
  organization_id uuid,
  after_name text default null,
  after_id uuid default null,
  max_results integer default 50,
  status public.client_status default null
)
returns setof public.clients
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
-- A planner hint for this function's queries: a readers' page is the walk of
-- the organization's name index, never a read and sort of the whole
-- organization, even under a cached plan that prices the largest
-- organization like an average one. The assigned callers' page has no index
-- in name order to walk and is sorted all the same.
set enable_sort = off
rows 50
as $$
declare
  org constant uuid := list_clients.organization_id;
  uid uuid;
  held text[];
  ids uuid[] := '{}'::uuid[];
begin
  if org is null then
    raise exception 'organization_id is required' using errcode = '22004';
  end if;
  if (after_name is null) <> (after_id is null) then
    raise exception 'after_name and after_id go together: give both (the last row of the previous page) or neither'
      using errcode = '22023';
  end if;
  if max_results is null or max_results < 1 or max_results > 1000 then
    raise exception 'max_results must be between 1 and 1000, got %', coalesce(max_results::text, 'null')
      using errcode = '22023';
  end if;
  uid := private.require_user();
  -- The read policy of public.clients, for this caller and this organization.
  held := private.permissions_of(org, uid);

  -- The queries below start after the cursor, or, without one, after ('', the
  -- nil uuid), which every row follows (a name is never empty): one query,
  -- its cursor an index condition either way.
  if 'clients.read' = any (held) then
    -- Readers walk (organization_id, name, id) from the cursor and stop after a page.
    return query
    select c.*
    from public.clients c
    where c.organization_id = org
      and (c.name, c.id) > (coalesce(after_name, ''), coalesce(after_id, '00000000-0000-0000-0000-000000000000'))
      and (list_clients.status is null or c.status = list_clients.status)
    order by c.name, c.id
    limit max_results;
    return;
  end if;

  -- Otherwise: the clients assigned to the caller where they hold
  -- clients.work_assigned, and those they created in this transaction where
  -- they hold clients.create. Their ids come first (from the assignments
  -- index alone), then the rows by primary key, sorted: a page costs what
  -- the caller's assignments in this organization cost, not what the
  -- organization holds.
  if 'clients.work_assigned' = any (held) then
    select coalesce(pg_catalog.array_agg(uc.client_id), '{}') into ids
    from public.user_clients uc
    where uc.organization_id = org and uc.user_id = uid;
  end if;
  if 'clients.create' = any (held) then
    ids := ids || array(
      select mine.id from public.clients mine
      where mine.created_by = uid and mine.created_at = pg_catalog.now() and mine.organization_id = org);
  end if;
  if pg_catalog.cardinality(ids) = 0 then
    return;
  end if;
  -- One plan serves every caller here (the ids lead it, through the primary
  -- key, then a sort): the plan cached for the session. Every id is of this
  -- organization by construction (an assignment's foreign key names its
  -- client's organization; the creator arm reads this organization's rows):
  -- no condition on organization_id, which would offer the planner the
  -- organization's name index to walk.
  return query
  select c.*
  from public.clients c
  where c.id = any (ids)
    and (c.name, c.id) > (coalesce(after_name, ''), coalesce(after_id, '00000000-0000-0000-0000-000000000000'))
    and (list_clients.status is null or c.status = list_clients.status)
  order by c.name, c.id
  limit max_results;
end;
$$;
comment on function public.list_clients(uuid, text, uuid, integer, public.client_status) is
  'A page of the organization''s clients the caller may read (exactly the rows the clients select policy shows them), ordered by name, then id. after_name/after_id: the last row of the previous page (keyset); max_results 1 to 1000 (50); status: only clients with it. Indexes serve it for every caller: readers walk the organization''s name index, holders of clients.work_assigned start from their assignments. Non-members get no rows.';

revoke all on function public.list_clients(uuid, text, uuid, integer, public.client_status) from public, anon, service_role;
grant execute on function public.list_clients(uuid, text, uuid, integer, public.client_status) to authenticated;

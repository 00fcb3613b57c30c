-- The policy helpers run on nearly every statement of the API, some twice
-- (a policy's index version and its exact version each call them), so their
-- fixed cost is the per-statement cost of row-level security. Measured in a
-- loop of calls (100,000 clients; the old and the new definitions on copies
-- of one database, alternately), per call:
--
--   helper                                        before       after
--   organization_ids_with('clients.read')         31-56 us     21-26 us
--   workable_client_ids(), no assignments         32-50 us     23 us
--   workable_client_ids(), 177 assignments        100 us       60 us
--   workable_client_ids(), 2,000 in 50 orgs       690-830 us   270-480 us
--   organization_ids()                            15-18 us     12-13 us
--   co_member_ids(), 40 / 2,237 co-members        29-31 / 800-830 us  24-26 / 470-480 us
--   permissions_of(organization, user)            23-43 us     14-27 us
--
-- Where the time went: the planner picked the plan for a large join of two
-- small tables: a sequential scan of role_permissions (every role's
-- permissions, the text compared on each) into a hash join or a materialized
-- nested loop, plus a sort for array_agg(distinct ...).
--
-- The helpers now:
-- - read the caller's id once (auth.uid() into a constant);
-- - build the array with array(select ...), no aggregate and no sort
--   (permissions_of keeps its distinct);
-- - carry planner settings as function properties (they apply inside the
--   function only): no sequential, bitmap, hash- or merge-join plans and no
--   materialization, so the plan is what the data always favours here, an
--   index walk of the caller's few role rows and a primary-key probe of
--   role_permissions per role (memoized); and plan_cache_mode =
--   force_generic_plan, so that plan is made once per session and kept,
--   whoever calls (with the caller's id as a parameter PL/pgSQL would
--   otherwise plan the first calls for their values, and keep doing so
--   whenever those plans look cheaper than the generic one).
--
-- Results are the same sets as before. organization_ids_with() and
-- workable_client_ids() may now repeat an id when the caller holds the
-- permission through two roles in one organization; every use compares with
-- = any or in, where a repeat changes nothing. Signatures, privileges,
-- volatility and security are unchanged.

set lock_timeout = '10s';
set statement_timeout = '15min';

create or replace function private.organization_ids_with(permission text)
returns uuid[]
language plpgsql
stable
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
begin
  return array(
    select ur.organization_id
    from public.user_roles ur
    join public.role_permissions rp
      on rp.role_id = ur.role_id and rp.permission = organization_ids_with.permission
    where ur.user_id = caller
  );
end;
$$;
comment on function private.organization_ids_with(text) is
  'Extension API (policies): ids of the organizations where the signed-in user holds the permission through any of their roles (an id repeats if two of their roles there grant it). Use as organization_id = any ((select private.organization_ids_with(''<table>.<action>''))::uuid[]): evaluated once per statement, an index condition on organization_id.';

create or replace function private.workable_client_ids()
returns uuid[]
language plpgsql
stable
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
begin
  -- For each of the caller's roles that grants clients.work_assigned, their
  -- assignments in that role's organization, from the assignments index
  -- (organization_id, user_id, client_id) alone.
  return array(
    select uc.client_id
    from public.user_roles ur
    join public.role_permissions rp
      on rp.role_id = ur.role_id and rp.permission = 'clients.work_assigned'
    join public.user_clients uc
      on uc.organization_id = ur.organization_id and uc.user_id = caller
    where ur.user_id = caller
  );
end;
$$;
comment on function private.workable_client_ids() is
  'Ids of the clients assigned to the signed-in user in the organizations where they hold clients.work_assigned (an id repeats if two of their roles there grant it). For policies: id = any ((select private.workable_client_ids())::uuid[]).';

create or replace function private.organization_ids()
returns uuid[]
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
set plan_cache_mode = force_generic_plan
as $$
declare
  caller constant uuid := auth.uid();
begin
  return array(
    select ou.organization_id
    from public.organization_users ou
    where ou.user_id = caller
  );
end;
$$;

create or replace function private.co_member_ids()
returns uuid[]
language plpgsql
stable
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
begin
  return array(
    select theirs.user_id
    from public.organization_users mine
    join public.organization_users theirs on theirs.organization_id = mine.organization_id
    where mine.user_id = caller
  );
end;
$$;

create or replace function private.permissions_of(organization_id uuid, user_id uuid)
returns text[]
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
set enable_seqscan = off
set enable_bitmapscan = off
set enable_hashjoin = off
set enable_mergejoin = off
set enable_material = off
set plan_cache_mode = force_generic_plan
as $$
begin
  return array(
    select distinct rp.permission
    from public.user_roles ur
    join public.role_permissions rp on rp.role_id = ur.role_id
    where ur.organization_id = permissions_of.organization_id
      and ur.user_id = permissions_of.user_id
  );
end;
$$;
comment on function private.permissions_of(uuid, uuid) is
  'The permissions a user holds in an organization: the union over their roles there (one query, one index plan kept for the session).';

-- The clients read policy tells the planner when its caller reads no
-- organization's clients.
--
-- The policy's arrays come from sub-selects (computed once per statement),
-- whose values the planner cannot see: it prices the policy as about a tenth
-- of an organization's rows whoever calls. For a reader of the organization
-- that is a low guess and harmless. For a caller who holds clients.work_assigned
-- and no clients.read anywhere (the built-in member, an organization's role
-- like a field agent) it is far too high: in a large organization the planner
-- walks the organization's name index for a first page and checks each row
-- against the assigned clients, about 8,000 rows checked for 50 found in a
-- 30,000-client organization (20 to 35 ms), where reading the caller's 200
-- assigned clients through (organization_id, id) and sorting them takes
-- 1 to 2 ms.
--
-- The new last condition is always true and never evaluated past its first
-- arm: `(select null::boolean) is null` is true once per statement. The
-- planner, which estimates each arm of an OR, prices that first arm at 0.5 %
-- of the rows and evaluates the second while planning (a stable function is
-- evaluated to estimate): `id <> any (<one id>)` is nearly every row, and
-- `id <> any (<no id>)` none. private.planner_hint_holds('clients.read')
-- answers one id (the nil uuid) when the caller holds clients.read in some
-- organization, none otherwise. So a caller who reads clients somewhere keeps
-- exactly the estimate they had, and a caller who reads them nowhere gets
-- 0.5 % of it: the plan reads their assigned clients by index and sorts them,
-- where it used to walk. Callers who read in one organization and only work assigned clients in
-- another keep the readers' estimate everywhere: an estimate that depended on
-- the organization queried would multiply with the query's own
-- `organization_id = ...` (the planner treats the two as independent) and
-- lower the readers' estimate in large organizations until they lost their
-- walk, which costs them far more than the walk costs the member.
--
-- The condition also takes over the role of the policy's former last line
-- (20261201009600): private.clients_read_row_cost(id), never called, still
-- tells the planner what checking a row costs, from inside the arm that is
-- never evaluated, so each row pays one constant test instead of two. The
-- hint is declared cost 1: it changes the planner's estimate of how many rows
-- pass, not its price of checking one. `... is not null` keeps that arm's
-- estimate at nearly every row (a boolean function alone would be priced at a
-- third).
--
-- What may be read is unchanged: the rule is the same three arms, and the new
-- condition is true for every row. The hint decides nothing but a plan.
-- Tables made by `entity:new` with assignments carry the same condition with
-- their own read permission.

set lock_timeout = '10s';
set statement_timeout = '15min';

create function private.planner_hint_holds(permission text)
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
begin
  if exists (
    select
    from public.user_roles ur
    join public.role_permissions rp on rp.role_id = ur.role_id and rp.permission = planner_hint_holds.permission
    where ur.user_id = caller
  ) then
    return '{00000000-0000-0000-0000-000000000000}'::uuid[];
  end if;
  return '{}'::uuid[];
end;
$$;
comment on function private.planner_hint_holds(text) is
  'Extension API (policies), for the planner only: one id, the nil uuid, when the signed-in user holds the permission in some organization; none otherwise. Named in an arm of a read policy that is never evaluated, `and ((select null::boolean) is null or id <> any (private.planner_hint_holds(''<table>.read'')))`: the planner evaluates it while estimating, so a caller who reads the table nowhere (who only works rows assigned to them) is estimated at 0.5 % of the rows and reads them by index.';
revoke all on function private.planner_hint_holds(text) from public, anon, service_role;
-- The planner runs it as the caller when it plans a statement on a table whose policy names it.
grant execute on function private.planner_hint_holds(text) to authenticated;

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
    -- whether the caller reads clients anywhere, and what checking a row costs.
    and (
      (select null::boolean) is null
      or (id <> any (private.planner_hint_holds('clients.read')) and private.clients_read_row_cost(id) is not null)
    )
  );
comment on policy clients_select_readers_or_assigned on public.clients is
  'Holders of clients.read (owner, admin, manager, viewer, or an organization''s role with it) see every client of the organization; holders of clients.work_assigned (member, or an organization''s role with it) the clients assigned to them. Every arm is an index condition whose values are computed once per statement (sub-selects), so a bitmap scan of the arms checks no row against them again. The last condition is always true at its first arm and only informs the planner: whether the caller reads clients in any organization (private.planner_hint_holds(''clients.read''), evaluated while planning, never when rows are read), and what checking a row costs (private.clients_read_row_cost, never called), so that a caller who only works assigned clients reads them by index instead of walking an organization''s clients. The third arm lets a creator read back, in the transaction that created it, the client it just inserted (insert ... returning, supabase-js insert().select()): the creator''s assignment is written by an AFTER trigger, too late for RETURNING. created_by and created_at are not writable through the API, so the arm matches nothing outside that transaction, and only while the creator may still create clients there.';

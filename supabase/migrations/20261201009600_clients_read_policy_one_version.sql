-- The clients read policy written once, every arm an index condition.
--
-- Since 20261201002020 the policy has joined by AND two versions of the rule:
-- arrays compared with columns (for the indexes), and a copy with the
-- workable clients as a hashed set, wrapped in a CASE, meant to make the check
-- of each row one hash lookup. PostgreSQL evaluates the cheaper-looking
-- condition first, which is the array version: wherever rows are checked (an
-- organization's name index walked with a filter) the copy ran only for rows
-- the array version had already let through, and added its own helper calls
-- (the readers' organizations and the workable clients a second time, as
-- separate InitPlans). Where a bitmap of the arms finds the rows, the array
-- version is dropped from the filter (it is the bitmap's own condition), but
-- the copy is not, so every row read paid for it: about 0.1 ms per thousand
-- rows, the bulk of the count's cost over the explicit filter, and several
-- milliseconds for the consultant's 2,000 assigned clients.
--
-- Now the policy is the array version alone, exactly the rule: the creator
-- arm compares the organization with the organizations where the caller may
-- create clients again (20261201009100 had left that to the copy), and its
-- index (created_by, created_at, organization_id) serves all three
-- conditions. Every arm is an index condition and every call sits in a
-- sub-select (computed once per statement), so a bitmap of the arms leaves no
-- filter, and a walk with a filter checks each row once.

set lock_timeout = '10s';
set statement_timeout = '15min';

-- What checking a row costs, for the planner only. The arrays' values come
-- from sub-selects, which the planner cannot see: it prices
-- `organization_id = any (<array>)` as ten organizations, which in a table of
-- few organizations is most of the table, and it prices the check of a row
-- against an array as ten comparisons. The copy of the rule used to add a
-- hashed sub-plan to that price; without it, at 10,000 clients the planner
-- took a sequential scan with the policy as its filter for the counts (every
-- row compared with every assigned client: 40 ms for the consultant instead
-- of 2 ms). This function is never called (the policy's branch that names it
-- is never taken: `(select false)`); its declared cost tells the planner what
-- a row's check really costs, so plans that look at fewer rows (bitmaps of the
-- arms, walks that stop early) win over plans that check every row.
create function private.clients_read_row_cost(client_id uuid)
returns boolean
language plpgsql
immutable
cost 100
set search_path = pg_catalog, pg_temp
as $$
begin
  -- True for every client (an id is never null).
  return client_id is not null;
end;
$$;
comment on function private.clients_read_row_cost(uuid) is
  'Never called: named in a branch of the clients read policy that is never taken, so that the planner prices the check of each row at its real cost (true for every client).';
revoke all on function private.clients_read_row_cost(uuid) from public, anon, service_role;
-- Execute is checked when the policy's expression is prepared, even for a branch never taken.
grant execute on function private.clients_read_row_cost(uuid) to authenticated;

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
    -- Always true, at one test of a precomputed value per row: the planner's price of a row.
    and (case when (select false) then private.clients_read_row_cost(id) else true end) is not null
  );
comment on policy clients_select_readers_or_assigned on public.clients is
  'Holders of clients.read (owner, admin, manager, viewer, or an organization''s role with it) see every client of the organization; holders of clients.work_assigned (member, or an organization''s role with it) the clients assigned to them. Every arm is an index condition whose values are computed once per statement (sub-selects), so a bitmap scan of the arms checks no row against them again; the last condition is always true and only tells the planner what checking a row costs (private.clients_read_row_cost, never called). The third arm lets a creator read back, in the transaction that created it, the client it just inserted (insert ... returning, supabase-js insert().select()): the creator''s assignment is written by an AFTER trigger, too late for RETURNING. created_by and created_at are not writable through the API, so the arm matches nothing outside that transaction, and only while the creator may still create clients there.';

-- private.workable_client_ids() (20261201006000) compared each of the user's
-- assignments with private.organization_ids_with('clients.work_assigned')
-- written inside its query: a filter, not an index condition, so the helper
-- ran once per assignment (a consultant with 400 assignments: 20 ms; with
-- 2,000: 100 ms, on every statement that reads clients). The organizations
-- are now computed once, into a variable, before the query.

set lock_timeout = '10s';
set statement_timeout = '15min';

create or replace function private.workable_client_ids()
returns uuid[]
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  organizations constant uuid[] := private.organization_ids_with('clients.work_assigned');
begin
  if pg_catalog.cardinality(organizations) = 0 then
    return '{}';
  end if;
  -- plpgsql keeps this query's plan for the session: policies call it on every statement.
  return (
    select coalesce(pg_catalog.array_agg(uc.client_id), '{}')
    from public.user_clients uc
    where uc.user_id = auth.uid()
      and uc.organization_id = any (organizations)
  );
end;
$$;
comment on function private.workable_client_ids() is
  'Ids of the clients assigned to the signed-in user in the organizations where they hold clients.work_assigned (computed once per call, before the query). For policies: id = any ((select private.workable_client_ids())::uuid[]).';

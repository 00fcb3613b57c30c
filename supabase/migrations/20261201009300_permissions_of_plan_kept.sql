-- private.permissions_of(organization_id, user_id) (20261201006000) was a SQL
-- function: as security definer with its own search_path it is never inlined,
-- and a SQL function that is not inlined is planned again on every statement
-- that calls it (about 0.1 to 0.3 ms; list_clients, the role RPCs and
-- accept_invitation call it). PL/pgSQL keeps the query's plan for the session.
-- Same signature, result and privileges.

set lock_timeout = '10s';
set statement_timeout = '15min';

create or replace function private.permissions_of(organization_id uuid, user_id uuid)
returns text[]
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
  -- plpgsql keeps this query's plan for the session.
  return (
    select coalesce(pg_catalog.array_agg(distinct rp.permission), '{}')
    from public.user_roles ur
    join public.role_permissions rp on rp.role_id = ur.role_id
    where ur.organization_id = permissions_of.organization_id
      and ur.user_id = permissions_of.user_id
  );
end;
$$;
comment on function private.permissions_of(uuid, uuid) is
  'The permissions a user holds in an organization: the union over their roles there (one query, its plan kept for the session).';

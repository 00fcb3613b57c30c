-- Hardening: no type or relation of the session's temporary schema can be
-- picked up by the project's functions, and the API roles lose TEMPORARY.
--
-- With `set search_path = ''`, PostgreSQL still searches the session's
-- temporary schema first for type and relation names (never for functions
-- or operators). A signed-in user with a SQL session could create
-- `pg_temp.uuid` (or `pg_temp.text`) as a domain whose CHECK calls a function
-- of theirs; every security definer function that declares or casts to that
-- type (and auth.uid() called from it) then ran that function as the
-- definer. Listing pg_temp explicitly and last puts pg_catalog's types
-- first: `set search_path = pg_catalog, pg_temp`, as PostgreSQL's own
-- guidance for security definer functions says. Every function of `public`
-- and `private` that the migrations' role owns (all of the project's; not an
-- extension's) gets it, definer or not: an invoker function or trigger
-- called from a definer function runs as the definer too. Functions added
-- later declare it themselves (the threat suite checks all of them).
--
-- TEMPORARY: PUBLIC holds it on a new database, so `anon`, `authenticated`,
-- `service_role` and `authenticator` could create temporary objects at all.
-- private.revoke_temporary_from_api_roles() takes it away; the migration
-- calls it, and so must whatever copies this database as a template
-- (CREATE DATABASE ... TEMPLATE does not copy database privileges).

-- Fail fast rather than queue behind live traffic (and block it) on a busy database.
set lock_timeout = '10s';
set statement_timeout = '15min';

do $$
declare
  fn regprocedure;
begin
  for fn in
    select p.oid::regprocedure
    from pg_catalog.pg_proc p
    join pg_catalog.pg_namespace n on n.oid = p.pronamespace
    where n.nspname in ('public', 'private')
      and p.prokind = 'f'
      and p.proowner = (select r.oid from pg_catalog.pg_roles r where r.rolname = current_user)
      and not exists (select 1 from pg_catalog.pg_depend d where d.objid = p.oid and d.deptype = 'e')
    order by 1::text
  loop
    execute pg_catalog.format('alter function %s set search_path = pg_catalog, pg_temp', fn);
  end loop;
end
$$;

create function private.revoke_temporary_from_api_roles()
returns void
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
declare
  service text;
begin
  -- PUBLIC holds TEMPORARY on every new database; the API roles hold it through PUBLIC.
  execute pg_catalog.format('revoke temporary on database %I from public', pg_catalog.current_database());
  execute pg_catalog.format('revoke temporary on database %I from anon, authenticated, service_role, authenticator',
    pg_catalog.current_database());
  -- Supabase's own services keep what PUBLIC gave them (those that exist here).
  for service in
    select r.rolname from pg_catalog.pg_roles r
    where r.rolname in (
      'supabase_auth_admin', 'supabase_storage_admin', 'supabase_realtime_admin', 'supabase_replication_admin',
      'supabase_functions_admin', 'supabase_read_only_user', 'supabase_etl_admin', 'dashboard_user', 'pgbouncer'
    )
  loop
    execute pg_catalog.format('grant temporary on database %I to %I', pg_catalog.current_database(), service);
  end loop;
end;
$$;
comment on function private.revoke_temporary_from_api_roles() is
  'Takes TEMPORARY on the current database away from PUBLIC and the API roles (anon, authenticated, service_role, authenticator); Supabase''s service roles keep it. Run by the owner of the database: by the migration, and after every CREATE DATABASE ... TEMPLATE copy of it (database privileges are not copied).';
revoke all on function private.revoke_temporary_from_api_roles() from public, anon, authenticated, service_role;

select private.revoke_temporary_from_api_roles();

-- The API refuses row counts estimated from the planner's statistics.
--
-- supabase-js `select(..., { count: 'planned' })` and `{ count: 'estimated' }`
-- (the `Prefer: count=planned|estimated` header) make PostgREST run EXPLAIN on
-- the request's query and return the planner's row estimate. Row-level
-- security filters rows, not statistics: the estimate for a condition on a
-- column compared with a leakproof operator (`=`, `<`, `<=` on uuid and text)
-- comes from the column's histogram and most common values, gathered over
-- every organization's rows. A signed-in user who belongs to no organization
-- could read from it how many clients another organization has, and, by
-- bisecting `id <= x`, `email <= x` or `name <= x`, recover the values in the
-- statistics sample: other tenants' client ids, emails and names.
--
-- api_guard.check_request() is a PostgREST pre-request function: PostgREST
-- calls it in each request's transaction, after setting the role and the
-- request's headers, before the query. It refuses both counts for roles under
-- row-level security (anon, authenticated); the service role, which reads
-- every row anyway, keeps them. count=exact counts the rows the caller may
-- read and stays allowed.
--
-- What it cannot see: PostgREST puts only the last of repeated Prefer headers
-- into request.headers, while it obeys the first count preference among all
-- of them, so a hand-made HTTP request that sends `Prefer: count=planned`
-- and then another Prefer header passes this check (supabase-js sends one).
-- Closing that takes the HTTP side (a proxy that merges or refuses repeated
-- Prefer headers); docs/security.md.
--
-- This migration names it as PostgREST's pre-request function
-- (`pgrst.db_pre_request` on role authenticator, PostgREST's in-database
-- configuration, then `notify pgrst, 'reload config'`) unless one is already
-- configured: a project with its own pre-request function calls
-- api_guard.check_request() from it (docs/security.md). Where the migration's
-- role may not set that (a non-superuser needs the right to set the
-- parameter pgrst.db_pre_request on authenticator) it says so in a notice,
-- with the statement to run, and changes nothing else.
--
-- The function lives in a schema of its own: anon must be able to call it
-- (every request runs it), and anon has no usage on schema private.

set lock_timeout = '10s';
set statement_timeout = '15min';

create schema if not exists api_guard;
comment on schema api_guard is
  'PostgREST''s pre-request check (api_guard.check_request), callable by the API roles. Not an exposed API schema.';
revoke all on schema api_guard from public;
grant usage on schema api_guard to anon, authenticated, service_role;

create function api_guard.check_request()
returns void
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $$
declare
  headers text := nullif(pg_catalog.current_setting('request.headers', true), '');
begin
  if headers is null then
    return;
  end if;
  -- Every entry named prefer (`->> 'prefer'` of a json object naming it
  -- twice would answer only the last one).
  if not exists (
    select from pg_catalog.json_each_text(headers::json) as h (name, value)
    where pg_catalog.lower(h.name) = 'prefer'
      and h.value ~* '(^|[\s,;])count\s*=\s*(planned|estimated)\M'
  ) then
    return;
  end if;
  if (select r.rolbypassrls from pg_catalog.pg_roles r where r.rolname = current_user) then
    return;
  end if;
  raise exception 'count=planned and count=estimated are not available: they are estimated from statistics over every organization''s rows'
    using errcode = 'PT400',
          hint = 'Ask for count=exact (supabase-js: { count: ''exact'' }), which counts the rows you may read.';
end;
$$;
comment on function api_guard.check_request() is
  'PostgREST pre-request function (pgrst.db_pre_request): refuses Prefer: count=planned and count=estimated (HTTP 400, SQLSTATE PT400) for roles under row-level security, whose planner estimates come from statistics over every organization''s rows and would disclose other tenants'' row counts and sampled values. count=exact stays allowed. A project with its own pre-request function calls this one from it.';
revoke all on function api_guard.check_request() from public;
grant execute on function api_guard.check_request() to anon, authenticated, service_role;

-- Name it as PostgREST's pre-request function, unless one is configured.
do $$
declare
  hook constant text := 'api_guard.check_request';
  configured text;
begin
  if not exists (select from pg_catalog.pg_roles where rolname = 'authenticator') then
    raise notice 'no role authenticator: name % as PostgREST''s db-pre-request yourself', hook;
    return;
  end if;
  select pg_catalog.substr(c.setting, pg_catalog.length('pgrst.db_pre_request=') + 1) into configured
  from pg_catalog.pg_db_role_setting d
  cross join lateral pg_catalog.unnest(d.setconfig) as c (setting)
  where d.setrole = (select oid from pg_catalog.pg_roles where rolname = 'authenticator')
    and d.setdatabase in (0, (select oid from pg_catalog.pg_database where datname = pg_catalog.current_database()))
    and c.setting like 'pgrst.db\_pre\_request=%'
  order by d.setdatabase desc
  limit 1;
  if configured = hook then
    return;
  end if;
  if configured is not null and configured <> '' then
    raise notice 'PostgREST already has a pre-request function (%): call %() from it to refuse estimated counts', configured, hook;
    return;
  end if;
  begin
    execute pg_catalog.format('alter role authenticator set pgrst.db_pre_request = %L', hook);
    perform pg_catalog.pg_notify('pgrst', 'reload config');
  exception when insufficient_privilege then
    raise notice 'could not name % as PostgREST''s pre-request function (%): run, as a role that may, alter role authenticator set pgrst.db_pre_request = ''%''; notify pgrst, ''reload config'';',
      hook, sqlerrm, hook;
  end;
end
$$;

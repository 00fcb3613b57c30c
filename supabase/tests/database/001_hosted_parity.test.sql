-- The database behaves as hosted Supabase does where migrations and
-- applications can tell (SPEC 10): who `postgres` is, what it may and may not
-- do, who owns the platform's objects, the API roles' settings, extensions.
-- Every expectation here holds on hosted Supabase too; runs as `postgres`
-- (the role migrations run as), under pg_prove and `supabase test db`.
--   H1  postgres is not a superuser; it has hosted's attributes and memberships.
--   H2  the API roles and authenticator carry hosted's inheritance and timeouts.
--   H3  auth belongs to supabase_admin, auth.users and the auth functions to
--       supabase_auth_admin; auth.users has RLS on and no policy; email is
--       unique among accounts that do not come from SSO.
--   H4  what hosted refuses to postgres is refused here, with the same SQLSTATE.
--   H5  what hosted allows postgres (and the migrations rely on) works here.
--   H6  no extension object lives in public (hosted creates extensions as
--       supabase_admin, whose default privileges hand public's new objects to anon).
--   H7  postgres administers the API roles, owns schema extensions, may grant
--       SELECT on auth.users; auth.users has Auth's defaults and token indexes.
begin;
create extension if not exists pgtap with schema extensions;
select plan(32);

set local role postgres;

-- H1 ---------------------------------------------------------------------------
select ok((select not rolsuper and rolcreatedb and rolcreaterole and rolcanlogin and rolreplication and rolbypassrls
             from pg_roles where rolname = 'postgres'),
  'H1.1 postgres is NOSUPERUSER CREATEDB CREATEROLE LOGIN REPLICATION BYPASSRLS');
select ok(pg_has_role('postgres', 'anon', 'member') and pg_has_role('postgres', 'authenticated', 'member')
      and pg_has_role('postgres', 'service_role', 'member'),
  'H1.2 postgres is a member of anon, authenticated and service_role');
select ok(pg_has_role('postgres', 'pg_read_all_data', 'member') and pg_has_role('postgres', 'pg_monitor', 'member')
      and pg_has_role('postgres', 'pg_signal_backend', 'member'),
  'H1.3 postgres is a member of pg_read_all_data, pg_monitor and pg_signal_backend');
select ok(not pg_has_role('postgres', 'supabase_auth_admin', 'member'),
  'H1.4 postgres is not a member of supabase_auth_admin');
select ok((select rolsuper from pg_roles where rolname = 'supabase_admin'), 'H1.5 supabase_admin is the superuser');

-- H2 ---------------------------------------------------------------------------
select ok((select rolcanlogin and not rolinherit from pg_roles where rolname = 'authenticator'),
  'H2.1 authenticator logs in and does not inherit');
select ok((select bool_and(rolinherit and not rolcanlogin) from pg_roles where rolname in ('anon', 'authenticated', 'service_role')),
  'H2.2 anon, authenticated and service_role are NOLOGIN INHERIT');
create function pg_temp.role_setting(role_name text, setting text) returns text language sql stable as $$
  select split_part(c, '=', 2)
    from pg_db_role_setting s join pg_roles r on r.oid = s.setrole, unnest(s.setconfig) c
   where r.rolname = role_name and s.setdatabase = 0 and split_part(c, '=', 1) = setting
$$;
select is(pg_temp.role_setting('authenticator', 'statement_timeout'), '8s', 'H2.3 authenticator: statement_timeout 8s');
select is(pg_temp.role_setting('authenticator', 'lock_timeout'), '8s', 'H2.4 authenticator: lock_timeout 8s');
select is(pg_temp.role_setting('anon', 'statement_timeout'), '3s', 'H2.5 anon: statement_timeout 3s');
select is(pg_temp.role_setting('authenticated', 'statement_timeout'), '8s', 'H2.6 authenticated: statement_timeout 8s');

-- H3 ---------------------------------------------------------------------------
select is((select pg_get_userbyid(nspowner)::text from pg_namespace where nspname = 'auth'), 'supabase_admin',
  'H3.1 schema auth belongs to supabase_admin');
select is((select pg_get_userbyid(relowner)::text from pg_class where oid = 'auth.users'::regclass), 'supabase_auth_admin',
  'H3.2 auth.users belongs to supabase_auth_admin');
select is((select pg_get_userbyid(proowner)::text from pg_proc where oid = 'auth.uid()'::regprocedure), 'supabase_auth_admin',
  'H3.3 auth.uid() belongs to supabase_auth_admin');
select ok((select relrowsecurity from pg_class where oid = 'auth.users'::regclass), 'H3.4 auth.users has row level security on');
select is_empty($$ select policyname from pg_policies where schemaname = 'auth' and tablename = 'users' $$,
  'H3.5 auth.users has no policy');
select ok(exists (select 1 from pg_index i where i.indrelid = 'auth.users'::regclass and i.indisunique
                   and pg_get_indexdef(i.indexrelid) ~ '\(email\) WHERE \(is_sso_user = false\)'),
  'H3.6 email is unique among accounts that do not come from SSO');

-- H4 ---------------------------------------------------------------------------
select throws_ok($$ alter table auth.users disable trigger on_auth_user_created $$, '42501', null,
  'H4.1 postgres cannot disable a trigger on auth.users (must be owner)');
select throws_ok($$ comment on trigger on_auth_user_created on auth.users is 'x' $$, '42501', null,
  'H4.2 postgres cannot comment on a trigger of auth.users (must be owner)');
select throws_ok($$ create function auth.parity_probe() returns int language sql as 'select 1' $$, '42501', null,
  'H4.3 postgres cannot create a function in auth (no CREATE on the schema)');
select throws_ok($$ alter default privileges for role supabase_admin in schema public grant select on tables to anon $$, '42501', null,
  'H4.4 postgres cannot change supabase_admin''s default privileges (not a member)');

-- H5 ---------------------------------------------------------------------------
create function pg_temp.parity_trigger() returns trigger language plpgsql as $$ begin return new; end $$;
select lives_ok($$ create trigger parity_probe after insert on auth.users for each row execute function pg_temp.parity_trigger() $$,
  'H5.1 postgres creates a trigger on auth.users (TRIGGER privilege)');
select lives_ok($$ create schema parity_probe $$, 'H5.2 postgres creates a schema');
select lives_ok($$ create function parity_probe.definer() returns uuid language sql security definer
                   set search_path = pg_catalog, pg_temp as 'select auth.uid()' $$,
  'H5.3 postgres creates a security definer function it owns');
select is((select pg_get_userbyid(proowner)::text from pg_proc where oid = 'parity_probe.definer()'::regprocedure), 'postgres',
  'H5.4 that function belongs to postgres');

-- H6 ---------------------------------------------------------------------------
select is_empty($$
  select pg_describe_object(d.classid, d.objid, d.objsubid)
    from pg_depend d
   where d.deptype = 'e'
     and (   (d.classid = 'pg_class'::regclass and (select relnamespace from pg_class where oid = d.objid) = 'public'::regnamespace)
          or (d.classid = 'pg_proc'::regclass and (select pronamespace from pg_proc where oid = d.objid) = 'public'::regnamespace)
          or (d.classid = 'pg_type'::regclass and (select typnamespace from pg_type where oid = d.objid) = 'public'::regnamespace)
          or (d.classid = 'pg_operator'::regclass and (select oprnamespace from pg_operator where oid = d.objid) = 'public'::regnamespace))
$$, 'H6.1 no extension has a table, function, type or operator in public');

-- H7 ---------------------------------------------------------------------------
select lives_ok($$ alter role authenticated set statement_timeout = '15s' $$,
  'H7.1 postgres changes an API role''s own settings (admin of the API roles; CREATEROLE before PostgreSQL 16)');
select lives_ok($$ create role parity_probe_role nologin; grant authenticated to parity_probe_role $$,
  'H7.2 postgres grants an API role to a role of its own');
select is((select pg_get_userbyid(nspowner)::text from pg_namespace where nspname = 'extensions'), 'postgres',
  'H7.3 schema extensions belongs to postgres (so it grants and revokes there)');
select ok(has_table_privilege('postgres', 'auth.users', 'select with grant option'),
  'H7.4 postgres may grant SELECT on auth.users (columns of it) to a role');
select is_empty($$ select column_name from information_schema.columns
                    where table_schema = 'auth' and table_name = 'users' and column_name in ('created_at', 'updated_at')
                      and column_default is not null $$,
  'H7.5 auth.users.created_at and updated_at have no default (Supabase Auth sets them)');
select is((select count(*)::int from pg_index i join pg_class c on c.oid = i.indexrelid
            where i.indrelid = 'auth.users'::regclass and i.indisunique
              and c.relname in ('confirmation_token_idx', 'recovery_token_idx', 'email_change_token_current_idx',
                                'email_change_token_new_idx', 'reauthentication_token_idx')), 5,
  'H7.6 the tokens of auth.users are unique where set');

select * from finish();
rollback;

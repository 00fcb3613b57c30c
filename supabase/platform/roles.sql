-- Supabase platform roles, for local engines only (never a migration).
--
-- Cluster-wide and idempotent. Run by the bootstrap superuser
-- `supabase_admin` (the local tooling initializes every cluster with it, as
-- hosted Supabase does) before any database is created.
--
-- Followed: supabase/postgres `migrations/db/init-scripts` (00000000000000
-- initial schema, 00000000000001 auth schema, 00000000000003 post-setup) and
-- `migrations/db/migrations` up to 20261010094800_postgres-role-safeupdate:
-- 10000000000000_demote-postgres, 20221028101028_set_authenticator_timeout,
-- 20230529180330_alter_api_roles_for_inherit,
-- 20231130133139_set_lock_timeout_to_authenticator_role,
-- 20240627101908 / 20250421084701 (postgres is no longer a member of the
-- platform admin roles), 20250605172253_grant_with_admin_to_postgres_16_and_above
-- (postgres holds the API roles WITH ADMIN OPTION, so it may grant them and
-- change their settings), 20260821154147_revoke_createrole_from_auth_admin;
-- nix/tests/expected/roles.out and auth.out for the roles' own settings.
--
-- Not reproduced (no such library here): supautils and pg-safeupdate in
-- `session_preload_libraries`; see docs/architecture.md, "Local = hosted".

do $$
begin
  if not exists (select from pg_roles where rolname = 'postgres') then
    create role postgres login;
  end if;
  if not exists (select from pg_roles where rolname = 'anon') then
    create role anon nologin;
  end if;
  if not exists (select from pg_roles where rolname = 'authenticated') then
    create role authenticated nologin;
  end if;
  if not exists (select from pg_roles where rolname = 'service_role') then
    create role service_role nologin;
  end if;
  if not exists (select from pg_roles where rolname = 'authenticator') then
    create role authenticator login;
  end if;
  if not exists (select from pg_roles where rolname = 'supabase_auth_admin') then
    create role supabase_auth_admin login;
  end if;
end
$$;

-- The role migrations, the seed and the project's tools run as: no superuser.
alter role postgres nosuperuser createdb createrole login replication bypassrls inherit;
alter role postgres set search_path = "$user", public, extensions;

-- The API roles PostgREST switches to: INHERIT since 2023.
alter role anon nologin inherit nobypassrls;
alter role authenticated nologin inherit nobypassrls;
alter role service_role nologin inherit bypassrls;
alter role anon set statement_timeout = '3s';
alter role authenticated set statement_timeout = '8s';

-- PostgREST's login role.
alter role authenticator login noinherit nobypassrls;
alter role authenticator set statement_timeout = '8s';
alter role authenticator set lock_timeout = '8s';

-- The role Supabase Auth runs as; owns auth.users.
alter role supabase_auth_admin login noinherit nocreaterole noreplication nobypassrls;
alter role supabase_auth_admin set search_path = auth;
alter role supabase_auth_admin set idle_in_transaction_session_timeout = 60000;
alter role supabase_auth_admin set log_statement = none;

-- The bootstrap superuser's own settings (00000000000003-post-setup).
alter role supabase_admin set search_path = "$user", public, auth, extensions;
alter role supabase_admin set log_statement = none;

-- Memberships. Granted once: a repeated grant only raises notices.
do $$
declare
  m record;
begin
  for m in
    select * from (values
      ('anon', 'authenticator'), ('authenticated', 'authenticator'), ('service_role', 'authenticator'),
      ('anon', 'postgres'), ('authenticated', 'postgres'), ('service_role', 'postgres'),
      ('pg_read_all_data', 'postgres'), ('pg_monitor', 'postgres'), ('pg_signal_backend', 'postgres')
    ) as g (granted, member)
  loop
    if not pg_has_role(m.member, m.granted, 'member') then
      execute format('grant %I to %I', m.granted, m.member);
    end if;
  end loop;
  -- The API roles belong to no other role, as on hosted: a membership given
  -- them by hand (grant pg_write_all_data to authenticated) is taken away.
  for m in
    select a.roleid::regrole::text as granted, a.member::regrole::text as member, a.grantor::regrole::text as grantor
      from pg_auth_members a
     where a.member in ('anon'::regrole, 'authenticated'::regrole, 'service_role'::regrole)
  loop
    execute format('revoke %s from %s granted by %s', m.granted, m.member, m.grantor);
  end loop;
  -- postgres administers the API roles (an existing membership gains the option).
  for m in
    select r.rolname as granted from pg_roles r
     where r.rolname in ('anon', 'authenticated', 'service_role')
       and not exists (select from pg_auth_members a
                        where a.roleid = r.oid and a.member = 'postgres'::regrole and a.admin_option)
  loop
    execute format('grant %I to postgres with admin option', m.granted);
  end loop;
end
$$;

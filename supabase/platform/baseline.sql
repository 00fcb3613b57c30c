-- Supabase platform baseline of one database, for local engines only (never a
-- migration).
--
-- A hosted Supabase database already has these schemas, tables, functions,
-- ownerships and default privileges before the first migration runs; the
-- project's migrations rely on them. The local tooling runs this file once,
-- as the bootstrap superuser `supabase_admin`, right after creating a
-- database (after supabase/platform/roles.sql), and records that it did in
-- `_local_platform.baseline`: it is never applied again, so nothing a
-- migration revoked comes back on a restart.
--
-- Followed: supabase/postgres init scripts and migrations (see roles.sql for
-- the revision) and supabase/auth's migrations for auth.users. Ownership as
-- on hosted: the database, `public` and `extensions` belong to `postgres`
-- (the init scripts run as postgres); `auth` to `supabase_admin`; auth.users
-- and the auth functions to `supabase_auth_admin`.

-- The database belongs to postgres (it creates schemas such as `private`).
do $$
begin
  execute format('alter database %I owner to postgres', current_database());
end
$$;

-- Schemas --------------------------------------------------------------------
create schema if not exists extensions authorization postgres;
create schema if not exists auth authorization supabase_admin;

grant usage on schema public to postgres, anon, authenticated, service_role;
grant usage on schema extensions to anon, authenticated, service_role;
-- postgres keeps USAGE on auth (hosted revoked its CREATE there in 2024).
grant usage on schema auth to postgres, anon, authenticated, service_role;
grant all on schema auth to supabase_auth_admin;

-- Extensions are created by supabase_admin (on hosted, supautils runs
-- `create extension` as supabase_admin for postgres).
create extension if not exists pgcrypto with schema extensions;
create extension if not exists "uuid-ossp" with schema extensions;
-- What supabase_admin creates in extensions is postgres's to use and grant
-- (20230224042246_grant_extensions_perms_for_postgres).
grant all on all tables in schema extensions to postgres with grant option;
grant all on all routines in schema extensions to postgres with grant option;
grant all on all sequences in schema extensions to postgres with grant option;
alter default privileges for role supabase_admin in schema extensions grant all on tables to postgres with grant option;
alter default privileges for role supabase_admin in schema extensions grant all on routines to postgres with grant option;
alter default privileges for role supabase_admin in schema extensions grant all on sequences to postgres with grant option;

-- Supabase's default privileges on public: everything to the API roles, for
-- objects postgres creates (migrations) and for objects supabase_admin
-- creates (extensions installed into public).
alter default privileges for role postgres in schema public grant all on tables to postgres, anon, authenticated, service_role;
alter default privileges for role postgres in schema public grant all on functions to postgres, anon, authenticated, service_role;
alter default privileges for role postgres in schema public grant all on sequences to postgres, anon, authenticated, service_role;
alter default privileges for role supabase_admin in schema public grant all on tables to postgres, anon, authenticated, service_role;
alter default privileges for role supabase_admin in schema public grant all on functions to postgres, anon, authenticated, service_role;
alter default privileges for role supabase_admin in schema public grant all on sequences to postgres, anon, authenticated, service_role;

-- auth.users: the columns applications use ------------------------------------
create table if not exists auth.users (
  instance_id uuid,
  id uuid primary key,
  aud varchar(255),
  role varchar(255),
  email varchar(255),
  encrypted_password varchar(255),
  email_confirmed_at timestamptz,
  invited_at timestamptz,
  confirmation_token varchar(255),
  confirmation_sent_at timestamptz,
  recovery_token varchar(255),
  recovery_sent_at timestamptz,
  email_change_token_new varchar(255),
  email_change varchar(255),
  email_change_sent_at timestamptz,
  last_sign_in_at timestamptz,
  raw_app_meta_data jsonb,
  raw_user_meta_data jsonb,
  is_super_admin boolean,
  created_at timestamptz,
  updated_at timestamptz,
  phone text unique default null,
  phone_confirmed_at timestamptz,
  phone_change text default '',
  phone_change_token varchar(255) default '',
  phone_change_sent_at timestamptz,
  confirmed_at timestamptz generated always as (least(email_confirmed_at, phone_confirmed_at)) stored,
  email_change_token_current varchar(255) default '',
  email_change_confirm_status smallint default 0 check (email_change_confirm_status >= 0 and email_change_confirm_status <= 2),
  banned_until timestamptz,
  reauthentication_token varchar(255) default '',
  reauthentication_sent_at timestamptz,
  is_sso_user boolean not null default false,
  deleted_at timestamptz,
  is_anonymous boolean not null default false
);
comment on table auth.users is 'Auth: Stores user login data within a secure schema.';
comment on column auth.users.is_sso_user is 'Auth: Set this column to true when the account comes from SSO. These accounts can have duplicate emails.';
create index if not exists users_instance_id_email_idx on auth.users (instance_id, lower(email));
create index if not exists users_instance_id_idx on auth.users (instance_id);
-- Email is unique among accounts that do not come from SSO.
create unique index if not exists users_email_partial_key on auth.users (email) where (is_sso_user = false);
-- Tokens are unique where set (20220429102000_add_unique_idx); anonymous users indexed (20240214120130).
create unique index if not exists confirmation_token_idx on auth.users (confirmation_token) where confirmation_token !~ '^[0-9 ]*$';
create unique index if not exists recovery_token_idx on auth.users (recovery_token) where recovery_token !~ '^[0-9 ]*$';
create unique index if not exists email_change_token_current_idx on auth.users (email_change_token_current) where email_change_token_current !~ '^[0-9 ]*$';
create unique index if not exists email_change_token_new_idx on auth.users (email_change_token_new) where email_change_token_new !~ '^[0-9 ]*$';
create unique index if not exists reauthentication_token_idx on auth.users (reauthentication_token) where reauthentication_token !~ '^[0-9 ]*$';
create index if not exists users_is_anonymous_idx on auth.users (is_anonymous);

alter table auth.users owner to supabase_auth_admin;
alter table auth.users enable row level security;
-- postgres holds every table privilege on auth.users (hence TRIGGER and
-- REFERENCES), SELECT with the grant option (supabase/auth
-- 20240612123726_enable_rls_update_grants), but does not own it.
grant all on table auth.users to postgres;
grant select on table auth.users to postgres with grant option;

-- auth helpers, as Supabase defines them --------------------------------------
create or replace function auth.uid() returns uuid
language sql stable
as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim.sub', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
  )::uuid
$$;
comment on function auth.uid() is 'Deprecated. Use auth.jwt() -> ''sub'' instead.';

create or replace function auth.role() returns text
language sql stable
as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim.role', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role')
  )::text
$$;
comment on function auth.role() is 'Deprecated. Use auth.jwt() -> ''role'' instead.';

create or replace function auth.email() returns text
language sql stable
as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim.email', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'email')
  )::text
$$;
comment on function auth.email() is 'Deprecated. Use auth.jwt() -> ''email'' instead.';

create or replace function auth.jwt() returns jsonb
language sql stable
as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim', true), ''),
    nullif(current_setting('request.jwt.claims', true), '')
  )::jsonb
$$;

alter function auth.uid() owner to supabase_auth_admin;
alter function auth.role() owner to supabase_auth_admin;
alter function auth.email() owner to supabase_auth_admin;
alter function auth.jwt() owner to supabase_auth_admin;
grant execute on function auth.uid(), auth.role(), auth.email(), auth.jwt() to postgres, anon, authenticated, service_role;

-- The marker: this database has its baseline ----------------------------------
create schema if not exists _local_platform authorization supabase_admin;
comment on schema _local_platform is
  'Local engines only: records that supabase/platform/baseline.sql was applied to this database (it is applied once).';
revoke all on schema _local_platform from public;
create table if not exists _local_platform.baseline (
  version int primary key,
  applied_at timestamptz not null default now()
);
comment on table _local_platform.baseline is 'The platform baseline version applied to this database, once, when it was created.';
insert into _local_platform.baseline (version) values (2) on conflict (version) do nothing;

-- Foundation: what every later domain needs.
--
-- * `private`: helpers (membership and permission checks, triggers) that
--   policies call. PostgREST exposes only `public`, so nothing here is
--   reachable as an RPC; `authenticated` gets usage so policies evaluated as
--   that role can call the helpers it is granted.
-- * Default privileges: Supabase grants `anon` and `authenticated` everything
--   on new objects in `public`. This project grants explicitly instead, so new
--   tables, sequences and functions start with no privilege for the API roles.
-- * `private.set_updated_at()`: the trigger function behind every
--   `updated_at` column.

-- Fail fast rather than queue behind live traffic (and block it) on a busy database.
set local lock_timeout = '10s';
set local statement_timeout = '15min';

create schema if not exists private;
comment on schema private is
  'Helpers for policies and triggers. Not exposed through the API; callable only where granted.';

revoke all on schema private from public;
grant usage on schema private to authenticated, service_role;

-- New objects in public and private start closed; each migration grants what it means to.
alter default privileges for role postgres in schema public revoke all on tables from anon, authenticated;
alter default privileges for role postgres in schema public revoke all on sequences from anon, authenticated;
alter default privileges for role postgres in schema public revoke all on functions from anon, authenticated;
alter default privileges for role postgres revoke execute on functions from public;

create function private.set_updated_at()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.updated_at := now();
  return new;
end;
$$;
comment on function private.set_updated_at() is
  'Trigger function: sets updated_at to the transaction time on every update. Attach as a BEFORE UPDATE row trigger.';

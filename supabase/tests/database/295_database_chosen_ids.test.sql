-- Threat cases for columns the API may not write on insert (SPEC §4):
--   * clients.id is chosen by the database: a chosen id would tell any tenant,
--     by a 23505, that a client with that id exists in another organization,
--     and would let a deleted client's id be reused;
--   * user_clients.created_at takes its default: an assignment cannot be
--     backdated;
--   * INSERT ... RETURNING (supabase-js insert().select()) still returns the
--     new row with the id the database chose.
-- Personas and ids: personas.psql (the suite's own fixtures).
begin;
create extension if not exists pgtap with schema extensions;
select plan(8);

\ir personas.psql

create temp table t_new (id uuid);
grant all on t_new to authenticated;

select column_privs_are('public', 'clients', 'id', 'authenticated', array['SELECT'],
  'T295.01 clients.id is not insertable by authenticated');
select column_privs_are('public', 'user_clients', 'created_at', 'authenticated', array['SELECT'],
  'T295.02 user_clients.created_at is not insertable by authenticated');

-- frank (owner of Globex) probes for an Acme client id
select pg_temp.as_user('frank');
select throws_ok($$insert into public.clients (id, organization_id, name) values (pg_temp.client(1, 1), pg_temp.org('globex'), 'Probe')$$,
  '42501', null,
  'T295.03 inserting a client with a chosen id (another tenant''s) is refused with 42501, not 23505');
select throws_ok($$insert into public.clients (id, organization_id, name) values ('f2000000-0000-4000-8000-00000000ffff', pg_temp.org('globex'), 'Probe')$$,
  '42501', null,
  'T295.04 inserting a client with a fresh chosen id is refused alike (42501): nothing tells the two apart');
with r as (insert into public.clients (organization_id, name) values (pg_temp.org('globex'), 'Chosen By Db') returning id)
insert into t_new select id from r;
select is((select count(*)::int from t_new where id is not null), 1,
  'T295.05 without an id the insert returns (RETURNING) the id the database chose');

-- carol (manager of Acme) assigns dave, trying to backdate it
select pg_temp.as_user('carol');
select throws_ok($$insert into public.user_clients (organization_id, user_id, client_id, created_at)
  values (pg_temp.org('acme'), pg_temp.uid('dave'), pg_temp.client(1, 20), '2000-01-01')$$,
  '42501', null,
  'T295.06 an assignment cannot be backdated (42501)');
select lives_ok($$insert into public.user_clients (organization_id, user_id, client_id)
  values (pg_temp.org('acme'), pg_temp.uid('dave'), pg_temp.client(1, 20)) on conflict do nothing$$,
  'T295.07 assigning without created_at works');
select pg_temp.as_postgres();
select ok((select created_at from public.user_clients where client_id = pg_temp.client(1, 20) and user_id = pg_temp.uid('dave')) > now() - interval '1 day',
  'T295.08 the assignment carries the database''s time');

select * from finish();
rollback;

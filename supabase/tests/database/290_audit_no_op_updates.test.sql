-- Threat cases for the audit log's no-op updates (SPEC §4 audit_log): an
-- update that changes nothing writes no audit row, so nobody allowed to
-- update can grow the log at will; a real change is still recorded, once.
-- Personas and ids: personas.psql (the suite's own fixtures).
begin;
create extension if not exists pgtap with schema extensions;
select plan(7);

\ir personas.psql

create temp table t_n (label text primary key, n int);
grant all on t_n to authenticated, service_role;

select pg_temp.as_postgres();
insert into t_n select 'before', count(*) from public.audit_log;

-- carol (manager of Acme) updates a client without changing it, five times
select pg_temp.as_user('carol');
update public.clients set name = name where id = pg_temp.client(1, 1);
update public.clients set name = name where id = pg_temp.client(1, 1);
update public.clients set name = name, notes = notes, status = status where id = pg_temp.client(1, 1);
update public.clients set status = status where organization_id = pg_temp.org('acme');
select pg_temp.as_user('alice');
update public.organizations set name = name where id = pg_temp.org('acme');
update public.users set full_name = full_name where id = pg_temp.uid('alice');
select pg_temp.as_service();
update public.user_roles set role_id = role_id where organization_id = pg_temp.org('acme');

select pg_temp.as_postgres();
select is((select count(*)::int from public.audit_log) - (select n from t_n where label = 'before'), 0,
  'T290.01 updates that change nothing (clients, organizations, profiles, roles) write no audit row');
select ok((select updated_at from public.clients where id = pg_temp.client(1, 1)) = now(),
  'T290.02 the no-op update still ran (updated_at moved): only its audit row is skipped');

select pg_temp.as_user('carol');
update public.clients set notes = 'changed once' where id = pg_temp.client(1, 1);
select pg_temp.as_postgres();
select is((select count(*)::int from public.audit_log) - (select n from t_n where label = 'before'), 1,
  'T290.03 a real change is recorded, once');
select is((select a.new ->> 'notes' from public.audit_log a where a.table_name = 'clients' and a.record_id = pg_temp.client(1, 1)
           order by a.created_at desc limit 1), 'changed once',
  'T290.04 with the new value');
select is((select a.actor_id from public.audit_log a where a.table_name = 'clients' and a.record_id = pg_temp.client(1, 1)
           order by a.created_at desc limit 1), pg_temp.uid('carol'),
  'T290.05 and its actor');

select pg_temp.as_user('carol');
update public.clients set notes = 'changed once' where id = pg_temp.client(1, 1);
update public.clients set notes = null where id = pg_temp.client(1, 2) and notes is null;
select pg_temp.as_postgres();
select is((select count(*)::int from public.audit_log) - (select n from t_n where label = 'before'), 1,
  'T290.06 setting a column to the value it holds writes nothing, also for null');

select pg_temp.as_user('carol');
update public.clients set notes = null where id = pg_temp.client(1, 1);
select pg_temp.as_postgres();
select is((select count(*)::int from public.audit_log) - (select n from t_n where label = 'before'), 2,
  'T290.07 a change to null is a change');

select * from finish();
rollback;

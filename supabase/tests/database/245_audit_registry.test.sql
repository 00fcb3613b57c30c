-- The audit log is table-driven (private.audited_tables). Rules proved:
--   R1  every audited table is registered and has its <table>_audit trigger,
--       and every registered table has it.
--   R2  a table registered with private.register_audited_table() is audited:
--       insert, update and delete rows carry its organization and record id
--       columns, secret columns never appear, an update that changes nothing
--       writes nothing, and TRUNCATE is revoked from the API roles.
--   R3  registering a column the table does not have is refused (42703).
--   R4  the audit trigger on a table that is not registered refuses the
--       write with a clear error instead of logging it wrongly.
--   R5  the API roles cannot register tables or read the registry.
begin;
create extension if not exists pgtap with schema extensions;
select plan(14);

-- R1 -----------------------------------------------------------------------------
select is_empty($$
  select t.tgrelid::regclass::text from pg_trigger t
   where t.tgfoid = 'private.record_audit()'::regprocedure and not t.tgisinternal
     and not exists (select 1 from private.audited_tables a where a.relid = t.tgrelid)
$$, 'T245.01 every table with the audit trigger is registered');
select is_empty($$
  select a.relid::text from private.audited_tables a
   where not exists (select 1 from pg_trigger t where t.tgrelid = a.relid and t.tgfoid = 'private.record_audit()'::regprocedure
                     and t.tgname = (select relname from pg_class where oid = a.relid) || '_audit')
$$, 'T245.02 every registered table has its <table>_audit trigger');

-- R2 -----------------------------------------------------------------------------
create table public.audit_probe (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null,
  title text,
  secret text
);
select lives_ok($$ select private.register_audited_table('public.audit_probe', secret_columns => '{secret}') $$,
  'T245.03 a new table registers with private.register_audited_table()');
insert into public.audit_probe (id, organization_id, title, secret)
values ('aaaaaaaa-0000-4000-8000-000000000001', 'bbbbbbbb-0000-4000-8000-000000000001', 'first', 'hunter2');
select results_eq($$
  select action, organization_id, record_id, new ->> 'title', new ? 'secret'
    from public.audit_log where table_name = 'audit_probe' order by created_at
$$, $$ values ('insert', 'bbbbbbbb-0000-4000-8000-000000000001'::uuid, 'aaaaaaaa-0000-4000-8000-000000000001'::uuid, 'first', false) $$,
  'T245.04 an insert is logged with the registered organization and record id columns, without the secret column');
update public.audit_probe set title = 'first' where id = 'aaaaaaaa-0000-4000-8000-000000000001';
select is((select count(*)::int from public.audit_log where table_name = 'audit_probe'), 1,
  'T245.05 an update that changes nothing writes no row');
update public.audit_probe set title = 'second', secret = 'hunter3' where id = 'aaaaaaaa-0000-4000-8000-000000000001';
delete from public.audit_probe where id = 'aaaaaaaa-0000-4000-8000-000000000001';
select results_eq($$
  select action, old ->> 'title', new ->> 'title', coalesce(old ? 'secret', false) or coalesce(new ? 'secret', false)
    from public.audit_log where table_name = 'audit_probe' and action <> 'insert' order by created_at
$$, $$ values ('update', 'first', 'second', false), ('delete', 'second', null, false) $$,
  'T245.06 an update and a delete are logged with old and new rows, never the secret column');
select ok(not has_table_privilege('service_role', 'public.audit_probe', 'truncate')
      and not has_table_privilege('authenticated', 'public.audit_probe', 'truncate'),
  'T245.07 TRUNCATE (which fires no row trigger) is revoked from the API roles on a registered table');
select lives_ok($$ select private.register_audited_table('public.audit_probe', secret_columns => '{secret}') $$,
  'T245.08 registering again is harmless');
select is((select count(*)::int from pg_trigger where tgrelid = 'public.audit_probe'::regclass and tgname = 'audit_probe_audit'), 1,
  'T245.09 registering again adds no second trigger');

-- R3 -----------------------------------------------------------------------------
create table public.audit_probe_no_org (id uuid primary key);
select throws_ok($$ select private.register_audited_table('public.audit_probe_no_org') $$, '42703',
  'table public.audit_probe_no_org has no column organization_id',
  'T245.10 registering a missing organization column is refused');
select lives_ok($$ select private.register_audited_table('public.audit_probe_no_org', organization_id_column => null) $$,
  'T245.11 a table whose rows belong to no organization registers with organization_id_column => null');

-- R4 -----------------------------------------------------------------------------
create table public.audit_probe_unregistered (id uuid primary key);
create trigger audit_probe_unregistered_audit after insert on public.audit_probe_unregistered
  for each row execute function private.record_audit();
select throws_ok($$ insert into public.audit_probe_unregistered values (gen_random_uuid()) $$, 'P0001',
  'table public.audit_probe_unregistered is not registered for audit',
  'T245.12 the audit trigger refuses writes to a table that is not registered');

-- R5 -----------------------------------------------------------------------------
select ok(not has_function_privilege('authenticated', 'private.register_audited_table(regclass, name, name, text[])', 'execute')
      and not has_function_privilege('service_role', 'private.register_audited_table(regclass, name, name, text[])', 'execute'),
  'T245.13 the API roles cannot register tables');
select ok(not has_table_privilege('authenticated', 'private.audited_tables', 'select')
      and not has_table_privilege('anon', 'private.audited_tables', 'select'),
  'T245.14 the API roles cannot read the registry');

select * from finish();
rollback;

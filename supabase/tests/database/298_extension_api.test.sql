-- Threat cases for the Extension API (migration 20261201008000), what a
-- migration of one's own calls to add an organization-scoped table.
-- Rules proved:
--   R1  permission keys are <table>.<action> in lowercase snake_case
--       (permissions_key_format), and nothing else.
--   R2  private.register_permission() adds a permission and grants it to the
--       built-in roles named, idempotently; it refuses a malformed key and an
--       unknown role; the API roles cannot call it.
--   R3  private.keep_organization() keeps organization_id fixed and created_by
--       set once, for everyone.
--   R4  the Extension API is marked as such (comment on function).

begin;
create extension if not exists pgtap with schema extensions;
select plan(21);

\ir personas.psql

-- R1 permission keys ----------------------------------------------------------------------
select is((select count(*)::int from pg_constraint where conrelid = 'public.permissions'::regclass and contype = 'c'), 1,
  'T298.01 permissions.key has exactly one check');
select is((select pg_get_constraintdef(oid) from pg_constraint where conrelid = 'public.permissions'::regclass and conname = 'permissions_key_format'),
  'CHECK ((key ~ ''^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$''::text))', 'T298.02 the check is permissions_key_format: snake_case table and action');
select lives_ok($$ insert into public.permissions (key, description) values ('snake_case_things.read_all', 'x') $$,
  'T298.03 a snake_case table and action make a permission key');
select throws_ok($$ insert into public.permissions (key, description) values ('Projects.read', 'x') $$, '23514', null,
  'T298.04 uppercase is refused');
select throws_ok($$ insert into public.permissions (key, description) values ('projects', 'x') $$, '23514', null,
  'T298.05 a key without an action is refused');
select throws_ok($$ insert into public.permissions (key, description) values ('a.b.c', 'x') $$, '23514', null,
  'T298.06 a key with two dots is refused');
select throws_ok($$ insert into public.permissions (key, description) values ('_x.read', 'x') $$, '23514', null,
  'T298.07 a key starting with _ is refused');

-- R2 register_permission ------------------------------------------------------------------
select lives_ok($$ select private.register_permission('widgets.read', 'Read widgets.', '{owner, viewer}') $$,
  'T298.08 register_permission adds a permission');
select is(array(select r.key from public.role_permissions rp join public.roles r on r.id = rp.role_id
                where rp.permission = 'widgets.read' order by r.rank desc), array['owner', 'viewer'],
  'T298.09 it is granted to exactly the roles named');
select lives_ok($$ select private.register_permission('widgets.read', 'Read every widget.', '{owner, viewer}') $$,
  'T298.10 registering again is harmless');
select is((select description from public.permissions where key = 'widgets.read'), 'Read every widget.',
  'T298.11 registering again updates the description');
select is((select count(*)::int from public.role_permissions where permission = 'widgets.read'), 2,
  'T298.12 registering again grants nothing twice');
select throws_ok($$ select private.register_permission('Widgets.read', 'x', '{owner}') $$, '22023', 'invalid permission key: Widgets.read',
  'T298.13 a malformed key is refused');
select throws_ok($$ select private.register_permission('widgets.create', 'x', '{owner, superhero}') $$, '22023', 'unknown role: superhero',
  'T298.14 an unknown role is refused, and nothing is registered');
select pg_temp.as_user('alice');
select throws_ok($$ select private.register_permission('widgets.delete', 'x', '{owner}') $$, '42501', null,
  'T298.15 the API roles cannot register permissions');
select pg_temp.as_postgres();

-- R3 keep_organization --------------------------------------------------------------------
create table public.extension_probe (
  id int primary key, organization_id uuid not null, created_by uuid, note text
);
create trigger extension_probe_keep_organization before update on public.extension_probe
  for each row execute function private.keep_organization();
insert into public.extension_probe values (1, pg_temp.org('acme'), pg_temp.uid('alice'), 'a');
select throws_ok($$ update public.extension_probe set organization_id = pg_temp.org('globex') where id = 1 $$, '42501',
  'organization_id cannot change', 'T298.16 organization_id never changes, not even for the owner of the table');
select throws_ok($$ update public.extension_probe set created_by = pg_temp.uid('bob') where id = 1 $$, '42501',
  'created_by cannot change', 'T298.17 created_by is set once');
select lives_ok($$ update public.extension_probe set created_by = null, note = 'b' where id = 1 $$,
  'T298.18 created_by may become null (its user deleted) and other columns change');

-- R4 the public API is marked ---------------------------------------------------------------
select is_empty($$
  select f from unnest(array[
    'private.organization_ids()', 'private.organization_ids_with(text)', 'private.has_permission(uuid,text)',
    'private.require_permission(uuid,text)', 'private.require_user()', 'private.set_updated_at()',
    'private.keep_organization()', 'private.register_permission(text,text,text[])',
    'private.register_audited_table(regclass,name,name,text[])', 'private.planner_hint_holds(text)',
    'private.planner_hint_bound(regclass,text)']) f
  where obj_description(f::regprocedure, 'pg_proc') not like 'Extension API%'
$$, 'T298.19 every Extension API function says so in its comment');
select is_empty($$
  select f from unnest(array['private.organization_ids_with_role(text)', 'private.co_member_ids()', 'private.record_audit()',
    'private.lock_organization(uuid)', 'private.max_rank(uuid,uuid)', 'private.assigned_client_ids()']) f
  where obj_description(f::regprocedure, 'pg_proc') like 'Extension API%'
$$, 'T298.20 internal helpers are not marked as Extension API');
select ok(not has_function_privilege('authenticated', 'private.register_permission(text,text,text[])', 'execute')
          and not has_function_privilege('anon', 'private.register_permission(text,text,text[])', 'execute')
          and not has_function_privilege('service_role', 'private.register_permission(text,text,text[])', 'execute'),
  'T298.21 the API roles hold no execute on register_permission');

select * from finish();
rollback;

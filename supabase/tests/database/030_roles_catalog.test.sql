-- Threat cases for the shared catalog: public.roles, public.permissions,
-- public.role_permissions. Rules proved:
--   R1  anon holds no privilege on the catalog.
--   R2  every signed-in user reads the whole catalog (it is public to them).
--   R3  nobody but the service changes the catalog: an owner who could edit
--       role_permissions would grant her organization's members anything.
--   R4  the built-in catalog is exactly SPEC section 4's permission matrix,
--       with the ranks owner > admin > manager > member > viewer (roles an
--       organization defines: 310_custom_roles.test.sql). Permissions a
--       project's own tables register are left out (pg_temp.built_in_permission).

begin;
create extension if not exists pgtap with schema extensions;
select plan(30);

-- Personas and organizations (personas.psql, the suite's own fixtures) and how to act as them. Each helper switches
-- role and claims with SET LOCAL, which lasts until the final rollback (or
-- the next helper call): the statements that follow run as that actor.
\ir personas.psql

-- R1 anon -------------------------------------------------------------------------------
select pg_temp.as_anon();
select throws_ok($$ select * from public.roles $$, '42501', 'permission denied for table roles',
  'T030.01 anon cannot read roles (no grant)');
select throws_ok($$ select * from public.permissions $$, '42501', 'permission denied for table permissions',
  'T030.02 anon cannot read permissions (no grant)');
select throws_ok($$ select * from public.role_permissions $$, '42501', 'permission denied for table role_permissions',
  'T030.03 anon cannot read role_permissions (no grant)');
select throws_ok($$ insert into public.role_permissions (role_id, permission) select id, 'audit.read' from public.roles $$,
  '42501', 'permission denied for table role_permissions', 'T030.04 anon cannot write role_permissions (no grant)');

-- R2 select ---------------------------------------------------------------------------------
select pg_temp.as_user('nora');
select is((select count(*)::int from public.roles), 5, 'T030.05 a signed-in non-member reads the 5 roles');
select is((select count(*)::int from public.permissions where pg_temp.built_in_permission(key)), 11, 'T030.06 a signed-in non-member reads the 11 permissions');
select is((select count(*)::int from public.role_permissions where pg_temp.built_in_permission(permission)), 27, 'T030.07 a signed-in non-member reads the whole built-in matrix');
select pg_temp.as_user('erin');
select is((select count(*)::int from public.role_permissions where pg_temp.built_in_permission(permission)), 27, 'T030.08 viewer reads the whole built-in matrix');
select pg_temp.as_user('heidi');
select is((select count(*)::int from public.roles), 5, 'T030.09 member of another organization reads the same catalog');
select pg_temp.as_service();
select is((select count(*)::int from public.role_permissions where organization_id is null and pg_temp.built_in_permission(permission)), 27, 'T030.10 service reads the built-in matrix');

-- R3 writes -----------------------------------------------------------------------------------
select pg_temp.as_user('alice');
select throws_ok($$ insert into public.role_permissions (role_id, permission)
  select id, 'clients.read' from public.roles where key = 'member' $$, '42501', 'permission denied for table role_permissions',
  'T030.11 owner cannot grant a permission to a role (no insert grant on role_permissions)');
select throws_ok($$ update public.role_permissions set permission = 'organization.delete' where permission = 'clients.read' $$,
  '42501', 'permission denied for table role_permissions', 'T030.12 owner cannot rewrite the matrix (no update grant)');
select throws_ok($$ delete from public.role_permissions where true $$, '42501', 'permission denied for table role_permissions',
  'T030.13 owner cannot delete from the matrix (no delete grant)');
select throws_ok($$ insert into public.roles (key, name, rank) values ('god', 'God', 99) $$, '42501',
  'permission denied for table roles', 'T030.14 owner cannot create a role above owner (no insert grant on roles)');
select throws_ok($$ update public.roles set rank = 60 where key = 'admin' $$, '42501', 'permission denied for table roles',
  'T030.15 owner cannot re-rank roles (no update grant on roles)');
select throws_ok($$ delete from public.roles where key = 'viewer' $$, '42501', 'permission denied for table roles',
  'T030.16 owner cannot delete roles (no delete grant on roles)');
select throws_ok($$ insert into public.permissions (key, description) values ('everything.all', 'x') $$, '42501',
  'permission denied for table permissions', 'T030.17 owner cannot invent permissions (no insert grant on permissions)');
select throws_ok($$ update public.permissions set description = 'x' where true $$, '42501', 'permission denied for table permissions',
  'T030.18 owner cannot edit permissions (no update grant)');
select throws_ok($$ delete from public.permissions where true $$, '42501', 'permission denied for table permissions',
  'T030.19 owner cannot delete permissions (no delete grant)');
select pg_temp.as_user('dave');
select throws_ok($$ update public.roles set rank = 55 where key = 'member' $$, '42501', 'permission denied for table roles',
  'T030.20 member cannot promote his role by re-ranking it');
select throws_ok($$ insert into public.role_permissions (role_id, permission)
  select id, 'members.manage' from public.roles where key = 'member' $$, '42501', 'permission denied for table role_permissions',
  'T030.21 member cannot give his role members.manage');
select pg_temp.as_user('nora');
select throws_ok($$ delete from public.role_permissions where permission = 'clients.read' $$, '42501',
  'permission denied for table role_permissions', 'T030.22 non-member cannot delete from the matrix');
select pg_temp.as_service();
select lives_ok($$ update public.roles set description = 'Reads every client.' where key = 'viewer' $$,
  'T030.23 service may maintain the catalog (bypasses RLS, full grant)');

-- R4 content ----------------------------------------------------------------------------------
select pg_temp.as_postgres();
select results_eq($$ select key from public.roles where organization_id is null order by rank desc $$,
  $$ values ('owner'), ('admin'), ('manager'), ('member'), ('viewer') $$,
  'T030.24 roles rank owner > admin > manager > member > viewer');
select set_eq($$ select rp.permission from public.role_permissions rp join public.roles r on r.id = rp.role_id
                 where pg_temp.built_in_permission(rp.permission) and r.key = 'owner' $$,
  $$ select key from public.permissions where pg_temp.built_in_permission(key) and key <> 'clients.work_assigned' $$,
  'T030.25 owner holds every permission but clients.work_assigned (SPEC 4: owners read and update every client)');
select set_eq($$ select rp.permission from public.role_permissions rp join public.roles r on r.id = rp.role_id
                 where pg_temp.built_in_permission(rp.permission) and r.key = 'admin' $$,
  $$ values ('organization.update'), ('members.manage'), ('clients.read'), ('clients.create'), ('clients.update'),
            ('clients.delete'), ('clients.assign'), ('audit.read'), ('roles.manage') $$,
  'T030.26 admin holds everything but organization.delete and clients.work_assigned (SPEC 4)');
select set_eq($$ select rp.permission from public.role_permissions rp join public.roles r on r.id = rp.role_id
                 where pg_temp.built_in_permission(rp.permission) and r.key = 'manager' $$,
  $$ values ('clients.read'), ('clients.create'), ('clients.update'), ('clients.delete'), ('clients.assign') $$,
  'T030.27 manager holds the clients.* permissions only (SPEC 4)');
select set_eq($$ select rp.permission from public.role_permissions rp join public.roles r on r.id = rp.role_id
                 where pg_temp.built_in_permission(rp.permission) and r.key = 'member' $$,
  $$ values ('clients.create'), ('clients.work_assigned') $$,
  'T030.28 member holds clients.create and clients.work_assigned, its assigned-only access (SPEC 4)');
select set_eq($$ select rp.permission from public.role_permissions rp join public.roles r on r.id = rp.role_id
                 where pg_temp.built_in_permission(rp.permission) and r.key = 'viewer' $$,
  $$ values ('clients.read') $$, 'T030.29 viewer holds clients.read only (SPEC 4)');
select throws_ok($$ insert into public.roles (key, name, rank) values ('twin', 'Twin', 50) $$, '23505', null,
  'T030.30 built-in ranks are unique, so the built-in rank cap is a total order');

select * from finish();
rollback;

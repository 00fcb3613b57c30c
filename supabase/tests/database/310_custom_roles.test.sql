-- Threat cases for organization-defined roles: the model (SPEC 3, 4, 11 amended).
--   R1  built-in roles are global and visible to every signed-in user; an
--       organization's own roles and their permissions are visible only to its
--       members; anon reads nothing.
--   R2  nobody writes the catalog directly through the API: roles change only
--       through create_role, update_role, delete_role.
--   R3  an organization's role: key unique within it and never a built-in key;
--       rank from 1 to below owner (it may equal a built-in's); key and
--       organization never change; built-in ranks never change.
--   R4  a role of organization A is never held, or offered by an invitation,
--       in organization B; role_permissions carry their role's organization.
--   R5  assigned-only access is the permission clients.work_assigned, not the
--       role key member: a holder of an organization's role carrying it reads
--       and updates the clients assigned to them, and a client they create is
--       assigned to them; an assigned user without it (or clients.read) does not.
--   R6  a permission change takes effect for every holder on the next statement.
--   R7  every change of a role or its permissions is audited with the
--       organization's id: its auditors see it, other organizations do not.
-- Fixtures: custom_roles_fixtures.psql (own organizations and users).
begin;
create extension if not exists pgtap with schema extensions;
select plan(46);

\ir custom_roles_fixtures.psql
\ir personas.psql

-- Roles defined by A's owner and B's owner (through the RPC), used below.
select pg_temp.act('a_owner');
select public.create_role(pg_temp.fx_org('alpha'), 'billing', 'Billing', 15, '{clients.read}');
select public.create_role(pg_temp.fx_org('alpha'), 'field_agent', 'Field agent', 15, '{clients.create,clients.work_assigned}');
select public.create_role(pg_temp.fx_org('alpha'), 'shadow', 'Shadow', 12, '{}');
select pg_temp.act('b_owner');
select public.create_role(pg_temp.fx_org('beta'), 'billing', 'Billing (Beta)', 15, '{clients.read,clients.delete}');
select pg_temp.as_postgres();
insert into public.user_roles (organization_id, user_id, role_id) values
  (pg_temp.fx_org('alpha'), pg_temp.fx('a_plain'), pg_temp.role_id('alpha', 'billing')),
  (pg_temp.fx_org('alpha'), pg_temp.fx('a_hr'), pg_temp.role_id('alpha', 'field_agent')),
  (pg_temp.fx_org('alpha'), pg_temp.fx('a_second'), pg_temp.role_id('alpha', 'shadow'));
insert into public.user_clients (organization_id, user_id, client_id) values
  (pg_temp.fx_org('alpha'), pg_temp.fx('a_hr'), pg_temp.client_id('alpha-1')),
  (pg_temp.fx_org('alpha'), pg_temp.fx('a_second'), pg_temp.client_id('alpha-2'));

-- R1 visibility ------------------------------------------------------------------------------
select pg_temp.as_anon();
select throws_ok($$ select * from public.roles $$, '42501', null, 'T310.01 anon reads no role (no grant)');
select throws_ok($$ select * from public.role_permissions $$, '42501', null, 'T310.02 anon reads no role permission (no grant)');

select pg_temp.act('outsider');
select set_eq($$ select key from public.roles $$, $$ values ('owner'), ('admin'), ('manager'), ('member'), ('viewer') $$,
  'T310.03 a signed-in non-member sees exactly the built-in roles');
select is((select count(*)::int from public.role_permissions where organization_id is not null), 0,
  'T310.04 a signed-in non-member sees no permission of an organization''s role');

select pg_temp.act('a_viewer');
select set_eq($$ select key from public.roles where organization_id is not null $$,
  $$ values ('billing'), ('field_agent'), ('shadow') $$, 'T310.05 a member of A (a viewer) sees A''s own roles, not B''s');
select set_eq($$ select rp.permission from public.role_permissions rp where rp.role_id = pg_temp.role_id('alpha', 'field_agent') $$,
  $$ values ('clients.create'), ('clients.work_assigned') $$, 'T310.06 a member of A reads the permissions of A''s roles');
select is((select count(*)::int from public.roles where id = pg_temp.role_id('beta', 'billing')), 0,
  'T310.07 a member of A cannot see B''s role by its id');
select is((select count(*)::int from public.role_permissions where role_id = pg_temp.role_id('beta', 'billing')), 0,
  'T310.08 a member of A cannot read the permissions of B''s role by its id');

select pg_temp.act('b_admin');
select set_eq($$ select key from public.roles where organization_id is not null $$, $$ values ('billing') $$,
  'T310.09 a member of B sees only B''s roles (the same key in A stays hidden)');

-- R2 no direct writes ----------------------------------------------------------------------------
select pg_temp.act('a_owner');
select throws_ok($$ insert into public.roles (organization_id, key, name, rank) values (pg_temp.fx_org('alpha'), 'sneaky', 'S', 10) $$,
  '42501', null, 'T310.10 an owner cannot insert a role directly (no grant)');
select throws_ok($$ update public.roles set rank = 49 where id = pg_temp.role_id('alpha', 'billing') $$, '42501', null,
  'T310.11 an owner cannot re-rank an organization''s role directly (no grant)');
select throws_ok($$ insert into public.role_permissions (role_id, permission) values (pg_temp.role_id('alpha', 'billing'), 'organization.delete') $$,
  '42501', null, 'T310.12 an owner cannot add a permission to a role directly (no grant)');
select throws_ok($$ delete from public.role_permissions where role_id = pg_temp.role_id('alpha', 'billing') $$, '42501', null,
  'T310.13 an owner cannot delete role permissions directly (no grant)');
select pg_temp.act('a_plain');
select throws_ok($$ delete from public.roles where id = pg_temp.role_id('alpha', 'billing') $$, '42501', null,
  'T310.14 a holder cannot delete their role directly (no grant)');

-- R3 keys and ranks (checked by the table itself, even for the service) -----------------------
select pg_temp.as_service();
select throws_ok($$ insert into public.roles (organization_id, key, name, rank) values (pg_temp.fx_org('alpha'), 'admin', 'Fake admin', 10) $$,
  '23505', 'role key admin is reserved for a built-in role', 'T310.15 an organization''s role never takes a built-in key');
select throws_ok($$ insert into public.roles (organization_id, key, name, rank) values (pg_temp.fx_org('alpha'), 'billing', 'Again', 10) $$,
  '23505', null, 'T310.16 keys are unique within an organization');
select lives_ok($$ insert into public.roles (organization_id, key, name, rank) values (pg_temp.fx_org('beta'), 'field_agent', 'Field', 40) $$,
  'T310.17 the same key in another organization, at a built-in''s rank (40 = admin), is a different role');
select throws_ok($$ insert into public.roles (organization_id, key, name, rank) values (pg_temp.fx_org('alpha'), 'too_high', 'T', 50) $$,
  '22023', 'role rank must be between 1 and 49', 'T310.18 an organization''s role never ranks at owner''s rank');
select throws_ok($$ insert into public.roles (organization_id, key, name, rank) values (pg_temp.fx_org('alpha'), 'too_low', 'T', 0) $$,
  '22023', null, 'T310.19 an organization''s role ranks at least 1');
select throws_ok($$ update public.roles set organization_id = pg_temp.fx_org('beta') where id = pg_temp.role_id('alpha', 'shadow') $$,
  '42501', 'a role''s key and organization never change', 'T310.20 a role never moves to another organization');
select throws_ok($$ update public.roles set key = 'owner2' where key = 'owner' and organization_id is null $$,
  '42501', 'a role''s key and organization never change', 'T310.21 a built-in key never changes');
select throws_ok($$ update public.roles set rank = 60 where key = 'admin' and organization_id is null $$,
  '42501', 'a built-in role''s rank never changes', 'T310.22 a built-in rank never changes');

-- R4 never across organizations -------------------------------------------------------------------
select pg_temp.as_postgres();
select throws_ok($$ insert into public.user_roles (organization_id, user_id, role_id)
  values (pg_temp.fx_org('beta'), pg_temp.fx('b_admin'), pg_temp.role_id('alpha', 'billing')) $$,
  '42501', 'role belongs to another organization', 'T310.23 a role of A is never held in B (even by a direct insert)');
select throws_ok($$ update public.user_roles set role_id = pg_temp.role_id('beta', 'billing')
  where organization_id = pg_temp.fx_org('alpha') and user_id = pg_temp.fx('a_plain') $$,
  '42501', 'role belongs to another organization', 'T310.24 a holding in A never switches to B''s role');
select throws_ok($$ insert into public.invitations (organization_id, email, role_id, token_hash)
  values (pg_temp.fx_org('beta'), 'x@roles.test', pg_temp.role_id('alpha', 'billing'), extensions.digest('t', 'sha256')) $$,
  '42501', 'role belongs to another organization', 'T310.25 an invitation to B never names a role of A');
select is((select organization_id from public.role_permissions where role_id = pg_temp.role_id('alpha', 'billing') limit 1),
  pg_temp.fx_org('alpha'), 'T310.26 role_permissions carry their role''s organization');
update public.role_permissions set organization_id = pg_temp.fx_org('beta') where role_id = pg_temp.role_id('alpha', 'billing');
select is((select array_agg(distinct organization_id) from public.role_permissions where role_id = pg_temp.role_id('alpha', 'billing')),
  array[pg_temp.fx_org('alpha')], 'T310.27 a role permission cannot claim another organization (the trigger keeps its role''s)');

-- R5 clients.work_assigned ------------------------------------------------------------------------
select pg_temp.act('a_hr');
select results_eq($$ select name from public.clients order by name $$, $$ values ('alpha-1') $$,
  'T310.28 a holder of a role with clients.work_assigned reads exactly the clients assigned to them');
select lives_ok($$ update public.clients set notes = 'called' where id = pg_temp.client_id('alpha-1') $$,
  'T310.29 ... and updates an assigned client');
select is((select notes from public.clients where id = pg_temp.client_id('alpha-1')), 'called', 'T310.30 ... and the update landed');
select is_empty($$ update public.clients set notes = 'x' where id = pg_temp.client_id('alpha-3') returning id $$,
  'T310.31 ... but updates no client not assigned to them');
select lives_ok($$ insert into public.clients (organization_id, name) values (pg_temp.fx_org('alpha'), 'alpha-field') $$,
  'T310.32 ... creates a client (clients.create)');
select ok(exists (select 1 from public.user_clients where user_id = pg_temp.fx('a_hr') and client_id = pg_temp.client_id('alpha-field')),
  'T310.33 ... which is assigned to them (the creator''s assignment follows the permission, not the key member)');
select pg_temp.act('a_second');
select is_empty($$ select id from public.clients $$,
  'T310.34 an assigned holder of a role without clients.work_assigned or clients.read reads nothing');
select is_empty($$ update public.clients set notes = 'x' where id = pg_temp.client_id('alpha-2') returning id $$,
  'T310.35 ... and updates nothing, not even the client assigned to them');
select pg_temp.act('a_plain');
select is((select count(*)::int from public.clients), 5, 'T310.36 a holder of a role with clients.read reads every client of A');
select is_empty($$ select id from public.clients where organization_id = pg_temp.fx_org('beta') $$,
  'T310.37 ... and none of B (B''s role of the same key does not count in A)');
select is_empty($$ update public.clients set notes = 'x' where id = pg_temp.client_id('alpha-3') returning id $$,
  'T310.38 ... and updates none (clients.read only)');
select pg_temp.act('a_member');
select lives_ok($$ insert into public.clients (organization_id, name) values (pg_temp.fx_org('alpha'), 'alpha-member') $$,
  'T310.39 the built-in member still creates a client');
select ok(exists (select 1 from public.user_clients where user_id = pg_temp.fx('a_member') and client_id = pg_temp.client_id('alpha-member')),
  'T310.40 ... assigned to them (member holds clients.work_assigned)');

-- R6 next statement ----------------------------------------------------------------------------------
select pg_temp.act('a_plain');
select is(public.authorize(pg_temp.fx_org('alpha'), 'clients.read'), true, 'T310.41 authorize sees a role''s permission');
select pg_temp.act('a_owner');
select public.update_role(pg_temp.role_id('alpha', 'billing'), null, null, '{audit.read}');
select pg_temp.act('a_plain');
select is_empty($$ select id from public.clients $$,
  'T310.42 once clients.read is taken from the role, its holder reads no client from the next statement on');
select is(public.authorize(pg_temp.fx_org('alpha'), 'audit.read'), true, 'T310.43 ... and holds the permission given instead');

-- R7 audit ----------------------------------------------------------------------------------------------
select pg_temp.act('a_admin');
select ok((select count(*) from public.audit_log
           where organization_id = pg_temp.fx_org('alpha') and table_name = 'role_permissions'
             and record_id = pg_temp.role_id('alpha', 'billing') and action in ('insert', 'delete')) >= 3,
  'T310.44 A''s auditor sees every change of the permissions of A''s role (audited with A''s id)');
select ok(exists (select 1 from public.audit_log where organization_id = pg_temp.fx_org('alpha') and table_name = 'roles'
                  and record_id = pg_temp.role_id('alpha', 'field_agent') and action = 'insert'),
  'T310.45 A''s auditor sees the creation of A''s role');
select pg_temp.act('b_admin');
select is_empty($$ select id from public.audit_log where table_name in ('roles', 'role_permissions')
                   and organization_id = pg_temp.fx_org('alpha') $$,
  'T310.46 B''s auditor sees none of A''s role changes');

select * from finish();
rollback;

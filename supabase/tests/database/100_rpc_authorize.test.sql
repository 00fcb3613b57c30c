-- Threat cases for public.authorize(organization_id, permission), the UI's
-- permission probe. Rules proved:
--   R1  only signed-in users call it (anon has no execute privilege).
--   R2  for each role of SPEC section 4 it answers exactly that role's row of
--       the permission matrix, and the union for several roles.
--   R3  forged organization ids (another organization, unknown, null) answer
--       false: it never reveals another organization's permissions.
--   R4  an unknown permission raises 22023 instead of a silent false.

begin;
create extension if not exists pgtap with schema extensions;
select plan(29);

-- Personas and organizations (personas.psql, the suite's own fixtures) and how to act as them. Each helper switches
-- role and claims with SET LOCAL, which lasts until the final rollback (or
-- the next helper call): the statements that follow run as that actor.
\ir personas.psql

-- R1 -------------------------------------------------------------------------------------------------
select pg_temp.as_anon();
select throws_ok($$ select public.authorize(pg_temp.org('acme'), 'clients.read') $$, '42501',
  'permission denied for function authorize', 'T100.01 anon cannot call authorize');
select pg_temp.as_postgres();
select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-0000000000ff","role":"authenticated"}', true);
set local role authenticated;
select is_empty($$ select key from public.permissions where public.authorize(pg_temp.org('acme'), key) $$,
  'T100.02 a token whose user does not exist (or was deleted) is authorized for nothing');

-- R2 matrix ---------------------------------------------------------------------------------------------
select pg_temp.as_user('alice');
select set_eq($$ select key from public.permissions where pg_temp.built_in_permission(key) and public.authorize(pg_temp.org('acme'), key) $$,
  $$ values ('organization.update'), ('organization.delete'), ('members.manage'), ('clients.read'), ('clients.create'),
            ('clients.update'), ('clients.delete'), ('clients.assign'), ('audit.read'), ('roles.manage') $$,
  'T100.03 owner holds every permission but clients.work_assigned (it reads and updates every client anyway)');
select pg_temp.as_user('bob');
select set_eq($$ select key from public.permissions where pg_temp.built_in_permission(key) and public.authorize(pg_temp.org('acme'), key) $$,
  $$ values ('organization.update'), ('members.manage'), ('clients.read'), ('clients.create'),
            ('clients.update'), ('clients.delete'), ('clients.assign'), ('audit.read'), ('roles.manage') $$,
  'T100.04 admin holds every permission but organization.delete (and clients.work_assigned)');
select is(public.authorize(pg_temp.org('acme'), 'organization.delete'), false, 'T100.05 admin cannot delete the organization');
select pg_temp.as_user('carol');
select set_eq($$ select key from public.permissions where pg_temp.built_in_permission(key) and public.authorize(pg_temp.org('acme'), key) $$,
  $$ values ('clients.read'), ('clients.create'), ('clients.update'), ('clients.delete'), ('clients.assign') $$,
  'T100.06 manager holds exactly the clients.* permissions');
select is(public.authorize(pg_temp.org('acme'), 'members.manage'), false, 'T100.07 manager does not manage members');
select pg_temp.as_user('dave');
select set_eq($$ select key from public.permissions where pg_temp.built_in_permission(key) and public.authorize(pg_temp.org('acme'), key) $$,
  $$ values ('clients.create'), ('clients.work_assigned') $$, 'T100.08 member holds exactly clients.create and clients.work_assigned');
select is(public.authorize(pg_temp.org('acme'), 'clients.read'), false, 'T100.09 member does not read every client');
select pg_temp.as_user('erin');
select set_eq($$ select key from public.permissions where pg_temp.built_in_permission(key) and public.authorize(pg_temp.org('acme'), key) $$,
  $$ values ('clients.read') $$, 'T100.10 viewer holds exactly clients.read');
select is(public.authorize(pg_temp.org('acme'), 'clients.create'), false, 'T100.11 viewer does not create clients');
select pg_temp.as_user('grace');
select set_eq($$ select key from public.permissions where pg_temp.built_in_permission(key) and public.authorize(pg_temp.org('globex'), key) $$,
  $$ values ('organization.update'), ('members.manage'), ('clients.read'), ('clients.create'),
            ('clients.update'), ('clients.delete'), ('clients.assign'), ('audit.read'), ('roles.manage') $$,
  'T100.12 admin + manager holds the union of both roles');

-- R3 forged organization ids ---------------------------------------------------------------------------------
select pg_temp.as_user('nora');
select is_empty($$ select key from public.permissions where public.authorize(pg_temp.org('acme'), key) $$,
  'T100.13 a non-member holds nothing in Acme');
select pg_temp.as_user('frank');
select is_empty($$ select key from public.permissions where public.authorize(pg_temp.org('acme'), key) $$,
  'T100.14 owner of Globex holds nothing in Acme');
select is(public.authorize(pg_temp.org('globex'), 'organization.delete'), true, 'T100.15 ... while he holds everything in Globex');
select pg_temp.as_user('heidi');
select is_empty($$ select key from public.permissions where public.authorize(pg_temp.org('acme'), key) $$,
  'T100.16 member of Globex holds nothing in Acme');
select pg_temp.as_user('mallory');
select ok(public.authorize(pg_temp.org('acme'), 'clients.create') and not public.authorize(pg_temp.org('acme'), 'clients.read'),
  'T100.17 member of Acme: clients.create there, not clients.read');
select ok(public.authorize(pg_temp.org('globex'), 'clients.read') and not public.authorize(pg_temp.org('globex'), 'clients.create'),
  'T100.18 viewer of Globex: clients.read there, not clients.create (no union across organizations)');
select pg_temp.as_user('alice');
select is(public.authorize(gen_random_uuid(), 'clients.read'), false, 'T100.19 an unknown organization id answers false');
select is(public.authorize(null, 'clients.read'), false, 'T100.20 a null organization id answers false');
select is(public.authorize(pg_temp.org('initech'), 'clients.read'), false, 'T100.21 Acme''s owner holds nothing in Initech');

-- R4 unknown permission --------------------------------------------------------------------------------------
select throws_ok($$ select public.authorize(pg_temp.org('acme'), 'clients.steal') $$, '22023',
  'unknown permission: clients.steal', 'T100.22 an unknown permission raises 22023 (not a silent false)');
select throws_ok($$ select public.authorize(pg_temp.org('acme'), 'Clients.Read') $$, '22023',
  'unknown permission: Clients.Read', 'T100.23 permission names are exact');
select throws_ok($$ select public.authorize(pg_temp.org('acme'), null) $$, '22023', null,
  'T100.24 a null permission raises 22023');
select pg_temp.as_user('nora');
select throws_ok($$ select public.authorize(pg_temp.org('acme'), 'owner') $$, '22023', null,
  'T100.25 a role name is not a permission (22023, also for a non-member)');

-- Membership changes take effect at once ----------------------------------------------------------------------
select pg_temp.as_user('bob');
select lives_ok($$ select public.set_member_roles(pg_temp.org('acme'), pg_temp.uid('erin'), array['manager']) $$,
  'T100.26 (setup) admin makes the viewer a manager');
select pg_temp.as_user('erin');
select ok(public.authorize(pg_temp.org('acme'), 'clients.delete'), 'T100.27 the new role''s permissions apply immediately');
select pg_temp.as_user('bob');
select lives_ok($$ select public.remove_member(pg_temp.org('acme'), pg_temp.uid('erin')) $$, 'T100.28 (setup) admin removes her');
select pg_temp.as_user('erin');
select is_empty($$ select key from public.permissions where public.authorize(pg_temp.org('acme'), key) $$,
  'T100.29 a removed member holds nothing any more');

select * from finish();
rollback;

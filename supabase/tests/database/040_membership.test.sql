-- Threat cases for public.organization_users and public.user_roles
-- (membership and the roles held): select / insert / update / delete by every
-- actor. Rules proved:
--   R1  anon holds no privilege on either table.
--   R2  members (any role) see their organization's members and roles; a
--       non-member and a member of another organization see nothing of Acme.
--   R3  membership and roles change only through the RPCs (no insert, update
--       or delete grant): nobody joins, self-promotes or kicks out directly.
--   R4  a role needs a membership in the same organization (composite FK),
--       and removing a membership removes its roles and client assignments.
--   R5  the service bypasses RLS but not the "at least one owner" invariant.

begin;
create extension if not exists pgtap with schema extensions;
select plan(42);

-- Personas and organizations (personas.psql, the suite's own fixtures) and how to act as them. Each helper switches
-- role and claims with SET LOCAL, which lasts until the final rollback (or
-- the next helper call): the statements that follow run as that actor.
\ir personas.psql

-- R1 anon --------------------------------------------------------------------------------
select pg_temp.as_anon();
select throws_ok($$ select * from public.organization_users $$, '42501', 'permission denied for table organization_users',
  'T040.01 anon cannot read memberships (no grant)');
select throws_ok($$ select * from public.user_roles $$, '42501', 'permission denied for table user_roles',
  'T040.02 anon cannot read roles held (no grant)');
select throws_ok($$ insert into public.organization_users (organization_id, user_id) values (pg_temp.org('acme'), pg_temp.uid('nora')) $$,
  '42501', 'permission denied for table organization_users', 'T040.03 anon cannot insert memberships (no grant)');
select throws_ok($$ delete from public.user_roles where true $$, '42501', 'permission denied for table user_roles',
  'T040.04 anon cannot delete roles held (no grant)');

-- R2 select ---------------------------------------------------------------------------------
select pg_temp.as_user('nora');
select is_empty($$ select 1 from public.organization_users $$, 'T040.05 a non-member sees no membership');
select is_empty($$ select 1 from public.user_roles $$, 'T040.06 a non-member sees no role assignment');
select pg_temp.as_user('erin');
select set_eq($$ select user_id from public.organization_users where organization_id = pg_temp.org('acme') $$,
  $$ select pg_temp.uid(p) from unnest(array['alice', 'bob', 'carol', 'dave', 'erin', 'mallory']) p $$,
  'T040.07 viewer sees every member of her organization');
select set_eq($$ select ur.user_id, r.key from public.user_roles ur join public.roles r on r.id = ur.role_id $$,
  $$ values (pg_temp.uid('alice'), 'owner'), (pg_temp.uid('bob'), 'admin'), (pg_temp.uid('carol'), 'manager'),
            (pg_temp.uid('dave'), 'member'), (pg_temp.uid('erin'), 'viewer'), (pg_temp.uid('mallory'), 'member') $$,
  'T040.08 viewer sees exactly the roles held in her organization');
select pg_temp.as_user('dave');
select is((select count(*)::int from public.organization_users), 6, 'T040.09 member sees the 6 memberships of Acme, no more');
select is((select count(*)::int from public.user_roles), 6, 'T040.10 member sees the 6 role assignments of Acme, no more');
select pg_temp.as_user('carol');
select is((select count(*)::int from public.user_roles), 6, 'T040.11 manager sees the role assignments of Acme only');
select pg_temp.as_user('bob');
select is((select count(*)::int from public.organization_users), 6, 'T040.12 admin sees the memberships of Acme only');
select is((select count(*)::int from public.user_roles where organization_id = pg_temp.org('acme')), 6,
  'T040.40 admin sees the 6 role assignments of Acme');
select is((select count(*)::int from public.user_roles where organization_id <> pg_temp.org('acme')), 0,
  'T040.41 ... and none of another organization');
select pg_temp.as_user('alice');
select is((select count(*)::int from public.organization_users where organization_id <> pg_temp.org('acme')), 0,
  'T040.13 owner sees no membership of another organization');
select is((select count(*)::int from public.user_roles), 6, 'T040.42 owner sees the 6 role assignments of Acme, no more');
select pg_temp.as_user('frank');
select is_empty($$ select 1 from public.organization_users where organization_id = pg_temp.org('acme') $$,
  'T040.14 owner of another organization sees no Acme membership');
select is_empty($$ select 1 from public.user_roles where organization_id = pg_temp.org('acme') $$,
  'T040.15 owner of another organization sees no Acme role assignment');
select pg_temp.as_user('heidi');
select set_eq($$ select user_id from public.organization_users $$,
  $$ select pg_temp.uid(p) from unnest(array['frank', 'grace', 'heidi', 'mallory']) p $$,
  'T040.16 member of Globex sees Globex''s members only');
select pg_temp.as_user('mallory');
select is((select count(*)::int from public.organization_users), 10, 'T040.17 a member of two organizations sees both memberships lists (6 + 4)');
-- The service's view is the whole table, whatever else the database holds: the
-- same count as the table's owner, postgres (BYPASSRLS).
select pg_temp.as_postgres();
select count(*) as organization_users_total from public.organization_users \gset
select pg_temp.as_service();
select is((select count(*)::int from public.organization_users), :organization_users_total, 'T040.18 service sees every membership');

-- R3 no direct writes -----------------------------------------------------------------------------
select pg_temp.as_user('nora');
select throws_ok($$ insert into public.organization_users (organization_id, user_id) values (pg_temp.org('acme'), pg_temp.uid('nora')) $$,
  '42501', 'permission denied for table organization_users', 'T040.19 non-member cannot join an organization by inserting a membership');
select throws_ok($$ insert into public.user_roles (organization_id, user_id, role_id)
  select pg_temp.org('acme'), pg_temp.uid('nora'), id from public.roles where key = 'owner' $$,
  '42501', 'permission denied for table user_roles', 'T040.20 non-member cannot grant herself a role');
select pg_temp.as_user('dave');
select throws_ok($$ insert into public.user_roles (organization_id, user_id, role_id)
  select pg_temp.org('acme'), pg_temp.uid('dave'), id from public.roles where key = 'owner' $$,
  '42501', 'permission denied for table user_roles', 'T040.21 member cannot self-promote by inserting a role');
select throws_ok($$ update public.user_roles set role_id = (select id from public.roles where key = 'owner')
  where user_id = pg_temp.uid('dave') $$, '42501', 'permission denied for table user_roles',
  'T040.22 member cannot self-promote by updating his role');
select throws_ok($$ delete from public.user_roles where user_id = pg_temp.uid('alice') $$, '42501',
  'permission denied for table user_roles', 'T040.23 member cannot strip the owner''s role');
select throws_ok($$ update public.organization_users set organization_id = pg_temp.org('globex') where user_id = pg_temp.uid('dave') $$,
  '42501', 'permission denied for table organization_users', 'T040.24 member cannot move his membership to another organization');
select pg_temp.as_user('bob');
select throws_ok($$ insert into public.organization_users (organization_id, user_id) values (pg_temp.org('acme'), pg_temp.uid('nora')) $$,
  '42501', 'permission denied for table organization_users', 'T040.25 admin cannot add members directly (invitations only)');
select throws_ok($$ update public.user_roles set role_id = (select id from public.roles where key = 'owner') where user_id = pg_temp.uid('bob') $$,
  '42501', 'permission denied for table user_roles', 'T040.26 admin cannot make himself owner by updating user_roles');
select pg_temp.as_user('alice');
select throws_ok($$ delete from public.organization_users where user_id = pg_temp.uid('dave') $$, '42501',
  'permission denied for table organization_users', 'T040.27 owner cannot remove members directly (remove_member enforces the rank rules)');
select throws_ok($$ insert into public.user_roles (organization_id, user_id, role_id)
  select pg_temp.org('acme'), pg_temp.uid('dave'), id from public.roles where key = 'admin' $$,
  '42501', 'permission denied for table user_roles', 'T040.28 owner cannot grant roles directly (set_member_roles enforces the rank rules)');
select pg_temp.as_user('frank');
select throws_ok($$ insert into public.organization_users (organization_id, user_id) values (pg_temp.org('acme'), pg_temp.uid('frank')) $$,
  '42501', 'permission denied for table organization_users', 'T040.29 owner of another organization cannot join Acme directly');
select throws_ok($$ delete from public.organization_users where organization_id = pg_temp.org('acme') $$, '42501',
  'permission denied for table organization_users', 'T040.30 owner of another organization cannot empty Acme');
select pg_temp.as_postgres();
select is((select count(*)::int from public.user_roles where organization_id = pg_temp.org('acme')), 6,
  'T040.31 after the refused writes Acme''s roles are unchanged');

-- R4 / R5 service -------------------------------------------------------------------------------------
select pg_temp.as_service();
select throws_ok($$ insert into public.user_roles (organization_id, user_id, role_id)
  select pg_temp.org('acme'), pg_temp.uid('nora'), id from public.roles where key = 'viewer' $$, '23503', null,
  'T040.32 a role needs a membership in the same organization, even for the service (composite FK)');
select throws_ok($$ insert into public.user_roles (organization_id, user_id, role_id)
  select pg_temp.org('globex'), pg_temp.uid('dave'), id from public.roles where key = 'viewer' $$, '23503', null,
  'T040.33 an Acme membership does not carry a role into Globex (composite FK)');
select throws_ok($$ delete from public.user_roles where user_id = pg_temp.uid('alice') and organization_id = pg_temp.org('acme');
  set constraints all immediate $$, 'P0001', null,
  'T040.34 even the service cannot take the last owner''s role (user_roles_keep_an_owner)');
select throws_ok($$ update public.user_roles set role_id = (select id from public.roles where key = 'admin')
  where user_id = pg_temp.uid('frank'); set constraints all immediate $$, 'P0001', null,
  'T040.35 even the service cannot demote the last owner by an update');
select lives_ok($$ insert into public.organization_users (organization_id, user_id) values (pg_temp.org('acme'), pg_temp.uid('nora'));
  insert into public.user_roles (organization_id, user_id, role_id)
  select pg_temp.org('acme'), pg_temp.uid('nora'), id from public.roles where key = 'viewer' $$,
  'T040.36 service adds a member with a role (bypasses RLS)');
select lives_ok($$ delete from public.organization_users where organization_id = pg_temp.org('acme') and user_id = pg_temp.uid('dave') $$,
  'T040.37 service removes a membership');
select ok(not exists (select 1 from public.user_roles where organization_id = pg_temp.org('acme') and user_id = pg_temp.uid('dave'))
      and not exists (select 1 from public.user_clients where organization_id = pg_temp.org('acme') and user_id = pg_temp.uid('dave')),
  'T040.38 removing a membership removes the member''s roles and client assignments there (cascade)');
select is((select count(*)::int from public.clients where organization_id = pg_temp.org('acme')), 25,
  'T040.39 removing a membership keeps the organization''s clients');

select * from finish();
rollback;

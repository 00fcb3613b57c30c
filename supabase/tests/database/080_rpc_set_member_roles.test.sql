-- Threat cases for public.set_member_roles(organization_id, user_id, roles),
-- called with forged arguments by every actor. Rules proved:
--   R1  only signed-in members holding members.manage (owner, admin) change
--       roles; a non-member or an outsider learns nothing (P0002, as if the
--       organization did not exist).
--   R2  forged ids: another organization's id, a user who is not a member
--       there, an unknown user or organization are refused.
--   R3  nobody changes their own roles.
--   R4  rank cap: only owners grant or revoke owner; nobody grants or revokes a
--       role above their own highest; nobody manages a member who outranks them.
--   R5  the role list is validated (22023), and the roles held are exactly
--       the list afterwards; permissions are the union over them.
--   R6  changes stay within the organization named.

begin;
create extension if not exists pgtap with schema extensions;
select plan(47);

-- Personas and organizations (personas.psql, the suite's own fixtures) and how to act as them. Each helper switches
-- role and claims with SET LOCAL, which lasts until the final rollback (or
-- the next helper call): the statements that follow run as that actor.
\ir personas.psql

-- R1 callers without standing ---------------------------------------------------------------
select pg_temp.as_anon();
select throws_ok($$ select public.set_member_roles(pg_temp.org('acme'), pg_temp.uid('dave'), array['admin']) $$, '42501',
  'permission denied for function set_member_roles', 'T080.01 anon cannot call set_member_roles');
select pg_temp.as_service();
select throws_ok($$ select public.set_member_roles(pg_temp.org('acme'), pg_temp.uid('dave'), array['admin']) $$, '42501', 'permission denied for function set_member_roles',
  'T080.02 the service cannot call set_member_roles (no execute grant)');
select pg_temp.as_user('nora');
select throws_ok($$ select public.set_member_roles(pg_temp.org('acme'), pg_temp.uid('nora'), array['owner']) $$, 'P0002',
  'organization not found', 'T080.03 a non-member cannot grant herself a role in Acme');
select pg_temp.as_user('frank');
select throws_ok($$ select public.set_member_roles(pg_temp.org('acme'), pg_temp.uid('dave'), array['viewer']) $$, 'P0002',
  'organization not found', 'T080.04 owner of another organization cannot change roles in Acme');
select pg_temp.as_user('heidi');
select throws_ok($$ select public.set_member_roles(pg_temp.org('acme'), pg_temp.uid('dave'), array['viewer']) $$, 'P0002',
  'organization not found', 'T080.05 member of another organization cannot change roles in Acme');
select pg_temp.as_user('erin');
select throws_ok($$ select public.set_member_roles(pg_temp.org('acme'), pg_temp.uid('dave'), array['viewer']) $$, '42501',
  'permission denied: members.manage is required in this organization', 'T080.06 viewer cannot change roles (members.manage)');
select pg_temp.as_user('dave');
select throws_ok($$ select public.set_member_roles(pg_temp.org('acme'), pg_temp.uid('erin'), array['member']) $$, '42501',
  'permission denied: members.manage is required in this organization', 'T080.07 member cannot change roles (members.manage)');
select pg_temp.as_user('carol');
select throws_ok($$ select public.set_member_roles(pg_temp.org('acme'), pg_temp.uid('dave'), array['manager']) $$, '42501',
  'permission denied: members.manage is required in this organization', 'T080.08 manager cannot change roles (members.manage)');
select pg_temp.as_user('mallory');
select throws_ok($$ select public.set_member_roles(pg_temp.org('globex'), pg_temp.uid('heidi'), array['viewer']) $$, '42501',
  'permission denied: members.manage is required in this organization', 'T080.09 viewer of Globex cannot change roles there');

-- R2 forged ids ----------------------------------------------------------------------------------
select pg_temp.as_user('bob');
select throws_ok($$ select public.set_member_roles(pg_temp.org('globex'), pg_temp.uid('heidi'), array['viewer']) $$, 'P0002',
  'organization not found', 'T080.10 admin of Acme passing Globex''s id is refused');
select throws_ok($$ select public.set_member_roles(pg_temp.org('acme'), pg_temp.uid('heidi'), array['viewer']) $$, 'P0002',
  'member not found', 'T080.11 admin cannot give Acme roles to a member of another organization');
select throws_ok($$ select public.set_member_roles(pg_temp.org('acme'), pg_temp.uid('nora'), array['viewer']) $$, 'P0002',
  'member not found', 'T080.12 admin cannot give roles to a non-member (membership comes from invitations)');
select throws_ok($$ select public.set_member_roles(pg_temp.org('acme'), gen_random_uuid(), array['viewer']) $$, 'P0002',
  'member not found', 'T080.13 an unknown user id is refused');
select throws_ok($$ select public.set_member_roles(gen_random_uuid(), pg_temp.uid('dave'), array['viewer']) $$, 'P0002',
  'organization not found', 'T080.14 an unknown organization id is refused');
select throws_ok($$ select public.set_member_roles(null, pg_temp.uid('dave'), array['viewer']) $$, 'P0002',
  'organization not found', 'T080.15 a null organization id is refused');
select pg_temp.as_user('frank');
select throws_ok($$ select public.set_member_roles(pg_temp.org('globex'), pg_temp.uid('dave'), array['admin']) $$, 'P0002',
  'member not found', 'T080.16 owner of Globex cannot reach an Acme member through Globex''s id');

-- R3 own roles -----------------------------------------------------------------------------------
select pg_temp.as_user('bob');
select throws_ok($$ select public.set_member_roles(pg_temp.org('acme'), pg_temp.uid('bob'), array['owner']) $$, '42501',
  'you cannot change your own roles', 'T080.17 admin cannot promote himself');
select throws_ok($$ select public.set_member_roles(pg_temp.org('acme'), pg_temp.uid('bob'), array['viewer']) $$, '42501',
  'you cannot change your own roles', 'T080.18 admin cannot change his own roles even downwards');
select pg_temp.as_user('alice');
select throws_ok($$ select public.set_member_roles(pg_temp.org('acme'), pg_temp.uid('alice'), array['owner', 'admin']) $$, '42501',
  'you cannot change your own roles', 'T080.19 owner cannot change her own roles');

-- R4 rank cap ------------------------------------------------------------------------------------
select pg_temp.as_user('bob');
select throws_ok($$ select public.set_member_roles(pg_temp.org('acme'), pg_temp.uid('dave'), array['owner']) $$, '42501',
  'permission denied: only owners grant or revoke owner', 'T080.20 admin cannot grant owner');
select throws_ok($$ select public.set_member_roles(pg_temp.org('acme'), pg_temp.uid('dave'), array['member', 'owner']) $$, '42501',
  'permission denied: only owners grant or revoke owner', 'T080.21 admin cannot slip owner in next to a lower role');
select throws_ok($$ select public.set_member_roles(pg_temp.org('acme'), pg_temp.uid('alice'), array['admin']) $$, '42501',
  'permission denied: the member outranks you', 'T080.22 admin cannot demote the owner (she outranks him)');
select throws_ok($$ select public.set_member_roles(pg_temp.org('acme'), pg_temp.uid('alice'), array['owner', 'viewer']) $$, '42501',
  'permission denied: the member outranks you', 'T080.23 admin cannot touch the owner''s roles at all, even to add a lower one');
select pg_temp.as_postgres();
select set_eq($$ select ur.user_id, r.key from public.user_roles ur join public.roles r on r.id = ur.role_id
  where ur.organization_id = pg_temp.org('acme') $$,
  $$ values (pg_temp.uid('alice'), 'owner'), (pg_temp.uid('bob'), 'admin'), (pg_temp.uid('carol'), 'manager'),
            (pg_temp.uid('dave'), 'member'), (pg_temp.uid('erin'), 'viewer'), (pg_temp.uid('mallory'), 'member') $$,
  'T080.24 after every refused call Acme''s roles are exactly those of the fixtures');
select pg_temp.as_user('bob');
select lives_ok($$ select public.set_member_roles(pg_temp.org('acme'), pg_temp.uid('dave'), array['manager']) $$,
  'T080.25 admin promotes a member to manager');
select set_eq($$ select r.key from public.user_roles ur join public.roles r on r.id = ur.role_id
  where ur.organization_id = pg_temp.org('acme') and ur.user_id = pg_temp.uid('dave') $$, $$ values ('manager') $$,
  'T080.26 the roles are replaced: the member now holds exactly manager');
select lives_ok($$ select public.set_member_roles(pg_temp.org('acme'), pg_temp.uid('dave'), array['admin']) $$,
  'T080.27 admin grants admin (his own rank, not above it)');
select lives_ok($$ select public.set_member_roles(pg_temp.org('acme'), pg_temp.uid('erin'), array['viewer', 'member', 'viewer']) $$,
  'T080.28 admin gives a member several roles (duplicates ignored)');
select pg_temp.as_user('erin');
select ok(public.authorize(pg_temp.org('acme'), 'clients.read') and public.authorize(pg_temp.org('acme'), 'clients.create')
      and not public.authorize(pg_temp.org('acme'), 'clients.update'),
  'T080.29 permissions are the union over the roles held (viewer + member)');

-- R5 validation ----------------------------------------------------------------------------------
select pg_temp.as_user('bob');
select throws_ok($$ select public.set_member_roles(pg_temp.org('acme'), pg_temp.uid('carol'), array[]::text[]) $$, '22023',
  'at least one role is required', 'T080.30 an empty role list is refused (removing goes through remove_member)');
select throws_ok($$ select public.set_member_roles(pg_temp.org('acme'), pg_temp.uid('carol'), null) $$, '22023',
  'at least one role is required', 'T080.31 a null role list is refused');
select throws_ok($$ select public.set_member_roles(pg_temp.org('acme'), pg_temp.uid('carol'), array['superuser']) $$, '22023',
  'unknown role: superuser', 'T080.32 an unknown role is refused');
select throws_ok($$ select public.set_member_roles(pg_temp.org('acme'), pg_temp.uid('carol'), array['viewer', null]) $$, '22023',
  'unknown role: null', 'T080.33 a null role in the list is refused');
select throws_ok($$ select public.set_member_roles(pg_temp.org('acme'), pg_temp.uid('carol'), array['Owner']) $$, '22023',
  'unknown role: Owner', 'T080.34 role keys are exact (no case folding around the owner check)');
select set_eq($$ select r.key from public.user_roles ur join public.roles r on r.id = ur.role_id
  where ur.organization_id = pg_temp.org('acme') and ur.user_id = pg_temp.uid('carol') $$, $$ values ('manager') $$,
  'T080.35 refused calls leave the member''s roles unchanged');

-- R4 owners ----------------------------------------------------------------------------------------
select pg_temp.as_user('dave');
select throws_ok($$ select public.set_member_roles(pg_temp.org('acme'), pg_temp.uid('dave'), array['owner']) $$, '42501',
  'you cannot change your own roles', 'T080.36 a freshly promoted admin cannot go further by himself');
select throws_ok($$ select public.set_member_roles(pg_temp.org('acme'), pg_temp.uid('carol'), array['owner']) $$, '42501',
  'permission denied: only owners grant or revoke owner', 'T080.37 a promoted admin cannot mint an owner for an accomplice');
select pg_temp.as_user('alice');
select lives_ok($$ select public.set_member_roles(pg_temp.org('acme'), pg_temp.uid('bob'), array['owner']) $$,
  'T080.38 owner grants owner');
select pg_temp.as_user('bob');
select lives_ok($$ select public.set_member_roles(pg_temp.org('acme'), pg_temp.uid('alice'), array['admin']) $$,
  'T080.39 owner revokes another owner''s owner role');
select lives_ok($$ set constraints all immediate $$, 'T080.40 the organization still has an owner at commit');
set constraints all deferred;
select pg_temp.as_user('alice');
select throws_ok($$ select public.set_member_roles(pg_temp.org('acme'), pg_temp.uid('bob'), array['admin']) $$, '42501',
  'permission denied: the member outranks you', 'T080.41 the demoted owner (now admin) cannot demote the new owner');
select throws_ok($$ select public.set_member_roles(pg_temp.org('acme'), pg_temp.uid('alice'), array['owner']) $$, '42501',
  'you cannot change your own roles', 'T080.42 the demoted owner cannot restore herself');

-- R6 scope ------------------------------------------------------------------------------------------
select pg_temp.as_user('grace');
select throws_ok($$ select public.set_member_roles(pg_temp.org('globex'), pg_temp.uid('heidi'), array['owner']) $$, '42501',
  'permission denied: only owners grant or revoke owner', 'T080.43 admin+manager of Globex cannot grant owner there');
select lives_ok($$ select public.set_member_roles(pg_temp.org('globex'), pg_temp.uid('mallory'), array['admin']) $$,
  'T080.44 admin of Globex promotes a member of both organizations in Globex');
select pg_temp.as_postgres();
select results_eq($$ select r.key from public.user_roles ur join public.roles r on r.id = ur.role_id
  where ur.organization_id = pg_temp.org('acme') and ur.user_id = pg_temp.uid('mallory') $$, $$ values ('member') $$,
  'T080.45 a role change in Globex leaves the member''s Acme roles untouched');
select pg_temp.as_user('mallory');
select ok(not public.authorize(pg_temp.org('acme'), 'members.manage'),
  'T080.46 admin in Globex does not carry members.manage into Acme');
select throws_ok($$ select public.set_member_roles(pg_temp.org('acme'), pg_temp.uid('erin'), array['viewer']) $$, '42501',
  'permission denied: members.manage is required in this organization', 'T080.47 admin in Globex cannot change roles in Acme');

select * from finish();
rollback;

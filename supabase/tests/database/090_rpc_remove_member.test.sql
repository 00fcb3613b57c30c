-- Threat cases for public.remove_member(organization_id, user_id), called
-- with forged arguments by every actor. Rules proved:
--   R1  removing someone else needs members.manage (owner, admin) in that
--       organization; non-members and outsiders learn nothing (P0002).
--   R2  forged ids (another organization, a non-member, unknown ids) are refused.
--   R3  nobody removes a member who outranks them; only owners remove owners.
--   R4  every member leaves with remove_member(org, self), whatever their
--       role; the last owner cannot leave (deferred check, P0001).
--   R5  removal takes the member's roles and assignments, never the
--       organization's clients, and ends their access at once.

begin;
create extension if not exists pgtap with schema extensions;
select plan(37);

-- Personas and organizations (personas.psql, the suite's own fixtures) and how to act as them. Each helper switches
-- role and claims with SET LOCAL, which lasts until the final rollback (or
-- the next helper call): the statements that follow run as that actor.
\ir personas.psql

-- R1 callers without standing -----------------------------------------------------------------
select pg_temp.as_anon();
select throws_ok($$ select public.remove_member(pg_temp.org('acme'), pg_temp.uid('dave')) $$, '42501',
  'permission denied for function remove_member', 'T090.01 anon cannot call remove_member');
select pg_temp.as_service();
select throws_ok($$ select public.remove_member(pg_temp.org('acme'), pg_temp.uid('dave')) $$, '42501', 'permission denied for function remove_member',
  'T090.02 the service cannot call remove_member (no execute grant)');
select pg_temp.as_user('nora');
select throws_ok($$ select public.remove_member(pg_temp.org('acme'), pg_temp.uid('dave')) $$, 'P0002',
  'organization not found', 'T090.03 a non-member cannot remove anyone from Acme');
select pg_temp.as_user('frank');
select throws_ok($$ select public.remove_member(pg_temp.org('acme'), pg_temp.uid('alice')) $$, 'P0002',
  'organization not found', 'T090.04 owner of another organization cannot remove Acme''s owner');
select pg_temp.as_user('heidi');
select throws_ok($$ select public.remove_member(pg_temp.org('acme'), pg_temp.uid('dave')) $$, 'P0002',
  'organization not found', 'T090.05 member of another organization cannot remove anyone from Acme');
select pg_temp.as_user('erin');
select throws_ok($$ select public.remove_member(pg_temp.org('acme'), pg_temp.uid('dave')) $$, '42501',
  'permission denied: members.manage is required in this organization', 'T090.06 viewer cannot remove others (members.manage)');
select pg_temp.as_user('dave');
select throws_ok($$ select public.remove_member(pg_temp.org('acme'), pg_temp.uid('erin')) $$, '42501',
  'permission denied: members.manage is required in this organization', 'T090.07 member cannot remove others (members.manage)');
select pg_temp.as_user('carol');
select throws_ok($$ select public.remove_member(pg_temp.org('acme'), pg_temp.uid('dave')) $$, '42501',
  'permission denied: members.manage is required in this organization', 'T090.08 manager cannot remove others (members.manage)');
select pg_temp.as_user('mallory');
select throws_ok($$ select public.remove_member(pg_temp.org('globex'), pg_temp.uid('heidi')) $$, '42501',
  'permission denied: members.manage is required in this organization', 'T090.09 viewer of Globex cannot remove others there');

-- R2 forged ids --------------------------------------------------------------------------------------
select pg_temp.as_user('bob');
select throws_ok($$ select public.remove_member(pg_temp.org('globex'), pg_temp.uid('heidi')) $$, 'P0002',
  'organization not found', 'T090.10 admin of Acme passing Globex''s id is refused');
select throws_ok($$ select public.remove_member(pg_temp.org('acme'), pg_temp.uid('heidi')) $$, 'P0002',
  'member not found', 'T090.11 admin cannot remove a member of another organization through Acme''s id');
select throws_ok($$ select public.remove_member(pg_temp.org('acme'), gen_random_uuid()) $$, 'P0002',
  'member not found', 'T090.12 an unknown user id is refused');
select throws_ok($$ select public.remove_member(gen_random_uuid(), pg_temp.uid('bob')) $$, 'P0002',
  'organization not found', 'T090.13 leaving an unknown organization is refused');
select pg_temp.as_user('frank');
select throws_ok($$ select public.remove_member(pg_temp.org('globex'), pg_temp.uid('dave')) $$, 'P0002',
  'member not found', 'T090.14 owner of Globex cannot reach an Acme member through Globex''s id');
select pg_temp.as_postgres();
select is((select count(*)::int from public.organization_users where organization_id = pg_temp.org('acme')), 6,
  'T090.15 after every refused call Acme still has its 6 members');

-- R3 ranks ----------------------------------------------------------------------------------------------
select pg_temp.as_user('bob');
select throws_ok($$ select public.remove_member(pg_temp.org('acme'), pg_temp.uid('alice')) $$, '42501',
  'permission denied: the member outranks you', 'T090.16 admin cannot remove the owner (only owners remove owners)');

-- R5 removal by an admin ------------------------------------------------------------------------------
select pg_temp.as_user('dave');
insert into public.clients (organization_id, name) values (pg_temp.org('acme'), 'Made by Dave');
select pg_temp.as_user('bob');
select lives_ok($$ select public.remove_member(pg_temp.org('acme'), pg_temp.uid('dave')) $$,
  'T090.17 admin removes a member');
select pg_temp.as_postgres();
select ok(not exists (select 1 from public.organization_users where organization_id = pg_temp.org('acme') and user_id = pg_temp.uid('dave'))
      and not exists (select 1 from public.user_roles where organization_id = pg_temp.org('acme') and user_id = pg_temp.uid('dave'))
      and not exists (select 1 from public.user_clients where organization_id = pg_temp.org('acme') and user_id = pg_temp.uid('dave')),
  'T090.18 the removed member loses his membership, roles and assignments');
select results_eq($$ select count(*)::int, count(*) filter (where created_by = pg_temp.uid('dave'))::int
  from public.clients where organization_id = pg_temp.org('acme') $$, $$ values (26, 1) $$,
  'T090.19 the organization keeps every client, including the one the removed member created');
select pg_temp.as_user('dave');
select is_empty($$ select 1 from public.organizations o where o.id = pg_temp.org('acme')
  union all select 1 from public.clients where organization_id = pg_temp.org('acme') $$,
  'T090.20 the removed member no longer sees the organization or any of its clients');
select throws_ok($$ select public.remove_member(pg_temp.org('acme'), pg_temp.uid('erin')) $$, 'P0002',
  'organization not found', 'T090.21 the removed member can no longer act in the organization');
select pg_temp.as_user('alice');
select is_empty($$ select 1 from public.users where id = pg_temp.uid('dave') $$,
  'T090.22 the remaining members no longer see the removed member''s profile');
select pg_temp.as_user('bob');
select lives_ok($$ select public.remove_member(pg_temp.org('acme'), pg_temp.uid('erin')) $$,
  'T090.23 admin removes a viewer');

-- R4 leaving --------------------------------------------------------------------------------------------
select pg_temp.as_user('carol');
select lives_ok($$ select public.remove_member(pg_temp.org('acme'), pg_temp.uid('carol')) $$,
  'T090.24 a manager (no members.manage) leaves with remove_member(org, self)');
select is_empty($$ select 1 from public.clients $$, 'T090.25 after leaving she reads no client');
select pg_temp.as_user('mallory');
select lives_ok($$ select public.remove_member(pg_temp.org('acme'), pg_temp.uid('mallory')) $$,
  'T090.26 a member of two organizations leaves one of them');
select ok((select count(*) = 20 and bool_and(organization_id = pg_temp.org('globex')) from public.clients),
  'T090.27 leaving Acme leaves her Globex membership and its permissions intact');
select pg_temp.as_user('alice');
select throws_ok($$ select public.remove_member(pg_temp.org('acme'), pg_temp.uid('alice')); set constraints all immediate $$,
  'P0001', null, 'T090.28 the last owner cannot leave (user_roles_keep_an_owner)');
select isnt_empty($$ select 1 from public.user_roles where organization_id = pg_temp.org('acme') and user_id = pg_temp.uid('alice') $$,
  'T090.29 the refused leave left the owner in place');
select lives_ok($$ select public.set_member_roles(pg_temp.org('acme'), pg_temp.uid('bob'), array['owner']) $$,
  'T090.30 (setup) the owner makes the admin an owner too');
select pg_temp.as_user('bob');
select lives_ok($$ select public.remove_member(pg_temp.org('acme'), pg_temp.uid('alice')) $$,
  'T090.31 an owner removes another owner');
select lives_ok($$ set constraints all immediate $$, 'T090.32 with one owner left, the removal commits');
set constraints all deferred;
select throws_ok($$ select public.remove_member(pg_temp.org('acme'), pg_temp.uid('bob')); set constraints all immediate $$,
  'P0001', null, 'T090.33 the remaining (now last) owner cannot leave');

-- Globex: an owner removes an admin+manager and a member ---------------------------------------------------
select pg_temp.as_user('grace');
select throws_ok($$ select public.remove_member(pg_temp.org('globex'), pg_temp.uid('frank')) $$, '42501',
  'permission denied: the member outranks you', 'T090.34 admin+manager of Globex cannot remove its owner');
select pg_temp.as_user('frank');
select lives_ok($$ select public.remove_member(pg_temp.org('globex'), pg_temp.uid('grace')) $$,
  'T090.35 owner removes an admin');
select lives_ok($$ select public.remove_member(pg_temp.org('globex'), pg_temp.uid('heidi')) $$,
  'T090.36 owner removes a member');
select pg_temp.as_postgres();
select ok((select count(*) = 20 from public.clients where organization_id = pg_temp.org('globex'))
      and not exists (select 1 from public.user_clients where organization_id = pg_temp.org('globex') and user_id in (pg_temp.uid('grace'), pg_temp.uid('heidi'))),
  'T090.37 Globex keeps its clients; the removed members'' assignments are gone');

select * from finish();
rollback;

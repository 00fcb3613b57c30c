-- Threat cases for public.organizations: select / insert / update / delete by
-- every actor. Rules proved:
--   R1  anon holds no privilege on the table (SPEC 3).
--   R2  a signed-in user sees exactly the organizations they belong to; a
--       non-member and a member of another organization see nothing of Acme.
--   R3  nobody inserts organizations directly: create_organization is the way
--       (no insert grant; an organization without an owner cannot commit).
--   R4  organization.update (owner, admin) changes name and slug only; id and
--       timestamps are not writable through the API (column grants).
--   R5  organization.delete (owner only) deletes through delete_organization,
--       with everything it owns, and deleting an organization does not trip
--       the "keep an owner" check; no API role has the plain table DELETE.
--   R6  the service bypasses RLS.

begin;
create extension if not exists pgtap with schema extensions;
select plan(42);

-- Personas and organizations (personas.psql, the suite's own fixtures) and how to act as them. Each helper switches
-- role and claims with SET LOCAL, which lasts until the final rollback (or
-- the next helper call): the statements that follow run as that actor.
\ir personas.psql

-- R1 anon -------------------------------------------------------------------
select pg_temp.as_anon();
select throws_ok($$ select * from public.organizations $$, '42501', 'permission denied for table organizations',
  'T010.01 anon cannot select organizations (no grant)');
select throws_ok($$ insert into public.organizations (name, slug) values ('Anon Inc', 'anon-inc') $$, '42501',
  'permission denied for table organizations', 'T010.02 anon cannot insert organizations (no grant)');
select throws_ok($$ update public.organizations set name = 'Pwned' where true $$, '42501', 'permission denied for table organizations',
  'T010.03 anon cannot update organizations (no grant)');
select throws_ok($$ delete from public.organizations where true $$, '42501', 'permission denied for table organizations',
  'T010.04 anon cannot delete organizations (no grant)');

-- R2 select ---------------------------------------------------------------------
select pg_temp.as_user('nora');
select is_empty($$ select id from public.organizations $$,
  'T010.05 a signed-in non-member sees no organization (organizations_select_member)');
select pg_temp.as_user('erin');
select results_eq($$ select id from public.organizations $$, $$ values (pg_temp.org('acme')) $$,
  'T010.06 viewer sees exactly her organization');
select pg_temp.as_user('dave');
select results_eq($$ select id from public.organizations $$, $$ values (pg_temp.org('acme')) $$,
  'T010.07 member sees exactly his organization');
select pg_temp.as_user('carol');
select results_eq($$ select id from public.organizations $$, $$ values (pg_temp.org('acme')) $$,
  'T010.08 manager sees exactly her organization');
select pg_temp.as_user('bob');
select results_eq($$ select id from public.organizations $$, $$ values (pg_temp.org('acme')) $$,
  'T010.09 admin sees exactly his organization');
select pg_temp.as_user('alice');
select results_eq($$ select id from public.organizations $$, $$ values (pg_temp.org('acme')) $$,
  'T010.10 owner sees exactly her organization');
select pg_temp.as_user('frank');
select is_empty($$ select id from public.organizations where id = pg_temp.org('acme') or slug = 'acme' $$,
  'T010.11 owner of another organization (Globex) sees nothing of Acme, not even by id or slug');
select pg_temp.as_user('mallory');
select set_eq($$ select id from public.organizations $$, $$ values (pg_temp.org('acme')), (pg_temp.org('globex')) $$,
  'T010.12 a member of two organizations sees both and no third');
-- The service's view is the whole table, whatever else the database holds: the
-- same count as the table's owner, postgres (BYPASSRLS).
select pg_temp.as_postgres();
select count(*) as organizations_total from public.organizations \gset
select pg_temp.as_service();
select is((select count(*)::int from public.organizations), :organizations_total, 'T010.13 service sees every organization (bypasses RLS)');

-- R3 insert ---------------------------------------------------------------------
select pg_temp.as_user('nora');
select throws_ok($$ insert into public.organizations (name, slug) values ('Nora Direct', 'nora-direct') $$, '42501',
  'permission denied for table organizations', 'T010.14 non-member cannot insert an organization directly (use create_organization)');
select pg_temp.as_user('alice');
select throws_ok($$ insert into public.organizations (name, slug) values ('Acme Two', 'acme-two') $$, '42501',
  'permission denied for table organizations', 'T010.15 owner cannot insert an organization directly either (no insert grant)');
select pg_temp.as_service();
select throws_ok($$ insert into public.organizations (name, slug) values ('Ownerless', 'ownerless'); set constraints all immediate $$,
  'P0001', null, 'T010.16 even the service cannot create an organization without an owner (deferred organizations_have_an_owner)');

-- R4 update -----------------------------------------------------------------------
select pg_temp.as_user('nora');
select is_empty($$ update public.organizations set name = 'Hijacked' where id = pg_temp.org('acme') returning id $$,
  'T010.17 non-member cannot rename Acme (0 rows)');
select pg_temp.as_user('frank');
select is_empty($$ update public.organizations set name = 'Hijacked' where id = pg_temp.org('acme') returning id $$,
  'T010.18 owner of another organization cannot rename Acme (0 rows)');
select pg_temp.as_user('erin');
select is_empty($$ update public.organizations set name = 'Hijacked' where id = pg_temp.org('acme') returning id $$,
  'T010.19 viewer cannot rename her organization (organization.update)');
select pg_temp.as_user('dave');
select is_empty($$ update public.organizations set name = 'Hijacked' where id = pg_temp.org('acme') returning id $$,
  'T010.20 member cannot rename his organization (organization.update)');
select pg_temp.as_user('carol');
select is_empty($$ update public.organizations set slug = 'hijacked' where id = pg_temp.org('acme') returning id $$,
  'T010.21 manager cannot change the slug (organization.update)');
select pg_temp.as_postgres();
select is((select name || '/' || slug from public.organizations where id = pg_temp.org('acme')), 'Acme Corporation/fixture-acme',
  'T010.22 after the refused updates Acme is unchanged');
select pg_temp.as_user('bob');
select results_eq($$ update public.organizations set name = 'Acme Inc' where id = pg_temp.org('acme') returning name $$,
  $$ values ('Acme Inc') $$, 'T010.23 admin renames the organization (organization.update)');
select pg_temp.as_user('alice');
select results_eq($$ update public.organizations set slug = 'acme-inc' where true returning id $$,
  $$ values (pg_temp.org('acme')) $$, 'T010.24 owner changes the slug; an unfiltered update touches only her organization');
select throws_ok($$ update public.organizations set id = gen_random_uuid() where id = pg_temp.org('acme') $$, '42501',
  'permission denied for table organizations', 'T010.25 owner cannot change organizations.id (column grant: name, slug only)');
select throws_ok($$ update public.organizations set created_at = now() - interval '10 years' where id = pg_temp.org('acme') $$,
  '42501', 'permission denied for table organizations', 'T010.26 owner cannot rewrite created_at (column grant)');
select throws_ok($$ update public.organizations set slug = 'fixture-globex' where id = pg_temp.org('acme') $$, '23505', null,
  'T010.27 slug stays unique across organizations');
select throws_ok($$ update public.organizations set slug = '-Bad Slug-' where id = pg_temp.org('acme') $$, '23514', null,
  'T010.28 slug format is enforced (lowercase a-z0-9-, no leading/trailing -)');
select throws_ok($$ update public.organizations set name = '  padded  ' where id = pg_temp.org('acme') $$, '23514', null,
  'T010.29 name must be trimmed and non-empty');
select pg_temp.as_user('heidi');
select is_empty($$ update public.organizations set name = 'Hijacked' where id = pg_temp.org('globex') returning id $$,
  'T010.30 member of Globex cannot rename Globex (organization.update)');
select pg_temp.as_service();
select lives_ok($$ update public.organizations set name = 'Globex Corp' where id = pg_temp.org('globex') $$,
  'T010.31 service renames any organization (bypasses RLS)');

-- R5 delete: through delete_organization only ---------------------------------------
select pg_temp.as_user('nora');
select throws_ok($$ select public.delete_organization(pg_temp.org('acme')) $$, 'P0002', 'organization not found',
  'T010.32 non-member cannot delete Acme (P0002: it stays invisible)');
select pg_temp.as_user('frank');
select throws_ok($$ select public.delete_organization(pg_temp.org('acme')) $$, 'P0002', 'organization not found',
  'T010.33 owner of another organization cannot delete Acme (P0002)');
select pg_temp.as_user('erin');
select throws_ok($$ select public.delete_organization(pg_temp.org('acme')) $$, '42501', null, 'T010.34 viewer cannot delete (organization.delete)');
select pg_temp.as_user('dave');
select throws_ok($$ select public.delete_organization(pg_temp.org('acme')) $$, '42501', null, 'T010.35 member cannot delete (organization.delete)');
select pg_temp.as_user('carol');
select throws_ok($$ select public.delete_organization(pg_temp.org('acme')) $$, '42501', null, 'T010.36 manager cannot delete (organization.delete)');
select pg_temp.as_user('bob');
select throws_ok($$ select public.delete_organization(pg_temp.org('acme')) $$, '42501', null, 'T010.37 admin cannot delete (organization.delete is owner-only)');
select pg_temp.as_user('alice');
select throws_ok($$ delete from public.organizations where id = pg_temp.org('acme') $$, '42501', 'permission denied for table organizations',
  'T010.38 even the owner has no plain table DELETE: delete_organization is the one audited path');
select lives_ok($$ select public.delete_organization(pg_temp.org('acme')) $$, 'T010.39 owner deletes her organization (organization.delete)');
select lives_ok($$ set constraints all immediate $$,
  'T010.40 deleting an organization with its owners does not trip the "at least one owner" check');
set constraints all deferred;
select pg_temp.as_postgres();
select ok(not exists (select 1 from public.organizations where id = pg_temp.org('acme'))
      and not exists (select 1 from public.organization_users where organization_id = pg_temp.org('acme'))
      and not exists (select 1 from public.user_roles where organization_id = pg_temp.org('acme'))
      and not exists (select 1 from public.clients where organization_id = pg_temp.org('acme'))
      and not exists (select 1 from public.user_clients where organization_id = pg_temp.org('acme'))
      and (select count(*) from public.users
            where id in (select pg_temp.uid(p) from unnest(array['alice', 'bob', 'carol', 'dave', 'erin', 'mallory']) p)) = 6,
  'T010.41 deleting an organization removes it with its memberships, roles, clients and assignments, and keeps the profiles');
select pg_temp.as_service();
select throws_ok($$ delete from public.organizations where id = pg_temp.org('initech') $$, '42501', 'permission denied for table organizations',
  'T010.42 the service has no plain table DELETE either (it deletes in batches: private.delete_organization_batch)');

select * from finish();
rollback;

-- Threat cases for who may create organizations, and how many (SPEC §5
-- create_organization):
--   * anonymous sign-ins (is_anonymous claim, or auth.users.is_anonymous)
--     cannot create organizations (OL001);
--   * a user may have created at most settings.max_organizations_per_user
--     organizations that still exist (default 100; OL002 beyond; deleting
--     one frees its place; other users are not affected);
--   * the settings are readable and changeable by the service role only; the
--     creator (organizations.created_by) is recorded and not writable through
--     the API.
-- Personas and ids: personas.psql (the suite's own fixtures).
begin;
create extension if not exists pgtap with schema extensions;
select plan(19);

\ir personas.psql

insert into auth.users (id, email, email_confirmed_at, is_anonymous) values
  ('f0000000-0000-4000-a000-000000000051', null, null, true);   -- an anonymous sign-in

-- Anonymous sign-ins --------------------------------------------------------------------
select pg_temp.as_user('nora');
select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000012","role":"authenticated","is_anonymous":true}', true);
select throws_ok($$select public.create_organization('Anon Co', 'anon-co')$$, 'OL001', 'anonymous sign-ins cannot create organizations',
  'T280.01 a token with is_anonymous true cannot create an organization (OL001)');
select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000051","role":"authenticated"}', true);
select throws_ok($$select public.create_organization('Anon Co', 'anon-co')$$, 'OL001', 'anonymous sign-ins cannot create organizations',
  'T280.02 a user auth.users marks anonymous cannot create one without the claim (OL001)');
select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000012","role":"authenticated","is_anonymous":false}', true);
select lives_ok($$select public.create_organization('Nora One', 'nora-one')$$,
  'T280.03 is_anonymous false creates');
select is((select created_by from public.organizations where slug = 'nora-one'), pg_temp.uid('nora'),
  'T280.04 the creator is recorded in organizations.created_by');

-- Settings ---------------------------------------------------------------------------------
select pg_temp.as_service();
select is((select max_organizations_per_user from public.settings), 100, 'T280.05 the default limit is 100');
select lives_ok($$update public.settings set max_organizations_per_user = 2 where id$$,
  'T280.06 the service role changes the limit');
select pg_temp.as_user('alice');
select throws_ok($$select * from public.settings$$, '42501', null, 'T280.07 a signed-in user cannot read the settings (42501)');
select throws_ok($$update public.settings set max_organizations_per_user = 1000 where id$$, '42501', null,
  'T280.08 a signed-in user cannot change the limit (42501)');
select pg_temp.as_anon();
select throws_ok($$select * from public.settings$$, '42501', null, 'T280.09 anon cannot read the settings (42501)');
select pg_temp.as_user('alice');
select throws_ok($$update public.organizations set created_by = null where id = pg_temp.org('acme')$$, '42501', null,
  'T280.10 the creator is not writable through the API (42501)');

-- The cap (2 now) ------------------------------------------------------------------------------
select pg_temp.as_user('nora');
select lives_ok($$select public.create_organization('Nora Two', 'nora-two')$$, 'T280.11 a second organization is within the limit');
select throws_ok($$select public.create_organization('Nora Three', 'nora-three')$$, 'OL002', 'organization limit reached',
  'T280.12 a third is refused (OL002)');
select ok(not exists (select 1 from public.organizations where slug = 'nora-three'), 'T280.13 and nothing was created');
select pg_temp.as_user('mallory');
select lives_ok($$select public.create_organization('Mallory One', 'mallory-one')$$,
  'T280.14 the limit counts per user: another user still creates');
select pg_temp.as_user('nora');
select public.delete_organization((select id from public.organizations where slug = 'nora-two'));
select lives_ok($$select public.create_organization('Nora Three', 'nora-three')$$,
  'T280.15 deleting an organization one created frees its place');
select pg_temp.as_service();
update public.settings set max_organizations_per_user = 0 where id;
select pg_temp.as_user('mallory');
select throws_ok($$select public.create_organization('Mallory Two', 'mallory-two')$$, 'OL002', null,
  'T280.16 a limit of 0 stops creation (OL002)');
select pg_temp.as_postgres();
select ok(exists (select 1 from pg_catalog.pg_trigger where tgrelid = 'public.settings'::regclass and tgname = 'settings_set_updated_at'),
  'T280.17 settings.updated_at is kept by a trigger');
select ok(not has_table_privilege('service_role', 'public.settings', 'insert') and not has_table_privilege('service_role', 'public.settings', 'delete'),
  'T280.18 the settings row is neither added nor removed by the service role');
select column_privs_are('public', 'organizations', 'created_by', 'authenticated', array['SELECT'],
  'T280.19 organizations.created_by is read-only for authenticated');

select * from finish();
rollback;

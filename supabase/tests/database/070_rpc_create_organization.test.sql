-- Threat cases for public.create_organization(name, slug). Rules proved:
--   R1  only signed-in users call it: anon has no execute privilege, and a
--       caller without a user id (the service key) is refused.
--   R2  the caller, and only the caller, becomes member and owner; the result
--       is the organization row; the owner invariant holds at commit.
--   R3  name and slug are validated (slug unique, lowercase a-z0-9-, 3 to 63
--       characters, no leading/trailing "-"; name trimmed, 1 to 100).
--   R4  creating an organization grants nothing in any other organization.
--   R5  the function is security definer with search_path = pg_catalog, pg_temp.

begin;
create extension if not exists pgtap with schema extensions;
select plan(24);

-- Personas and organizations (personas.psql, the suite's own fixtures) and how to act as them. Each helper switches
-- role and claims with SET LOCAL, which lasts until the final rollback (or
-- the next helper call): the statements that follow run as that actor.
\ir personas.psql

-- R1 ----------------------------------------------------------------------------------------
select pg_temp.as_anon();
select throws_ok($$ select public.create_organization('Anon Inc', 'anon-inc') $$, '42501',
  'permission denied for function create_organization', 'T070.01 anon cannot call create_organization');
select pg_temp.as_service();
select throws_ok($$ select public.create_organization('Service Inc', 'service-inc') $$, '42501', 'permission denied for function create_organization',
  'T070.02 the service cannot call create_organization (no execute grant: nobody would own the organization)');
select pg_temp.as_postgres();
select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-0000000000ff","role":"authenticated"}', true);
set local role authenticated;
select throws_ok($$ select public.create_organization('Ghost Inc', 'ghost-inc') $$, 'P0002', 'no profile for the signed-in user',
  'T070.03 a token for a user without a profile (deleted user) cannot create an organization');

-- R2 ----------------------------------------------------------------------------------------
select pg_temp.as_user('nora');
select results_eq($$ select name, slug from public.create_organization('  Nora Labs  ', 'nora-labs') $$,
  $$ values ('Nora Labs', 'nora-labs') $$, 'T070.04 a signed-in user creates an organization; the row comes back with a trimmed name');
select results_eq($$ select slug from public.organizations $$, $$ values ('nora-labs') $$,
  'T070.05 the creator sees her new organization');
select results_eq($$ select ou.user_id, r.key from public.organization_users ou
  join public.user_roles ur using (organization_id, user_id) join public.roles r on r.id = ur.role_id
  join public.organizations o on o.id = ou.organization_id where o.slug = 'nora-labs' $$,
  $$ values (pg_temp.uid('nora'), 'owner') $$, 'T070.06 the creator is its only member, with the owner role');
select ok(public.authorize((select id from public.organizations where slug = 'nora-labs'), 'organization.delete'),
  'T070.07 the creator holds the owner''s permissions there');
select lives_ok($$ set constraints all immediate $$, 'T070.08 the new organization satisfies the owner invariant at commit');
set constraints all deferred;
select pg_temp.as_user('alice');
select is_empty($$ select 1 from public.organizations where slug = 'nora-labs' $$,
  'T070.09 nobody else sees the new organization');

-- R3 ----------------------------------------------------------------------------------------
select pg_temp.as_user('nora');
select throws_ok($$ select public.create_organization('Acme Clone', 'fixture-acme') $$, '23505', null,
  'T070.10 a slug already taken (by an organization the caller cannot see) is refused');
select throws_ok($$ select public.create_organization('Bad', 'Bad_Slug') $$, '23514', null,
  'T070.11 slug must be lowercase a-z0-9-');
select throws_ok($$ select public.create_organization('Bad', 'ab') $$, '23514', null, 'T070.12 slug has at least 3 characters');
select throws_ok($$ select public.create_organization('Bad', repeat('a', 64)) $$, '23514', null, 'T070.13 slug has at most 63 characters');
select throws_ok($$ select public.create_organization('Bad', '-bad-') $$, '23514', null, 'T070.14 slug has no leading or trailing "-"');
select throws_ok($$ select public.create_organization('   ', 'blank-name') $$, '23514', null, 'T070.15 name cannot be blank');
select throws_ok($$ select public.create_organization(repeat('n', 101), 'long-name') $$, '23514', null, 'T070.16 name has at most 100 characters');
select throws_ok($$ select public.create_organization(null, 'null-name') $$, '23502', null, 'T070.17 name is required');
select throws_ok($$ select public.create_organization('Null Slug', null) $$, '23502', null, 'T070.18 slug is required');
select is((select count(*)::int from public.organizations), 1, 'T070.19 failed calls leave no organization behind');

-- R4 ----------------------------------------------------------------------------------------
select pg_temp.as_user('dave');
select lives_ok($$ select public.create_organization('Dave Side Project', 'dave-side') $$,
  'T070.20 a member of Acme creates his own organization');
select ok(public.authorize((select id from public.organizations where slug = 'dave-side'), 'members.manage')
      and not public.authorize(pg_temp.org('acme'), 'members.manage')
      and not public.authorize(pg_temp.org('acme'), 'clients.read'),
  'T070.21 owning a new organization grants nothing in Acme (permissions are per organization)');
select set_eq($$ select id from public.clients $$, $$ select pg_temp.client(1, i) from generate_series(1, 5) i $$,
  'T070.22 in Acme he still reads only his assigned clients');

-- R5 ----------------------------------------------------------------------------------------
select pg_temp.as_postgres();
select ok((select prosecdef and proconfig @> array['search_path=pg_catalog, pg_temp'] from pg_proc where oid = 'public.create_organization(text, text)'::regprocedure),
  'T070.23 create_organization is security definer with search_path = pg_catalog, pg_temp');
select ok(has_function_privilege('authenticated', 'public.create_organization(text, text)', 'execute')
      and not has_function_privilege('anon', 'public.create_organization(text, text)', 'execute'),
  'T070.24 create_organization is executable by authenticated, not by anon');

select * from finish();
rollback;

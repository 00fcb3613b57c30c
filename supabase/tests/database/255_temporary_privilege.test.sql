-- Threat cases for TEMPORARY on the database (the second half of the type
-- shadowing fix): the API roles cannot create temporary objects at all, so
-- nothing of theirs can shadow a type or a relation. PUBLIC holds TEMPORARY on
-- every new database and CREATE DATABASE ... TEMPLATE does not copy database
-- privileges: this suite runs on such a copy, which the harness passed through
-- private.revoke_temporary_from_api_roles() as the migration does.
begin;
create extension if not exists pgtap with schema extensions;
select plan(9);

select ok(not has_database_privilege('public', current_database(), 'TEMPORARY'),
  'T255.01 PUBLIC does not hold TEMPORARY on the database');
select ok(not has_database_privilege(r, current_database(), 'TEMPORARY'),
  format('T255.%s %s does not hold TEMPORARY on the database', lpad((1 + n)::text, 2, '0'), r))
from unnest(array['anon', 'authenticated', 'service_role', 'authenticator']) with ordinality as u (r, n);
select ok(has_database_privilege(current_user, current_database(), 'TEMPORARY'),
  'T255.06 the database owner keeps TEMPORARY (migrations, maintenance)');

set local role authenticated;
select set_config('request.jwt.claims', '{"sub":"00000000-0000-4000-a000-000000000012","role":"authenticated"}', true);
select throws_ok($$create domain pg_temp.uuid as pg_catalog.uuid$$, '42501', null,
  'T255.07 a signed-in user cannot create a type in the temporary schema (42501)');
select throws_ok($$create temp table t_mine (x int)$$, '42501', null,
  'T255.08 a signed-in user cannot create a temporary table (42501)');
reset role;
set local role anon;
select set_config('request.jwt.claims', '', true);
select throws_ok($$create function pg_temp.f() returns int language sql as 'select 1'$$, '42501', null,
  'T255.09 anon cannot create a function in the temporary schema (42501)');

select * from finish();
rollback;

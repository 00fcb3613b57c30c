-- Threat cases for public.user_clients (members assigned to clients):
-- select / insert / update / delete by every actor. Seed: dave is assigned
-- to Acme clients 1-5, mallory to 5-7, carol to 10-11 (10 Acme rows); heidi
-- to Globex 1-4, grace to Globex 10. Rules proved:
--   R1  anon holds no privilege on the table.
--   R2  clients.read holders see every assignment of their organization;
--       everyone sees their own; outsiders see nothing.
--   R3  clients.assign (owner, admin, manager) assigns and unassigns; a member
--       cannot assign himself to widen what he reads.
--   R4  assignments pair a client and a member of the same organization
--       (composite foreign keys => 23503), whoever writes them.
--   R5  assignments are never updated through the API (no update grant).

begin;
create extension if not exists pgtap with schema extensions;
select plan(49);

-- Personas and organizations (personas.psql, the suite's own fixtures) and how to act as them. Each helper switches
-- role and claims with SET LOCAL, which lasts until the final rollback (or
-- the next helper call): the statements that follow run as that actor.
\ir personas.psql

-- R1 anon ---------------------------------------------------------------------------------
select pg_temp.as_anon();
select throws_ok($$ select * from public.user_clients $$, '42501', 'permission denied for table user_clients',
  'T060.01 anon cannot read assignments (no grant)');
select throws_ok($$ insert into public.user_clients (organization_id, user_id, client_id)
  values (pg_temp.org('acme'), pg_temp.uid('dave'), pg_temp.client(1, 10)) $$, '42501',
  'permission denied for table user_clients', 'T060.02 anon cannot insert assignments (no grant)');
select throws_ok($$ update public.user_clients set user_id = pg_temp.uid('dave') where true $$, '42501',
  'permission denied for table user_clients', 'T060.03 anon cannot update assignments (no grant)');
select throws_ok($$ delete from public.user_clients where true $$, '42501', 'permission denied for table user_clients',
  'T060.04 anon cannot delete assignments (no grant)');

-- R2 select ------------------------------------------------------------------------------------
select pg_temp.as_user('nora');
select is_empty($$ select 1 from public.user_clients $$, 'T060.05 a signed-in non-member sees no assignment');
select pg_temp.as_user('erin');
select is((select count(*)::int from public.user_clients), 10, 'T060.06 viewer sees every assignment of Acme (clients.read), no other');
select pg_temp.as_user('dave');
select set_eq($$ select client_id from public.user_clients $$, $$ select pg_temp.client(1, i) from generate_series(1, 5) i $$,
  'T060.07 member sees only his own assignments, not who else works on which client');
select pg_temp.as_user('carol');
select is((select count(*)::int from public.user_clients), 10, 'T060.08 manager sees every assignment of Acme');
select pg_temp.as_user('bob');
select is((select count(*)::int from public.user_clients), 10, 'T060.09 admin sees every assignment of Acme');
select pg_temp.as_user('alice');
select is((select count(*)::int from public.user_clients where organization_id <> pg_temp.org('acme')), 0,
  'T060.10 owner sees no assignment of another organization');
select pg_temp.as_user('frank');
select is_empty($$ select 1 from public.user_clients where organization_id = pg_temp.org('acme') $$,
  'T060.11 owner of another organization sees no Acme assignment');
select pg_temp.as_user('heidi');
select is((select count(*)::int from public.user_clients), 4, 'T060.12 member of Globex sees her own 4 assignments only');
select pg_temp.as_user('mallory');
select is((select count(*)::int from public.user_clients), 8,
  'T060.13 viewer of Globex and member of Acme sees Globex''s 5 assignments and her own 3 in Acme');
-- The service's view is the whole table, whatever else the database holds: the
-- same count as the table's owner, postgres (BYPASSRLS).
select pg_temp.as_postgres();
select count(*) as user_clients_total from public.user_clients \gset
select pg_temp.as_service();
select is((select count(*)::int from public.user_clients), :user_clients_total, 'T060.14 service sees every assignment');

-- R3 insert ----------------------------------------------------------------------------------------
select pg_temp.as_user('nora');
select throws_ok($$ insert into public.user_clients (organization_id, user_id, client_id)
  values (pg_temp.org('acme'), pg_temp.uid('nora'), pg_temp.client(1, 10)) $$, '42501',
  'new row violates row-level security policy for table "user_clients"', 'T060.15 non-member cannot assign herself to an Acme client');
select pg_temp.as_user('erin');
select throws_ok($$ insert into public.user_clients (organization_id, user_id, client_id)
  values (pg_temp.org('acme'), pg_temp.uid('dave'), pg_temp.client(1, 10)) $$, '42501',
  'new row violates row-level security policy for table "user_clients"', 'T060.16 viewer cannot assign (clients.assign)');
select pg_temp.as_user('dave');
select throws_ok($$ insert into public.user_clients (organization_id, user_id, client_id)
  values (pg_temp.org('acme'), pg_temp.uid('dave'), pg_temp.client(1, 10)) $$, '42501',
  'new row violates row-level security policy for table "user_clients"',
  'T060.17 member cannot assign himself to an unassigned client to read it (clients.assign)');
select is_empty($$ select 1 from public.clients where id = pg_temp.client(1, 10) $$,
  'T060.18 after the refused self-assignment the member still cannot read the client');
select pg_temp.as_user('frank');
select throws_ok($$ insert into public.user_clients (organization_id, user_id, client_id)
  values (pg_temp.org('acme'), pg_temp.uid('frank'), pg_temp.client(1, 1)) $$, '42501',
  'new row violates row-level security policy for table "user_clients"',
  'T060.19 owner of another organization cannot assign in Acme (forged organization_id)');
select throws_ok($$ insert into public.user_clients (organization_id, user_id, client_id)
  values (pg_temp.org('globex'), pg_temp.uid('heidi'), pg_temp.client(1, 1)) $$, '23503', null,
  'T060.20 owner of Globex cannot pair his member with an Acme client under Globex''s id (client foreign key)');
select pg_temp.as_user('carol');
select lives_ok($$ insert into public.user_clients (organization_id, user_id, client_id)
  values (pg_temp.org('acme'), pg_temp.uid('dave'), pg_temp.client(1, 12)) $$,
  'T060.21 manager assigns a member to a client (clients.assign)');
select throws_ok($$ insert into public.user_clients (organization_id, user_id, client_id)
  values (pg_temp.org('acme'), pg_temp.uid('heidi'), pg_temp.client(1, 12)) $$, '23503', null,
  'T060.22 manager cannot assign a member of another organization to an Acme client (membership foreign key)');
select throws_ok($$ insert into public.user_clients (organization_id, user_id, client_id)
  values (pg_temp.org('acme'), pg_temp.uid('dave'), pg_temp.client(2, 12)) $$, '23503', null,
  'T060.23 manager cannot assign an Acme member to a Globex client (client foreign key)');
select throws_ok($$ insert into public.user_clients (organization_id, user_id, client_id)
  values (pg_temp.org('acme'), pg_temp.uid('nora'), pg_temp.client(1, 12)) $$, '23503', null,
  'T060.24 manager cannot assign a non-member (membership foreign key)');
select throws_ok($$ insert into public.user_clients (organization_id, user_id, client_id)
  values (pg_temp.org('globex'), pg_temp.uid('mallory'), pg_temp.client(2, 12)) $$, '42501',
  'new row violates row-level security policy for table "user_clients"',
  'T060.25 manager of Acme cannot assign in Globex, even a member they share');
select throws_ok($$ insert into public.user_clients (organization_id, user_id, client_id)
  values (pg_temp.org('acme'), pg_temp.uid('dave'), pg_temp.client(1, 1)) $$, '23505', null,
  'T060.26 an assignment exists once');
select pg_temp.as_user('dave');
select isnt_empty($$ select 1 from public.clients where id = pg_temp.client(1, 12) $$,
  'T060.27 once assigned, the member reads the client');
select results_eq($$ update public.clients set notes = 'now mine' where id = pg_temp.client(1, 12) returning id $$,
  $$ values (pg_temp.client(1, 12)) $$, 'T060.28 once assigned, the member updates the client');
select pg_temp.as_user('bob');
select lives_ok($$ insert into public.user_clients (organization_id, user_id, client_id)
  values (pg_temp.org('acme'), pg_temp.uid('erin'), pg_temp.client(1, 13)) $$, 'T060.29 admin assigns (clients.assign)');
select pg_temp.as_user('alice');
select lives_ok($$ insert into public.user_clients (organization_id, user_id, client_id)
  values (pg_temp.org('acme'), pg_temp.uid('mallory'), pg_temp.client(1, 14)) $$, 'T060.30 owner assigns (clients.assign)');
select pg_temp.as_service();
select throws_ok($$ insert into public.user_clients (organization_id, user_id, client_id)
  values (pg_temp.org('acme'), pg_temp.uid('heidi'), pg_temp.client(2, 1)) $$, '23503', null,
  'T060.31 even the service cannot pair a client and a member of different organizations');
select throws_ok($$ insert into public.user_clients (organization_id, user_id, client_id)
  values (pg_temp.org('globex'), pg_temp.uid('mallory'), pg_temp.client(1, 5)) $$, '23503', null,
  'T060.32 even the service cannot file an Acme client under Globex for a member of both');

-- R5 update ------------------------------------------------------------------------------------------
select pg_temp.as_user('carol');
select throws_ok($$ update public.user_clients set client_id = pg_temp.client(1, 20) where user_id = pg_temp.uid('dave') $$, '42501',
  'permission denied for table user_clients', 'T060.33 manager cannot update assignments (no update grant: delete and insert)');
select pg_temp.as_user('dave');
select throws_ok($$ update public.user_clients set client_id = pg_temp.client(1, 20) where user_id = pg_temp.uid('dave') $$, '42501',
  'permission denied for table user_clients', 'T060.34 member cannot re-point his assignment to another client');
select pg_temp.as_service();
select throws_ok($$ update public.user_clients set client_id = pg_temp.client(2, 20)
  where user_id = pg_temp.uid('dave') and client_id = pg_temp.client(1, 1) $$, '23503', null,
  'T060.35 even the service cannot re-point an assignment to another organization''s client');
select throws_ok($$ update public.user_clients set organization_id = pg_temp.org('globex') where user_id = pg_temp.uid('mallory') $$, '23503', null,
  'T060.36 even the service cannot move an assignment to another organization');

-- delete ---------------------------------------------------------------------------------------------
select pg_temp.as_user('nora');
select is_empty($$ delete from public.user_clients where true returning client_id $$, 'T060.37 non-member deletes no assignment');
select pg_temp.as_user('frank');
select is_empty($$ delete from public.user_clients where organization_id = pg_temp.org('acme') returning client_id $$,
  'T060.38 owner of another organization deletes no Acme assignment');
select pg_temp.as_user('erin');
select is_empty($$ delete from public.user_clients where true returning client_id $$, 'T060.39 viewer cannot unassign (clients.assign)');
select pg_temp.as_user('dave');
select is_empty($$ delete from public.user_clients where user_id = pg_temp.uid('dave') returning client_id $$,
  'T060.40 member cannot remove his own assignments (clients.assign)');
select pg_temp.as_user('mallory');
select is_empty($$ delete from public.user_clients where organization_id = pg_temp.org('globex') returning client_id $$,
  'T060.41 viewer of Globex cannot unassign there');
select pg_temp.as_user('carol');
select results_eq($$ delete from public.user_clients where user_id = pg_temp.uid('dave') and client_id = pg_temp.client(1, 1) returning client_id $$,
  $$ values (pg_temp.client(1, 1)) $$, 'T060.42 manager unassigns a member (clients.assign)');
select is_empty($$ delete from public.user_clients where organization_id = pg_temp.org('globex') returning client_id $$,
  'T060.43 manager of Acme deletes no Globex assignment');
select pg_temp.as_user('dave');
select is_empty($$ select 1 from public.clients where id = pg_temp.client(1, 1) $$,
  'T060.44 once unassigned, the member no longer reads the client');
select is_empty($$ update public.clients set notes = 'still mine?' where id = pg_temp.client(1, 1) returning id $$,
  'T060.45 once unassigned, the member no longer updates the client');
select pg_temp.as_user('bob');
select results_eq($$ delete from public.user_clients where user_id = pg_temp.uid('mallory') and client_id = pg_temp.client(1, 6) returning client_id $$,
  $$ values (pg_temp.client(1, 6)) $$, 'T060.46 admin unassigns a member');
select pg_temp.as_user('alice');
select results_eq($$ delete from public.user_clients where user_id = pg_temp.uid('carol') and client_id = pg_temp.client(1, 11) returning client_id $$,
  $$ values (pg_temp.client(1, 11)) $$, 'T060.47 owner unassigns a member');
select pg_temp.as_postgres();
select is((select count(*)::int from public.user_clients where organization_id = pg_temp.org('globex')), 5,
  'T060.48 Globex''s assignments are untouched by everything above');
select pg_temp.as_service();
select results_eq($$ delete from public.user_clients where user_id = pg_temp.uid('judy') and client_id = pg_temp.client(3, 1) returning client_id $$,
  $$ values (pg_temp.client(3, 1)) $$, 'T060.49 the service removes any assignment (bypasses RLS)');

select * from finish();
rollback;

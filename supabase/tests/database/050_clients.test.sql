-- Threat cases for public.clients: select / insert / update / delete by every
-- actor. Seed: Acme's 25 clients were created by carol; dave is assigned to
-- Acme clients 1-5, mallory to 5-7, carol to 10-11; heidi to Globex 1-4.
-- Rules proved:
--   R1  anon holds no privilege on the table.
--   R2  clients.read (owner, admin, manager, viewer) sees every client of the
--       organization; a member sees only the clients assigned to them;
--       outsiders see nothing.
--   R3  clients.create (owner, admin, manager, member) inserts, only into
--       their own organization and only as themselves (created_by); a client
--       a member creates is assigned to its creator.
--   R4  clients.update (owner, admin, manager) updates every client; a member
--       updates only assigned clients; viewers and outsiders update nothing.
--   R5  clients.organization_id never changes (even for the service), and
--       created_by is set once; through the API created_by is never written
--       and id / organization_id are never updated (column grants); an id
--       chosen on insert cannot take over an existing client.
--   R6  clients.delete (owner, admin, manager) deletes; deleting a client
--       removes its assignments.
--   R7  name_lower is lower(name), kept by the database: nobody writes it,
--       and a prefix range on it finds names whatever their case, exactly
--       the clients the caller may see.

begin;
create extension if not exists pgtap with schema extensions;
select plan(74);

-- Personas and organizations (personas.psql, the suite's own fixtures) and how to act as them. Each helper switches
-- role and claims with SET LOCAL, which lasts until the final rollback (or
-- the next helper call): the statements that follow run as that actor.
\ir personas.psql

-- R1 anon -------------------------------------------------------------------------------
select pg_temp.as_anon();
select throws_ok($$ select * from public.clients $$, '42501', 'permission denied for table clients',
  'T050.01 anon cannot read clients (no grant)');
select throws_ok($$ insert into public.clients (organization_id, name) values (pg_temp.org('acme'), 'Anon Co') $$, '42501',
  'permission denied for table clients', 'T050.02 anon cannot insert clients (no grant)');
select throws_ok($$ update public.clients set name = 'Pwned' where true $$, '42501', 'permission denied for table clients',
  'T050.03 anon cannot update clients (no grant)');
select throws_ok($$ delete from public.clients where true $$, '42501', 'permission denied for table clients',
  'T050.04 anon cannot delete clients (no grant)');

-- R2 select --------------------------------------------------------------------------------
select pg_temp.as_user('nora');
select is_empty($$ select 1 from public.clients $$, 'T050.05 a signed-in non-member sees no client');
select pg_temp.as_user('erin');
select is((select count(*)::int from public.clients where organization_id = pg_temp.org('acme')), 25,
  'T050.06 viewer reads every client of her organization (clients.read)');
select is((select count(*)::int from public.clients where organization_id <> pg_temp.org('acme')), 0,
  'T050.07 viewer reads no client of another organization');
select pg_temp.as_user('dave');
select set_eq($$ select id from public.clients $$, $$ select pg_temp.client(1, i) from generate_series(1, 5) i $$,
  'T050.08 member reads exactly the clients assigned to him');
select is_empty($$ select 1 from public.clients where id = pg_temp.client(1, 10) $$,
  'T050.09 member cannot read an unassigned client of his own organization by id (clients.read)');
select pg_temp.as_user('carol');
select is((select count(*)::int from public.clients), 25, 'T050.10 manager reads every client of Acme and nothing else');
select pg_temp.as_user('bob');
select is((select count(*)::int from public.clients), 25, 'T050.11 admin reads every client of Acme and nothing else');
select pg_temp.as_user('alice');
select is((select count(*)::int from public.clients), 25, 'T050.12 owner reads every client of Acme and nothing else');
select pg_temp.as_user('frank');
select is_empty($$ select 1 from public.clients where organization_id = pg_temp.org('acme') or id = pg_temp.client(1, 1) $$,
  'T050.13 owner of another organization reads no Acme client, not even by id');
select pg_temp.as_user('heidi');
select set_eq($$ select id from public.clients $$, $$ select pg_temp.client(2, i) from generate_series(1, 4) i $$,
  'T050.14 member of Globex reads only her assigned Globex clients');
select pg_temp.as_user('mallory');
select set_eq($$ select id from public.clients $$,
  $$ select pg_temp.client(2, i) from generate_series(1, 20) i union all select pg_temp.client(1, i) from generate_series(5, 7) i $$,
  'T050.15 permissions do not leak across organizations: viewer of Globex reads all of Globex, member of Acme only her 3 assigned');
-- The service's view is the whole table, whatever else the database holds: the
-- same count as the table's owner, postgres (BYPASSRLS).
select pg_temp.as_postgres();
select count(*) as clients_total from public.clients \gset
select pg_temp.as_service();
select is((select count(*)::int from public.clients), :clients_total, 'T050.16 service reads every client');

-- R3 insert ------------------------------------------------------------------------------------
select pg_temp.as_user('nora');
select throws_ok($$ insert into public.clients (organization_id, name) values (pg_temp.org('acme'), 'Nora Co') $$, '42501',
  'new row violates row-level security policy for table "clients"', 'T050.17 non-member cannot create a client in Acme');
select pg_temp.as_user('frank');
select throws_ok($$ insert into public.clients (organization_id, name) values (pg_temp.org('acme'), 'Frank Co') $$, '42501',
  'new row violates row-level security policy for table "clients"',
  'T050.18 owner of another organization cannot create a client in Acme (forged organization_id)');
select pg_temp.as_user('erin');
select throws_ok($$ insert into public.clients (organization_id, name) values (pg_temp.org('acme'), 'Erin Co') $$, '42501',
  'new row violates row-level security policy for table "clients"', 'T050.19 viewer cannot create clients (clients.create)');
select pg_temp.as_user('mallory');
select throws_ok($$ insert into public.clients (organization_id, name) values (pg_temp.org('globex'), 'Mallory Co') $$, '42501',
  'new row violates row-level security policy for table "clients"',
  'T050.20 clients.create in Acme does not let its holder create in Globex where she is a viewer');
select pg_temp.as_user('dave');
select throws_ok($$ insert into public.clients (organization_id, name) values (pg_temp.org('globex'), 'Dave Globex') $$, '42501',
  'new row violates row-level security policy for table "clients"', 'T050.21 member cannot create a client in another organization');
select throws_ok($$ insert into public.clients (organization_id, name, created_by) values (pg_temp.org('acme'), 'Framed Co', pg_temp.uid('alice')) $$,
  '42501', 'permission denied for table clients', 'T050.22 member cannot forge created_by (column grant)');
select throws_ok($$ insert into public.clients (id, organization_id, name) values (pg_temp.client(1, 10), pg_temp.org('acme'), 'Hijack') $$,
  '42501', 'permission denied for table clients', 'T050.23 member cannot choose a client''s id, an existing one included (the database chooses ids: column grant)');
select throws_ok($$ insert into public.clients (id, organization_id, name) values (pg_temp.client(1, 10), pg_temp.org('acme'), 'Hijack')
  on conflict (id) do update set name = excluded.name $$, '42501', null,
  'T050.24 member cannot upsert over an unassigned client (update policy applies to the existing row)');
select lives_ok($$ insert into public.clients (organization_id, name, email) values (pg_temp.org('acme'), 'Dave Own Co', 'own@dave.example') $$,
  'T050.25 member creates a client in his organization (clients.create)');
select results_eq($$ select created_by from public.clients where name = 'Dave Own Co' $$, $$ values (pg_temp.uid('dave')) $$,
  'T050.26 a client a member creates is assigned to its creator: he reads it back, created_by is him');
select is((select count(*)::int from public.user_clients uc join public.clients c on c.id = uc.client_id
  where c.name = 'Dave Own Co' and uc.user_id = pg_temp.uid('dave')), 1,
  'T050.27 the member''s new client carries an assignment to him (clients_assign_member_creator)');
select lives_ok($$ insert into public.clients (organization_id, name) values (pg_temp.org('acme'), 'Dave Returning Co') returning id, name $$,
  'T050.28 member creating a client with RETURNING (supabase-js insert().select()) gets the row back');
select pg_temp.as_user('carol');
select lives_ok($$ insert into public.clients (organization_id, name, status) values (pg_temp.org('acme'), 'Carol New Co', 'lead') $$,
  'T050.29 manager creates a client (clients.create)');
select is((select count(*)::int from public.user_clients uc join public.clients c on c.id = uc.client_id where c.name = 'Carol New Co'), 0,
  'T050.30 a reader of every client is not auto-assigned to what she creates');
select throws_ok($$ insert into public.clients (organization_id, name, email) values (pg_temp.org('acme'), 'Bad Mail', 'not-an-email') $$,
  '23514', null, 'T050.31 client email format is checked');
select throws_ok($$ insert into public.clients (organization_id, name, status) values (pg_temp.org('acme'), 'Bad Status', 'vip') $$,
  '22P02', null, 'T050.32 client status is one of lead, active, inactive, archived');
select pg_temp.as_user('bob');
select results_eq($$ insert into public.clients (organization_id, name) values (pg_temp.org('acme'), 'Bob New Co') returning created_by $$,
  $$ values (pg_temp.uid('bob')) $$, 'T050.33 admin creates a client as himself (created_by defaults to auth.uid())');
select pg_temp.as_user('alice');
select lives_ok($$ insert into public.clients (organization_id, name) values (pg_temp.org('acme'), 'Alice New Co') $$,
  'T050.34 owner creates a client');
select pg_temp.as_service();
select lives_ok($$ insert into public.clients (organization_id, name) values (pg_temp.org('initech'), 'Service Co') $$,
  'T050.35 service creates a client in any organization');

-- R4 update ------------------------------------------------------------------------------------
select pg_temp.as_user('nora');
select is_empty($$ update public.clients set name = 'Hijacked' where id = pg_temp.client(1, 1) returning id $$,
  'T050.36 non-member cannot update an Acme client (0 rows)');
select pg_temp.as_user('frank');
select is_empty($$ update public.clients set name = 'Hijacked' where organization_id = pg_temp.org('acme') returning id $$,
  'T050.37 owner of another organization cannot update Acme clients (0 rows)');
select pg_temp.as_user('heidi');
select is_empty($$ update public.clients set name = 'Hijacked' where id = pg_temp.client(1, 1) returning id $$,
  'T050.38 member of another organization cannot update an Acme client');
select pg_temp.as_user('erin');
select is_empty($$ update public.clients set status = 'archived' where true returning id $$,
  'T050.39 viewer updates no client although she reads them all (clients.update)');
select pg_temp.as_user('dave');
select results_eq($$ update public.clients set status = 'inactive' where id = pg_temp.client(1, 2) returning id $$,
  $$ values (pg_temp.client(1, 2)) $$, 'T050.40 member updates a client assigned to him');
select is_empty($$ update public.clients set name = 'Hijacked' where id = pg_temp.client(1, 10) returning id $$,
  'T050.41 member cannot update an unassigned client of his organization');
update public.clients set notes = 'touched by dave' where true;
select pg_temp.as_postgres();
select set_eq($$ select id from public.clients where notes = 'touched by dave' $$,
  $$ select client_id from public.user_clients where user_id = pg_temp.uid('dave') $$,
  'T050.42 an unfiltered update by a member touches exactly his assigned clients');
select pg_temp.as_user('carol');
select results_eq($$ update public.clients set name = 'Renamed by Carol' where id = pg_temp.client(1, 20) returning id $$,
  $$ values (pg_temp.client(1, 20)) $$, 'T050.43 manager updates any client of her organization (clients.update)');
select is_empty($$ update public.clients set name = 'Hijacked' where id = pg_temp.client(2, 1) returning id $$,
  'T050.44 manager cannot update a client of another organization');
select throws_ok($$ update public.clients set organization_id = pg_temp.org('globex') where id = pg_temp.client(1, 20) $$, '42501',
  'permission denied for table clients', 'T050.45 manager cannot move a client to another organization (column grant)');
select throws_ok($$ update public.clients set created_by = pg_temp.uid('dave') where id = pg_temp.client(1, 20) $$, '42501',
  'permission denied for table clients', 'T050.46 manager cannot rewrite created_by (column grant)');
select throws_ok($$ update public.clients set id = gen_random_uuid() where id = pg_temp.client(1, 20) $$, '42501',
  'permission denied for table clients', 'T050.47 manager cannot change a client id (column grant)');
select pg_temp.as_user('bob');
select results_eq($$ update public.clients set phone = '+1 555 0000' where id = pg_temp.client(1, 21) returning id $$,
  $$ values (pg_temp.client(1, 21)) $$, 'T050.48 admin updates any client of his organization');
select pg_temp.as_user('alice');
select results_eq($$ update public.clients set email = 'boss@client.example' where id = pg_temp.client(1, 22) returning id $$,
  $$ values (pg_temp.client(1, 22)) $$, 'T050.49 owner updates any client of her organization');
select throws_ok($$ update public.clients set organization_id = pg_temp.org('globex') where id = pg_temp.client(1, 22) $$, '42501',
  'permission denied for table clients', 'T050.50 owner cannot move a client to another organization either');
select pg_temp.as_service();
select throws_ok($$ update public.clients set organization_id = pg_temp.org('globex') where id = pg_temp.client(1, 23) $$, '42501',
  'a client cannot move to another organization', 'T050.51 clients.organization_id never changes, even for the service (trigger)');
select throws_ok($$ update public.clients set created_by = pg_temp.uid('alice') where id = pg_temp.client(1, 23) $$, '42501',
  'created_by cannot change', 'T050.52 created_by is set once, even for the service (trigger)');
select results_eq($$ update public.clients set name = 'Service Renamed' where id = pg_temp.client(3, 1) returning id $$,
  $$ values (pg_temp.client(3, 1)) $$, 'T050.53 service updates any client: the row is reached (bypasses RLS)');
select pg_temp.as_postgres();
select ok(not exists (select 1 from public.clients where name = 'Hijacked')
      and (select notes is null and status = 'lead' from public.clients where id = pg_temp.client(1, 6)),
  'T050.54 after the refused updates no client was renamed, and the viewer''s archive-all changed nothing');
select is((select organization_id from public.clients where id = pg_temp.client(1, 23)), pg_temp.org('acme'),
  'T050.55 the client the service tried to move is still in Acme');

-- R6 delete ------------------------------------------------------------------------------------
select pg_temp.as_user('nora');
select is_empty($$ delete from public.clients where true returning id $$, 'T050.56 non-member deletes no client');
select pg_temp.as_user('frank');
select is_empty($$ delete from public.clients where organization_id = pg_temp.org('acme') returning id $$,
  'T050.57 owner of another organization deletes no Acme client');
select pg_temp.as_user('erin');
select is_empty($$ delete from public.clients where id = pg_temp.client(1, 1) returning id $$,
  'T050.58 viewer cannot delete a client she reads (clients.delete)');
select pg_temp.as_user('dave');
select is_empty($$ delete from public.clients where id = pg_temp.client(1, 1) returning id $$,
  'T050.59 member cannot delete a client assigned to him (clients.delete)');
select is_empty($$ delete from public.clients where name = 'Dave Own Co' returning id $$,
  'T050.60 member cannot delete even the client he created (clients.delete)');
select pg_temp.as_user('carol');
select results_eq($$ delete from public.clients where id = pg_temp.client(1, 10) returning id $$,
  $$ values (pg_temp.client(1, 10)) $$, 'T050.61 manager deletes a client of her organization (clients.delete)');
select is_empty($$ select 1 from public.user_clients where client_id = pg_temp.client(1, 10) $$,
  'T050.62 deleting a client removes its assignments (cascade)');
select is_empty($$ delete from public.clients where id = pg_temp.client(2, 5) returning id $$,
  'T050.63 manager cannot delete a client of another organization');
select pg_temp.as_user('bob');
select results_eq($$ delete from public.clients where id = pg_temp.client(1, 24) returning id $$,
  $$ values (pg_temp.client(1, 24)) $$, 'T050.64 admin deletes a client of his organization');
select pg_temp.as_user('alice');
select results_eq($$ delete from public.clients where id = pg_temp.client(1, 25) returning id $$,
  $$ values (pg_temp.client(1, 25)) $$, 'T050.65 owner deletes a client of her organization');
select pg_temp.as_service();
select results_eq($$ delete from public.clients where id = pg_temp.client(3, 15) returning id $$,
  $$ values (pg_temp.client(3, 15)) $$, 'T050.66 service deletes any client: the row goes (bypasses RLS)');
select pg_temp.as_postgres();
select is((select count(*)::int from public.clients where organization_id = pg_temp.org('globex')), 20,
  'T050.67 Globex lost no client to Acme''s actors');

-- R7 name_lower ---------------------------------------------------------------------------
select pg_temp.as_user('carol');
select lives_ok($$ insert into public.clients (organization_id, name) values (pg_temp.org('acme'), 'ÉCLAIR Émile Northwind') $$,
  'T050.68 setup: manager creates a client with a mixed-case name');
select is((select name_lower from public.clients where name = 'ÉCLAIR Émile Northwind'), lower('ÉCLAIR Émile Northwind'),
  'T050.69 name_lower is lower(name) after an insert');
select lives_ok($$ update public.clients set name = 'Northwind ÉCLAIR' where name = 'ÉCLAIR Émile Northwind' $$,
  'T050.70 setup: manager renames it');
select is((select name_lower from public.clients where name = 'Northwind ÉCLAIR'), lower('Northwind ÉCLAIR'),
  'T050.71 name_lower follows an update of name');
select throws_ok($$ update public.clients set name_lower = 'x' where name = 'Northwind ÉCLAIR' $$, '428C9', null,
  'T050.72 name_lower cannot be written (generated always)');
select set_eq($$ select id from public.clients where name_lower >= 'north' and name_lower < 'north' || U&'\+10FFFF' $$,
  $$ select id from public.clients where starts_with(lower(name), 'north') $$,
  'T050.73 a prefix range on name_lower finds what a case-insensitive prefix match finds');
select pg_temp.as_user('dave');
select set_eq($$ select id from public.clients where name_lower >= 'north' and name_lower < 'north' || U&'\+10FFFF' $$,
  $$ select c.id from public.clients c join public.user_clients uc on uc.client_id = c.id
     where uc.user_id = pg_temp.uid('dave') and lower(c.name) like 'north%' $$,
  'T050.74 for a member, the same range finds only the assigned clients');

select * from finish();
rollback;

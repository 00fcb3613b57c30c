-- Threat cases at the edges of the permission matrix and the audit trail:
--   R1  only a `member` updates the clients assigned to them: an assigned
--       viewer cannot (clients.update is not a viewer's permission).
--   R2  a client created by a member is assigned to its creator, also when the
--       member holds another role there (member + viewer).
--   R3  an invitation is accepted only while its inviter can still grant the
--       role (members.manage and a rank at least the role's).
--   R4  every update that changes a value is audited (one that changes nothing
--       writes no row: 290_audit_no_op_updates.test.sql).
--   R5  nobody truncates a table through the API roles, not even the service
--       (TRUNCATE would skip the audit log and the owner invariant).

begin;
create extension if not exists pgtap with schema extensions;
select plan(14);


-- Personas and organizations (personas.psql, the suite's own fixtures) and how to act as them. Each helper switches
-- role and claims with SET LOCAL, which lasts until the final rollback (or
-- the next helper call): the statements that follow run as that actor.
\ir personas.psql

-- R1 an assigned viewer does not update -------------------------------------------------
select pg_temp.as_postgres();
insert into public.user_clients (organization_id, user_id, client_id)
values (pg_temp.org('acme'), pg_temp.uid('erin'), pg_temp.client(1, 12));
select pg_temp.as_user('erin');
select is((select count(*)::int from public.clients where id = pg_temp.client(1, 12)), 1,
  'T120.01 an assigned viewer still reads the client');
update public.clients set notes = 'viewer edit' where id = pg_temp.client(1, 12);
select pg_temp.as_postgres();
select is((select notes from public.clients where id = pg_temp.client(1, 12)), null,
  'T120.02 an assigned viewer cannot update it: the row is not reached');
select pg_temp.as_user('dave');
update public.clients set notes = 'member edit' where id = pg_temp.client(1, 1);
select pg_temp.as_postgres();
select is((select notes from public.clients where id = pg_temp.client(1, 1)), 'member edit',
  'T120.03 an assigned member updates it');

-- R2 a member who is also a viewer is assigned the client they create ---------------------
insert into public.user_roles (organization_id, user_id, role_id)
select pg_temp.org('acme'), pg_temp.uid('dave'), r.id from public.roles r where r.key = 'viewer';
select pg_temp.as_user('dave');
insert into public.clients (organization_id, name) values (pg_temp.org('acme'), 'Member Viewer Co');
select pg_temp.as_postgres();
select is((select count(*)::int from public.user_clients uc join public.clients c on c.id = uc.client_id
           where c.name = 'Member Viewer Co' and uc.user_id = pg_temp.uid('dave')), 1,
  'T120.04 a member holding viewer too is assigned the client they create');
select pg_temp.as_user('carol');
insert into public.clients (organization_id, name) values (pg_temp.org('acme'), 'Manager Co');
select pg_temp.as_postgres();
select is((select count(*)::int from public.user_clients uc join public.clients c on c.id = uc.client_id where c.name = 'Manager Co'), 0,
  'T120.05 a manager (not a member) is not assigned the client they create');

-- R3 the inviter must still be able to grant the role -------------------------------------
insert into auth.users (id, email, email_confirmed_at) values ('3f000000-0000-4000-8000-000000000001', 'late@example.com', now()),
                                                               ('3f000000-0000-4000-8000-000000000002', 'later@example.com', now());
select pg_temp.as_user('bob');
create temp table tickets as select * from public.invite_member(pg_temp.org('acme'), 'late@example.com', 'admin');
select pg_temp.as_user('alice');
create temp table tickets2 as select * from public.invite_member(pg_temp.org('acme'), 'later@example.com', 'member');
select pg_temp.as_postgres();
grant select on tickets, tickets2 to authenticated;
-- bob is demoted to manager: he can no longer grant admin (nor manage members).
select pg_temp.as_user('alice');
select public.set_member_roles(pg_temp.org('acme'), pg_temp.uid('bob'), array['manager']);
select pg_temp.as_postgres();
select set_config('request.jwt.claims', json_build_object('sub', '3f000000-0000-4000-8000-000000000001', 'role', 'authenticated')::text, true);
set local role authenticated;
select throws_ok($$ select public.accept_invitation((select token from tickets)) $$, 'P0001', 'invitation no longer valid',
  'T120.06 an invitation whose inviter lost members.manage cannot be accepted');
select pg_temp.as_postgres();
select is((select count(*)::int from public.organization_users where user_id = '3f000000-0000-4000-8000-000000000001'), 0,
  'T120.07 and nobody joined');
select set_config('request.jwt.claims', json_build_object('sub', '3f000000-0000-4000-8000-000000000002', 'role', 'authenticated')::text, true);
set local role authenticated;
select lives_ok($$ select public.accept_invitation((select token from tickets2)) $$,
  'T120.08 an invitation whose inviter still holds members.manage and the rank is accepted');

-- R4 every change is audited ---------------------------------------------------------------
select pg_temp.as_postgres();
select pg_temp.as_user('carol');
update public.clients set name = name where id = pg_temp.client(1, 20);
update public.clients set notes = 'reviewed' where id = pg_temp.client(1, 20);
select pg_temp.as_postgres();
select is((select count(*)::int from public.audit_log
           where table_name = 'clients' and record_id = pg_temp.client(1, 20) and action = 'update'
             and actor_id = pg_temp.uid('carol')), 1,
  'T120.09 an update that changes a value is audited, once (the no-op update before it writes nothing)');

-- R5 no TRUNCATE through the API roles ---------------------------------------------------
select pg_temp.as_service();
select throws_ok($$ truncate public.user_roles cascade $$, '42501', null,
  'T120.10 the service cannot truncate user_roles (would skip the owner invariant)');
select throws_ok($$ truncate public.audit_log $$, '42501', null,
  'T120.11 the service cannot truncate the audit log');
select throws_ok($$ truncate public.clients cascade $$, '42501', null,
  'T120.12 the service cannot truncate clients (would skip the audit log)');
select pg_temp.as_user('alice');
select throws_ok($$ truncate public.clients cascade $$, '42501', null,
  'T120.13 an owner cannot truncate clients');
select pg_temp.as_postgres();
select is((select array_agg(ur.user_id) from public.user_roles ur join public.roles r on r.id = ur.role_id
            where ur.organization_id = pg_temp.org('acme') and r.key = 'owner'), array[pg_temp.uid('alice')],
  'T120.14 the owner role is still there: alice still owns Acme');

select * from finish();
rollback;

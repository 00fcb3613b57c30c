-- Threat cases: every policy and RPC check is keyed on the permission it names,
-- not on another permission the built-in roles happen to hold together with it.
-- With built-in roles only, organization.update, members.manage, audit.read and
-- roles.manage are all exactly {owner, admin}, and clients.update, clients.delete
-- and clients.assign all exactly {owner, admin, manager}: swapping one for another
-- in a policy or an RPC changes nothing any built-in persona can observe. An
-- organization-defined role holding exactly one of them (SPEC 11) tells them apart.
--   R1  clients: delete needs clients.delete, update needs clients.update (not each other, not clients.assign).
--   R2  user_clients: insert and delete need clients.assign.
--   R3  audit_log: select needs audit.read.
--   R4  organizations: update needs organization.update.
--   R5  invitations: select needs members.manage.
--   R6  remove_member and revoke_invitation need members.manage; create_role needs roles.manage.
--   R7  accept_invitation re-checks that the inviter still holds members.manage (not any other permission).
begin;
create extension if not exists pgtap with schema extensions;
select plan(30);

\ir personas.psql

-- One Acme member per permission: viewer (clients.read, to reach the rows) plus
-- an Acme role holding exactly that permission; or that role alone.
create function pg_temp.x(name text) returns uuid language sql immutable as $$
  select ('f0000000-0000-4000-a000-0000000000' || case name when 'del' then 'c1' when 'upd' then 'c2' when 'asg' then 'c3'
    when 'aud' then 'c4' when 'mm' then 'c5' when 'ou' then 'c6' when 'rm' then 'c7' when 'invitee' then 'c8' end)::uuid
$$;
create function pg_temp.as_x(name text) returns void language plpgsql as $$
begin
  perform set_config('request.jwt.claims', json_build_object('sub', pg_temp.x(name), 'role', 'authenticated')::text, true);
  set local role authenticated;
end $$;
grant execute on all functions in schema pg_temp to public;

insert into auth.users (id, email, email_confirmed_at)
select pg_temp.x(n), 'x-' || n || '@example.test', now() from unnest(array['del', 'upd', 'asg', 'aud', 'mm', 'ou', 'rm', 'invitee']) n;

select pg_temp.as_user('alice');
do $$ begin
  perform public.create_role(pg_temp.org('acme'), 'x_del', 'Deleter', 15, '{clients.delete}');
  perform public.create_role(pg_temp.org('acme'), 'x_upd', 'Updater', 15, '{clients.update}');
  perform public.create_role(pg_temp.org('acme'), 'x_asg', 'Assigner', 15, '{clients.assign}');
  perform public.create_role(pg_temp.org('acme'), 'x_aud', 'Auditor', 35, '{audit.read}');
  perform public.create_role(pg_temp.org('acme'), 'x_mm', 'Member manager', 35, '{members.manage}');
  perform public.create_role(pg_temp.org('acme'), 'x_ou', 'Org editor', 35, '{organization.update}');
  perform public.create_role(pg_temp.org('acme'), 'x_rm', 'Role manager', 35, '{roles.manage}');
  perform public.create_role(pg_temp.org('acme'), 'x_plain', 'No permissions', 5, '{}');
end $$;
select pg_temp.as_postgres();
insert into public.organization_users (organization_id, user_id)
select pg_temp.org('acme'), pg_temp.x(n) from unnest(array['del', 'upd', 'asg', 'aud', 'mm', 'ou', 'rm']) n;
insert into public.user_roles (organization_id, user_id, role_id)
select pg_temp.org('acme'), pg_temp.x(g.n), r.id
from (values ('del', 'viewer'), ('del', 'x_del'), ('upd', 'viewer'), ('upd', 'x_upd'), ('asg', 'viewer'), ('asg', 'x_asg'),
             ('aud', 'x_aud'), ('mm', 'x_mm'), ('ou', 'x_ou'), ('rm', 'x_rm')) g (n, k)
join public.roles r on r.key = g.k and (r.organization_id is null or r.organization_id = pg_temp.org('acme'));

-- R1 clients.delete / clients.update ---------------------------------------------------------
select pg_temp.as_x('upd');
select is_empty($$ delete from public.clients where id = pg_temp.client(1, 20) returning id $$,
  'T510.01 clients.update without clients.delete deletes no client (clients_delete_deleters keyed on clients.delete)');
select pg_temp.as_x('asg');
select is_empty($$ delete from public.clients where id = pg_temp.client(1, 20) returning id $$,
  'T510.02 clients.assign without clients.delete deletes no client');
select pg_temp.as_x('del');
select results_eq($$ delete from public.clients where id = pg_temp.client(1, 20) returning id $$, $$ values (pg_temp.client(1, 20)) $$,
  'T510.03 clients.delete alone (with clients.read) deletes a client');
select is_empty($$ update public.clients set notes = 'x' where id = pg_temp.client(1, 21) returning id $$,
  'T510.04 clients.delete without clients.update updates no client (clients_update_updaters_or_assigned keyed on clients.update)');
select pg_temp.as_x('asg');
select is_empty($$ update public.clients set notes = 'x' where id = pg_temp.client(1, 21) returning id $$,
  'T510.05 clients.assign without clients.update updates no client');
select pg_temp.as_x('upd');
select results_eq($$ update public.clients set notes = 'x' where id = pg_temp.client(1, 21) returning id $$, $$ values (pg_temp.client(1, 21)) $$,
  'T510.06 clients.update alone (with clients.read) updates a client');

-- R2 clients.assign -------------------------------------------------------------------------------
select pg_temp.as_x('upd');
select throws_ok($$ insert into public.user_clients (organization_id, user_id, client_id) values (pg_temp.org('acme'), pg_temp.uid('dave'), pg_temp.client(1, 22)) $$,
  '42501', 'new row violates row-level security policy for table "user_clients"',
  'T510.07 clients.update without clients.assign cannot assign (user_clients_insert_assigners keyed on clients.assign)');
select pg_temp.as_x('del');
select throws_ok($$ insert into public.user_clients (organization_id, user_id, client_id) values (pg_temp.org('acme'), pg_temp.uid('dave'), pg_temp.client(1, 22)) $$,
  '42501', 'new row violates row-level security policy for table "user_clients"',
  'T510.08 clients.delete without clients.assign cannot assign');
select is_empty($$ delete from public.user_clients where user_id = pg_temp.uid('dave') and client_id = pg_temp.client(1, 1) returning client_id $$,
  'T510.09 clients.delete without clients.assign cannot unassign (user_clients_delete_assigners keyed on clients.assign)');
select pg_temp.as_x('upd');
select is_empty($$ delete from public.user_clients where user_id = pg_temp.uid('dave') and client_id = pg_temp.client(1, 1) returning client_id $$,
  'T510.10 clients.update without clients.assign cannot unassign');
select pg_temp.as_x('asg');
select lives_ok($$ insert into public.user_clients (organization_id, user_id, client_id) values (pg_temp.org('acme'), pg_temp.uid('dave'), pg_temp.client(1, 22)) $$,
  'T510.11 clients.assign alone (with clients.read) assigns');
select results_eq($$ delete from public.user_clients where user_id = pg_temp.uid('dave') and client_id = pg_temp.client(1, 1) returning client_id $$,
  $$ values (pg_temp.client(1, 1)) $$, 'T510.12 clients.assign alone (with clients.read) unassigns');

-- R3 audit.read -------------------------------------------------------------------------------------
select pg_temp.as_x('aud');
select isnt_empty($$ select 1 from public.audit_log where organization_id = pg_temp.org('acme') $$,
  'T510.13 audit.read alone reads the organization''s audit log');
select pg_temp.as_x('mm');
select is_empty($$ select 1 from public.audit_log $$, 'T510.14 members.manage without audit.read reads no audit row (audit_log_select_auditors keyed on audit.read)');
select pg_temp.as_x('ou');
select is_empty($$ select 1 from public.audit_log $$, 'T510.15 organization.update without audit.read reads no audit row');
select pg_temp.as_x('rm');
select is_empty($$ select 1 from public.audit_log $$, 'T510.16 roles.manage without audit.read reads no audit row');

-- R4 organization.update ------------------------------------------------------------------------------
select pg_temp.as_x('mm');
select is_empty($$ update public.organizations set name = 'By members.manage' where id = pg_temp.org('acme') returning id $$,
  'T510.17 members.manage without organization.update cannot rename the organization (organizations_update_permitted)');
select pg_temp.as_x('aud');
select is_empty($$ update public.organizations set name = 'By audit.read' where id = pg_temp.org('acme') returning id $$,
  'T510.18 audit.read without organization.update cannot rename the organization');
select pg_temp.as_x('ou');
select results_eq($$ update public.organizations set name = 'Acme Renamed' where id = pg_temp.org('acme') returning name $$,
  $$ values ('Acme Renamed') $$, 'T510.19 organization.update alone renames the organization');

-- R5 invitations: members.manage ---------------------------------------------------------------------
select pg_temp.as_x('aud');
select is_empty($$ select id from public.invitations $$, 'T510.20 audit.read without members.manage lists no invitation (invitations_select_managers)');
select pg_temp.as_x('ou');
select is_empty($$ select id from public.invitations $$, 'T510.21 organization.update without members.manage lists no invitation');
select pg_temp.as_x('mm');
select results_eq($$ select id from public.invitations $$, $$ values ('f3000000-0000-4000-8000-000000000001'::uuid) $$,
  'T510.22 members.manage alone lists the organization''s invitations');

-- R6 RPCs keyed on their permission --------------------------------------------------------------------
select pg_temp.as_x('ou');
select throws_ok($$ select public.remove_member(pg_temp.org('acme'), pg_temp.uid('erin')) $$, '42501',
  'permission denied: members.manage is required in this organization',
  'T510.23 remove_member: organization.update without members.manage cannot remove a member');
select throws_ok($$ select public.revoke_invitation('f3000000-0000-4000-8000-000000000001') $$, '42501',
  'permission denied: members.manage is required in this organization',
  'T510.24 revoke_invitation: organization.update without members.manage cannot revoke');
select pg_temp.as_x('mm');
select throws_ok($$ select public.create_role(pg_temp.org('acme'), 'x_new', 'New', 5, '{}') $$, '42501',
  'permission denied: roles.manage is required in this organization',
  'T510.25 create_role: members.manage without roles.manage cannot define a role');
select pg_temp.as_x('rm');
select isnt(public.create_role(pg_temp.org('acme'), 'x_new', 'New', 5, '{}'), null,
  'T510.26 create_role: roles.manage alone defines a role below its rank');
select pg_temp.as_x('mm');
select lives_ok($$ select public.remove_member(pg_temp.org('acme'), pg_temp.uid('erin')) $$,
  'T510.27 remove_member: members.manage alone removes a lower-ranked member');
select pg_temp.as_postgres();
select is((select count(*)::int from public.organization_users where organization_id = pg_temp.org('acme') and user_id = pg_temp.uid('erin')), 0,
  'T510.28 ... and the member is gone');

-- R7 accept_invitation re-checks members.manage of the inviter ------------------------------------------
select pg_temp.as_user('bob');
create temp table x_ticket as select * from public.invite_member(pg_temp.org('acme'), 'x-invitee@example.test', 'x_plain');
select pg_temp.as_postgres();
grant select on x_ticket to authenticated;
-- bob (admin) now holds only the organization.update role: rank 35 still covers x_plain (rank 5, no permissions),
-- so the one thing he lost that matters is members.manage.
select pg_temp.as_user('alice');
select public.set_member_roles(pg_temp.org('acme'), pg_temp.uid('bob'), array['x_ou']);
select pg_temp.as_x('invitee');
select throws_ok($$ select public.accept_invitation((select token from x_ticket)) $$, 'P0001', 'invitation no longer valid',
  'T510.29 an invitation whose inviter keeps organization.update but lost members.manage cannot be accepted');
select pg_temp.as_postgres();
select is((select count(*)::int from public.organization_users where user_id = pg_temp.x('invitee')), 0, 'T510.30 ... and nobody joined');

select * from finish();
rollback;

-- Threat cases for create_role, update_role, delete_role and custom roles in
-- the other RPCs (SPEC 11: organization-defined roles), with forged arguments.
--   R1  anon calls none of them; a non-member finds no organization or role
--       (P0002); a member without roles.manage is refused (42501).
--   R2  escalation by creating: a role's permissions are known ones the
--       caller holds there; members.manage, roles.manage, organization.delete
--       only from owners; rank below the caller's highest and below owner.
--   R3  escalation by updating: the same rules for the new definition; a role
--       at or above the caller's highest cannot be touched; built-in roles
--       never change; a role of another organization is not found.
--   R4  escalation by assigning: set_member_roles and invite_member resolve a
--       key within the organization (never another's); a role carrying a
--       permission the granter does not hold is refused.
--   R5  accept_invitation refuses an invitation whose role was raised above
--       its inviter meanwhile.
--   R6  deletion: refused while members hold the role or pending invitations
--       name it, naming how many; with a replacement (a built-in or a role of
--       the organization the caller may grant) holders move and invitations
--       are re-pointed, audited; invitations no longer pending lose the role.
-- Fixtures: custom_roles_fixtures.psql (own organizations and users).
begin;
create extension if not exists pgtap with schema extensions;
select plan(63);

\ir custom_roles_fixtures.psql
\ir personas.psql

create temp table t_role (name text primary key, id uuid);
create temp table t_tok (name text primary key, token text, invitation_id uuid);
grant all on t_role, t_tok to public;

-- R1 who may call ----------------------------------------------------------------------------------
select pg_temp.as_anon();
select throws_ok($$ select public.create_role(pg_temp.fx_org('alpha'), 'x_role', 'X', 10, '{}') $$, '42501', null,
  'T320.01 anon cannot call create_role');
select throws_ok($$ select public.update_role(gen_random_uuid(), 'X', 10, '{}') $$, '42501', null,
  'T320.02 anon cannot call update_role');
select throws_ok($$ select public.delete_role(gen_random_uuid()) $$, '42501', null, 'T320.03 anon cannot call delete_role');
select pg_temp.act('outsider');
select throws_ok($$ select public.create_role(pg_temp.fx_org('alpha'), 'x_role', 'X', 10, '{}') $$, 'P0002', null,
  'T320.04 a non-member cannot create a role in A (organization not found)');
select pg_temp.act('a_manager');
select throws_ok($$ select public.create_role(pg_temp.fx_org('alpha'), 'x_role', 'X', 10, '{clients.read}') $$, '42501',
  'permission denied: roles.manage is required in this organization', 'T320.05 a manager (no roles.manage) cannot create a role');
select pg_temp.act('b_owner');
select throws_ok($$ select public.create_role(pg_temp.fx_org('alpha'), 'x_role', 'X', 10, '{}') $$, 'P0002', null,
  'T320.06 B''s owner cannot create a role in A');

-- R2 creating --------------------------------------------------------------------------------------
select pg_temp.act('a_admin');
select throws_ok($$ select public.create_role(pg_temp.fx_org('alpha'), 'deleter', 'D', 20, '{organization.delete}') $$, '42501', null,
  'T320.07 an admin cannot give a role organization.delete (she does not hold it)');
select throws_ok($$ select public.create_role(pg_temp.fx_org('alpha'), 'hr', 'HR', 20, '{members.manage}') $$, '42501',
  'permission denied: only owners give a role members.manage', 'T320.08 an admin cannot give a role members.manage (owners only)');
select throws_ok($$ select public.create_role(pg_temp.fx_org('alpha'), 'hr', 'HR', 20, '{roles.manage}') $$, '42501',
  'permission denied: only owners give a role roles.manage', 'T320.09 an admin cannot give a role roles.manage (owners only)');
select throws_ok($$ select public.create_role(pg_temp.fx_org('alpha'), 'peer', 'P', 40, '{clients.read}') $$, '42501', null,
  'T320.10 an admin cannot create a role at her own rank (40)');
select throws_ok($$ select public.create_role(pg_temp.fx_org('alpha'), 'boss', 'B', 45, '{clients.read}') $$, '42501', null,
  'T320.11 an admin cannot create a role above her rank');
select throws_ok($$ select public.create_role(pg_temp.fx_org('alpha'), 'zero', 'Z', 0, '{}') $$, '22023', null,
  'T320.12 rank 0 is refused');
select throws_ok($$ select public.create_role(pg_temp.fx_org('alpha'), 'odd', 'O', 10, '{everything.all}') $$, '22023',
  'unknown permission: everything.all', 'T320.13 an unknown permission is refused');
select throws_ok($$ select public.create_role(pg_temp.fx_org('alpha'), 'viewer', 'V', 10, '{}') $$, '23505',
  'role key viewer is reserved for a built-in role', 'T320.14 a built-in key is refused');
select throws_ok($$ select public.create_role(pg_temp.fx_org('alpha'), 'Bad Key', 'V', 10, '{}') $$, '22023', null,
  'T320.15 a malformed key is refused');
insert into t_role select 'billing', public.create_role(pg_temp.fx_org('alpha'), 'billing', 'Billing', 39, '{clients.read,clients.work_assigned}');
select isnt((select id from t_role where name = 'billing'), null,
  'T320.16 an admin creates a role below her rank with permissions she holds or covers (clients.work_assigned)');
select throws_ok($$ select public.create_role(pg_temp.fx_org('alpha'), 'billing', 'Again', 10, '{}') $$, '23505',
  'role key billing is taken in this organization', 'T320.17 a key is unique within the organization');
select pg_temp.act('a_owner');
insert into t_role select 'hr', public.create_role(pg_temp.fx_org('alpha'), 'hr', 'HR', 35, '{members.manage,roles.manage,clients.read}');
select isnt((select id from t_role where name = 'hr'), null, 'T320.18 an owner gives a role members.manage and roles.manage');
select throws_ok($$ select public.create_role(pg_temp.fx_org('alpha'), 'co_owner', 'C', 50, '{}') $$, '22023', null,
  'T320.19 not even an owner creates a role at owner''s rank');
insert into t_role select 'deleter', public.create_role(pg_temp.fx_org('alpha'), 'deleter', 'Deleter', 20, '{clients.delete}');
select pg_temp.act('b_owner');
insert into t_role select 'b_billing', public.create_role(pg_temp.fx_org('beta'), 'billing', 'Billing', 10, '{clients.read}');
select isnt((select id from t_role where name = 'b_billing'), null, 'T320.20 B defines its own role with a key A uses');

-- a_hr holds hr (members.manage, roles.manage, clients.read; rank 35).
select pg_temp.act('a_owner');
select public.set_member_roles(pg_temp.fx_org('alpha'), pg_temp.fx('a_hr'), '{hr}');
select pg_temp.act('a_hr');
select throws_ok($$ select public.create_role(pg_temp.fx_org('alpha'), 'killer', 'K', 10, '{clients.delete}') $$, '42501', null,
  'T320.21 a holder of roles.manage through an organization''s role cannot give a permission she lacks');
select throws_ok($$ select public.create_role(pg_temp.fx_org('alpha'), 'sub_hr', 'S', 10, '{members.manage}') $$, '42501', null,
  'T320.22 ... nor members.manage (owners only), although she holds it');

-- R3 updating --------------------------------------------------------------------------------------
select throws_ok(format($$ select public.update_role(%L, null, null, '{members.manage,roles.manage,clients.read,clients.delete}') $$,
  (select id from t_role where name = 'hr')), '42501', null,
  'T320.23 a holder cannot change her own role (it ranks at her highest)');
select pg_temp.act('a_admin');
select throws_ok(format($$ select public.update_role(%L, null, 40, null) $$, (select id from t_role where name = 'billing')), '42501', null,
  'T320.24 an admin cannot raise a role to her own rank');
select throws_ok(format($$ select public.update_role(%L, null, null, '{clients.read,organization.delete}') $$,
  (select id from t_role where name = 'billing')), '42501', null, 'T320.25 an admin cannot add a permission she lacks');
select throws_ok(format($$ select public.update_role(%L, null, null, '{clients.read,members.manage}') $$,
  (select id from t_role where name = 'billing')), '42501', 'permission denied: only owners give a role members.manage',
  'T320.26 an admin cannot add members.manage');
select throws_ok(format($$ select public.update_role(%L, 'Renamed', null, null) $$, pg_temp.role_id(null, 'viewer')), '42501',
  'permission denied: built-in roles cannot be changed', 'T320.27 built-in roles never change');
select throws_ok(format($$ select public.update_role(%L, 'Mine now', null, null) $$, (select id from t_role where name = 'b_billing')), 'P0002',
  'role not found', 'T320.28 A''s admin cannot change B''s role (not found)');
select lives_ok(format($$ select public.update_role(%L, 'Billing team', 30, '{clients.read,clients.update}') $$,
  (select id from t_role where name = 'billing')), 'T320.29 an admin changes a role below her rank within her permissions');
select is((select rank from public.roles where id = (select id from t_role where name = 'billing')), 30, 'T320.30 ... the rank changed');
select pg_temp.act('a_manager');
select throws_ok(format($$ select public.update_role(%L, null, null, '{clients.read,clients.update,clients.delete}') $$,
  (select id from t_role where name = 'billing')), '42501', null, 'T320.31 a manager (no roles.manage) cannot change a role');

-- R4 assigning -------------------------------------------------------------------------------------
select pg_temp.act('a_admin');
select lives_ok($$ select public.set_member_roles(pg_temp.fx_org('alpha'), pg_temp.fx('a_plain'), '{billing}') $$,
  'T320.32 set_member_roles grants a role of the organization by its key');
select is((select role_id from public.user_roles where organization_id = pg_temp.fx_org('alpha') and user_id = pg_temp.fx('a_plain')),
  (select id from t_role where name = 'billing'), 'T320.33 ... the key resolved to A''s role, not B''s of the same key');
select pg_temp.act('b_owner');
select throws_ok($$ select public.set_member_roles(pg_temp.fx_org('beta'), pg_temp.fx('b_admin'), '{hr}') $$, '22023', 'unknown role: hr',
  'T320.34 B cannot grant A''s role by its key (unknown there)');
select throws_ok($$ select public.invite_member(pg_temp.fx_org('beta'), 'someone@roles.test', 'deleter') $$, '22023', 'unknown role: deleter',
  'T320.35 B cannot invite with A''s role');
select pg_temp.act('a_hr');
select throws_ok($$ select public.set_member_roles(pg_temp.fx_org('alpha'), pg_temp.fx('a_second'), '{deleter}') $$, '42501',
  'permission denied: the role carries permissions you do not hold',
  'T320.36 a members.manage holder cannot grant a lower role carrying a permission she lacks (clients.delete)');
select throws_ok($$ select public.invite_member(pg_temp.fx_org('alpha'), 'someone@roles.test', 'deleter') $$, '42501',
  'permission denied: the role carries permissions you do not hold', 'T320.37 ... nor invite with it');
select throws_ok($$ select public.set_member_roles(pg_temp.fx_org('alpha'), pg_temp.fx('a_hr'), '{hr,deleter}') $$, '42501',
  'you cannot change your own roles', 'T320.38 nobody assigns a role to herself');
select pg_temp.act('a_admin');
select lives_ok($$ select public.set_member_roles(pg_temp.fx_org('alpha'), pg_temp.fx('a_second'), '{hr}') $$,
  'T320.39 an admin grants a lower role an owner defined when she holds its every permission');
select pg_temp.act('a_second');
select is(public.authorize(pg_temp.fx_org('alpha'), 'members.manage'), true, 'T320.40 authorize: the holder now manages members');
select is(public.authorize(pg_temp.fx_org('alpha'), 'clients.delete'), false, 'T320.41 authorize: ... and holds nothing the role lacks');

-- R5 invitations ----------------------------------------------------------------------------------
select pg_temp.act('a_admin');
insert into t_tok select 'invitee', i.token, i.invitation_id
  from public.invite_member(pg_temp.fx_org('alpha'), 'invitee@roles.test', 'billing') i;
select is((select role_id from public.invitations where id = (select invitation_id from t_tok where name = 'invitee')),
  (select id from t_role where name = 'billing'), 'T320.42 invite_member names A''s role by its key');
select pg_temp.act('a_owner');
select public.update_role((select id from t_role where name = 'billing'), null, 45, null);
select pg_temp.act('invitee');
select throws_ok($$ select public.accept_invitation((select token from t_tok where name = 'invitee')) $$, 'P0001',
  'invitation no longer valid', 'T320.43 an invitation whose role was raised above its inviter meanwhile is refused at accept');
select pg_temp.act('a_owner');
select public.update_role((select id from t_role where name = 'billing'), null, 30, null);

-- R6 deleting --------------------------------------------------------------------------------------
select pg_temp.act('a_admin');
select throws_ok(format($$ select public.delete_role(%L) $$, (select id from t_role where name = 'billing')), 'P0001',
  'role in use: held by 1 member(s) and named by 1 pending invitation(s)',
  'T320.44 a role held by members or named by pending invitations is not deleted, and the error says how many');
select throws_ok(format($$ select public.delete_role(%L, %L) $$, (select id from t_role where name = 'billing'),
  (select id from t_role where name = 'b_billing')), 'P0002', null, 'T320.45 the replacement cannot be B''s role');
select throws_ok(format($$ select public.delete_role(%L, %L) $$, (select id from t_role where name = 'billing'), pg_temp.role_id(null, 'owner')),
  '42501', 'permission denied: you cannot grant the replacement role', 'T320.46 an admin cannot move holders to owner');
select throws_ok(format($$ select public.delete_role(%L, %L) $$, (select id from t_role where name = 'billing'), (select id from t_role where name = 'billing')),
  '22023', null, 'T320.47 the replacement is another role');
select throws_ok(format($$ select public.delete_role(%L) $$, pg_temp.role_id(null, 'viewer')), '42501',
  'permission denied: built-in roles cannot be changed', 'T320.48 built-in roles are never deleted');
select pg_temp.act('b_owner');
select throws_ok(format($$ select public.delete_role(%L) $$, (select id from t_role where name = 'billing')), 'P0002', null,
  'T320.49 B''s owner cannot delete A''s role (not found)');
select pg_temp.act('a_admin');
select lives_ok(format($$ select public.delete_role(%L, %L) $$, (select id from t_role where name = 'billing'), pg_temp.role_id(null, 'viewer')),
  'T320.50 with a built-in replacement the role is deleted');
select results_eq($$ select r.key from public.user_roles ur join public.roles r on r.id = ur.role_id
                     where ur.organization_id = pg_temp.fx_org('alpha') and ur.user_id = pg_temp.fx('a_plain') $$,
  $$ values ('viewer') $$, 'T320.51 ... its holder moved to the replacement');
select is((select role_id from public.invitations where id = (select invitation_id from t_tok where name = 'invitee')),
  pg_temp.role_id(null, 'viewer'), 'T320.52 ... its pending invitation now names the replacement');
select ok((select count(distinct table_name) from public.audit_log
           where organization_id = pg_temp.fx_org('alpha')
             and ((table_name = 'roles' and action = 'delete' and record_id = (select id from t_role where name = 'billing'))
               or (table_name = 'user_roles' and record_id = pg_temp.fx('a_plain') and action = 'insert'
                   and new ->> 'role_id' = pg_temp.role_id(null, 'viewer')::text)
               or (table_name = 'invitations' and action = 'update' and record_id = (select invitation_id from t_tok where name = 'invitee')))) = 3,
  'T320.53 ... the deletion, the move and the re-pointing are audited with A''s id (A''s auditor reads them)');
select throws_ok($$ select public.set_member_roles(pg_temp.fx_org('alpha'), pg_temp.fx('a_plain'), '{billing}') $$, '22023',
  'unknown role: billing', 'T320.54 a deleted role cannot be assigned any more');
select pg_temp.act('invitee');
select is(public.accept_invitation((select token from t_tok where name = 'invitee')), pg_temp.fx_org('alpha'),
  'T320.55 the re-pointed invitation is accepted');
select is((select r.key from public.user_roles ur join public.roles r on r.id = ur.role_id where ur.user_id = pg_temp.fx('invitee')), 'viewer',
  'T320.56 ... with the replacement role');
select pg_temp.act('a_owner');
insert into t_tok select 'late', i.token, i.invitation_id from public.invite_member(pg_temp.fx_org('alpha'), 'late@roles.test', 'deleter') i;
select public.revoke_invitation((select invitation_id from t_tok where name = 'late'));
select lives_ok(format($$ select public.delete_role(%L) $$, (select id from t_role where name = 'deleter')),
  'T320.57 a role no member holds and only a revoked invitation names is deleted without a replacement');
select pg_temp.as_postgres();
select is((select role_id from public.invitations where id = (select invitation_id from t_tok where name = 'late')), null,
  'T320.58 ... the revoked invitation keeps no role (it can never be accepted)');
select pg_temp.act('a_owner');
select lives_ok(format($$ select public.revoke_invitation(%L) $$, (select invitation_id from t_tok where name = 'late')),
  'T320.59 revoking it again still does nothing (no role to check)');

-- Holding organization.delete (through an organization's role) does not let a non-owner give it.
select pg_temp.act('a_owner');
select public.create_role(pg_temp.fx_org('alpha'), 'co_deleter', 'Co-deleter', 45, '{organization.delete}');
select public.set_member_roles(pg_temp.fx_org('alpha'), pg_temp.fx('a_admin'), '{admin,co_deleter}');
select pg_temp.act('a_admin');
select ok(public.authorize(pg_temp.fx_org('alpha'), 'organization.delete'),
  'T320.60 an admin given organization.delete through an organization''s role holds it');
select throws_ok($$ select public.create_role(pg_temp.fx_org('alpha'), 'tmp_del', 'Tmp', 10, '{organization.delete}') $$,
  '42501', 'permission denied: only owners give a role organization.delete',
  'T320.61 ... and still cannot give it to a role (owners only)');

-- update_role's name, rank and permissions may be left out (migration 20261201010100).
select pg_temp.act('a_owner');
select lives_ok(format($$ select public.update_role(role_id => %L, name => 'Co-deleter team') $$, pg_temp.role_id('alpha', 'co_deleter')),
  'T320.62 update_role with the name alone renames the role');
select pg_temp.as_postgres();
select results_eq(
  format($$ select r.name, r.rank, array(select rp.permission from public.role_permissions rp where rp.role_id = r.id)
            from public.roles r where r.id = %L $$, pg_temp.role_id('alpha', 'co_deleter')),
  $$ values ('Co-deleter team'::text, 45, array['organization.delete']::text[]) $$,
  'T320.63 ... and keeps its rank and permissions');

select * from finish();
rollback;

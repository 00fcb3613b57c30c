-- Threat cases: handing out a role never hands out more than the giver holds
-- (SPEC 11, organization-defined roles; migration 20261201009500).
--   G1  a holder of members.manage through an organization's role that ranks
--       above admin cannot hand out a built-in role carrying a permission she
--       lacks: not by set_member_roles, not by invite_member, and her
--       invitation is refused at accept once she no longer holds what it
--       carries; she may hand out the built-in roles whose permissions she
--       holds.
--   G2  the built-in ladder is unchanged: owners and admins hand out the
--       built-in roles at or below their own.
--   G3  delete_role with a replacement hands the replacement out: a holder
--       of roles.manage alone cannot move anyone (herself included) or
--       re-point invitations; a holder of members.manage through an
--       organization's role only to a replacement she may hand out.
--   G4  <area>.work_assigned is covered by <area>.read with <area>.update for
--       every area, as clients.work_assigned is.
--   G5  the built-in ladder counts only a built-in role carrying
--       members.manage: a member's rank hands out nothing; delete_role never
--       moves a holder who outranks the caller, nor the caller herself;
--       moving the rank of a role members hold, or pending invitations name,
--       needs members.manage.
--   G6  adding permissions to such a role, or taking them away (migration
--       20261201010700), needs members.manage too, and no holder may
--       outrank the caller; renaming a role needs roles.manage only, and
--       checks none of the permissions it keeps.
--   G7  another role of the same organization may be the replacement: the
--       holders move to it, pending invitations name it, all audited.
-- Fixtures: custom_roles_fixtures.psql (own organizations and users).
begin;
create extension if not exists pgtap with schema extensions;
select plan(54);

\ir custom_roles_fixtures.psql
\ir personas.psql

create temp table t_role (name text primary key, id uuid);
create temp table t_tok (name text primary key, token text);
grant all on t_role, t_tok to public;

create function pg_temp.roles_of(who text) returns text[] language sql stable security definer as $$
  select coalesce(array_agg(r.key order by r.key), '{}')
  from public.user_roles ur join public.roles r on r.id = ur.role_id
  where ur.organization_id = pg_temp.fx_org('alpha') and ur.user_id = pg_temp.fx(who)
$$;
create function pg_temp.invited_role(token text) returns text language sql stable security definer as $$
  select r.key from public.invitations i join public.roles r on r.id = i.role_id where i.token_hash = private.hash_token(token)
$$;
-- The permissions given, and what the built-in viewer carries: clients.read, and the read permission
-- of any table a project added (entity:new grants <table>.read to viewer). The roles whose holders
-- must hold all of viewer's permissions are made with it.
create function pg_temp.and_viewers(permissions text[]) returns text[] language sql stable security definer as $$
  select array(select distinct p from unnest(permissions || array(
    select rp.permission from public.role_permissions rp join public.roles r on r.id = rp.role_id
    where r.key = 'viewer' and r.organization_id is null)) p order by 1)
$$;
grant execute on all functions in schema pg_temp to public;

-- The owner defines roles that rank above admin (40) and below owner (50).
select pg_temp.act('a_owner');
insert into t_role select 'hr_high', public.create_role(pg_temp.fx_org('alpha'), 'hr_high', 'HR', 45,
  pg_temp.and_viewers('{members.manage,clients.read}'));
insert into t_role select 'designer', public.create_role(pg_temp.fx_org('alpha'), 'designer', 'Role designer', 45, '{roles.manage}');
insert into t_role select 'hr_full', public.create_role(pg_temp.fx_org('alpha'), 'hr_full', 'HR lead', 45,
  pg_temp.and_viewers('{members.manage,roles.manage,clients.read}'));
insert into t_role select 'intern', public.create_role(pg_temp.fx_org('alpha'), 'intern', 'Intern', 5, '{}');
select public.set_member_roles(pg_temp.fx_org('alpha'), pg_temp.fx('a_hr'), '{hr_high}');
select public.set_member_roles(pg_temp.fx_org('alpha'), pg_temp.fx('a_second'), '{designer,intern}');

-- G1 handing out built-in roles through an organization's role ----------------------------------
select pg_temp.act('a_hr');
select throws_ok($$ select public.set_member_roles(pg_temp.fx_org('alpha'), pg_temp.fx('a_plain'), '{admin}') $$, '42501',
  'permission denied: the role carries permissions you do not hold',
  'T325.01 members.manage through an organization''s role ranked above admin does not hand out admin');
select throws_ok($$ select public.set_member_roles(pg_temp.fx_org('alpha'), pg_temp.fx('a_plain'), '{manager}') $$, '42501',
  'permission denied: the role carries permissions you do not hold', 'T325.02 ... nor manager (clients.delete, clients.assign)');
select throws_ok($$ select public.set_member_roles(pg_temp.fx_org('alpha'), pg_temp.fx('a_plain'), '{member}') $$, '42501',
  'permission denied: the role carries permissions you do not hold', 'T325.03 ... nor member (clients.create)');
select throws_ok($$ select public.invite_member(pg_temp.fx_org('alpha'), 'invitee@roles.test', 'admin') $$, '42501',
  'permission denied: the role carries permissions you do not hold', 'T325.04 ... nor invites with admin');
select throws_ok($$ select public.invite_member(pg_temp.fx_org('alpha'), 'invitee@roles.test', 'manager') $$, '42501',
  'permission denied: the role carries permissions you do not hold', 'T325.05 ... nor with manager');
select lives_ok($$ select public.set_member_roles(pg_temp.fx_org('alpha'), pg_temp.fx('a_plain'), '{viewer}') $$,
  'T325.06 she hands out viewer, whose one permission (clients.read) she holds');
insert into t_tok select 'viewer', (public.invite_member(pg_temp.fx_org('alpha'), 'invitee@roles.test', 'viewer')).token;
select isnt((select token from t_tok where name = 'viewer'), null, 'T325.07 ... and invites with it');
select pg_temp.act('a_owner');
select public.update_role((select id from t_role where name = 'hr_high'), null, null, '{members.manage}');
select pg_temp.act('invitee');
select throws_ok(format($$ select public.accept_invitation(%L) $$, (select token from t_tok where name = 'viewer')), 'P0001',
  'invitation no longer valid', 'T325.08 her invitation is refused at accept once she no longer holds clients.read');
select pg_temp.act('a_hr');
select lives_ok($$ select public.set_member_roles(pg_temp.fx_org('alpha'), pg_temp.fx('a_plain'), '{intern}') $$,
  'T325.09 she still hands out a role without permissions (and takes viewer back)');
select throws_ok($$ select public.set_member_roles(pg_temp.fx_org('alpha'), pg_temp.fx('a_plain'), '{viewer}') $$, '42501',
  'permission denied: the role carries permissions you do not hold', 'T325.10 ... but viewer no more, now that she lacks clients.read');
select is(pg_temp.roles_of('a_plain'), '{intern}', 'T325.11 the refused call changed nothing');

-- G2 the built-in ladder -------------------------------------------------------------------------
select pg_temp.act('a_admin');
select lives_ok($$ select public.set_member_roles(pg_temp.fx_org('alpha'), pg_temp.fx('a_plain'), '{manager,member,viewer}') $$,
  'T325.12 an admin hands out manager, member and viewer');
select lives_ok($$ select public.set_member_roles(pg_temp.fx_org('alpha'), pg_temp.fx('a_plain'), '{admin}') $$,
  'T325.13 ... and admin (her own rank)');
select pg_temp.act('a_owner');
select lives_ok($$ select public.set_member_roles(pg_temp.fx_org('alpha'), pg_temp.fx('a_plain'), '{owner}') $$,
  'T325.14 an owner hands out owner');
select public.set_member_roles(pg_temp.fx_org('alpha'), pg_temp.fx('a_plain'), '{intern}');

-- G3 deleting a role with a replacement ----------------------------------------------------------
insert into t_tok select 'intern', (public.invite_member(pg_temp.fx_org('alpha'), 'invitee@roles.test', 'intern')).token;
select pg_temp.act('a_second');
select throws_ok(format($$ select public.delete_role(%L, %L) $$, (select id from t_role where name = 'intern'), pg_temp.role_id(null, 'admin')),
  '42501', 'permission denied: members.manage is required in this organization',
  'T325.15 roles.manage alone does not move a role''s holders (herself included) to admin');
select throws_ok(format($$ select public.delete_role(%L, %L) $$, (select id from t_role where name = 'intern'), pg_temp.role_id(null, 'viewer')),
  '42501', 'permission denied: members.manage is required in this organization', 'T325.16 ... nor to viewer');
select is(pg_temp.roles_of('a_second'), '{designer,intern}', 'T325.17 her roles are unchanged');
select is(pg_temp.invited_role((select token from t_tok where name = 'intern')),
  'intern', 'T325.18 the pending invitation still names intern');
select pg_temp.act('a_owner');
select public.set_member_roles(pg_temp.fx_org('alpha'), pg_temp.fx('a_hr'), '{hr_full}');
select pg_temp.act('a_hr');
select throws_ok(format($$ select public.delete_role(%L, %L) $$, (select id from t_role where name = 'intern'), pg_temp.role_id(null, 'admin')),
  '42501', 'permission denied: you cannot grant the replacement role',
  'T325.19 members.manage and roles.manage through an organization''s role: not to admin');
select throws_ok(format($$ select public.delete_role(%L, %L) $$, (select id from t_role where name = 'intern'), pg_temp.role_id(null, 'manager')),
  '42501', 'permission denied: you cannot grant the replacement role', 'T325.20 ... nor to manager');
select lives_ok(format($$ select public.delete_role(%L, %L) $$, (select id from t_role where name = 'intern'), pg_temp.role_id(null, 'viewer')),
  'T325.21 ... to viewer, whose permissions she holds');
select is(pg_temp.roles_of('a_plain'), '{viewer}', 'T325.22 ... its holders moved to viewer');

-- G5 rank from a member's built-in role, holders who outrank, rank moves ---------------------------
select pg_temp.act('a_owner');
insert into t_role select 'lead', public.create_role(pg_temp.fx_org('alpha'), 'lead', 'Team lead', 25, '{members.manage,roles.manage}');
insert into t_role select 'mentor', public.create_role(pg_temp.fx_org('alpha'), 'mentor', 'Mentor', 5, '{}');
insert into t_role select 'tag', public.create_role(pg_temp.fx_org('alpha'), 'tag', 'Tag', 1, '{}');
select public.set_member_roles(pg_temp.fx_org('alpha'), pg_temp.fx('a_member'), '{member,lead,tag}');
select public.set_member_roles(pg_temp.fx_org('alpha'), pg_temp.fx('a_manager'), '{manager,mentor}');
select public.set_member_roles(pg_temp.fx_org('alpha'), pg_temp.fx('a_plain'), '{tag}');
select pg_temp.act('a_member');
select throws_ok($$ select public.set_member_roles(pg_temp.fx_org('alpha'), pg_temp.fx('a_plain'), '{viewer}') $$, '42501',
  'permission denied: the role carries permissions you do not hold',
  'T325.23 a member with members.manage through an organization''s role does not hand out viewer (member outranks viewer, but member carries no members.manage)');
select throws_ok($$ select public.invite_member(pg_temp.fx_org('alpha'), 'invitee@roles.test', 'viewer') $$, '42501',
  'permission denied: the role carries permissions you do not hold', 'T325.24 ... nor invites with it');
select throws_ok(format($$ select public.delete_role(%L, %L) $$, (select id from t_role where name = 'tag'), pg_temp.role_id(null, 'viewer')),
  '42501', 'you cannot change your own roles', 'T325.25 ... nor moves herself to it by deleting a role she holds (nobody changes their own roles)');
select throws_ok(format($$ select public.delete_role(%L, %L) $$, (select id from t_role where name = 'mentor'), (select id from t_role where name = 'lead')),
  '42501', 'permission denied: a holder of the role outranks you',
  'T325.26 delete_role does not move a holder who outranks the caller (a manager) to the caller''s own role');
select is(pg_temp.roles_of('a_manager'), '{manager,mentor}', 'T325.27 ... the manager''s roles are unchanged');
select pg_temp.act('a_second');
select throws_ok(format($$ select public.update_role(%L, null, 44, null) $$, (select id from t_role where name = 'tag')), '42501',
  'permission denied: members.manage is required in this organization',
  'T325.28 roles.manage alone does not move the rank of a role members hold (it would widen their members.manage)');
select lives_ok(format($$ select public.update_role(%L, 'Tag (renamed)', null, null) $$, (select id from t_role where name = 'tag')),
  'T325.29 ... but renames it');
select pg_temp.act('a_owner');
insert into t_role select 'unused', public.create_role(pg_temp.fx_org('alpha'), 'unused', 'Unused', 2, '{}');
select pg_temp.act('a_second');
select lives_ok(format($$ select public.update_role(%L, null, 30, null) $$, (select id from t_role where name = 'unused')),
  'T325.30 ... and moves the rank of a role nobody holds');
select pg_temp.act('a_admin');
select lives_ok(format($$ select public.update_role(%L, null, 30, null) $$, (select id from t_role where name = 'tag')),
  'T325.31 an admin (members.manage and roles.manage) moves the rank of a held role');

select pg_temp.act('a_owner');
insert into t_role select 'guest', public.create_role(pg_temp.fx_org('alpha'), 'guest', 'Guest', 3, '{}');
select public.invite_member(pg_temp.fx_org('alpha'), 'invitee@roles.test', 'guest');
select pg_temp.act('a_second');
select throws_ok(format($$ select public.update_role(%L, null, 44, null) $$, (select id from t_role where name = 'guest')), '42501',
  'permission denied: members.manage is required in this organization',
  'T325.32 roles.manage alone does not move the rank of a role a pending invitation names (the invitee would join at it)');
select pg_temp.act('a_admin');
select public.set_member_roles(pg_temp.fx_org('alpha'), pg_temp.fx('a_manager'), '{manager,tag}');
select pg_temp.act('a_owner');
select public.set_member_roles(pg_temp.fx_org('alpha'), pg_temp.fx('a_admin'), '{admin,tag}');
select pg_temp.act('a_admin');
select throws_ok(format($$ select public.delete_role(%L, %L) $$, (select id from t_role where name = 'tag'), pg_temp.role_id(null, 'manager')),
  '42501', 'you cannot change your own roles', 'T325.33 delete_role does not change the caller''s own roles (she holds the role)');
select is(pg_temp.roles_of('a_admin'), '{admin,tag}', 'T325.34 ... her roles are unchanged');
select pg_temp.act('a_owner');
select lives_ok(format($$ select public.delete_role(%L, %L) $$, (select id from t_role where name = 'tag'), pg_temp.role_id(null, 'viewer')),
  'T325.35 someone who does not hold it deletes it with a replacement');

-- G6 adding permissions to a held or invited role -----------------------------------------------
select pg_temp.act('a_owner');
insert into t_role select 'six_tag', public.create_role(pg_temp.fx_org('alpha'), 'six_tag', 'Six tag', 5, '{}');
insert into t_role select 'six_guest', public.create_role(pg_temp.fx_org('alpha'), 'six_guest', 'Six guest', 4, '{}');
insert into t_role select 'six_lead', public.create_role(pg_temp.fx_org('alpha'), 'six_lead', 'Six lead', 6, '{clients.read}');
insert into t_role select 'six_top', public.create_role(pg_temp.fx_org('alpha'), 'six_top', 'Six top', 45, '{members.manage}');
select public.set_member_roles(pg_temp.fx_org('alpha'), pg_temp.fx('a_plain'), '{viewer,six_tag,six_lead}');
select public.invite_member(pg_temp.fx_org('alpha'), 'invitee@roles.test', 'six_guest');
select pg_temp.act('a_second');
select throws_ok(format($$ select public.update_role(%L, null, null, '{clients.read}') $$, (select id from t_role where name = 'six_tag')), '42501',
  'permission denied: members.manage is required in this organization',
  'T325.36 roles.manage alone does not add a permission to a role members hold (it hands it to them)');
select throws_ok(format($$ select public.update_role(%L, null, null, '{clients.read}') $$, (select id from t_role where name = 'six_guest')), '42501',
  'permission denied: members.manage is required in this organization', 'T325.37 ... nor to a role a pending invitation names');
select throws_ok(format($$ select public.update_role(%L, null, null, '{}') $$, (select id from t_role where name = 'six_lead')), '42501',
  'permission denied: members.manage is required in this organization',
  'T325.38 ... nor takes a permission away from a role members hold (it revokes it from them; migration 20261201010700)');
select pg_temp.act('a_owner');
select public.set_member_roles(pg_temp.fx_org('alpha'), pg_temp.fx('a_viewer'), '{viewer,six_top,six_tag}');
select pg_temp.act('a_admin');
select throws_ok(format($$ select public.update_role(%L, null, null, '{clients.delete}') $$, (select id from t_role where name = 'six_tag')), '42501',
  'permission denied: a holder of the role outranks you',
  'T325.39 an admin does not add a permission to a role held by a member who outranks her');
select lives_ok(format($$ select public.update_role(%L, null, null, '{clients.read,clients.update}') $$, (select id from t_role where name = 'six_lead')),
  'T325.40 an admin adds permissions to a role only members below her hold');

-- G4 <area>.work_assigned ------------------------------------------------------------------------
reset role;
select private.register_permission('gizmos.read', 'Read gizmos.', '{owner, admin, manager}');
select private.register_permission('gizmos.update', 'Update gizmos.', '{owner, admin, manager}');
select private.register_permission('gizmos.work_assigned', 'Work assigned gizmos.', '{member}');
select ok('gizmos.work_assigned' = any (private.grantable_permissions(pg_temp.fx_org('alpha'), pg_temp.fx('a_admin'))),
  'T325.41 gizmos.read with gizmos.update covers gizmos.work_assigned');
select ok(not 'gizmos.work_assigned' = any (private.grantable_permissions(pg_temp.fx_org('alpha'), pg_temp.fx('a_viewer'))),
  'T325.42 ... gizmos.read alone does not');
select pg_temp.act('a_admin');
select isnt(public.create_role(pg_temp.fx_org('alpha'), 'gizmo_crew', 'Gizmo crew', 20, '{gizmos.work_assigned}'), null,
  'T325.43 an admin gives an organization''s role gizmos.work_assigned');

-- G7 an organization's own role as the replacement ---------------------------------------------
select pg_temp.act('a_owner');
insert into t_role select 'old_desk', public.create_role(pg_temp.fx_org('alpha'), 'old_desk', 'Old desk', 5, '{clients.read}');
insert into t_role select 'new_desk', public.create_role(pg_temp.fx_org('alpha'), 'new_desk', 'New desk', 5, '{clients.read}');
select public.set_member_roles(pg_temp.fx_org('alpha'), pg_temp.fx('a_plain'), '{old_desk}');
insert into t_tok select 'old_desk', (public.invite_member(pg_temp.fx_org('alpha'), 'desk@roles.test', 'old_desk')).token;
select lives_ok(format($$ select public.delete_role(%L, %L) $$, (select id from t_role where name = 'old_desk'),
                       (select id from t_role where name = 'new_desk')),
  'T325.44 a role in use is deleted with another role of the organization as the replacement');
select is(pg_temp.roles_of('a_plain'), '{new_desk}', 'T325.45 ... its holders moved to it');
select is(pg_temp.invited_role((select token from t_tok where name = 'old_desk')), 'new_desk',
  'T325.46 ... the pending invitation names it');
select pg_temp.as_postgres();
select ok(exists (select 1 from public.audit_log where organization_id = pg_temp.fx_org('alpha') and table_name = 'roles'
                    and record_id = (select id from t_role where name = 'old_desk') and action = 'delete')
          and exists (select 1 from public.audit_log where organization_id = pg_temp.fx_org('alpha') and table_name = 'invitations'
                        and action = 'update' and new ->> 'role_id' = (select id from t_role where name = 'new_desk')::text),
  'T325.47 ... the deletion and the re-pointed invitation are audited with the organization');

-- G6 taking permissions away, and renaming (migration 20261201010700) ----------------------------
create function pg_temp.permissions_of_role(role_name text) returns text[] language sql stable security definer as $$
  select coalesce(array_agg(rp.permission order by rp.permission), '{}')
  from public.role_permissions rp where rp.role_id = (select id from t_role where name = role_name)
$$;
grant execute on function pg_temp.permissions_of_role(text) to public;
select pg_temp.act('a_owner');
select public.update_role((select id from t_role where name = 'six_tag'), null, null, '{clients.read}');
insert into t_role select 'spare', public.create_role(pg_temp.fx_org('alpha'), 'spare', 'Spare', 5, '{clients.read}');
insert into t_role select 'desk_lead', public.create_role(pg_temp.fx_org('alpha'), 'desk_lead', 'Desk lead', 8, '{members.manage}');
select pg_temp.act('a_admin');
select throws_ok(format($$ select public.update_role(%L, null, null, '{}') $$, (select id from t_role where name = 'six_tag')), '42501',
  'permission denied: a holder of the role outranks you',
  'T325.48 an admin does not take a permission away from a role held by a member who outranks her');
select is(pg_temp.permissions_of_role('six_tag'), '{clients.read}', 'T325.49 ... the role keeps it');
select lives_ok(format($$ select public.update_role(%L, null, null, '{clients.read}') $$, (select id from t_role where name = 'six_lead')),
  'T325.50 an admin takes a permission away from a role only members below her hold');
select pg_temp.act('a_second');
select lives_ok(format($$ select public.update_role(%L, null, null, '{}') $$, (select id from t_role where name = 'spare')),
  'T325.51 roles.manage alone takes a permission away from a role nobody holds');
select pg_temp.act('a_admin');
select lives_ok(format($$ select public.update_role(%L, 'Desk leads') $$, (select id from t_role where name = 'desk_lead')),
  'T325.52 an admin renames a role carrying a permission only owners give (members.manage)');
select is((select r.name || ' ' || pg_temp.permissions_of_role('desk_lead')::text from t_role t cross join lateral
            (select name from public.roles where id = t.id) r where t.name = 'desk_lead'),
  'Desk leads {members.manage}', 'T325.53 ... it is renamed and keeps its permissions');
select throws_ok(format($$ select public.update_role(%L, null, 7, null) $$, (select id from t_role where name = 'desk_lead')), '42501',
  'permission denied: only owners give a role members.manage',
  'T325.54 ... but does not move its rank (a new rank redefines the whole role)');

select * from finish();
rollback;

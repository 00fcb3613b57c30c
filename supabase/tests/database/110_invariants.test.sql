-- Cross-cutting invariants of the core schema. Rules proved:
--   R1  every core table has RLS enabled and exactly the policies designed
--       for it (a stray permissive policy would open a table to everyone).
--   R2  the API roles hold exactly the designed table and column privileges:
--       writes to membership and roles only through the RPCs; organizations.id,
--       clients.organization_id / created_by, users.email are not writable.
--   R3  the RPCs of SPEC 5 are security definer, search_path = pg_catalog, pg_temp, executable
--       by authenticated only; the private helpers that could reveal other
--       organizations (ranks, membership) are not callable by API roles, and
--       the granted ones answer only for the signed-in user.
--   R4  deleting a user removes their profile, memberships, roles and
--       assignments, keeps their organizations' clients (created_by becomes
--       null), and fails when they are an organization's last owner.
--   R5  every organization keeps at least one owner, whoever writes; deleting
--       a whole organization is allowed.

begin;
create extension if not exists pgtap with schema extensions;
select plan(52);

-- Personas and organizations (personas.psql, the suite's own fixtures) and how to act as them. Each helper switches
-- role and claims with SET LOCAL, which lasts until the final rollback (or
-- the next helper call): the statements that follow run as that actor.
\ir personas.psql

-- R1 RLS and policies -------------------------------------------------------------------------------------
select is_empty($$ select c.relname from pg_class c where c.relnamespace = 'public'::regnamespace
  and c.relname in ('organizations', 'users', 'roles', 'permissions', 'role_permissions', 'organization_users',
                    'user_roles', 'clients', 'user_clients', 'invitations', 'audit_log') and not c.relrowsecurity $$,
  'T110.01 row-level security is enabled on every core table, invitations and audit_log included');
select policies_are('public', 'organizations',
  array['organizations_select_member', 'organizations_update_permitted'],
  'T110.02 organizations has exactly its select / update policies (no insert policy: create_organization only; no delete policy: delete_organization only)');
select policies_are('public', 'users', array['users_select_self_or_co_member', 'users_update_self'],
  'T110.03 users has exactly its select / update policies');
select policies_are('public', 'roles', array['roles_select_builtin_or_member'], 'T110.04 roles has only its read policy');
select policies_are('public', 'permissions', array['permissions_select_signed_in'], 'T110.05 permissions has only its read policy');
select policies_are('public', 'role_permissions', array['role_permissions_select_builtin_or_member'],
  'T110.06 role_permissions has only its read policy');
select policies_are('public', 'organization_users', array['organization_users_select_member'],
  'T110.07 organization_users has only its read policy (changes through the RPCs)');
select policies_are('public', 'user_roles', array['user_roles_select_member'],
  'T110.08 user_roles has only its read policy (changes through set_member_roles)');
select policies_are('public', 'clients',
  array['clients_select_readers_or_assigned', 'clients_insert_creators', 'clients_update_updaters_or_assigned', 'clients_delete_deleters'],
  'T110.09 clients has exactly one policy per action');
select policies_are('public', 'user_clients',
  array['user_clients_select_readers_or_own', 'user_clients_insert_assigners', 'user_clients_delete_assigners'],
  'T110.10 user_clients has exactly its select / insert / delete policies');
select is_empty($$ select tablename || '.' || policyname from pg_policies where schemaname = 'public'
  and tablename in ('organizations', 'users', 'roles', 'permissions', 'role_permissions', 'organization_users',
                    'user_roles', 'clients', 'user_clients', 'invitations', 'audit_log')
  and roles <> array['authenticated']::name[] $$,
  'T110.11 every core policy applies to authenticated only (none to anon or public), invitations and audit_log included');

-- R2 privileges ---------------------------------------------------------------------------------------------
select table_privs_are('public', 'organizations', 'authenticated', array['SELECT'],
  'T110.12 authenticated: select on organizations (update by column), no insert, no delete (delete_organization)');
select table_privs_are('public', 'users', 'authenticated', array['SELECT'],
  'T110.13 authenticated: only select on users (update by column)');
select table_privs_are('public', 'roles', 'authenticated', array['SELECT'], 'T110.14 authenticated: only select on roles');
select table_privs_are('public', 'permissions', 'authenticated', array['SELECT'], 'T110.15 authenticated: only select on permissions');
select table_privs_are('public', 'role_permissions', 'authenticated', array['SELECT'],
  'T110.16 authenticated: only select on role_permissions');
select table_privs_are('public', 'organization_users', 'authenticated', array['SELECT'],
  'T110.17 authenticated: only select on organization_users');
select table_privs_are('public', 'user_roles', 'authenticated', array['SELECT'], 'T110.18 authenticated: only select on user_roles');
select table_privs_are('public', 'clients', 'authenticated', array['SELECT', 'DELETE'],
  'T110.19 authenticated: select and delete on clients (insert and update by column)');
select table_privs_are('public', 'user_clients', 'authenticated', array['SELECT', 'DELETE'],
  'T110.20 authenticated: select and delete on user_clients (insert by column: not created_at), no update');
select column_privs_are('public', 'organizations', 'id', 'authenticated', array['SELECT'],
  'T110.21 organizations.id is read-only for authenticated');
select column_privs_are('public', 'organizations', 'slug', 'authenticated', array['SELECT', 'UPDATE'],
  'T110.22 organizations.slug is updatable by authenticated (under the policy)');
select column_privs_are('public', 'clients', 'organization_id', 'authenticated', array['SELECT', 'INSERT'],
  'T110.23 clients.organization_id is set on insert and never updated by authenticated');
select column_privs_are('public', 'clients', 'created_by', 'authenticated', array['SELECT'],
  'T110.24 clients.created_by is never written by authenticated (defaults to auth.uid())');
select column_privs_are('public', 'users', 'email', 'authenticated', array['SELECT'],
  'T110.25 users.email is read-only for authenticated (synced from auth.users)');
select column_privs_are('public', 'users', 'full_name', 'authenticated', array['SELECT', 'UPDATE'],
  'T110.26 users.full_name is updatable by authenticated (own profile, under the policy)');

-- R3 functions ----------------------------------------------------------------------------------------------
select is_empty($$ select p.oid::regprocedure::text from pg_proc p
  where p.oid in ('public.create_organization(text, text)'::regprocedure, 'public.set_member_roles(uuid, uuid, text[])'::regprocedure,
                  'public.remove_member(uuid, uuid)'::regprocedure, 'public.authorize(uuid, text)'::regprocedure)
    and not (p.prosecdef and coalesce(p.proconfig @> array['search_path=pg_catalog, pg_temp'], false)) $$,
  'T110.27 the core RPCs are security definer with search_path = pg_catalog, pg_temp');
select is_empty($$ select f from unnest(array['public.create_organization(text, text)', 'public.set_member_roles(uuid, uuid, text[])',
  'public.remove_member(uuid, uuid)', 'public.authorize(uuid, text)']) f
  where not has_function_privilege('authenticated', f, 'execute') or has_function_privilege('anon', f, 'execute') $$,
  'T110.28 the core RPCs are executable by authenticated and not by anon');
select is_empty($$ select f from unnest(array['public.create_organization(text, text)', 'public.set_member_roles(uuid, uuid, text[])',
  'public.remove_member(uuid, uuid)', 'public.authorize(uuid, text)']) f
  where has_function_privilege('service_role', f, 'execute') $$,
  'T110.29 the core RPCs are executable by authenticated only, not by service_role (SPEC 5)');
select pg_temp.as_user('frank');
select throws_ok($$ select private.max_rank(pg_temp.org('acme'), pg_temp.uid('alice')) $$, '42501',
  'permission denied for function max_rank', 'T110.30 a user cannot probe ranks in other organizations (private.max_rank not granted)');
select throws_ok($$ select private.is_member(pg_temp.org('acme'), pg_temp.uid('mallory')) $$, '42501',
  'permission denied for function is_member', 'T110.31 a user cannot probe memberships of other organizations (private.is_member not granted)');
select throws_ok($$ select * from private.owner_guards $$, '42501', 'permission denied for table owner_guards',
  'T110.32 a user cannot read or write the owner guards');
select is(private.organization_ids(), array[pg_temp.org('globex')],
  'T110.33 the granted helper organization_ids() answers only for the signed-in user');
select is(private.has_permission(pg_temp.org('acme'), 'clients.read'), false,
  'T110.34 the granted helper has_permission() gives an outsider nothing in Acme');
select pg_temp.as_anon();
select throws_ok($$ select private.organization_ids() $$, '42501', 'permission denied for schema private',
  'T110.35 anon cannot reach the private helpers at all');

-- R5 owners, fixture state --------------------------------------------------------------------------------------
select pg_temp.as_postgres();
select is_empty($$ select o.slug from public.organizations o where not exists (
  select 1 from public.user_roles ur join public.roles r on r.id = ur.role_id where ur.organization_id = o.id and r.key = 'owner') $$,
  'T110.36 every organization has an owner');

-- R4 deleting users ------------------------------------------------------------------------------------------------
select lives_ok($$ delete from auth.users where id = pg_temp.uid('carol') $$,
  'T110.37 a manager (creator of all of Acme''s clients) can be deleted');
select ok(not exists (select 1 from public.users where id = pg_temp.uid('carol'))
      and not exists (select 1 from public.organization_users where user_id = pg_temp.uid('carol'))
      and not exists (select 1 from public.user_roles where user_id = pg_temp.uid('carol'))
      and not exists (select 1 from public.user_clients where user_id = pg_temp.uid('carol')),
  'T110.38 deleting a user removes profile, memberships, roles and assignments');
select results_eq($$ select count(*)::int, count(created_by)::int from public.clients where organization_id = pg_temp.org('acme') $$,
  $$ values (25, 0) $$, 'T110.39 deleting a user keeps every client they created, with created_by set to null');
select lives_ok($$ set constraints all immediate $$, 'T110.40 deleting a non-owner commits');
set constraints all deferred;
select lives_ok($$ delete from auth.users where id = pg_temp.uid('mallory') $$, 'T110.41 a member of two organizations can be deleted');
select is_empty($$ select 1 from public.organization_users where user_id = pg_temp.uid('mallory') $$,
  'T110.42 ... and loses both memberships');
select throws_ok($$ delete from auth.users where id = pg_temp.uid('alice'); set constraints all immediate $$, 'P0001', null,
  'T110.43 deleting the last owner of an organization fails (user_roles_keep_an_owner)');
select throws_ok($$ delete from auth.users where id = pg_temp.uid('frank'); set constraints all immediate $$, 'P0001', null,
  'T110.44 deleting the last owner of Globex fails too');
select isnt_empty($$ select 1 from public.users where id = pg_temp.uid('alice') $$, 'T110.45 the refused deletion left the owner in place');

-- A token that outlives its user --------------------------------------------------------------------------------------
select set_config('request.jwt.claims', json_build_object('sub', pg_temp.uid('carol'), 'role', 'authenticated')::text, true);
set local role authenticated;
select is_empty($$ select 1 from public.organizations union all select 1 from public.clients union all select 1 from public.users $$,
  'T110.46 a deleted user''s still-valid token sees nothing');
select throws_ok($$ select public.remove_member(pg_temp.org('acme'), pg_temp.uid('dave')) $$, 'P0002', 'organization not found',
  'T110.47 a deleted user''s still-valid token cannot act in her former organization');

-- R4 / R5 a second owner ---------------------------------------------------------------------------------------------
select pg_temp.as_user('alice');
select lives_ok($$ select public.set_member_roles(pg_temp.org('acme'), pg_temp.uid('bob'), array['admin', 'owner']) $$,
  'T110.48 (setup) the owner makes the admin a second owner');
select pg_temp.as_postgres();
select lives_ok($$ delete from auth.users where id = pg_temp.uid('alice'); set constraints all immediate $$,
  'T110.49 an owner who is not the last one can be deleted');
set constraints all deferred;
select results_eq($$ select ur.user_id from public.user_roles ur join public.roles r on r.id = ur.role_id
  where ur.organization_id = pg_temp.org('acme') and r.key = 'owner' $$, $$ values (pg_temp.uid('bob')) $$,
  'T110.50 the organization keeps its other owner');
select pg_temp.as_service();
select throws_ok($$ delete from public.organization_users where organization_id = pg_temp.org('acme') and user_id = pg_temp.uid('bob');
  set constraints all immediate $$, 'P0001', null,
  'T110.51 even the service cannot remove the last owner''s membership');
select lives_ok($$ select private.finish_organization_deletion(pg_temp.org('globex')); set constraints all immediate $$,
  'T110.52 deleting a whole organization (the service''s final step), owners included, commits');

select * from finish();
rollback;

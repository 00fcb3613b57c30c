-- Threat cases for type shadowing through the temporary schema (SPEC §5 as
-- amended: security definer functions use `set search_path = pg_catalog,
-- pg_temp`):
--   * with `search_path = ''` PostgreSQL looks for type and relation names in
--     the session's temporary schema first. A signed-in user with a SQL
--     session and TEMPORARY (granted here as PUBLIC holds it on a database
--     that never ran the hardening) creates pg_temp.uuid and pg_temp.text as
--     domains whose CHECK calls a function of theirs, a tripwire that raises
--     "escalated: ran as <role>" whenever it runs as anyone but
--     `authenticated`;
--   * then every RPC, every helper granted to `authenticated`, every table read
--     and the writes that fire definer triggers run with the outcome they have
--     without the domains: the tripwire never runs as the definer;
--   * every function of the layer in public and private has search_path = pg_catalog, pg_temp;
--   * the tripwire is armed: run as another role (postgres, whose session
--     search path finds the domain first) it raises.
-- Personas and ids: personas.psql (the suite's own fixtures).
begin;
create extension if not exists pgtap with schema extensions;
select plan(38);

-- Runs a statement; returns 'ok' or its SQLSTATE and message.
create function pg_temp.outcome(statement pg_catalog.text) returns pg_catalog.text language plpgsql as $$
begin
  execute statement;
  return 'ok';
exception when others then
  return sqlstate || ' ' || sqlerrm;
end $$;

\ir personas.psql
-- What is measured as postgres at the end, read back as the user (pgTAP's
-- functions compiled under the domains must not run as postgres).
create temp table t_end (label pg_catalog.text primary key, value pg_catalog.text);
grant all on t_end to authenticated;

-- The layer's functions in public and private, by name (a project's own functions are its own
-- to judge; tests/security/layer-functions.test.ts keeps this list equal to what the migrations define).
create temp table t_layer_functions (name pg_catalog.text primary key);
insert into t_layer_functions
select pg_catalog.unnest(array[
  'private.add_row_counts', 'private.assign_client_to_member_creator', 'private.assigned_client_ids',
  'private.check_new_organization_has_owner', 'private.check_organization_has_owner',
  'private.check_role_definition', 'private.check_role_grantable', 'private.check_role_in_organization',
  'private.check_role_row', 'private.client_list_words', 'private.client_name_word_score',
  'private.clients_listed_under_all', 'private.clients_read_row_cost',
  'private.co_member_ids', 'private.delete_organization_batch',
  'private.delete_organizations_left_by_deleted_accounts', 'private.erase_deleted_user',
  'private.export_covered_tables', 'private.export_organization_bytes', 'private.export_organization_rows',
  'private.export_registered_table_list', 'private.export_registered_tables', 'private.export_table_count',
  'private.export_table_rows', 'private.export_user_table_list', 'private.find_role_to_manage',
  'private.finish_organization_deletion', 'private.fold_email', 'private.grantable_permissions',
  'private.guard_owner_removal', 'private.handle_auth_user_change', 'private.has_permission',
  'private.hash_token', 'private.is_anonymous', 'private.is_member', 'private.is_owner',
  'private.is_uuid_type', 'private.keep_client_organization', 'private.keep_organization',
  'private.lock_organization', 'private.mark_organization_purging', 'private.max_rank',
  'private.missing_permissions', 'private.organization_ids', 'private.organization_ids_with',
  'private.organization_ids_with_role', 'private.organization_row_count',
  'private.organization_scoped_tables', 'private.permissions_of', 'private.planner_hint_bound',
  'private.planner_hint_holds', 'private.planner_hint_weight', 'private.profile_avatar',
  'private.profile_name', 'private.prune_client_name_words', 'private.pseudonymize_user',
  'private.purge_organization_rows', 'private.record_audit', 'private.record_client_name_words',
  'private.refuse_deleting_only_owner', 'private.refuse_leaving_organizations_without_owner',
  'private.refuse_tombstoned_organization_id', 'private.register_audited_table',
  'private.register_permission', 'private.require_permission', 'private.require_user',
  'private.revoke_temporary_from_api_roles', 'private.role_grant_problem', 'private.role_holder_outranks',
  'private.role_ids', 'private.search_word_matches', 'private.search_words',
  'private.set_role_permission_organization', 'private.set_updated_at', 'private.unlist_client_words',
  'private.without_secrets',
  'private.workable_client_ids', 'public.accept_invitation', 'public.account_deletion_blockers',
  'public.authorize', 'public.create_organization', 'public.create_role', 'public.delete_organization',
  'public.delete_role', 'public.export_my_data', 'public.export_organization', 'public.invite_member',
  'public.list_clients', 'public.remove_member', 'public.revoke_invitation', 'public.search_clients',
  'public.set_member_roles', 'public.transfer_ownership', 'public.update_role'
]);
select is_empty(
  $$ select f.name from t_layer_functions f
     where not exists (
       select 1 from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
       where n.nspname || '.' || p.proname = f.name and p.prokind = 'f')
        or exists (
       select 1 from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
       where n.nspname || '.' || p.proname = f.name and p.prokind = 'f'
         and not coalesce('search_path=pg_catalog, pg_temp' = any (p.proconfig), false)) $$,
  'T250.01 every function of the layer in public and private exists and runs with search_path = pg_catalog, pg_temp');

-- TEMPORARY for authenticated, as PUBLIC holds it on a database that never ran the hardening.
do $$ begin execute format('grant temporary on database %I to authenticated', current_database()); end $$;
-- pat signs up (confirmed) to accept the fixture's pending invitation.
insert into auth.users (id, email, email_confirmed_at) values ('f0000000-0000-4000-a000-000000000099', 'pat@example.com', now());

-- The attack, as nora (no organization) ----------------------------------------------------
select pg_temp.as_user('nora');
create function pg_temp.tripwire(v pg_catalog.text) returns pg_catalog.bool language plpgsql as $$
begin
  if current_user operator(pg_catalog.<>) 'authenticated' then
    raise exception 'escalated: ran as %', current_user;
  end if;
  return true;
end $$;
create domain pg_temp.uuid as pg_catalog.uuid check (pg_temp.tripwire(value::pg_catalog.text));
create domain pg_temp.text as pg_catalog.text check (pg_temp.tripwire(value));

select is(pg_temp.outcome($$select 'f0000000-0000-4000-a000-000000000012'::uuid, 'x'::text$$), 'ok',
  'T250.02 the domains shadow uuid and text in the user''s own SQL, where they run as authenticated');
select is(pg_temp.outcome($$select public.create_organization('Nora Works', 'nora-works')$$), 'ok',
  'T250.03 create_organization never runs the shadowing domain as its definer');
select is(pg_temp.outcome($$select public.authorize('f1000000-0000-4000-8000-000000000001', 'clients.read')$$), 'ok',
  'T250.04 authorize never runs the shadowing domain as its definer');

-- RPCs as alice (owner of Acme)
select pg_temp.as_user('alice');
select is(pg_temp.outcome($$select public.set_member_roles('f1000000-0000-4000-8000-000000000001', 'f0000000-0000-4000-a000-000000000005', '{member}')$$), 'ok',
  'T250.05 set_member_roles never runs the shadowing domain as its definer');
select is(pg_temp.outcome($$select public.invite_member('f1000000-0000-4000-8000-000000000001', 'newcomer@example.com', 'member')$$), 'ok',
  'T250.06 invite_member never runs the shadowing domain as its definer');
select is(pg_temp.outcome($$select public.revoke_invitation(i.id) from public.invitations i where i.email = 'newcomer@example.com' and i.revoked_at is null$$), 'ok',
  'T250.07 revoke_invitation never runs the shadowing domain as its definer');
select is(pg_temp.outcome($$select public.remove_member('f1000000-0000-4000-8000-000000000001', 'f0000000-0000-4000-a000-000000000005')$$), 'ok',
  'T250.08 remove_member never runs the shadowing domain as its definer');
select is(pg_temp.outcome($$insert into public.clients (organization_id, name) values ('f1000000-0000-4000-8000-000000000001', 'Shadow Client')$$), 'ok',
  'T250.09 inserting a client (audit trigger) never runs the shadowing domain as a definer');
select is(pg_temp.outcome($$update public.clients set notes = 'n' where name = 'Shadow Client'$$), 'ok',
  'T250.10 updating a client (audit trigger) never runs the shadowing domain as a definer');
select is(pg_temp.outcome($$delete from public.user_clients where organization_id = 'f1000000-0000-4000-8000-000000000001' and user_id = 'f0000000-0000-4000-a000-000000000004'$$), 'ok',
  'T250.11 deleting assignments (audit trigger) never runs the shadowing domain as a definer');
select is(pg_temp.outcome($$update public.organizations set name = 'Acme Shadow' where id = 'f1000000-0000-4000-8000-000000000001'$$), 'ok',
  'T250.12 renaming an organization never runs the shadowing domain as a definer');
select is(pg_temp.outcome($$select public.transfer_ownership('f1000000-0000-4000-8000-000000000001', 'f0000000-0000-4000-a000-000000000002')$$), 'ok',
  'T250.13 transfer_ownership (owner guard trigger) never runs the shadowing domain as its definer');

-- pat accepts the fixture's invitation
select pg_temp.as_user('nora');
select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000099","role":"authenticated","is_anonymous":false}', true);
select is(pg_temp.outcome($$select public.accept_invitation('fixture-invitation-token-for-pat-0001')$$), 'ok',
  'T250.14 accept_invitation never runs the shadowing domain as its definer');

-- dave (member of Acme): a client he creates is assigned to him by a definer trigger
select pg_temp.as_user('dave');
select is(pg_temp.outcome($$insert into public.clients (organization_id, name) values ('f1000000-0000-4000-8000-000000000001', 'Dave Shadow')$$), 'ok',
  'T250.15 the creator-assignment trigger never runs the shadowing domain as its definer');
select is(pg_temp.outcome($$update public.users set full_name = 'Dave S' where id = 'f0000000-0000-4000-a000-000000000004'$$), 'ok',
  'T250.16 updating one''s profile (audit trigger) never runs the shadowing domain as a definer');

-- Helpers and table reads as mallory (two organizations)
select pg_temp.as_user('mallory');
select is(pg_temp.outcome($$select private.organization_ids()$$), 'ok',
  'T250.17 private.organization_ids() never runs the shadowing domain as its definer');
select is(pg_temp.outcome($$select private.organization_ids_with('clients.read')$$), 'ok',
  'T250.18 private.organization_ids_with() never runs the shadowing domain as its definer');
select is(pg_temp.outcome($$select private.organization_ids_with_role('member')$$), 'ok',
  'T250.19 private.organization_ids_with_role() never runs the shadowing domain as its definer');
select is(pg_temp.outcome($$select private.co_member_ids()$$), 'ok',
  'T250.20 private.co_member_ids() never runs the shadowing domain as its definer');
select is(pg_temp.outcome($$select private.has_permission('f1000000-0000-4000-8000-000000000002', 'clients.read')$$), 'ok',
  'T250.21 private.has_permission() never runs the shadowing domain as its definer');
select is(pg_temp.outcome($$select private.assigned_client_ids()$$), 'ok',
  'T250.22 private.assigned_client_ids() never runs the shadowing domain as its definer');

select is(pg_temp.outcome(format('select count(*) from public.%I', t)), 'ok',
  format('T250.%s reading public.%s never runs the shadowing domain as a definer', 23 + n, t))
from unnest(array['organizations', 'organization_users', 'user_roles', 'users', 'roles', 'permissions',
                  'role_permissions', 'clients', 'user_clients', 'invitations', 'audit_log']) with ordinality as u (t, n0),
     lateral (select (n0 - 1)::int as n) k;

-- The client pages and search, as mallory (a member of Acme: the assignments path; a viewer of Globex: the readers' path)
select is(pg_temp.outcome($$select count(*) from public.list_clients('f1000000-0000-4000-8000-000000000001', 'A', 'f2000000-0000-4000-8000-000000001001', 10)$$), 'ok',
  'T250.37 list_clients (assigned path, with a cursor) never runs the shadowing domain as its definer');
select is(pg_temp.outcome($$select count(*) from public.list_clients('f1000000-0000-4000-8000-000000000002', 'A', 'f2000000-0000-4000-8000-000000002001', 10, 'active')$$), 'ok',
  'T250.38 list_clients (readers'' path, with a cursor and a status) never runs the shadowing domain as its definer');

-- The tripwire is armed: run as postgres it raises.
select pg_temp.as_postgres();
insert into t_end values
  ('armed', pg_temp.outcome($$select 'x'::text$$)),
  ('clients', (select count(*) from public.clients where name in ('Shadow Client', 'Dave Shadow'))::pg_catalog.text),
  ('organizations', (select count(*) from public.organizations where slug = 'nora-works')::pg_catalog.text);
select pg_temp.as_user('nora');
select is((select value from t_end where label = 'armed'), 'P0001 escalated: ran as postgres',
  'T250.34 the tripwire raises when the domain runs as another role (the trap is armed)');
select is((select value from t_end where label = 'clients'), '2',
  'T250.35 the statements above did their work');
select is((select value from t_end where label = 'organizations'), '1',
  'T250.36 nora''s organization exists (created under the domains)');

select * from finish();
rollback;

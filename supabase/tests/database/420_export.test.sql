-- Threat cases for the data exports and the account-deletion preview (SPEC 11
-- export_organization, export_my_data, account_deletion_blockers):
--   R1  export_organization: holders of organization.delete (owners) only;
--       anon, the service, non-members, members of another organization,
--       admins and members are refused;
--   R2  the document holds the organization, its members (id, email, name,
--       roles), roles with permissions (its own roles included, none of
--       another organization), clients, assignments, invitations
--       (never a token or hash) and its audit log, and nothing of another
--       organization;
--   R3  above settings.export_organization_max_rows rows, or
--       settings.export_organization_max_bytes bytes of text, it refuses, pointing to
--       the streaming export;
--   R4  export_my_data: the caller's profile, memberships and roles,
--       assignments, and the audit entries where they are the actor as
--       metadata only (never old/new rows); anon refused;
--   R5  account_deletion_blockers: the organizations where the caller is the
--       only owner while other members remain; not those with another owner,
--       nor those where they are the only member (those go with the account).
--   R6  a table of the project's own registered with an organization column
--       (as entity:new registers its tables) is in the document under
--       `tables`: the organization's rows, ordered by record id, without the
--       registered secret columns, none of another organization, each row
--       whole whatever its columns are called; the row limit counts them.
--   R7  export_my_data holds, under `tables`, the caller's rows (user_id) of
--       every such table with a user_id column (entity:new's assignment
--       tables), without the registered secret columns, nobody else's.
-- Fixtures are created here, inside the file's transaction.
begin;
create extension if not exists pgtap with schema extensions;
select plan(42);

\ir personas.psql

create function pg_temp.act(id uuid) returns void language plpgsql as $$
begin
  perform set_config('request.jwt.claims', json_build_object('sub', id, 'role', 'authenticated')::text, true);
  set local role authenticated;
end $$;
create function pg_temp.u(n int) returns uuid language sql immutable as $$
  select ('42000000-0000-4000-a000-0000000000' || lpad(n::text, 2, '0'))::uuid $$;
create function pg_temp.o(n int) returns uuid language sql immutable as $$
  select ('42000000-0000-4000-8000-0000000000' || lpad(n::text, 2, '0'))::uuid $$;
grant execute on all functions in schema pg_temp to public;

-- Fixtures: E (owner u1, admin u2, member u3), F (u4 alone), G (owners u1 and u2, member u3); u5 belongs nowhere.
insert into auth.users (id, email, raw_user_meta_data)
select pg_temp.u(n), 'export' || n || '@example.com', json_build_object('full_name', 'Export ' || n)::jsonb
  from generate_series(1, 5) n;
insert into public.organizations (id, name, slug) values
  (pg_temp.o(1), 'Exported', 'exported-420'), (pg_temp.o(2), 'Fjord', 'fjord-420'), (pg_temp.o(3), 'Gemini', 'gemini-420');
insert into public.organization_users (organization_id, user_id) values
  (pg_temp.o(1), pg_temp.u(1)), (pg_temp.o(1), pg_temp.u(2)), (pg_temp.o(1), pg_temp.u(3)),
  (pg_temp.o(2), pg_temp.u(4)),
  (pg_temp.o(3), pg_temp.u(1)), (pg_temp.o(3), pg_temp.u(2)), (pg_temp.o(3), pg_temp.u(3));
insert into public.user_roles (organization_id, user_id, role_id)
select x.org, x.usr, r.id from (values
  (pg_temp.o(1), pg_temp.u(1), 'owner'), (pg_temp.o(1), pg_temp.u(2), 'admin'), (pg_temp.o(1), pg_temp.u(3), 'member'),
  (pg_temp.o(2), pg_temp.u(4), 'owner'),
  (pg_temp.o(3), pg_temp.u(1), 'owner'), (pg_temp.o(3), pg_temp.u(2), 'owner'), (pg_temp.o(3), pg_temp.u(3), 'member')
) x (org, usr, key) join public.roles r on r.key = x.key;
insert into public.clients (id, organization_id, name) values
  ('42000000-0000-4000-9000-000000000001', pg_temp.o(1), 'Client E1'),
  ('42000000-0000-4000-9000-000000000002', pg_temp.o(1), 'Client E2'),
  ('42000000-0000-4000-9000-000000000003', pg_temp.o(3), 'Client G1');
insert into public.user_clients (organization_id, user_id, client_id) values
  (pg_temp.o(1), pg_temp.u(3), '42000000-0000-4000-9000-000000000001');
select pg_temp.act(pg_temp.u(1));
select public.invite_member(pg_temp.o(1), 'invitee-420@example.com', 'viewer');
-- Each of E and G defines a role of its own.
select public.create_role(pg_temp.o(1), 'auditor_e', 'Auditor', 10, '{audit.read}');
select public.create_role(pg_temp.o(3), 'gemini_only', 'Gemini reader', 10, '{clients.read}');
-- The member u3 creates a client: an audit entry where u3 is the actor.
select pg_temp.act(pg_temp.u(3));
insert into public.clients (organization_id, name) values (pg_temp.o(3), 'Made by u3');
select pg_temp.as_postgres();

create temp table t_doc as select null::jsonb as doc;
grant all on t_doc to public;

-- R1 who may export ------------------------------------------------------------------------------
select pg_temp.as_anon();
select throws_ok($$select public.export_organization(pg_temp.o(1))$$, '42501', 'permission denied for function export_organization',
  'T420.01 anon cannot export an organization');
select throws_ok($$select public.export_my_data()$$, '42501', 'permission denied for function export_my_data',
  'T420.02 anon cannot call export_my_data');
select throws_ok($$select * from public.account_deletion_blockers()$$, '42501', 'permission denied for function account_deletion_blockers',
  'T420.03 anon cannot call account_deletion_blockers');
select pg_temp.as_service();
select throws_ok($$select public.export_organization(pg_temp.o(1))$$, '42501', 'permission denied for function export_organization',
  'T420.04 the service does not call the RPC (it has the streaming export)');
select pg_temp.act(pg_temp.u(5));
select throws_ok($$select public.export_organization(pg_temp.o(1))$$, 'P0002', 'organization not found',
  'T420.05 a non-member is told the organization does not exist');
select pg_temp.act(pg_temp.u(4));
select throws_ok($$select public.export_organization(pg_temp.o(1))$$, 'P0002', 'organization not found',
  'T420.06 the owner of another organization cannot export it');
select pg_temp.act(pg_temp.u(2));
select throws_ok($$select public.export_organization(pg_temp.o(1))$$, '42501',
  'permission denied: organization.delete is required in this organization', 'T420.07 an admin cannot export (owners only)');
select pg_temp.act(pg_temp.u(3));
select throws_ok($$select public.export_organization(pg_temp.o(1))$$, '42501',
  'permission denied: organization.delete is required in this organization', 'T420.08 a member cannot export');

-- R2 the document -----------------------------------------------------------------------------------
select pg_temp.act(pg_temp.u(1));
update t_doc set doc = public.export_organization(pg_temp.o(1)) where true;
select pg_temp.as_postgres();
select ok((select doc from t_doc) ?& array['organization', 'members', 'roles', 'clients', 'assignments', 'invitations', 'audit_log'],
  'T420.09 the owner exports one document with every part');
select is((select doc -> 'organization' ->> 'id' from t_doc), pg_temp.o(1)::text, 'T420.10 of this organization');
select results_eq(
  $$select m ->> 'id', m ->> 'email', m ->> 'name', m -> 'roles' from t_doc, jsonb_array_elements(doc -> 'members') m order by 2$$,
  $$values (pg_temp.u(1)::text, 'export1@example.com', 'Export 1', '["owner"]'::jsonb),
           (pg_temp.u(2)::text, 'export2@example.com', 'Export 2', '["admin"]'::jsonb),
           (pg_temp.u(3)::text, 'export3@example.com', 'Export 3', '["member"]'::jsonb)$$,
  'T420.11 members: id, email, name and roles');
select is((select array_agg(c ->> 'name' order by c ->> 'name') from t_doc, jsonb_array_elements(doc -> 'clients') c),
  array['Client E1', 'Client E2'], 'T420.12 its clients, none of another organization');
select is((select jsonb_array_length(doc -> 'assignments') from t_doc), 1, 'T420.13 its assignments');
select is((select jsonb_array_length(doc -> 'invitations') from t_doc), 1, 'T420.14 its invitations');
select ok((select doc::text !~ '(token|hash)' from t_doc),
  'T420.15 no token or hash anywhere in the document');
select is((select jsonb_array_length(doc -> 'audit_log') from t_doc),
  (select count(*)::int from public.audit_log where organization_id = pg_temp.o(1)), 'T420.16 its whole audit log');
select ok((select bool_and(a ->> 'organization_id' = pg_temp.o(1)::text) from t_doc, jsonb_array_elements(doc -> 'audit_log') a),
  'T420.17 and no audit entry of another organization');
select ok((select r -> 'permissions' ? 'organization.delete' from t_doc, jsonb_array_elements(doc -> 'roles') r where r ->> 'key' = 'owner')
          and (select count(*) from t_doc, jsonb_array_elements(doc -> 'roles') r) >= 5,
  'T420.18 the roles, with their permissions');
select is((select jsonb_agg(r -> 'permissions') from t_doc, jsonb_array_elements(doc -> 'roles') r
           where r ->> 'key' in ('auditor_e', 'gemini_only')),
  '[["audit.read"]]'::jsonb,
  'T420.35 the organization''s own roles with their permissions, and no role of another organization');

-- R3 size limit -------------------------------------------------------------------------------------
select pg_temp.as_service();
update public.settings set export_organization_max_rows = 3 where id;
select pg_temp.act(pg_temp.u(1));
select throws_ok($$select public.export_organization(pg_temp.o(1))$$, 'P0001',
  'organization too large to export in one call: more than 3 rows',
  'T420.19 above settings.export_organization_max_rows the RPC refuses (streaming export instead)');
select pg_temp.as_service();
update public.settings set export_organization_max_rows = default, export_organization_max_bytes = 40 where id;
select pg_temp.act(pg_temp.u(1));
select throws_ok($$select public.export_organization(pg_temp.o(1))$$, 'P0001',
  'organization too large to export in one call: more than 40 bytes',
  'T420.41 above settings.export_organization_max_bytes bytes of text (names, emails, notes, audit rows) it refuses too');
select pg_temp.as_service();
update public.settings set export_organization_max_bytes = default where id;
select pg_temp.act(pg_temp.u(1));
select lives_ok($$select public.export_organization(pg_temp.o(1))$$, 'T420.42 below both limits it exports');
select pg_temp.as_service();
update public.settings set export_organization_max_rows = 3 where id;
select pg_temp.act(pg_temp.u(1));

-- R4 export_my_data -----------------------------------------------------------------------------------
select pg_temp.act(pg_temp.u(3));
update t_doc set doc = public.export_my_data() where true;
select pg_temp.as_postgres();
select is((select doc -> 'profile' ->> 'email' from t_doc), 'export3@example.com', 'T420.20 export_my_data: the caller''s profile');
select results_eq(
  $$select m ->> 'organization_id', m -> 'roles' from t_doc, jsonb_array_elements(doc -> 'memberships') m order by 1$$,
  $$values (pg_temp.o(1)::text, '["member"]'::jsonb), (pg_temp.o(3)::text, '["member"]'::jsonb)$$,
  'T420.21 their memberships with their roles');
select set_eq($$select a ->> 'client_id' from t_doc, jsonb_array_elements(doc -> 'assignments') a$$,
  $$values ('42000000-0000-4000-9000-000000000001'), ((select id::text from public.clients where name = 'Made by u3'))$$,
  'T420.22 their assignments (the one given, and the client they created)');
select is((select jsonb_array_length(doc -> 'audit_entries') from t_doc),
  (select count(*)::int from public.audit_log where actor_id = pg_temp.u(3)), 'T420.23 every audit entry where they are the actor');
select ok((select count(*) from public.audit_log where actor_id = pg_temp.u(3)) > 0
          and (select bool_and((select array_agg(k order by k) from jsonb_object_keys(e) k) = array['action', 'created_at', 'record_id', 'table_name'])
                 from t_doc, jsonb_array_elements(doc -> 'audit_entries') e),
  'T420.24 as metadata only: table, action, time, record id (never old or new rows)');
select pg_temp.act(pg_temp.u(5));
select results_eq($$select public.export_my_data() -> 'memberships', public.export_my_data() -> 'profile' ->> 'id'$$,
  $$values ('[]'::jsonb, pg_temp.u(5)::text)$$, 'T420.25 a user in no organization gets their profile and no memberships');

-- R5 account_deletion_blockers ----------------------------------------------------------------------------
select pg_temp.act(pg_temp.u(1));
select results_eq($$select organization_id, name, reason from public.account_deletion_blockers()$$,
  $$values (pg_temp.o(1), 'Exported', 'only_owner')$$,
  'T420.26 the only owner of an organization with other members is blocked there, not where another owner remains');
select pg_temp.act(pg_temp.u(4));
select is_empty($$select * from public.account_deletion_blockers()$$,
  'T420.27 the only member of an organization is not blocked (it goes with the account)');
select pg_temp.act(pg_temp.u(2));
select is_empty($$select * from public.account_deletion_blockers()$$, 'T420.28 an admin who owns nothing alone is not blocked');
select pg_temp.act(pg_temp.u(3));
select is_empty($$select * from public.account_deletion_blockers()$$, 'T420.29 a plain member is not blocked');
select pg_temp.as_postgres();
select ok(not has_function_privilege('service_role', 'public.account_deletion_blockers()', 'execute')
          and not has_function_privilege('service_role', 'public.export_my_data()', 'execute'),
  'T420.30 the service holds none of the signed-in user''s lifecycle functions');

-- R6 tables of the project's own ---------------------------------------------------------------------
select pg_temp.as_postgres();
update public.settings set export_organization_max_rows = default where id;
create table public.export_notes_420 (
  id uuid primary key,
  organization_id uuid not null references public.organizations (id) on delete cascade,
  body text not null,
  secret text
);
select private.register_audited_table('public.export_notes_420', record_id_column => 'id',
  organization_id_column => 'organization_id', secret_columns => '{secret}');
create temp table t_core as select private.export_organization_rows(pg_temp.o(1), 1000) as n;
grant all on t_core to public;
insert into public.export_notes_420 (id, organization_id, body, secret) values
  ('42000000-0000-4000-9100-000000000002', pg_temp.o(1), 'Note E2', 's2'),
  ('42000000-0000-4000-9100-000000000001', pg_temp.o(1), 'Note E1', 's1'),
  ('42000000-0000-4000-9100-000000000003', pg_temp.o(3), 'Note G1', 's3');
select pg_temp.act(pg_temp.u(1));
update t_doc set doc = public.export_organization(pg_temp.o(1)) where true;
select pg_temp.as_postgres();
select is((select array_agg(n ->> 'body' order by ord) from t_doc, jsonb_array_elements(doc -> 'tables' -> 'export_notes_420') with ordinality e (n, ord)),
  array['Note E1', 'Note E2'],
  'T420.31 a registered table of the project''s own is in the document under tables: this organization''s rows, by record id');
select ok((select bool_and(not n ? 'secret') and bool_and(n ? 'organization_id') from t_doc, jsonb_array_elements(doc -> 'tables' -> 'export_notes_420') n),
  'T420.32 without its registered secret columns');
select pg_temp.act(pg_temp.u(4));
update t_doc set doc = public.export_organization(pg_temp.o(2)) where true;
select pg_temp.as_postgres();
select ok((select doc -> 'tables' -> 'export_notes_420' = '[]'::jsonb from t_doc)
          and not exists (select from t_doc, jsonb_each(doc -> 'tables') t, jsonb_array_elements(t.value) r
                           where r ->> 'organization_id' is distinct from pg_temp.o(2)::text),
  'T420.33 an organization without rows there gets the table, empty, and no table holds another organization''s rows');
select is(private.export_organization_rows(pg_temp.o(1), 1000) - (select n from t_core), 4::bigint,
  'T420.34 the row limit counts the rows of registered tables (two rows and their two audit entries)');

-- A table whose columns share names with the export's own query (its alias x, its outputs data and n).
create table public.export_marks_420 (
  id uuid primary key,
  organization_id uuid not null references public.organizations (id) on delete cascade,
  x text,
  data jsonb,
  n integer
);
select private.register_audited_table('public.export_marks_420', record_id_column => 'id',
  organization_id_column => 'organization_id');
insert into public.export_marks_420 (id, organization_id, x, data, n) values
  ('42000000-0000-4000-9200-000000000001', pg_temp.o(1), 'ex', '{"k": 1}', 7);
select pg_temp.act(pg_temp.u(1));
update t_doc set doc = public.export_organization(pg_temp.o(1)) where true;
select pg_temp.as_postgres();
select is((select doc -> 'tables' -> 'export_marks_420' from t_doc),
  jsonb_build_array(jsonb_build_object('id', '42000000-0000-4000-9200-000000000001', 'organization_id', pg_temp.o(1),
                                       'x', 'ex', 'data', '{"k": 1}'::jsonb, 'n', 7)),
  'T420.36 a registered table''s rows are exported whole, whatever its columns are called (x, data, n)');

-- R7 a user's rows in the project's own tables (migration 20261201010900) ------------------------------
select pg_temp.as_postgres();
create table public.user_export_notes_420 (
  organization_id uuid not null,
  user_id uuid not null,
  note_id uuid not null,
  secret text,
  primary key (organization_id, user_id, note_id)
);
select private.register_audited_table('public.user_export_notes_420', record_id_column => 'note_id',
  organization_id_column => 'organization_id', secret_columns => '{secret}');
insert into public.user_export_notes_420 (organization_id, user_id, note_id, secret) values
  (pg_temp.o(1), pg_temp.u(3), '42000000-0000-4000-9100-000000000002', 's'),
  (pg_temp.o(1), pg_temp.u(3), '42000000-0000-4000-9100-000000000001', 's'),
  (pg_temp.o(1), pg_temp.u(2), '42000000-0000-4000-9100-000000000001', 's');
select pg_temp.act(pg_temp.u(3));
update t_doc set doc = public.export_my_data() where true;
select pg_temp.as_postgres();
select is((select doc -> 'tables' -> 'user_export_notes_420' from t_doc),
  jsonb_build_array(
    jsonb_build_object('organization_id', pg_temp.o(1), 'user_id', pg_temp.u(3), 'note_id', '42000000-0000-4000-9100-000000000001'),
    jsonb_build_object('organization_id', pg_temp.o(1), 'user_id', pg_temp.u(3), 'note_id', '42000000-0000-4000-9100-000000000002')),
  'T420.37 export_my_data holds the caller''s rows of a registered table with a user_id column (an entity:new assignment table): theirs only, in record id order, without the secret columns');
select ok((select not (doc -> 'tables' ? 'export_notes_420') and not (doc -> 'tables' ? 'export_marks_420') from t_doc),
  'T420.38 ... and no table without a user_id column (those rows are the organization''s)');
select pg_temp.act(pg_temp.u(5));
select is(public.export_my_data() -> 'tables' -> 'user_export_notes_420', '[]'::jsonb,
  'T420.39 a user with no rows there gets the table, empty');
select pg_temp.as_postgres();
create domain public.user_ref_420 as uuid;
create domain public.member_ref_420 as public.user_ref_420;
create table public.user_export_marks_420 (
  organization_id uuid not null,
  user_id public.member_ref_420 not null,
  mark_id uuid primary key,
  mark text
);
select private.register_audited_table('public.user_export_marks_420', record_id_column => 'mark_id',
  organization_id_column => 'organization_id');
insert into public.user_export_marks_420 values (pg_temp.o(1), pg_temp.u(3), '42000000-0000-4000-9200-000000000001', 'starred');
select pg_temp.act(pg_temp.u(3));
select is(public.export_my_data() -> 'tables' -> 'user_export_marks_420',
  jsonb_build_array(jsonb_build_object('organization_id', pg_temp.o(1), 'user_id', pg_temp.u(3),
                                       'mark_id', '42000000-0000-4000-9200-000000000001', 'mark', 'starred')),
  'T420.40 a user_id typed by a domain over a domain over uuid counts as the user''s too (migration 20261201011400)');

select * from finish();
rollback;

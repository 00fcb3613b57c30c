-- Threat cases for the audit log (SPEC §3 audit_log, §4 "audit_log rows are
-- written by triggers for every insert, update and delete ...; nobody but the
-- service can change or delete them, and they survive the deletion of their
-- organization", permission audit.read):
--   * triggers record insert/update/delete on organizations,
--     organization_users, user_roles, clients, user_clients and invitations,
--     with actor_id = auth.uid() (null for the service and for data loaded outside a request, such as the fixtures),
--     organization_id, action, table_name, record_id, old/new rows; the
--     invitations' token_hash (and the token) never appear;
--   * only holders of audit.read (owner, admin) read their organization's
--     rows; manager, member, viewer, members of other organizations and
--     non-members read none; anon is refused;
--   * authenticated users cannot insert, update, delete or truncate rows; the
--     service can;
--   * rows survive the deletion of their organization (and of their actor).
-- Personas and ids: personas.psql.
begin;
create extension if not exists pgtap with schema extensions;
select plan(47);

-- The suite's personas, organizations and invitations (fixtures, not the seed).
\ir personas.psql

create temp table t_ids (label text primary key, id uuid, token text);
grant all on t_ids to authenticated, anon, service_role;

-- The fixtures' history ---------------------------------------------------------------

select is_empty(
  $$select 'organizations', o.id::text from public.organizations o
    where o.id = any(pg_temp.orgs()) and not exists (select 1 from public.audit_log a where a.table_name = 'organizations' and a.action = 'insert'
                      and a.record_id = o.id and a.organization_id = o.id and a.actor_id is null)
    union all
    select 'organization_users', ou.user_id::text from public.organization_users ou
    where ou.organization_id = any(pg_temp.orgs()) and not exists (select 1 from public.audit_log a where a.table_name = 'organization_users' and a.action = 'insert'
                      and a.record_id = ou.user_id and a.organization_id = ou.organization_id and a.actor_id is null)
    union all
    select 'user_roles', ur.user_id::text from public.user_roles ur
    where ur.organization_id = any(pg_temp.orgs()) and not exists (select 1 from public.audit_log a where a.table_name = 'user_roles' and a.action = 'insert'
                      and a.record_id = ur.user_id and a.organization_id = ur.organization_id
                      and (a.new ->> 'role_id')::uuid = ur.role_id and a.actor_id is null)
    union all
    select 'clients', c.id::text from public.clients c
    where c.organization_id = any(pg_temp.orgs()) and not exists (select 1 from public.audit_log a where a.table_name = 'clients' and a.action = 'insert'
                      and a.record_id = c.id and a.organization_id = c.organization_id and a.actor_id is null)
    union all
    select 'user_clients', uc.client_id::text from public.user_clients uc
    where uc.organization_id = any(pg_temp.orgs()) and not exists (select 1 from public.audit_log a where a.table_name = 'user_clients' and a.action = 'insert'
                      and a.record_id = uc.client_id and a.organization_id = uc.organization_id
                      and (a.new ->> 'user_id')::uuid = uc.user_id and a.actor_id is null)
    union all
    select 'invitations', i.id::text from public.invitations i
    where i.organization_id = any(pg_temp.orgs()) and not exists (select 1 from public.audit_log a where a.table_name = 'invitations' and a.action = 'insert'
                      and a.record_id = i.id and a.organization_id = i.organization_id and a.actor_id is null)$$,
  'T240.01 the fixtures'' history is present: every fixture row has its insert row, with no actor');
select is_empty(
  $$select id from public.audit_log where old ? 'token_hash' or new ? 'token_hash'$$,
  'T240.02 no audit row carries token_hash (the fixtures'' invitations included)');
select is_empty(
  $$select id from public.audit_log where strpos(coalesce(old::text, '') || coalesce(new::text, ''), 'fixture-invitation-token') > 0$$,
  'T240.03 the fixtures'' invitation tokens appear in no audit row');

-- organizations: update by alice (owner of Acme) ---------------------------------------

set local role authenticated;
select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000001","role":"authenticated"}', true);
update public.organizations set name = 'Acme Audited' where id = 'f1000000-0000-4000-8000-000000000001';
reset role;
select results_eq(
  $$select actor_id, organization_id, record_id, old ->> 'name', new ->> 'name' from public.audit_log
    where table_name = 'organizations' and action = 'update' and organization_id::text like 'f1000000-%'$$,
  $$values ('f0000000-0000-4000-a000-000000000001'::uuid, 'f1000000-0000-4000-8000-000000000001'::uuid,
            'f1000000-0000-4000-8000-000000000001'::uuid, 'Acme Corporation', 'Acme Audited')$$,
  'T240.04 an update of organizations is recorded with the actor, the organization, the record id and old/new rows');

-- clients and user_clients: carol (manager of Acme) ---------------------------------------

set local role authenticated;
select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000003","role":"authenticated"}', true);
with c as (
  insert into public.clients (organization_id, name, status) values ('f1000000-0000-4000-8000-000000000001', 'Audit Probe', 'lead')
  returning id
)
insert into t_ids (label, id) select 'client', id from c;
update public.clients set status = 'active' where id = (select id from t_ids where label = 'client');
insert into public.user_clients (organization_id, user_id, client_id)
values ('f1000000-0000-4000-8000-000000000001', 'f0000000-0000-4000-a000-000000000004', (select id from t_ids where label = 'client'));
delete from public.user_clients where client_id = (select id from t_ids where label = 'client');
delete from public.clients where id = (select id from t_ids where label = 'client');
reset role;
select results_eq(
  $$select action, actor_id, organization_id, old ->> 'status', new ->> 'status' from public.audit_log
    where table_name = 'clients' and record_id = (select id from t_ids where label = 'client') order by created_at$$,
  $$values ('insert', 'f0000000-0000-4000-a000-000000000003'::uuid, 'f1000000-0000-4000-8000-000000000001'::uuid, null, 'lead'),
           ('update', 'f0000000-0000-4000-a000-000000000003'::uuid, 'f1000000-0000-4000-8000-000000000001'::uuid, 'lead', 'active'),
           ('delete', 'f0000000-0000-4000-a000-000000000003'::uuid, 'f1000000-0000-4000-8000-000000000001'::uuid, 'active', null)$$,
  'T240.05 insert, update and delete of a client are recorded in order, by their actor, with old/new rows');
select results_eq(
  $$select action, actor_id, organization_id, coalesce(new, old) ->> 'user_id' from public.audit_log
    where table_name = 'user_clients' and record_id = (select id from t_ids where label = 'client') order by created_at$$,
  $$values ('insert', 'f0000000-0000-4000-a000-000000000003'::uuid, 'f1000000-0000-4000-8000-000000000001'::uuid, 'f0000000-0000-4000-a000-000000000004'),
           ('delete', 'f0000000-0000-4000-a000-000000000003'::uuid, 'f1000000-0000-4000-8000-000000000001'::uuid, 'f0000000-0000-4000-a000-000000000004')$$,
  'T240.06 assigning and unassigning a member are recorded (record_id = the client)');

-- invitations, organization_users, user_roles: invite, accept, change roles, remove --------

set local role authenticated;
select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000001","role":"authenticated"}', true);
insert into t_ids select 'nora-1', i.invitation_id, i.token from public.invite_member('f1000000-0000-4000-8000-000000000001', 'nora@example.test', 'viewer') i;
insert into t_ids select 'nora-2', i.invitation_id, i.token from public.invite_member('f1000000-0000-4000-8000-000000000001', 'nora@example.test', 'member') i;
select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000012","role":"authenticated"}', true);
select public.accept_invitation((select token from t_ids where label = 'nora-2'));
reset role;

select results_eq(
  $$select action, actor_id, organization_id, record_id from public.audit_log
    where table_name = 'invitations' and record_id in (select id from t_ids where label like 'nora-%')
    order by created_at$$,
  $$values ('insert', 'f0000000-0000-4000-a000-000000000001'::uuid, 'f1000000-0000-4000-8000-000000000001'::uuid, (select id from t_ids where label = 'nora-1')),
           ('update', 'f0000000-0000-4000-a000-000000000001'::uuid, 'f1000000-0000-4000-8000-000000000001'::uuid, (select id from t_ids where label = 'nora-1')),
           ('insert', 'f0000000-0000-4000-a000-000000000001'::uuid, 'f1000000-0000-4000-8000-000000000001'::uuid, (select id from t_ids where label = 'nora-2')),
           ('update', 'f0000000-0000-4000-a000-000000000012'::uuid, 'f1000000-0000-4000-8000-000000000001'::uuid, (select id from t_ids where label = 'nora-2'))$$,
  'T240.07 invitations: creation, replacement (revocation) and acceptance are recorded, each by its actor');
select ok(
  (select new ->> 'revoked_at' is not null and old ->> 'revoked_at' is null from public.audit_log
   where table_name = 'invitations' and action = 'update' and record_id = (select id from t_ids where label = 'nora-1')),
  'T240.08 the replacement row shows revoked_at going from null to set');
select is_empty(
  $$select a.id from public.audit_log a join t_ids t on t.token is not null
    where a.old ? 'token_hash' or a.new ? 'token_hash'
       or strpos(coalesce(a.old::text, '') || coalesce(a.new::text, ''), t.token) > 0
       or strpos(coalesce(a.old::text, '') || coalesce(a.new::text, ''), encode(extensions.digest(t.token, 'sha256'), 'hex')) > 0$$,
  'T240.09 neither token_hash nor the token (nor its hash in hex) appears in old/new');
select results_eq(
  $$select table_name, actor_id, organization_id, record_id from public.audit_log
    where action = 'insert' and table_name in ('organization_users', 'user_roles')
      and record_id = 'f0000000-0000-4000-a000-000000000012' order by table_name$$,
  $$values ('organization_users', 'f0000000-0000-4000-a000-000000000012'::uuid, 'f1000000-0000-4000-8000-000000000001'::uuid, 'f0000000-0000-4000-a000-000000000012'::uuid),
           ('user_roles', 'f0000000-0000-4000-a000-000000000012'::uuid, 'f1000000-0000-4000-8000-000000000001'::uuid, 'f0000000-0000-4000-a000-000000000012'::uuid)$$,
  'T240.10 joining through an invitation records the membership and the role, with the new member as actor');

set local role authenticated;
select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000001","role":"authenticated"}', true);
select public.set_member_roles('f1000000-0000-4000-8000-000000000001', 'f0000000-0000-4000-a000-000000000012', array['manager']);
reset role;
select results_eq(
  $$select a.action, a.actor_id, r.key from public.audit_log a join public.roles r on r.id = (coalesce(a.new, a.old) ->> 'role_id')::uuid
    where a.table_name = 'user_roles' and a.record_id = 'f0000000-0000-4000-a000-000000000012'
      and a.actor_id = 'f0000000-0000-4000-a000-000000000001' order by a.created_at$$,
  $$values ('delete', 'f0000000-0000-4000-a000-000000000001'::uuid, 'member'),
           ('insert', 'f0000000-0000-4000-a000-000000000001'::uuid, 'manager')$$,
  'T240.11 changing a member''s roles records the revoked and the granted role, by the granter');

set local role authenticated;
select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000001","role":"authenticated"}', true);
select public.remove_member('f1000000-0000-4000-8000-000000000001', 'f0000000-0000-4000-a000-000000000012');
reset role;
select results_eq(
  $$select table_name, actor_id from public.audit_log
    where action = 'delete' and record_id = 'f0000000-0000-4000-a000-000000000012'
      and (table_name = 'organization_users'
           or (table_name = 'user_roles' and (old ->> 'role_id')::uuid = (select id from public.roles where key = 'manager')))
    order by table_name$$,
  $$values ('organization_users', 'f0000000-0000-4000-a000-000000000001'::uuid),
           ('user_roles', 'f0000000-0000-4000-a000-000000000001'::uuid)$$,
  'T240.12 removing a member records the deleted membership and its cascaded role, by the remover');

-- The service writes with no actor --------------------------------------------------------

set local role service_role;
select set_config('request.jwt.claims', '', true);
with c as (
  insert into public.clients (organization_id, name) values ('f1000000-0000-4000-8000-000000000002', 'Service Probe')
  returning id
)
insert into t_ids (label, id) select 'service-client', id from c;
reset role;
select results_eq(
  $$select action, actor_id, organization_id from public.audit_log where record_id = (select id from t_ids where label = 'service-client')$$,
  $$values ('insert', null::uuid, 'f1000000-0000-4000-8000-000000000002'::uuid)$$,
  'T240.13 a change made by the service is recorded with a null actor');
select is_empty(
  $$select id from public.audit_log where created_at >= now() and actor_id is distinct from null
      and actor_id not in ('f0000000-0000-4000-a000-000000000001', 'f0000000-0000-4000-a000-000000000003', 'f0000000-0000-4000-a000-000000000012')$$,
  'T240.14 every row written in this test names the user who acted, and no one else');

-- Who may read ---------------------------------------------------------------------------

set local role authenticated;
select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000001","role":"authenticated"}', true);
select is((select array_agg(distinct organization_id) from public.audit_log),
  array['f1000000-0000-4000-8000-000000000001'::uuid], 'T240.15 an owner reads their organization''s history, and only it');
select ok((select count(*) from public.audit_log where table_name = 'clients' and action = 'delete') >= 1,
  'T240.16 an owner reads the rows written by other members (carol''s deletion)');
select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000002","role":"authenticated"}', true);
select is((select array_agg(distinct organization_id) from public.audit_log),
  array['f1000000-0000-4000-8000-000000000001'::uuid], 'T240.17 an admin reads their organization''s history, and only it');
select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000003","role":"authenticated"}', true);
select is_empty($$select id from public.audit_log$$, 'T240.18 a manager reads no audit rows, not even their own changes');
select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000004","role":"authenticated"}', true);
select is_empty($$select id from public.audit_log$$, 'T240.19 a member reads no audit rows');
select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000005","role":"authenticated"}', true);
select is_empty($$select id from public.audit_log$$, 'T240.20 a viewer reads no audit rows');
select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000011","role":"authenticated"}', true);
select is_empty($$select id from public.audit_log$$, 'T240.21 a member of two organizations without audit.read reads none');
select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000012","role":"authenticated"}', true);
select is_empty($$select id from public.audit_log$$, 'T240.22 a former member reads no audit rows, not even about themselves');
select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000006","role":"authenticated"}', true);
select is((select array_agg(distinct organization_id) from public.audit_log),
  array['f1000000-0000-4000-8000-000000000002'::uuid], 'T240.23 the owner of another organization reads only that organization''s rows');
select is_empty($$select id from public.audit_log where organization_id = 'f1000000-0000-4000-8000-000000000001'$$,
  'T240.24 another organization''s owner cannot read Acme''s rows by filtering on its id');
select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000007","role":"authenticated"}', true);
select is((select array_agg(distinct organization_id) from public.audit_log),
  array['f1000000-0000-4000-8000-000000000002'::uuid], 'T240.25 an admin of another organization reads only that organization''s rows');
select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000001","role":"authenticated"}', true);
select is_empty($$select id from public.audit_log where organization_id is null$$,
  'T240.26 rows without an organization (profiles) are readable by no user');

reset role;
set local role anon;
select set_config('request.jwt.claims', '', true);
select throws_ok($$select id from public.audit_log$$, '42501', 'permission denied for table audit_log',
  'T240.27 anon cannot read the audit log (42501)');

-- Nobody but the service writes ----------------------------------------------------------

select throws_ok(
  $$insert into public.audit_log (action, table_name) values ('insert', 'clients')$$,
  '42501', 'permission denied for table audit_log', 'T240.28 anon cannot insert audit rows (42501)');
reset role;
set local role authenticated;
select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000001","role":"authenticated"}', true);
select throws_ok(
  $$insert into public.audit_log (organization_id, actor_id, action, table_name, record_id)
    values ('f1000000-0000-4000-8000-000000000001', 'f0000000-0000-4000-a000-000000000002', 'delete', 'clients', gen_random_uuid())$$,
  '42501', 'permission denied for table audit_log', 'T240.29 an owner cannot forge an audit row in someone else''s name (42501)');
select throws_ok(
  $$update public.audit_log set actor_id = null where actor_id = 'f0000000-0000-4000-a000-000000000001'$$,
  '42501', 'permission denied for table audit_log', 'T240.30 an owner cannot rewrite their own audit rows (42501)');
select throws_ok(
  $$delete from public.audit_log where organization_id = 'f1000000-0000-4000-8000-000000000001'$$,
  '42501', 'permission denied for table audit_log', 'T240.31 an owner cannot delete their organization''s audit rows (42501)');
select throws_ok(
  $$truncate public.audit_log$$,
  '42501', 'permission denied for table audit_log', 'T240.32 an owner cannot truncate the audit log (42501)');
select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000002","role":"authenticated"}', true);
select throws_ok(
  $$delete from public.audit_log where actor_id = 'f0000000-0000-4000-a000-000000000002'$$,
  '42501', 'permission denied for table audit_log', 'T240.33 an admin cannot delete audit rows (42501)');
reset role;

set local role service_role;
select set_config('request.jwt.claims', '', true);
select lives_ok(
  $$insert into public.audit_log (organization_id, action, table_name, record_id)
    values ('f1000000-0000-4000-8000-000000000003', 'update', 'service_note', 'f1000000-0000-4000-8000-000000000003')$$,
  'T240.34 the service can insert audit rows');
select results_eq(
  $$update public.audit_log set new = '{"note":"corrected"}' where table_name = 'service_note' returning new ->> 'note'$$,
  $$values ('corrected')$$,
  'T240.35 the service can update audit rows');
select results_eq(
  $$delete from public.audit_log where table_name = 'service_note' returning table_name$$,
  $$values ('service_note')$$,
  'T240.36 the service can delete audit rows');
reset role;

-- Rows survive their organization and their actor ------------------------------------------

create temp table t_before as
  select id from public.audit_log where organization_id = 'f1000000-0000-4000-8000-000000000001';

set local role authenticated;
select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000001","role":"authenticated"}', true);
select lives_ok(
  $$select public.delete_organization('f1000000-0000-4000-8000-000000000001')$$,
  'T240.37 setup: the owner deletes the organization (delete_organization)');
select lives_ok($$set constraints all immediate$$, 'T240.38 deleting the organization with its owners passes the owner invariant');
set constraints all deferred;
reset role;

select ok(not exists (select 1 from public.organizations where id = 'f1000000-0000-4000-8000-000000000001')
          and not exists (select 1 from public.clients where organization_id = 'f1000000-0000-4000-8000-000000000001'),
  'T240.39 the organization and its clients are gone');
select ok(
  (select count(*) from t_before) > 0
  and not exists (select 1 from t_before b where not exists (select 1 from public.audit_log a where a.id = b.id)),
  'T240.40 every audit row of the organization survives its deletion');
select results_eq(
  $$select table_name, count(*) from public.audit_log
    where organization_id = 'f1000000-0000-4000-8000-000000000001' and action = 'insert' and actor_id is null
    group by table_name order by table_name$$,
  $$values ('clients', 25::bigint), ('invitations', 1::bigint), ('organization_users', 6::bigint),
           ('organizations', 1::bigint), ('user_clients', 10::bigint), ('user_roles', 6::bigint)$$,
  'T240.41 the fixtures'' rows of the deleted organization are still there');
select results_eq(
  $$select actor_id, record_id, old ->> 'slug', new ->> 'method', (new -> 'deleted_rows' ->> 'public.clients')::int from public.audit_log
    where table_name = 'organizations' and action = 'delete' and organization_id::text like 'f1000000-%'$$,
  $$values ('f0000000-0000-4000-a000-000000000001'::uuid, 'f1000000-0000-4000-8000-000000000001'::uuid, 'fixture-acme',
            'delete_organization', 25)$$,
  'T240.42 the deletion of the organization itself is recorded once, by its owner, with the old row and the rows that went');
select is_empty(
  $$select table_name from public.audit_log
    where organization_id = 'f1000000-0000-4000-8000-000000000001' and id not in (select id from t_before)
      and table_name <> 'organizations'$$,
  'T240.43 the rows that went with it (clients, invitations, memberships) get no entry each: the summary counts them');
select is_empty(
  $$select id from public.audit_log where table_name = 'invitations' and action = 'delete' and (old ? 'token_hash' or new ? 'token_hash')$$,
  'T240.44 the deleted invitations'' rows carry no token_hash either');

-- nora, whose actions are recorded, deletes her account.
delete from auth.users where id = 'f0000000-0000-4000-a000-000000000012';
select ok(
  (select count(*) from public.audit_log where actor_id = 'f0000000-0000-4000-a000-000000000012') >= 3,
  'T240.45 rows survive the deletion of their actor (actor_id is kept)');

-- The surviving rows are not exposed to anyone through the API.
set local role authenticated;
select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000001","role":"authenticated"}', true);
select is_empty($$select id from public.audit_log where organization_id = 'f1000000-0000-4000-8000-000000000001'$$,
  'T240.46 once the organization is gone, its former owner can no longer read its rows');
reset role;
set local role service_role;
select set_config('request.jwt.claims', '', true);
select ok((select count(*) from public.audit_log where organization_id = 'f1000000-0000-4000-8000-000000000001') > 0,
  'T240.47 the service still reads the deleted organization''s history');
reset role;

select * from finish();
rollback;

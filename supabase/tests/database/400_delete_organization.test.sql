-- Threat cases for deleting an organization (SPEC 11 delete_organization):
--   R1  only holders of organization.delete (owners) delete; anon, the
--       service, non-members, members of another organization, viewers,
--       members and admins are refused, and nothing changes;
--   R2  the plain table DELETE on organizations is gone for every API role:
--       the RPC is the one audited path;
--   R3  the deletion leaves no row of the organization in any table with an
--       organization_id column of type uuid except audit_log (checked over
--       the catalog, so a table added later is covered; one is added below,
--       and one keyed by a domain over uuid), its own roles (held by a
--       member) and their permissions included; a table whose
--       organization_id is not a uuid (another system's id) is left alone
--       and does not stop the deletion;
--   R4  the audit log keeps every earlier entry and gains exactly one summary
--       entry (actor, rows per table); the entries of a deleted organization
--       are readable by the service only; the purge's skipping of per-row
--       entries cannot be switched on with a setting;
--   R5  a tombstone keeps the id from ever being used again;
--   R6  above settings.delete_organization_max_rows the RPC refuses (pointing
--       to the batched deletion); the batched deletion (service only) ends
--       with the same single summary entry.
--   R7  deleting an account refuses, the same way, to take along an
--       organization above that limit where the user is the only member (one
--       account, or the last members deleted together), naming it and the
--       remedy, and changes nothing; account_deletion_blockers lists it
--       (too_large); below the limit the organization goes with the account.
-- Fixtures are created here, inside the file's transaction.
begin;
create extension if not exists pgtap with schema extensions;
select plan(50);

\ir personas.psql

create function pg_temp.act(id uuid) returns void language plpgsql as $$
begin
  perform set_config('request.jwt.claims', json_build_object('sub', id, 'role', 'authenticated')::text, true);
  set local role authenticated;
end $$;
create function pg_temp.u(n int) returns uuid language sql immutable as $$
  select ('40000000-0000-4000-a000-0000000000' || lpad(n::text, 2, '0'))::uuid $$;
create function pg_temp.o(n int) returns uuid language sql immutable as $$
  select ('40000000-0000-4000-8000-0000000000' || lpad(n::text, 2, '0'))::uuid $$;
-- Tables (from the catalog) still holding rows of an organization, audit_log aside.
create function pg_temp.leftovers(org uuid) returns text[] language plpgsql as $$
declare
  t regclass;
  found_rows boolean;
  tables text[] := '{}';
begin
  for t in
    select c.oid::regclass from pg_class c join pg_namespace n on n.oid = c.relnamespace
      join pg_attribute a on a.attrelid = c.oid and a.attname = 'organization_id' and a.attnum > 0 and not a.attisdropped
      join pg_type ty on ty.oid = a.atttypid
     where c.relkind in ('r', 'p') and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname !~ '^pg_(toast|temp)'
       and (case when ty.typtype = 'd' then ty.typbasetype else ty.oid end) = 'uuid'::regtype
       and c.oid <> 'public.audit_log'::regclass
  loop
    execute format('select exists (select 1 from %s where organization_id = $1)', t) into found_rows using org;
    if found_rows then tables := tables || t::text; end if;
  end loop;
  return tables;
end $$;
grant execute on all functions in schema pg_temp to public;

-- Fixtures: D (owner u1, admin u2, member u3, viewer u4), Y (owner u5), Z (owner u1), u6 belongs nowhere.
insert into auth.users (id, email, raw_user_meta_data)
select pg_temp.u(n), 'lifecycle' || n || '@example.com', json_build_object('full_name', 'Lifecycle ' || n)::jsonb
  from generate_series(1, 6) n;
insert into public.organizations (id, name, slug) values
  (pg_temp.o(1), 'Doomed', 'doomed-400'), (pg_temp.o(2), 'Yonder', 'yonder-400'), (pg_temp.o(3), 'Zed', 'zed-400');
insert into public.organization_users (organization_id, user_id) values
  (pg_temp.o(1), pg_temp.u(1)), (pg_temp.o(1), pg_temp.u(2)), (pg_temp.o(1), pg_temp.u(3)), (pg_temp.o(1), pg_temp.u(4)),
  (pg_temp.o(2), pg_temp.u(5)), (pg_temp.o(3), pg_temp.u(1));
insert into public.user_roles (organization_id, user_id, role_id)
select x.org, x.usr, r.id from (values
  (pg_temp.o(1), pg_temp.u(1), 'owner'), (pg_temp.o(1), pg_temp.u(2), 'admin'), (pg_temp.o(1), pg_temp.u(3), 'member'),
  (pg_temp.o(1), pg_temp.u(4), 'viewer'), (pg_temp.o(2), pg_temp.u(5), 'owner'), (pg_temp.o(3), pg_temp.u(1), 'owner')
) x (org, usr, key) join public.roles r on r.key = x.key;
insert into public.clients (id, organization_id, name)
select ('40000000-0000-4000-9000-0000000' || lpad((org * 1000 + i)::text, 5, '0'))::uuid, pg_temp.o(org), 'Client ' || org || '-' || i
  from (values (1, 3), (2, 5), (3, 1)) s (org, k), generate_series(1, s.k) i;
insert into public.user_clients (organization_id, user_id, client_id)
select pg_temp.o(1), pg_temp.u(3), c.id from public.clients c where c.organization_id = pg_temp.o(1) order by c.name limit 2;
select pg_temp.act(pg_temp.u(1));
select public.invite_member(pg_temp.o(1), 'newcomer-400@example.com', 'member');
-- D defines a role of its own, held by its viewer.
select public.create_role(pg_temp.o(1), 'doomed_reader', 'Reader', 10, '{clients.read,audit.read}');
select public.set_member_roles(pg_temp.o(1), pg_temp.u(4), '{viewer,doomed_reader}');
select pg_temp.as_postgres();
set constraints all immediate;
set constraints all deferred;

-- A table added later, with a foreign key that does not cascade: the catalog covers it.
create table public.t400_notes (
  id bigint generated always as identity primary key,
  organization_id uuid not null references public.organizations (id) on delete restrict,
  body text not null
);
insert into public.t400_notes (organization_id, body) values (pg_temp.o(3), 'kept by nobody');
-- Tables keyed by another system's organization id, or by a domain over uuid (migration 20261201010800).
create table public.t400_billing_links (
  id bigint generated always as identity primary key,
  organization_id text not null,
  provider_customer text not null
);
insert into public.t400_billing_links (organization_id, provider_customer) values (pg_temp.o(3)::text, 'cus_400');
create domain public.t400_org_ref as uuid;
create table public.t400_tags (
  id bigint generated always as identity primary key,
  organization_id public.t400_org_ref not null,
  tag text not null
);
insert into public.t400_tags (organization_id, tag) values (pg_temp.o(3), 'tagged');
-- A domain over that domain, with a foreign key to organizations (migration 20261201011400).
create domain public.t400_tenant_ref as public.t400_org_ref;
create table public.t400_ledger (
  id bigint generated always as identity primary key,
  organization_id public.t400_tenant_ref not null references public.organizations (id),
  entry text not null
);
insert into public.t400_ledger (organization_id, entry) values (pg_temp.o(3), 'booked');

create temp table t_before as select id from public.audit_log where organization_id = pg_temp.o(1);
grant all on t_before to public;

-- R1 who may delete ---------------------------------------------------------------------
select pg_temp.as_anon();
select throws_ok($$select public.delete_organization(pg_temp.o(1))$$, '42501', 'permission denied for function delete_organization',
  'T400.01 anon cannot call delete_organization (no grant)');
select pg_temp.as_service();
select throws_ok($$select public.delete_organization(pg_temp.o(1))$$, '42501', 'permission denied for function delete_organization',
  'T400.02 the service cannot call delete_organization (it has the batched deletion)');
select pg_temp.act(pg_temp.u(6));
select throws_ok($$select public.delete_organization(pg_temp.o(1))$$, 'P0002', 'organization not found',
  'T400.03 a non-member is told the organization does not exist (P0002)');
select pg_temp.act(pg_temp.u(5));
select throws_ok($$select public.delete_organization(pg_temp.o(1))$$, 'P0002', 'organization not found',
  'T400.04 the owner of another organization cannot delete it (P0002)');
select pg_temp.act(pg_temp.u(4));
select throws_ok($$select public.delete_organization(pg_temp.o(1))$$, '42501',
  'permission denied: organization.delete is required in this organization', 'T400.05 a viewer cannot delete (organization.delete)');
select pg_temp.act(pg_temp.u(3));
select throws_ok($$select public.delete_organization(pg_temp.o(1))$$, '42501',
  'permission denied: organization.delete is required in this organization', 'T400.06 a member cannot delete (organization.delete)');
select pg_temp.act(pg_temp.u(2));
select throws_ok($$select public.delete_organization(pg_temp.o(1))$$, '42501',
  'permission denied: organization.delete is required in this organization', 'T400.07 an admin cannot delete (owners only)');
select pg_temp.as_postgres();
select ok(exists (select 1 from public.organizations where id = pg_temp.o(1))
          and (select count(*) from public.clients where organization_id = pg_temp.o(1)) = 3,
  'T400.08 after the refusals the organization and its clients are all there');

-- R2 no plain DELETE ------------------------------------------------------------------------
select pg_temp.act(pg_temp.u(1));
select throws_ok($$delete from public.organizations where id = pg_temp.o(1)$$, '42501', 'permission denied for table organizations',
  'T400.09 the owner cannot delete through the table (no DELETE grant): the RPC is the path');
select pg_temp.as_service();
select throws_ok($$delete from public.organizations where id = pg_temp.o(1)$$, '42501', 'permission denied for table organizations',
  'T400.10 the service cannot delete through the table either');
select pg_temp.as_anon();
select throws_ok($$delete from public.organizations where id = pg_temp.o(1)$$, '42501', 'permission denied for table organizations',
  'T400.11 anon cannot delete through the table');
select pg_temp.as_postgres();
select ok(not exists (select 1 from pg_policies where tablename = 'organizations' and cmd = 'DELETE'),
  'T400.12 no delete policy remains on organizations');

-- R1, R3, R4 the owner deletes --------------------------------------------------------------
select pg_temp.act(pg_temp.u(2));
select pg_temp.act(pg_temp.u(1));
select lives_ok($$select public.delete_organization(pg_temp.o(1))$$, 'T400.13 the owner deletes the organization');
select lives_ok($$set constraints all immediate$$, 'T400.14 the deletion passes the commit-time owner invariant');
set constraints all deferred;
select pg_temp.as_postgres();
select ok(not exists (select 1 from public.organizations where id = pg_temp.o(1)), 'T400.15 the organization is gone');
select is(pg_temp.leftovers(pg_temp.o(1)), '{}'::text[],
  'T400.16 no table with an organization_id column (audit_log aside) keeps a row of it (catalog-driven)');
select ok(pg_temp.leftovers(pg_temp.o(2)) @> array['clients', 'organization_users', 'user_roles'],
  'T400.17 the same check finds the rows of an organization that exists (it can fail)');
select is((select count(*)::int from public.clients where organization_id = pg_temp.o(2)), 5,
  'T400.18 another organization''s clients are untouched');
select is((select count(*)::int from public.users where id in (pg_temp.u(1), pg_temp.u(2), pg_temp.u(3), pg_temp.u(4))), 4,
  'T400.19 the members'' profiles stay');
select ok((select count(*) from t_before) > 0
          and not exists (select 1 from t_before b where not exists (select 1 from public.audit_log a where a.id = b.id)),
  'T400.20 every earlier audit entry of the organization survives');
select is((select count(*)::int from public.audit_log a where a.organization_id = pg_temp.o(1)
            and not exists (select 1 from t_before b where b.id = a.id)), 1,
  'T400.21 the deletion adds exactly one audit entry (no entry per removed row)');
select results_eq(
  $$select actor_id, action, table_name, record_id, old ->> 'slug', new -> 'deleted_rows', new ->> 'method'
      from public.audit_log a where a.organization_id = pg_temp.o(1) and not exists (select 1 from t_before b where b.id = a.id)$$,
  $$values (pg_temp.u(1), 'delete', 'organizations', pg_temp.o(1), 'doomed-400',
            '{"public.organizations": 1, "public.organization_users": 4, "public.user_roles": 5, "public.clients": 3,
              "public.user_clients": 2, "public.invitations": 1, "public.roles": 1, "public.role_permissions": 2}'::jsonb,
            'delete_organization')$$,
  'T400.22 the summary entry records who deleted it and how many rows of each table went (its own role and its permissions included)');
select pg_temp.act(pg_temp.u(1));
select is_empty($$select 1 from public.audit_log where organization_id = pg_temp.o(1)$$,
  'T400.23 its former owner no longer reads the deleted organization''s audit entries');
select pg_temp.as_service();
select ok((select count(*) from public.audit_log where organization_id = pg_temp.o(1)) > 1,
  'T400.24 the service reads them');
select pg_temp.act(pg_temp.u(1));
select throws_ok($$select public.delete_organization(pg_temp.o(1))$$, 'P0002', 'organization not found',
  'T400.25 deleting it again: not found');

-- R5 tombstone -------------------------------------------------------------------------------
select pg_temp.as_postgres();
select ok(exists (select 1 from private.deleted_organizations where id = pg_temp.o(1) and deleted_at is not null),
  'T400.26 the deleted organization leaves a tombstone');
select throws_ok($$insert into public.organizations (id, name, slug) values (pg_temp.o(1), 'Reborn', 'reborn-400')$$,
  '23505', format('organization id %s belonged to a deleted organization', pg_temp.o(1)),
  'T400.27 its id is never used again, even by a direct insert');
select throws_ok($$update public.organizations set id = pg_temp.o(1) where id = pg_temp.o(2)$$,
  '23505', format('organization id %s belonged to a deleted organization', pg_temp.o(1)),
  'T400.28 nor by changing another organization''s id');

-- R4 the purge's audit skip cannot be forged -----------------------------------------------------
select pg_temp.act(pg_temp.u(5));
select set_config('org_layer.purging_organization', pg_temp.o(2)::text, true);
delete from public.clients where id = '40000000-0000-4000-9000-000000002005';
select pg_temp.as_postgres();
select is((select count(*)::int from public.audit_log where table_name = 'clients' and action = 'delete'
            and record_id = '40000000-0000-4000-9000-000000002005'), 1,
  'T400.29 a user who sets org_layer.purging_organization still leaves an audit entry for each deletion');
select set_config('org_layer.purging_organization', '', true);

-- A table added later goes too (its foreign key does not even cascade) ------------------------------
select pg_temp.act(pg_temp.u(1));
select lives_ok($$select public.delete_organization(pg_temp.o(3))$$,
  'T400.30 an organization with rows in a table added later is deleted');
select pg_temp.as_postgres();
select is(pg_temp.leftovers(pg_temp.o(3)), '{}'::text[], 'T400.31 the later table keeps none of its rows');
select is((select new -> 'deleted_rows' -> 'public.t400_notes' from public.audit_log
            where organization_id = pg_temp.o(3) and table_name = 'organizations' and action = 'delete'), '1'::jsonb,
  'T400.32 and the summary counts them');
select is((select new -> 'deleted_rows' -> 'public.t400_tags' from public.audit_log
            where organization_id = pg_temp.o(3) and table_name = 'organizations' and action = 'delete'), '1'::jsonb,
  'T400.41 a table keyed by a domain over uuid is the organization''s too: its row is deleted and counted');
select is((select array_agg(provider_customer) from public.t400_billing_links), '{cus_400}'::text[],
  'T400.42 a table whose organization_id is text (another system''s id) does not stop the deletion and keeps its rows');
select is((select new -> 'deleted_rows' -> 'public.t400_ledger' from public.audit_log
            where organization_id = pg_temp.o(3) and table_name = 'organizations' and action = 'delete'), '1'::jsonb,
  'T400.43 a table keyed by a domain over a domain over uuid, referencing organizations, is the organization''s too: the deletion goes through and counts its row');

-- R6 size limit and the batched deletion ------------------------------------------------------------
select pg_temp.as_service();
update public.settings set delete_organization_max_rows = 5 where id;
select pg_temp.act(pg_temp.u(5));
select throws_ok($$select public.delete_organization(pg_temp.o(2))$$, 'P0001',
  'organization too large to delete in one call: more than 5 rows',
  'T400.33 above settings.delete_organization_max_rows the RPC refuses');
select pg_temp.as_postgres();
select is((select count(*)::int from public.clients where organization_id = pg_temp.o(2)), 4, 'T400.34 and deletes nothing');
select pg_temp.act(pg_temp.u(5));
select throws_ok($$select private.delete_organization_batch(pg_temp.o(2), 2)$$, '42501', null,
  'T400.35 a signed-in user cannot run the batched deletion (service only)');
create temp table t_y_before as select id from public.audit_log where organization_id = pg_temp.o(2);
grant all on t_y_before to public;
select pg_temp.as_service();
select results_eq($$select private.delete_organization_batch(pg_temp.o(2), 3) union all
                    select private.delete_organization_batch(pg_temp.o(2), 3) union all
                    select private.delete_organization_batch(pg_temp.o(2), 3)$$,
  $$values (3::bigint), (1::bigint), (0::bigint)$$,
  'T400.36 the service deletes the clients in batches (3, then 1, then nothing left but members)');
select ok(exists (select 1 from public.organizations where id = pg_temp.o(2)), 'T400.37 between batches the organization is still there');
select lives_ok($$select private.finish_organization_deletion(pg_temp.o(2), pg_temp.u(5))$$,
  'T400.38 then the final step deletes it');
select pg_temp.as_postgres();
select is(pg_temp.leftovers(pg_temp.o(2)), '{}'::text[], 'T400.39 nothing of it is left');
select results_eq(
  $$select actor_id, table_name, new -> 'deleted_rows', new ->> 'method' from public.audit_log a
     where a.organization_id = pg_temp.o(2) and not exists (select 1 from t_y_before b where b.id = a.id)$$,
  $$values (pg_temp.u(5), 'organizations',
            '{"public.clients": 4, "public.organization_users": 1, "public.user_roles": 1, "public.organizations": 1}'::jsonb, 'batched')$$,
  'T400.40 the batched deletion also writes exactly one summary entry, with the rows of every batch');

-- R7 account deletion within the same limit --------------------------------------------------------
-- B (o7): its only member u7 and 4 clients (7 rows); P (o8): its last members u8 and u9 and 4 clients.
-- The limit is still 5 rows (R6).
select pg_temp.as_postgres();
insert into auth.users (id, email) select pg_temp.u(n), 'lifecycle' || n || '@example.com' from generate_series(7, 9) n;
insert into public.organizations (id, name, slug) values (pg_temp.o(7), 'Bulky', 'bulky-400'), (pg_temp.o(8), 'Pair', 'pair-400');
insert into public.organization_users (organization_id, user_id) values
  (pg_temp.o(7), pg_temp.u(7)), (pg_temp.o(8), pg_temp.u(8)), (pg_temp.o(8), pg_temp.u(9));
insert into public.user_roles (organization_id, user_id, role_id)
select x.org, x.usr, r.id from (values (pg_temp.o(7), pg_temp.u(7)), (pg_temp.o(8), pg_temp.u(8)), (pg_temp.o(8), pg_temp.u(9))) x (org, usr)
  join public.roles r on r.key = 'owner';
insert into public.clients (organization_id, name)
select pg_temp.o(org), 'Bulk ' || org || '-' || i from (values (7), (8)) s (org), generate_series(1, 4) i;
set constraints all immediate;
set constraints all deferred;
select pg_temp.act(pg_temp.u(7));
select results_eq($$select organization_id, name, reason from public.account_deletion_blockers()$$,
  $$values (pg_temp.o(7), 'Bulky'::text, 'too_large'::text)$$,
  'T400.44 account_deletion_blockers lists an organization the user alone belongs to that is too large to go with the account');
select pg_temp.as_postgres();
select throws_ok($$delete from auth.users where id = pg_temp.u(7)$$, 'P0001',
  format('cannot delete user %s: organization too large to delete with the account: "Bulky" (%s) (more than 5 rows)', pg_temp.u(7), pg_temp.o(7)),
  'T400.45 deleting that account is refused, naming the organization and the limit');
select ok(exists (select 1 from auth.users where id = pg_temp.u(7))
          and (select count(*) from public.clients where organization_id = pg_temp.o(7)) = 4,
  'T400.46 and nothing changes');
select throws_ok($$delete from auth.users where id in (pg_temp.u(8), pg_temp.u(9))$$, 'P0001',
  format('cannot delete users %s, %s: organization too large to delete with the accounts: "Pair" (%s) (more than 5 rows)',
         pg_temp.u(8), pg_temp.u(9), pg_temp.o(8)),
  'T400.47 deleting the last members of such an organization together is refused the same way');
select ok((select count(*) from auth.users where id in (pg_temp.u(8), pg_temp.u(9))) = 2
          and (select count(*) from public.clients where organization_id = pg_temp.o(8)) = 4,
  'T400.48 and nothing changes');
select pg_temp.as_service();
update public.settings set delete_organization_max_rows = 25000 where id;
select pg_temp.act(pg_temp.u(7));
select is_empty($$select * from public.account_deletion_blockers()$$, 'T400.49 below the limit nothing blocks the account');
select pg_temp.as_postgres();
delete from auth.users where id = pg_temp.u(7);
select is(pg_temp.leftovers(pg_temp.o(7)), '{}'::text[], 'T400.50 and the organization goes with it');

select * from finish();
rollback;

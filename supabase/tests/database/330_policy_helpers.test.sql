-- The policy helpers (private.organization_ids_with, workable_client_ids,
-- organization_ids, co_member_ids, permissions_of): every policy of the layer
-- and of tables generated for it rests on their answers, so their answers are
-- checked here against the membership tables themselves, for every persona.
--   R1  for every persona and every permission of the catalog,
--       organization_ids_with(permission) is exactly the set of organizations
--       where one of the persona's roles grants it, also when two roles in
--       one organization both do (an organization's own role next to a
--       built-in one).
--   R2  workable_client_ids() is exactly the clients assigned to the persona
--       in organizations where a role of theirs grants clients.work_assigned;
--       organization_ids() their organizations; co_member_ids() the users who
--       share one with them; permissions_of(organization, user) the union of
--       their roles' permissions there.
--   R3  a token without a user gets empty arrays, never null.
--   R4  shape: security definer, stable, search_path pinned, their plan made
--       once per session (force_generic_plan) and kept on indexes (no
--       sequential, bitmap, hash- or merge-join plans).
--   R5  planner_hint_holds(permission), the read policies' hint to the
--       planner: for every persona and permission, one id (the nil uuid)
--       when the persona holds it in some organization, none otherwise and
--       for a token without a user; only authenticated may run it.
--   R6  planner_hint_bound(table, permission), the hint that replaced it in
--       the clients read policy: for every persona, no bound ({}) when they
--       read clients in every organization they belong to, a null bound when
--       they read them nowhere (or belong nowhere, and for a token without a
--       user), and otherwise (mallory: a Globex viewer who works
--       assigned Acme clients) one uuid inside a bin of the clients' id
--       histogram, once the table has statistics; the helpers' shape; only authenticated may run
--       it.
begin;
create extension if not exists pgtap with schema extensions;
select plan(17);

\ir personas.psql

-- dave (member of Acme) also holds an Acme role granting clients.read and
-- clients.work_assigned: two of his roles there grant clients.work_assigned.
select pg_temp.as_user('alice');
select public.create_role(pg_temp.org('acme'), 'field_lead', 'Field lead', 15, '{clients.read,clients.work_assigned}');
select public.set_member_roles(pg_temp.org('acme'), pg_temp.uid('dave'), array['member', 'field_lead']);
select pg_temp.as_postgres();

create temporary table personas (persona text primary key);
insert into personas values ('alice'), ('bob'), ('carol'), ('dave'), ('erin'), ('frank'), ('grace'), ('heidi'),
  ('ivan'), ('judy'), ('mallory'), ('nora');
-- What each helper answered, per persona, collected as that persona.
create temporary table answered (persona text, helper text, value text);
grant select, insert on answered, personas to authenticated;

create function pg_temp.collect(who text) returns void language plpgsql as $$
begin
  perform pg_temp.as_user(who);
  insert into answered
  select who, 'organization_ids_with:' || p.key, x::text
  from public.permissions p, unnest(private.organization_ids_with(p.key)) x;
  insert into answered select who, 'workable_client_ids', x::text from unnest(private.workable_client_ids()) x;
  insert into answered select who, 'organization_ids', x::text from unnest(private.organization_ids()) x;
  insert into answered select who, 'co_member_ids', x::text from unnest(private.co_member_ids()) x;
  insert into answered
  select who, 'planner_hint_holds:' || p.key, x::text
  from public.permissions p, unnest(private.planner_hint_holds(p.key)) x;
  perform pg_temp.as_postgres();
end $$;
select pg_temp.collect(persona) from personas;

-- The same, from the tables (as the owner, no RLS), for the suite's organizations.
create temporary table expected as
select p.persona, 'organization_ids_with:' || rp.permission as helper, ur.organization_id::text as value
from personas p
join public.user_roles ur on ur.user_id = pg_temp.uid(p.persona)
join public.role_permissions rp on rp.role_id = ur.role_id
union
select p.persona, 'workable_client_ids', uc.client_id::text
from personas p
join public.user_clients uc on uc.user_id = pg_temp.uid(p.persona)
where exists (select from public.user_roles ur join public.role_permissions rp on rp.role_id = ur.role_id
              where ur.user_id = uc.user_id and ur.organization_id = uc.organization_id
                and rp.permission = 'clients.work_assigned')
union
select p.persona, 'organization_ids', ou.organization_id::text
from personas p join public.organization_users ou on ou.user_id = pg_temp.uid(p.persona)
union
select p.persona, 'co_member_ids', theirs.user_id::text
from personas p
join public.organization_users mine on mine.user_id = pg_temp.uid(p.persona)
join public.organization_users theirs on theirs.organization_id = mine.organization_id
union
select distinct p.persona, 'planner_hint_holds:' || rp.permission, '00000000-0000-0000-0000-000000000000'
from personas p
join public.user_roles ur on ur.user_id = pg_temp.uid(p.persona)
join public.role_permissions rp on rp.role_id = ur.role_id;

select set_eq($$ select persona, helper, value from answered where helper like 'organization_ids_with:%' $$,
              $$ select persona, helper, value from expected where helper like 'organization_ids_with:%' $$,
  'T330.01 organization_ids_with(permission): for every persona and permission, the organizations where a role of theirs grants it');
select ok((select count(*) from answered where persona = 'dave' and helper = 'organization_ids_with:clients.work_assigned') = 2
          and (select count(distinct value) from answered where persona = 'dave' and helper = 'organization_ids_with:clients.work_assigned') = 1,
  'T330.02 two roles granting a permission in one organization: the organization repeats, and is the only one (a repeat changes no = any)');
select set_eq($$ select persona, value from answered where helper = 'workable_client_ids' $$,
              $$ select persona, value from expected where helper = 'workable_client_ids' $$,
  'T330.03 workable_client_ids(): for every persona, the clients assigned to them where they hold clients.work_assigned (mallory''s Acme ones, not as a Globex viewer)');
select set_eq($$ select persona, value from answered where helper = 'organization_ids' $$,
              $$ select persona, value from expected where helper = 'organization_ids' $$,
  'T330.04 organization_ids(): for every persona, their organizations');
select set_eq($$ select persona, value from answered where helper = 'co_member_ids' $$,
              $$ select persona, value from expected where helper = 'co_member_ids' $$,
  'T330.05 co_member_ids(): for every persona, the users who share an organization with them');
select set_eq(
  $$ select p.persona, o.id, x
     from personas p, unnest(pg_temp.orgs()) o (id), unnest(private.permissions_of(o.id, pg_temp.uid(p.persona))) x $$,
  $$ select p.persona, ur.organization_id, rp.permission
     from personas p
     join public.user_roles ur on ur.user_id = pg_temp.uid(p.persona)
     join public.role_permissions rp on rp.role_id = ur.role_id $$,
  'T330.06 permissions_of(organization, user): for every persona and organization, the union of their roles'' permissions');

select set_eq($$ select persona, helper, value from answered where helper like 'planner_hint_holds:%' $$,
              $$ select persona, helper, value from expected where helper like 'planner_hint_holds:%' $$,
  'T330.10 planner_hint_holds(permission): for every persona and permission, the nil uuid once when a role of theirs grants it somewhere (clients.read: mallory, a member of Acme and a viewer of Globex, too; not heidi, a member of Globex only), nothing otherwise');

-- R6 -----------------------------------------------------------------------------------------------------------
analyze public.clients;
analyze public.invitations;
create temporary table bounds (persona text primary key, bound uuid[]);
grant select, insert on bounds to authenticated;
create function pg_temp.collect_bound(who text) returns void language plpgsql as $$
begin
  perform pg_temp.as_user(who);
  insert into bounds values (who, private.planner_hint_bound('public.clients', 'clients.read'));
  perform pg_temp.as_postgres();
end $$;
select pg_temp.collect_bound(persona) from personas;
select set_eq(
  $$ select persona, case when bound = '{}' then 'every row' when bound = '{NULL}' then 'no row' else 'a share' end from bounds $$,
  $$ select p.persona,
            case when not coalesce(bool_or(r.reads), false) then 'no row'
                 when bool_and(r.reads) then 'every row'
                 else 'a share' end
     from personas p
     left join (select ur.user_id, ur.organization_id,
                       bool_or(exists (select from public.role_permissions rp
                                        where rp.role_id = ur.role_id and rp.permission = 'clients.read')) as reads
                  from public.user_roles ur group by ur.user_id, ur.organization_id) r on r.user_id = pg_temp.uid(p.persona)
     group by p.persona $$,
  'T330.12 planner_hint_bound(clients, clients.read): every row for a persona who reads clients wherever they belong, no row for one who reads them nowhere (or belongs nowhere: nora), a share for one who does both');
select ok((select cardinality(b.bound) = 1
                  and exists (select from pg_stats st, generate_series(1, cardinality(st.histogram_bounds::text::uuid[]) - 1) i
                               where st.schemaname = 'public' and st.tablename = 'clients' and st.attname = 'id'
                                 and b.bound[1] between (st.histogram_bounds::text::uuid[])[i]
                                                    and (st.histogram_bounds::text::uuid[])[i + 1])
             from bounds b where b.persona = 'mallory'),
  'T330.13 ... the share is a uuid inside a bin of the clients'' id histogram, the midpoint of its bounds (mallory: reads Globex''s clients, works assigned ones in Acme)');
select pg_temp.as_user('mallory');
select is(private.planner_hint_bound('public.invitations', 'clients.read'), '{}'::uuid[],
  'T330.17 ... and no share of a table other than the one the permission reads (invitations, analyzed, with clients.read: no bound)');
select pg_temp.as_postgres();
select is_empty($$
  select 1 from pg_proc p
  where p.oid = 'private.planner_hint_bound(regclass, text)'::regprocedure
    and not (p.prosecdef and p.provolatile = 's'
             and p.proconfig @> array['search_path=pg_catalog, pg_temp', 'plan_cache_mode=force_generic_plan',
                                      'enable_seqscan=off', 'enable_bitmapscan=off', 'enable_hashjoin=off',
                                      'enable_mergejoin=off', 'enable_material=off']) $$,
  'T330.14 planner_hint_bound: security definer, stable, search_path pinned, one plan per session, kept on indexes');
select is(array[has_function_privilege('anon', 'private.planner_hint_bound(regclass, text)', 'execute'),
                has_function_privilege('service_role', 'private.planner_hint_bound(regclass, text)', 'execute'),
                has_function_privilege('authenticated', 'private.planner_hint_bound(regclass, text)', 'execute')],
          array[false, false, true],
  'T330.15 planner_hint_bound: only authenticated, whose statements the planner plans with it, may run it');

-- R3 -----------------------------------------------------------------------------------------------------------
select set_config('request.jwt.claims', '{"role":"authenticated"}', true);
set local role authenticated;
select is(array[cardinality(private.organization_ids_with('clients.read')), cardinality(private.workable_client_ids()),
                cardinality(private.organization_ids()), cardinality(private.co_member_ids()),
                cardinality(private.planner_hint_holds('clients.read'))],
          array[0, 0, 0, 0, 0],
  'T330.07 a token without a user: empty arrays, never null');
select is(private.planner_hint_bound('public.clients', 'clients.read'), '{NULL}'::uuid[],
  'T330.16 ... and planner_hint_bound a null bound (no row)');
select pg_temp.as_postgres();

-- R4 -----------------------------------------------------------------------------------------------------------
select is_empty($$
  select p.oid::regprocedure
  from pg_proc p
  where p.oid in ('private.organization_ids_with(text)'::regprocedure, 'private.workable_client_ids()'::regprocedure,
                  'private.organization_ids()'::regprocedure, 'private.co_member_ids()'::regprocedure,
                  'private.permissions_of(uuid, uuid)'::regprocedure, 'private.planner_hint_holds(text)'::regprocedure)
    and not (p.prosecdef and p.provolatile = 's'
             and p.proconfig @> array['search_path=pg_catalog, pg_temp', 'plan_cache_mode=force_generic_plan']) $$,
  'T330.08 the helpers: security definer, stable, search_path pinned, one plan per session');
select is_empty($$
  select p.oid::regprocedure
  from pg_proc p
  where p.oid in ('private.organization_ids_with(text)'::regprocedure, 'private.workable_client_ids()'::regprocedure,
                  'private.co_member_ids()'::regprocedure, 'private.permissions_of(uuid, uuid)'::regprocedure,
                  'private.planner_hint_holds(text)'::regprocedure)
    and not p.proconfig @> array['enable_seqscan=off', 'enable_bitmapscan=off', 'enable_hashjoin=off',
                                 'enable_mergejoin=off', 'enable_material=off'] $$,
  'T330.09 the joining helpers keep their plans on indexes (planner settings as function properties)');

select is(array[has_function_privilege('anon', 'private.planner_hint_holds(text)', 'execute'),
                has_function_privilege('service_role', 'private.planner_hint_holds(text)', 'execute'),
                has_function_privilege('authenticated', 'private.planner_hint_holds(text)', 'execute')],
          array[false, false, true],
  'T330.11 planner_hint_holds(permission): only authenticated, whose statements the planner plans with it, may run it');

select * from finish();
rollback;

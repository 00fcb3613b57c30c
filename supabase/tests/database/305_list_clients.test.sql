-- Threat cases for public.list_clients(organization_id, after_name, after_id,
-- max_results, status), a page of an organization's clients by name that
-- indexes serve for every caller. It runs as its owner (no RLS) and restates
-- the clients read policy, so every case here checks that restatement.
-- Fixtures (personas.psql): Acme's 25 clients; dave is assigned to Acme
-- clients 1-5, mallory to 5-7; heidi to Globex 1-4; mallory is a viewer of
-- Globex.
-- Rules proved:
--   R1  only signed-in users call it: anon and the service hold no execute
--       privilege, a token without a user is refused.
--   R2  for every persona and organization, the rows and their order are
--       exactly what the clients select policy shows that persona, ordered by
--       name, then id.
--   R3  holders of clients.work_assigned without clients.read (member, or an
--       organization's role with it) get their assigned clients only; the
--       creator arm (a client created in this transaction where the caller
--       holds clients.create) as in the policy, and not without the permission.
--   R4  forged arguments (another organization, an unknown one, a cursor taken
--       from rows the caller cannot read) show nothing more.
--   R5  paging: pages taken with the cursor (the last row's name and id) join
--       into the whole list, without gaps or repeats; status filters.
--   R6  bad input is refused with a clear error: null organization (22004);
--       a cursor with one of its two halves; max_results outside 1..1000 or
--       null (22023).
--   R7  shape: security definer with a pinned search_path, stable, sorts
--       disabled for its planner (readers' pages walk the name index).

begin;
create extension if not exists pgtap with schema extensions;
select plan(39);

\ir personas.psql

-- For the current actor: every client list_clients shows in each organization, with its position.
create function pg_temp.listed() returns table (org uuid, n bigint, id uuid) language sql volatile as $$
  select o.id, l.n, l.id
  from (values (pg_temp.org('acme')), (pg_temp.org('globex')), (pg_temp.org('initech')),
               ('10000000-0000-4000-8000-0000000000ff'::uuid)) o (id)
  cross join lateral (select row_number() over () as n, s.id from public.list_clients(o.id, null, null, 1000) s) l
$$;
-- For the current actor: the clients the select policy shows, in each organization, by name, then id.
create function pg_temp.readable() returns table (org uuid, n bigint, id uuid) language sql volatile as $$
  select c.organization_id, row_number() over (partition by c.organization_id order by c.name, c.id), c.id
  from public.clients c
  where c.organization_id = any (pg_temp.orgs())
$$;
-- For the current actor: the whole list of an organization, page by page (size 4) through the cursor.
create function pg_temp.paged(org uuid, wanted public.client_status default null)
returns table (n bigint, id uuid) language plpgsql volatile as $$
declare
  last_name text;
  last_id uuid;
  page_rows int;
  k bigint := 0;
  r record;
begin
  loop
    page_rows := 0;
    for r in select s.name, s.id from public.list_clients(org, last_name, last_id, 4, wanted) s loop
      k := k + 1; page_rows := page_rows + 1;
      n := k; id := r.id; return next;
      last_name := r.name; last_id := r.id;
    end loop;
    exit when page_rows < 4;
  end loop;
end $$;
grant execute on all functions in schema pg_temp to public;
-- Every client's name, read before acting as anyone.
create temp table all_clients as select id, name from public.clients;
grant select on all_clients to public;

-- R1 -----------------------------------------------------------------------------------------------
select pg_temp.as_anon();
select throws_ok($$ select * from public.list_clients(pg_temp.org('acme')) $$, '42501',
  'permission denied for function list_clients', 'T305.01 anon cannot call list_clients');
select pg_temp.as_service();
select throws_ok($$ select * from public.list_clients(pg_temp.org('acme')) $$, '42501',
  'permission denied for function list_clients', 'T305.02 the service cannot call it either (it reads the table directly)');
select pg_temp.as_postgres();
select set_config('request.jwt.claims', '{"role":"authenticated"}', true);
set local role authenticated;
select throws_ok($$ select * from public.list_clients(pg_temp.org('acme')) $$, '42501', 'not signed in',
  'T305.03 a token without a user (no sub) is refused');
select pg_temp.as_postgres();
select ok(not has_function_privilege('public', 'public.list_clients(uuid, text, uuid, integer, public.client_status)', 'execute'),
  'T305.04 PUBLIC holds no execute privilege on list_clients');

-- R2 every persona: exactly the readable rows, in order ---------------------------------------------
select pg_temp.as_user('alice');
select results_eq($$ select * from pg_temp.listed() order by 1, 2 $$, $$ select * from pg_temp.readable() order by 1, 2 $$,
  'T305.05 owner (alice): exactly the clients the select policy shows her, by name');
select pg_temp.as_user('bob');
select results_eq($$ select * from pg_temp.listed() order by 1, 2 $$, $$ select * from pg_temp.readable() order by 1, 2 $$,
  'T305.06 admin (bob): exactly the readable clients, by name');
select pg_temp.as_user('carol');
select results_eq($$ select * from pg_temp.listed() order by 1, 2 $$, $$ select * from pg_temp.readable() order by 1, 2 $$,
  'T305.07 manager (carol): exactly the readable clients, by name');
select pg_temp.as_user('dave');
select results_eq($$ select * from pg_temp.listed() order by 1, 2 $$, $$ select * from pg_temp.readable() order by 1, 2 $$,
  'T305.08 member (dave): exactly the readable clients (his assigned ones), by name');
select pg_temp.as_user('erin');
select results_eq($$ select * from pg_temp.listed() order by 1, 2 $$, $$ select * from pg_temp.readable() order by 1, 2 $$,
  'T305.09 viewer (erin): exactly the readable clients, by name');
select pg_temp.as_user('frank');
select results_eq($$ select * from pg_temp.listed() order by 1, 2 $$, $$ select * from pg_temp.readable() order by 1, 2 $$,
  'T305.10 owner of Globex (frank): exactly the readable clients, none in Acme or Initech');
select pg_temp.as_user('grace');
select results_eq($$ select * from pg_temp.listed() order by 1, 2 $$, $$ select * from pg_temp.readable() order by 1, 2 $$,
  'T305.11 admin + manager of Globex (grace): exactly the readable clients');
select pg_temp.as_user('heidi');
select results_eq($$ select * from pg_temp.listed() order by 1, 2 $$, $$ select * from pg_temp.readable() order by 1, 2 $$,
  'T305.12 member of Globex (heidi): exactly the readable clients');
select pg_temp.as_user('ivan');
select results_eq($$ select * from pg_temp.listed() order by 1, 2 $$, $$ select * from pg_temp.readable() order by 1, 2 $$,
  'T305.13 owner of Initech (ivan): exactly the readable clients');
select pg_temp.as_user('judy');
select results_eq($$ select * from pg_temp.listed() order by 1, 2 $$, $$ select * from pg_temp.readable() order by 1, 2 $$,
  'T305.14 manager of Initech (judy): exactly the readable clients');
select pg_temp.as_user('mallory');
select results_eq($$ select * from pg_temp.listed() order by 1, 2 $$, $$ select * from pg_temp.readable() order by 1, 2 $$,
  'T305.15 member of Acme and viewer of Globex (mallory): exactly the readable clients, per organization');
select pg_temp.as_user('nora');
select is_empty($$ select * from pg_temp.listed() $$, 'T305.16 signed-in non-member (nora): nothing anywhere');
select pg_temp.as_user('bob');
select is((select count(*)::int from pg_temp.listed()), 25,
  'T305.17 the comparison above is not vacuous: an admin of Acme lists its 25 clients');

-- R3 assigned-only callers and the creator arm ------------------------------------------------------
select pg_temp.as_user('dave');
select results_eq($$ select id from public.list_clients(pg_temp.org('acme'), null, null, 1000) order by id $$,
  $$ select pg_temp.client(1, i) from generate_series(1, 5) i order by 1 $$,
  'T305.18 a member lists exactly his five assigned clients');
insert into public.clients (organization_id, name) values (pg_temp.org('acme'), 'Aardvark Fresh');
select is((select name from public.list_clients(pg_temp.org('acme')) limit 1), 'Aardvark Fresh',
  'T305.19 a member lists the client he just created (assigned to him, readable under the policy), in name order');
select results_eq($$ select * from pg_temp.listed() order by 1, 2 $$, $$ select * from pg_temp.readable() order by 1, 2 $$,
  'T305.20 member (dave) after creating a client: still exactly the readable clients');

-- An organization's own roles: a field agent (clients.create, clients.work_assigned) and an intake
-- clerk (clients.create only), given to erin and to a new member.
select pg_temp.as_user('alice');
select public.create_role(pg_temp.org('acme'), 'field_agent', 'Field agent', 10, '{clients.create,clients.work_assigned}');
select public.create_role(pg_temp.org('acme'), 'intake', 'Intake', 10, '{clients.create}');
select public.set_member_roles(pg_temp.org('acme'), pg_temp.uid('erin'), '{field_agent}');
select pg_temp.as_postgres();
insert into public.user_clients (organization_id, client_id, user_id)
select pg_temp.org('acme'), pg_temp.client(1, i), pg_temp.uid('erin') from generate_series(20, 22) i;
insert into auth.users (id, email, email_confirmed_at) values ('f0000000-0000-4000-a000-000000000305', 'ike@acme.test', now());
insert into public.organization_users (organization_id, user_id) values (pg_temp.org('acme'), 'f0000000-0000-4000-a000-000000000305');
select pg_temp.as_user('alice');
select public.set_member_roles(pg_temp.org('acme'), 'f0000000-0000-4000-a000-000000000305', '{intake}');
select pg_temp.as_user('erin');
select results_eq($$ select id from public.list_clients(pg_temp.org('acme'), null, null, 1000) order by id $$,
  $$ select pg_temp.client(1, i) from generate_series(20, 22) i order by 1 $$,
  'T305.21 the holder of an organization''s role with clients.work_assigned lists exactly their assigned clients');
select results_eq($$ select * from pg_temp.listed() order by 1, 2 $$, $$ select * from pg_temp.readable() order by 1, 2 $$,
  'T305.22 ... exactly what the select policy shows them');
select set_config('request.jwt.claims', json_build_object('sub', 'f0000000-0000-4000-a000-000000000305', 'role', 'authenticated')::text, true);
select is_empty($$ select 1 from public.list_clients(pg_temp.org('acme')) $$,
  'T305.23 the holder of clients.create alone lists nothing before creating');
insert into public.clients (organization_id, name) values (pg_temp.org('acme'), 'Intake Fresh');
select results_eq($$ select name from public.list_clients(pg_temp.org('acme')) $$, $$ values ('Intake Fresh'::text) $$,
  'T305.24 ... and, in the transaction that created it, the client they created (the creator arm)');
select results_eq($$ select * from pg_temp.listed() order by 1, 2 $$, $$ select * from pg_temp.readable() order by 1, 2 $$,
  'T305.25 ... exactly what the select policy shows them');
select pg_temp.as_user('alice');
select public.update_role(r.id, 'Intake', 10, '{}') from public.roles r where r.organization_id = pg_temp.org('acme') and r.key = 'intake';
select set_config('request.jwt.claims', json_build_object('sub', 'f0000000-0000-4000-a000-000000000305', 'role', 'authenticated')::text, true);
select is_empty($$ select 1 from public.list_clients(pg_temp.org('acme')) $$,
  'T305.26 once clients.create is taken from their role, the next call no longer shows the client they created');

-- R4 forged arguments ----------------------------------------------------------------------------------
select pg_temp.as_user('frank');
select is_empty($$ select 1 from public.list_clients(pg_temp.org('acme'), null, null, 1000) $$,
  'T305.27 owner of Globex lists nothing in Acme');
select pg_temp.as_user('heidi');
select is_empty($$ select 1 from public.list_clients(pg_temp.org('acme'), '', '00000000-0000-0000-0000-000000000000', 1000) $$,
  'T305.28 member of Globex lists nothing in Acme, whatever the cursor');
select pg_temp.as_user('dave');
select results_eq(
  $$ select id from public.list_clients(pg_temp.org('acme'), (select name from all_clients where id = pg_temp.client(1, 10)),
                                       pg_temp.client(1, 10), 1000) $$,
  $$ select id from public.clients where organization_id = pg_temp.org('acme')
       and (name, id) > ((select name from all_clients where id = pg_temp.client(1, 10)), pg_temp.client(1, 10))
     order by name, id $$,
  'T305.29 a member starting from an unassigned client''s name and id gets only the readable clients after it');
select pg_temp.as_user('bob');
select is_empty($$ select 1 from public.list_clients('10000000-0000-4000-8000-0000000000ff', null, null, 1000) $$,
  'T305.30 an unknown organization id lists nothing');

-- R5 paging ---------------------------------------------------------------------------------------------
select results_eq($$ select * from pg_temp.paged(pg_temp.org('acme')) $$,
  $$ select row_number() over (), id from public.list_clients(pg_temp.org('acme'), null, null, 1000) $$,
  'T305.31 an admin''s pages of 4, joined through the cursor, are the whole list: no gap, no repeat');
select results_eq($$ select * from pg_temp.paged(pg_temp.org('acme'), 'inactive') $$,
  $$ select row_number() over (order by name, id), id from public.clients
     where organization_id = pg_temp.org('acme') and status = 'inactive' $$,
  'T305.32 with a status, the pages are exactly the readable clients with it');
select pg_temp.as_user('mallory');
select results_eq($$ select * from pg_temp.paged(pg_temp.org('acme')) $$,
  $$ select row_number() over (), id from public.list_clients(pg_temp.org('acme'), null, null, 1000) $$,
  'T305.33 a member''s pages, joined, are her whole list');

-- R6 bad input ------------------------------------------------------------------------------------------
select pg_temp.as_user('bob');
select throws_ok($$ select * from public.list_clients(null) $$, '22004', 'organization_id is required',
  'T305.34 a null organization is refused');
select throws_ok($$ select * from public.list_clients(pg_temp.org('acme'), 'Contoso', null) $$, '22023',
  'after_name and after_id go together: give both (the last row of the previous page) or neither',
  'T305.35 a cursor with one half is refused');
select throws_ok($$ select * from public.list_clients(pg_temp.org('acme'), null, null, 0) $$, '22023',
  'max_results must be between 1 and 1000, got 0', 'T305.36 max_results 0 is refused');
select throws_ok($$ select * from public.list_clients(pg_temp.org('acme'), null, null, 1001) $$, '22023',
  'max_results must be between 1 and 1000, got 1001', 'T305.37 max_results 1001 is refused');
select throws_ok($$ select * from public.list_clients(pg_temp.org('acme'), null, null, null) $$, '22023',
  'max_results must be between 1 and 1000, got null', 'T305.38 a null max_results is refused');

-- R7 shape ------------------------------------------------------------------------------------------------
select pg_temp.as_postgres();
select ok(
  (select p.prosecdef and p.provolatile = 's'
          and p.proconfig = array['search_path=pg_catalog, pg_temp', 'enable_sort=off', 'plan_cache_mode=force_generic_plan']
   from pg_proc p
   where p.oid = 'public.list_clients(uuid, text, uuid, integer, public.client_status)'::regprocedure),
  'T305.39 security definer, stable, search_path pg_catalog, pg_temp, the planner told to walk rather than sort, and its plans made once per session');

select * from finish();
rollback;

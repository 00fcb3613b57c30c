-- Row counts estimated from the planner's statistics are refused on the API
-- (migration 20261201009700_api_refuses_estimated_counts.sql).
--   E1  api_guard.check_request(), PostgREST's pre-request function, refuses
--       Prefer: count=planned and count=estimated (SQLSTATE PT400, HTTP 400)
--       for anon and authenticated, whatever else the header asks and in any
--       letter case, in any entry of request.headers named prefer: their
--       estimates come from statistics over every organization's rows.
--       (PostgREST itself passes only the last of repeated Prefer headers;
--       docs/security.md says what that leaves open.)
--   E2  count=exact, other preferences, no Prefer header and no headers at
--       all pass; so does the service role, which reads every row anyway.
--   E3  the API roles may call it (anon through schema api_guard, still
--       without usage on schema private); it runs as its caller with a
--       pinned search_path.
--   E4  why: as a user who reads none of an organization's clients, the
--       planner's estimate for them follows how many it has.
begin;
create extension if not exists pgtap with schema extensions;
select plan(12);

\ir personas.psql

create function pg_temp.prefer(value text) returns void language plpgsql as $$
begin
  perform set_config('request.headers',
    case when value is null then '{}' else json_build_object('prefer', value)::text end, true);
end $$;
grant execute on all functions in schema pg_temp to public;

-- E1
select pg_temp.as_user('nora');
select pg_temp.prefer('count=planned');
select throws_ok($$ select api_guard.check_request() $$, 'PT400', null,
  'T340.01 a signed-in user asking for count=planned is refused (PT400)');
select pg_temp.prefer('count=estimated');
select throws_ok($$ select api_guard.check_request() $$, 'PT400', null,
  'T340.02 a signed-in user asking for count=estimated is refused');
select pg_temp.as_user('alice');
select pg_temp.prefer('return=representation, Count=Planned');
select throws_ok($$ select api_guard.check_request() $$, 'PT400', null,
  'T340.03 an owner too, with count=planned among other preferences and in other letter case');
select set_config('request.headers', '{"prefer": "count=planned", "prefer": "return=representation"}', true);
select throws_ok($$ select api_guard.check_request() $$, 'PT400', null,
  'T340.04 count=planned in one of two entries named prefer in the request''s headers is refused');
select pg_temp.as_anon();
select pg_temp.prefer('count=planned');
select throws_ok($$ select api_guard.check_request() $$, 'PT400', null,
  'T340.05 anon asking for count=planned is refused');

-- E2
select pg_temp.as_user('alice');
select pg_temp.prefer('count=exact');
select lives_ok($$ select api_guard.check_request() $$, 'T340.06 count=exact passes');
select pg_temp.prefer('return=minimal,missing=default');
select lives_ok($$ select api_guard.check_request() $$, 'T340.07 other preferences pass');
select pg_temp.prefer(null);
select lives_ok($$ select api_guard.check_request() $$, 'T340.08 a request without a Prefer header passes');
select set_config('request.headers', '', true);
select lives_ok($$ select api_guard.check_request() $$, 'T340.09 a session without request headers (not PostgREST) passes');
select pg_temp.as_service();
select pg_temp.prefer('count=estimated');
select lives_ok($$ select api_guard.check_request() $$, 'T340.10 the service role keeps estimated counts');
select pg_temp.as_postgres();

-- E3
select ok(
  has_function_privilege('anon', 'api_guard.check_request()', 'execute')
    and has_function_privilege('authenticated', 'api_guard.check_request()', 'execute')
    and has_function_privilege('service_role', 'api_guard.check_request()', 'execute')
    and has_schema_privilege('anon', 'api_guard', 'usage')
    and not has_schema_privilege('anon', 'private', 'usage')
    and not has_schema_privilege('authenticated', 'api_guard', 'create')
    and (select not p.prosecdef and p.proconfig @> array['search_path=pg_catalog, pg_temp']
           from pg_proc p where p.oid = 'api_guard.check_request()'::regprocedure),
  'T340.11 the API roles may call it (anon without usage on private); it runs as its caller with a pinned search_path');
-- E4: the estimate a planned count would return follows the organization's
-- real size although the user reads none of its rows.
select pg_temp.as_postgres();
insert into public.clients (organization_id, name)
select pg_temp.org('initech'), 'Estimate ' || g from generate_series(1, 400) g;
analyze public.clients;
create function pg_temp.estimate(org uuid) returns numeric language plpgsql as $$
declare
  plan json;
begin
  execute format('explain (format json) select 1 from public.clients where organization_id = %L', org) into plan;
  return (plan -> 0 -> 'Plan' ->> 'Plan Rows')::numeric;
end $$;
grant execute on function pg_temp.estimate(uuid) to authenticated;
-- As the owner of Globex, who reads neither Initech's nor Acme's clients (a
-- user who reads clients nowhere gets estimates scaled down by the read
-- policy's planner hint, which blurs small organizations but not large ones).
select pg_temp.as_user('frank');
select ok(
  (select count(*) from public.clients where organization_id in (pg_temp.org('initech'), pg_temp.org('acme'))) = 0
    and pg_temp.estimate(pg_temp.org('initech')) > 5 * pg_temp.estimate(pg_temp.org('acme')),
  'T340.12 a user reads none of two organizations'' clients, yet the planner''s estimate tells the large one from the small one');
select pg_temp.as_postgres();

select * from finish();
rollback;

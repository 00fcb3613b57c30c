-- The platform baseline behaves like a Supabase database, and the foundation
-- migration closes what must be closed. Runs under pg_prove (npm test) and
-- unchanged under `supabase test db`.
begin;
create extension if not exists pgtap with schema extensions;
select plan(25);

-- Rule B1: the API roles exist with Supabase's attributes (INHERIT since 2023).
select ok((select not rolcanlogin and rolinherit and not rolbypassrls from pg_roles where rolname = 'anon'),
  'B1.1 anon is nologin inherit and does not bypass RLS');
select ok((select not rolcanlogin and rolinherit and not rolbypassrls from pg_roles where rolname = 'authenticated'),
  'B1.2 authenticated is nologin inherit and does not bypass RLS');
select ok((select not rolcanlogin and rolinherit and rolbypassrls from pg_roles where rolname = 'service_role'),
  'B1.3 service_role is nologin inherit and bypasses RLS');
select ok((select rolcanlogin and not rolinherit from pg_roles where rolname = 'authenticator'),
  'B1.4 authenticator can log in and does not inherit');
select ok(pg_has_role('authenticator', 'anon', 'member') and pg_has_role('authenticator', 'authenticated', 'member')
      and pg_has_role('authenticator', 'service_role', 'member'),
  'B1.5 authenticator may switch to anon, authenticated and service_role');

-- Rule B2: auth.uid(), auth.role(), auth.email(), auth.jwt() read the request claims.
select is(auth.uid(), null, 'B2.1 auth.uid() is null without claims');
select set_config('request.jwt.claims',
  '{"sub":"11111111-1111-4111-8111-111111111111","role":"authenticated","email":"a@example.com","app_metadata":{"x":1}}', true);
select is(auth.uid(), '11111111-1111-4111-8111-111111111111'::uuid, 'B2.2 auth.uid() reads sub from request.jwt.claims');
select is(auth.role(), 'authenticated', 'B2.3 auth.role() reads role from request.jwt.claims');
select is(auth.email(), 'a@example.com', 'B2.4 auth.email() reads email from request.jwt.claims');
select is(auth.jwt() -> 'app_metadata' ->> 'x', '1', 'B2.5 auth.jwt() returns the whole claims object');
select set_config('request.jwt.claims', '', true);
select is(auth.uid(), null, 'B2.6 an empty claims setting means no user (nullif)');
select set_config('request.jwt.claim.sub', '22222222-2222-4222-8222-222222222222', true);
select is(auth.uid(), '22222222-2222-4222-8222-222222222222'::uuid, 'B2.7 the legacy request.jwt.claim.sub setting still works');
select set_config('request.jwt.claim.sub', '', true);

-- Rule B3: auth.users has the columns applications use.
select has_column('auth', 'users', 'id', 'B3.1 auth.users.id');
select has_column('auth', 'users', 'email', 'B3.2 auth.users.email');
select has_column('auth', 'users', 'raw_user_meta_data', 'B3.3 auth.users.raw_user_meta_data');
select has_column('auth', 'users', 'raw_app_meta_data', 'B3.4 auth.users.raw_app_meta_data');

-- Rule B4: anon holds no privilege on any table, sequence or function in public.
select is_empty($$
  select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
  where n.nspname = 'public' and c.relkind in ('r', 'v', 'm', 'p', 'f')
    and (has_table_privilege('anon', c.oid, 'select') or has_table_privilege('anon', c.oid, 'insert')
      or has_table_privilege('anon', c.oid, 'update') or has_table_privilege('anon', c.oid, 'delete')
      or has_table_privilege('anon', c.oid, 'truncate') or has_table_privilege('anon', c.oid, 'references')
      or has_table_privilege('anon', c.oid, 'trigger'))
$$, 'B4.1 anon holds no privilege on any table or view in public');
select is_empty($$
  select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
  where n.nspname = 'public' and case when c.relkind = 'S' then has_sequence_privilege('anon', c.oid, 'usage') else false end
$$, 'B4.2 anon holds no privilege on any sequence in public');
select is_empty($$
  select p.oid::regprocedure::text from pg_proc p join pg_namespace n on n.oid = p.pronamespace
  where n.nspname = 'public' and has_function_privilege('anon', p.oid, 'execute')
$$, 'B4.3 anon may execute no function in public');
select is_empty($$
  select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
  where n.nspname = 'public' and c.relkind in ('r', 'v', 'm', 'p', 'f')
    and (has_any_column_privilege('anon', c.oid, 'select') or has_any_column_privilege('anon', c.oid, 'insert')
      or has_any_column_privilege('anon', c.oid, 'update') or has_any_column_privilege('anon', c.oid, 'references')
      or has_table_privilege('anon', c.oid, 'delete') or has_table_privilege('anon', c.oid, 'truncate')
      or has_table_privilege('anon', c.oid, 'trigger'))
$$, 'B4.4 anon holds no privilege on any table or view in public, not even on one of its columns');

-- Rule B5: new objects in public start closed to the API roles (default privileges).
create table public.baseline_probe (id int);
create function public.baseline_probe_fn() returns int language sql as 'select 1';
select ok(not has_table_privilege('anon', 'public.baseline_probe', 'select'), 'B5.1 a new table grants nothing to anon');
select ok(not has_table_privilege('authenticated', 'public.baseline_probe', 'select'), 'B5.2 a new table grants nothing to authenticated');
select ok(not has_function_privilege('anon', 'public.baseline_probe_fn()', 'execute'), 'B5.3 a new function is not executable by anon');

-- Rule B6: the private schema is not reachable by anon.
select ok(not has_schema_privilege('anon', 'private', 'usage'), 'B6.1 anon has no usage on schema private');
select ok(has_schema_privilege('authenticated', 'private', 'usage'), 'B6.2 authenticated may use granted helpers in private');

select * from finish();
rollback;

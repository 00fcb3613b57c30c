-- Threat cases for public.users (profiles): select / insert / update / delete
-- by every actor, and the sync from auth.users. Rules proved:
--   R1  anon holds no privilege on the table.
--   R2  a user sees their own profile and those of the members of their
--       organizations, nobody else's (users_select_self_or_co_member).
--   R3  profiles are created and removed only through auth.users (triggers,
--       cascade): no insert or delete grant for signed-in users.
--   R4  a user edits only their own full_name / avatar_url; email and id are
--       not writable through the API (column grants, users_update_self).
--   R5  the auth.users triggers create the profile and copy email changes,
--       and changes of the name and avatar the user sets through Auth
--       (metadata): a new value only, never one the profile cannot hold
--       (which neither fails the sign-up nor the update).

begin;
create extension if not exists pgtap with schema extensions;
select plan(37);

-- Personas and organizations (personas.psql, the suite's own fixtures) and how to act as them. Each helper switches
-- role and claims with SET LOCAL, which lasts until the final rollback (or
-- the next helper call): the statements that follow run as that actor.
\ir personas.psql

-- R1 anon -----------------------------------------------------------------------
select pg_temp.as_anon();
select throws_ok($$ select * from public.users $$, '42501', 'permission denied for table users',
  'T020.01 anon cannot select profiles (no grant)');
select throws_ok($$ insert into public.users (id, email) values (gen_random_uuid(), 'x@example.com') $$, '42501',
  'permission denied for table users', 'T020.02 anon cannot insert profiles (no grant)');
select throws_ok($$ update public.users set full_name = 'Pwned' where true $$, '42501', 'permission denied for table users',
  'T020.03 anon cannot update profiles (no grant)');
select throws_ok($$ delete from public.users where true $$, '42501', 'permission denied for table users',
  'T020.04 anon cannot delete profiles (no grant)');

-- R2 select ---------------------------------------------------------------------------
select pg_temp.as_user('nora');
select results_eq($$ select id from public.users $$, $$ values (pg_temp.uid('nora')) $$,
  'T020.05 a signed-in non-member sees only her own profile');
select is_empty($$ select email from public.users where id = pg_temp.uid('alice') $$,
  'T020.06 a non-member cannot look up another user''s email by id');
select pg_temp.as_user('erin');
select set_eq($$ select id from public.users $$,
  $$ select pg_temp.uid(p) from unnest(array['alice', 'bob', 'carol', 'dave', 'erin', 'mallory']) p $$,
  'T020.07 viewer sees exactly the profiles of Acme''s members');
select pg_temp.as_user('dave');
select set_eq($$ select id from public.users $$,
  $$ select pg_temp.uid(p) from unnest(array['alice', 'bob', 'carol', 'dave', 'erin', 'mallory']) p $$,
  'T020.08 member sees exactly the profiles of Acme''s members');
select pg_temp.as_user('alice');
select is_empty($$ select id from public.users where id in (pg_temp.uid('frank'), pg_temp.uid('ivan'), pg_temp.uid('nora')) $$,
  'T020.09 owner does not see users outside her organization');
select pg_temp.as_user('frank');
select set_eq($$ select id from public.users $$,
  $$ select pg_temp.uid(p) from unnest(array['frank', 'grace', 'heidi', 'mallory']) p $$,
  'T020.10 owner of another organization sees only Globex''s members, none of Acme''s own');
select pg_temp.as_user('mallory');
select set_eq($$ select id from public.users $$,
  $$ select pg_temp.uid(p) from unnest(array['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi', 'mallory']) p $$,
  'T020.11 a member of two organizations sees the members of both, not of a third');
select pg_temp.as_user('carol');
select set_eq($$ select id from public.users $$,
  $$ select pg_temp.uid(p) from unnest(array['alice', 'bob', 'carol', 'dave', 'erin', 'mallory']) p $$,
  'T020.35 manager sees exactly the profiles of Acme''s members');
select pg_temp.as_user('bob');
select set_eq($$ select id from public.users $$,
  $$ select pg_temp.uid(p) from unnest(array['alice', 'bob', 'carol', 'dave', 'erin', 'mallory']) p $$,
  'T020.36 admin sees exactly the profiles of Acme''s members');
select pg_temp.as_user('alice');
select set_eq($$ select id from public.users $$,
  $$ select pg_temp.uid(p) from unnest(array['alice', 'bob', 'carol', 'dave', 'erin', 'mallory']) p $$,
  'T020.37 owner sees exactly the profiles of Acme''s members');
-- The service's view is the whole table, whatever else the database holds: the
-- same count as the table's owner, postgres (BYPASSRLS).
select pg_temp.as_postgres();
select count(*) as users_total from public.users \gset
select pg_temp.as_service();
select is((select count(*)::int from public.users), :users_total, 'T020.12 service sees every profile');

-- R3 insert / delete ----------------------------------------------------------------------
select pg_temp.as_user('nora');
select throws_ok($$ insert into public.users (id, email) values (gen_random_uuid(), 'ghost@example.com') $$, '42501',
  'permission denied for table users', 'T020.13 a signed-in user cannot insert a profile (no insert grant)');
select throws_ok($$ delete from public.users where id = pg_temp.uid('nora') $$, '42501', 'permission denied for table users',
  'T020.14 a user cannot delete even her own profile through the API (deleted with auth.users)');
select pg_temp.as_user('alice');
select throws_ok($$ delete from public.users where id = pg_temp.uid('dave') $$, '42501', 'permission denied for table users',
  'T020.15 owner cannot delete a member''s profile (no delete grant)');
select pg_temp.as_service();
select throws_ok($$ insert into public.users (id, email) values (gen_random_uuid(), 'ghost@example.com') $$, '23503', null,
  'T020.16 even the service cannot create a profile without an auth.users row (foreign key)');

-- R4 update -----------------------------------------------------------------------------------
select pg_temp.as_user('nora');
select results_eq($$ update public.users set full_name = 'Nora N.' where true returning id $$, $$ values (pg_temp.uid('nora')) $$,
  'T020.17 an unfiltered profile update touches only the caller''s own profile');
select pg_temp.as_user('dave');
select results_eq($$ update public.users set full_name = 'David Diaz', avatar_url = 'https://example.com/d.png'
  where id = pg_temp.uid('dave') returning full_name $$, $$ values ('David Diaz') $$,
  'T020.18 a user edits his own full_name and avatar_url');
select is_empty($$ update public.users set full_name = 'Alice the Fool' where id = pg_temp.uid('alice') returning id $$,
  'T020.19 a member cannot edit a co-member''s profile he can see (users_update_self)');
select throws_ok($$ update public.users set email = 'dave@evil.example' where id = pg_temp.uid('dave') $$, '42501',
  'permission denied for table users', 'T020.20 a user cannot change his own email through the API (column grant)');
select throws_ok($$ update public.users set id = gen_random_uuid() where id = pg_temp.uid('dave') $$, '42501',
  'permission denied for table users', 'T020.21 a user cannot change his own id (column grant)');
select throws_ok($$ update public.users set full_name = '' where id = pg_temp.uid('dave') $$, '23514', null,
  'T020.22 full_name must be 1 to 200 characters');
select pg_temp.as_user('alice');
select is_empty($$ update public.users set full_name = 'Dave Demoted' where id = pg_temp.uid('dave') returning id $$,
  'T020.23 even the owner cannot edit a member''s profile');
select pg_temp.as_user('frank');
select is_empty($$ update public.users set full_name = 'Hijacked' where id = pg_temp.uid('alice') returning id $$,
  'T020.24 a member of another organization cannot edit an Acme profile');
select pg_temp.as_postgres();
select is((select full_name from public.users where id = pg_temp.uid('alice')), 'Alice Anders',
  'T020.25 after the refused updates alice''s profile is unchanged');

-- R5 sync from auth.users --------------------------------------------------------------------------
insert into auth.users (id, aud, role, email, raw_user_meta_data)
values ('f0000000-0000-4000-a000-0000000000f1', 'authenticated', 'authenticated', 'newbie@example.com', '{"name":"  Newbie  "}');
select results_eq($$ select email, full_name from public.users where id = 'f0000000-0000-4000-a000-0000000000f1' $$,
  $$ values ('newbie@example.com', 'Newbie') $$,
  'T020.26 signing up creates the profile (email, trimmed full_name from metadata.name)');
update auth.users set email = 'renamed@example.com' where id = 'f0000000-0000-4000-a000-0000000000f1';
select is((select email from public.users where id = 'f0000000-0000-4000-a000-0000000000f1'), 'renamed@example.com',
  'T020.27 an email change in auth.users is copied to the profile');
-- supabase.auth.updateUser({ data: { full_name, avatar_url } }) writes raw_user_meta_data.
update auth.users set raw_user_meta_data = raw_user_meta_data || '{"full_name": " Newbie Renamed ", "avatar_url": "https://example.com/a.png"}'
where id = 'f0000000-0000-4000-a000-0000000000f1';
select results_eq($$ select full_name, avatar_url from public.users where id = 'f0000000-0000-4000-a000-0000000000f1' $$,
  $$ values ('Newbie Renamed', 'https://example.com/a.png') $$,
  'T020.29 a name and avatar set through Auth (metadata) are copied to the profile');
update public.users set full_name = 'Edited In Profile' where id = 'f0000000-0000-4000-a000-0000000000f1';
update auth.users set raw_user_meta_data = raw_user_meta_data || '{"theme": "dark"}', email = 'again@example.com'
where id = 'f0000000-0000-4000-a000-0000000000f1';
select results_eq($$ select email, full_name from public.users where id = 'f0000000-0000-4000-a000-0000000000f1' $$,
  $$ values ('again@example.com', 'Edited In Profile') $$,
  'T020.30 a metadata change that leaves the name alone keeps a name edited in the profile (the email still follows)');
update auth.users set raw_user_meta_data = raw_user_meta_data || jsonb_build_object('full_name', repeat('x', 201))
where id = 'f0000000-0000-4000-a000-0000000000f1';
select is((select full_name from public.users where id = 'f0000000-0000-4000-a000-0000000000f1'), 'Edited In Profile',
  'T020.31 a name the profile cannot hold (over 200 characters) is not copied, and the Auth update succeeds');
insert into auth.users (id, aud, role, email, raw_user_meta_data)
values ('f0000000-0000-4000-a000-0000000000f2', 'authenticated', 'authenticated', 'longname@example.com',
        jsonb_build_object('full_name', repeat('y', 250), 'avatar_url', repeat('z', 2001)));
select results_eq($$ select email, full_name, avatar_url from public.users where id = 'f0000000-0000-4000-a000-0000000000f2' $$,
  $$ values ('longname@example.com', null::text, null::text) $$,
  'T020.32 signing up with a name or avatar the profile cannot hold creates the profile without them');
update auth.users set raw_user_meta_data = '{"full_name": "Both At Once"}', email = 'both@example.com'
where id = 'f0000000-0000-4000-a000-0000000000f2';
select results_eq($$ select email, full_name from public.users where id = 'f0000000-0000-4000-a000-0000000000f2' $$,
  $$ values ('both@example.com', 'Both At Once') $$,
  'T020.33 an update of the email and the name together copies both (its two triggers, on_auth_user_email_updated and on_auth_user_metadata_updated)');
delete from auth.users where id = 'f0000000-0000-4000-a000-0000000000f1';
select is_empty($$ select 1 from public.users where id = 'f0000000-0000-4000-a000-0000000000f1' $$,
  'T020.28 deleting the auth user removes the profile (cascade)');
select pg_temp.as_service();
select results_eq($$ update public.users set full_name = 'Renamed by a job' where id = pg_temp.uid('nora') returning id $$,
  $$ values (pg_temp.uid('nora')) $$, 'T020.34 the service updates any profile (bypasses RLS)');

select * from finish();
rollback;

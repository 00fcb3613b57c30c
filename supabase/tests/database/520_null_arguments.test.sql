-- Threat cases: every RPC refuses a null id (SPEC 9, forged arguments), and a
-- null never skips a rights check.
begin;
create extension if not exists pgtap with schema extensions;
select plan(14);

\ir personas.psql

select pg_temp.as_user('alice');
select throws_ok($$ select public.invite_member(null, 'x@example.com', 'member') $$, 'P0002', 'organization not found',
  'T520.01 invite_member: a null organization id is not found');
select throws_ok($$ select public.invite_member(pg_temp.org('acme'), null, 'member') $$, '22023', 'invalid email address: null',
  'T520.02 invite_member: a null email is refused');
select throws_ok($$ select public.invite_member(pg_temp.org('acme'), 'x@example.com', null) $$, '22023', 'unknown role: null',
  'T520.03 invite_member: a null role is refused');
select throws_ok($$ select public.transfer_ownership(null, pg_temp.uid('bob')) $$, 'P0002', 'organization not found',
  'T520.04 transfer_ownership: a null organization id is not found');
select throws_ok($$ select public.remove_member(null, pg_temp.uid('dave')) $$, 'P0002', 'organization not found',
  'T520.05 remove_member: a null organization id is not found');
select throws_ok($$ select public.delete_organization(null) $$, 'P0002', 'organization not found',
  'T520.06 delete_organization: a null organization id is not found');
select throws_ok($$ select public.export_organization(null) $$, 'P0002', 'organization not found',
  'T520.07 export_organization: a null organization id is not found');
select throws_ok($$ select public.create_role(null, 'kkk', 'K', 5, '{}') $$, 'P0002', 'organization not found',
  'T520.08 create_role: a null organization id is not found');
select throws_ok($$ select public.update_role(null, 'x', 5, '{}') $$, 'P0002', 'role not found',
  'T520.09 update_role: a null role id is not found');
select throws_ok($$ select public.delete_role(null) $$, 'P0002', 'role not found',
  'T520.10 delete_role: a null role id is not found');

-- A null user id must not skip remove_member's members.manage check (user_id <> uid is null, not true).
select pg_temp.as_user('erin');
select throws_ok($$ select public.remove_member(pg_temp.org('acme'), null) $$, '42501', 'permission denied: members.manage is required in this organization',
  'T520.11 remove_member: a viewer passing a null user id is refused (not a silent success)');
select pg_temp.as_user('alice');
select throws_ok($$ select public.remove_member(pg_temp.org('acme'), null) $$, 'P0002', 'member not found',
  'T520.12 remove_member: a null user id is not found, even for the owner');
-- ... and is refused before the organization's lock (the T260 rule), seen with the same spy as 260_role_change_locks.
select pg_temp.as_postgres();
create function private.test_lock_spy() returns trigger language plpgsql set search_path = pg_catalog, pg_temp as $$
begin raise exception 'organization lock taken' using errcode = 'SPY01'; end $$;
create trigger test_lock_spy before insert or update on private.owner_guards for each row execute function private.test_lock_spy();
select pg_temp.as_user('erin');
select throws_ok($$ select public.remove_member(pg_temp.org('acme'), pg_temp.uid('dave')) $$, '42501', null,
  'T520.13 (control) a viewer removing someone is refused before the lock');
select throws_ok($$ select public.remove_member(pg_temp.org('acme'), null) $$, '42501', null,
  'T520.14 a viewer passing a null user id is refused before the organization''s lock too');

select * from finish();
rollback;

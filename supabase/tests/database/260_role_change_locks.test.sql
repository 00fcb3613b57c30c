-- Threat cases for the serialization of role changes (SPEC §4 owner and rank
-- invariants, under concurrency):
--   * every permitted role change (set_member_roles, remove_member, leaving,
--     transfer_ownership, accept_invitation, and create_role, update_role,
--     delete_role for an organization's own roles) takes its organization's lock,
--     which is what makes concurrent changes run one after the other (the
--     races themselves: tests/concurrency/role-changes.test.ts);
--   * a caller who is not a member, or lacks the rights, is refused before
--     any lock is taken: nobody can make another organization's role changes
--     wait, or time its locks.
-- The lock is observed with a spy: within this file's transaction a trigger on
-- the organization's lock row (private.owner_guards) raises SPY01.
-- Personas and ids: personas.psql (the suite's own fixtures).
begin;
create extension if not exists pgtap with schema extensions;
select plan(27);

\ir personas.psql

-- An organization's own role to change and delete, defined before the spy is in place.
select pg_temp.as_user('alice');
select public.create_role(pg_temp.org('acme'), 'clerk', 'Clerk', 5, '{clients.read}');
select pg_temp.as_postgres();
create function pg_temp.clerk() returns uuid language sql stable security definer as $$
  select id from public.roles where organization_id = pg_temp.org('acme') and key = 'clerk'
$$;
grant execute on function pg_temp.clerk() to public;

create function private.test_lock_spy() returns trigger language plpgsql set search_path = pg_catalog, pg_temp as $$
begin
  raise exception 'organization lock taken' using errcode = 'SPY01';
end $$;
create trigger test_lock_spy before insert or update on private.owner_guards
  for each row execute function private.test_lock_spy();

insert into auth.users (id, email, email_confirmed_at) values ('f0000000-0000-4000-a000-000000000041', 'pat@example.com', now());

-- Refused before any lock ---------------------------------------------------------------
select pg_temp.as_user('nora');
select throws_ok($$select public.set_member_roles(pg_temp.org('acme'), pg_temp.uid('dave'), '{viewer}')$$, 'P0002', null,
  'T260.01 a non-member''s set_member_roles is refused before the organization''s lock (P0002)');
select throws_ok($$select public.remove_member(pg_temp.org('acme'), pg_temp.uid('dave'))$$, 'P0002', null,
  'T260.02 a non-member''s remove_member is refused before the organization''s lock (P0002)');
select throws_ok($$select public.transfer_ownership(pg_temp.org('acme'), pg_temp.uid('nora'))$$, 'P0002', null,
  'T260.03 a non-member''s transfer_ownership is refused before the organization''s lock (P0002)');
select throws_ok($$select public.accept_invitation('fixture-invitation-token-for-pat-0001')$$, '42501', null,
  'T260.04 accepting someone else''s invitation is refused before the organization''s lock (42501)');

select pg_temp.as_user('dave');
select throws_ok($$select public.set_member_roles(pg_temp.org('acme'), pg_temp.uid('erin'), '{member}')$$, '42501', null,
  'T260.05 set_member_roles without members.manage is refused before the organization''s lock (42501)');
select throws_ok($$select public.remove_member(pg_temp.org('acme'), pg_temp.uid('erin'))$$, '42501', null,
  'T260.06 remove_member without members.manage is refused before the organization''s lock (42501)');
select throws_ok($$select public.transfer_ownership(pg_temp.org('acme'), pg_temp.uid('dave'))$$, '42501', null,
  'T260.07 a member''s transfer_ownership is refused before the organization''s lock (42501)');
select pg_temp.as_user('bob');
select throws_ok($$select public.transfer_ownership(pg_temp.org('acme'), pg_temp.uid('carol'))$$, '42501', null,
  'T260.08 an admin''s transfer_ownership is refused before the organization''s lock: ownership is checked first (42501)');
select pg_temp.as_user('frank');
select throws_ok($$select public.set_member_roles(pg_temp.org('acme'), pg_temp.uid('dave'), '{viewer}')$$, 'P0002', null,
  'T260.09 another organization''s owner cannot reach Acme''s lock (P0002)');

-- Permitted changes take the lock ------------------------------------------------------------
select pg_temp.as_user('bob');
select throws_ok($$select public.set_member_roles(pg_temp.org('acme'), pg_temp.uid('dave'), '{viewer}')$$, 'SPY01', null,
  'T260.10 set_member_roles takes the organization''s lock, also when no owner changes');
select throws_ok($$select public.remove_member(pg_temp.org('acme'), pg_temp.uid('erin'))$$, 'SPY01', null,
  'T260.11 remove_member takes the organization''s lock');
select pg_temp.as_user('dave');
select throws_ok($$select public.remove_member(pg_temp.org('acme'), pg_temp.uid('dave'))$$, 'SPY01', null,
  'T260.12 leaving takes the organization''s lock');
select pg_temp.as_user('alice');
select throws_ok($$select public.transfer_ownership(pg_temp.org('acme'), pg_temp.uid('bob'))$$, 'SPY01', null,
  'T260.13 transfer_ownership takes the organization''s lock');
select pg_temp.as_user('nora');
select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000041","role":"authenticated"}', true);
select throws_ok($$select public.accept_invitation('fixture-invitation-token-for-pat-0001')$$, 'SPY01', null,
  'T260.14 accept_invitation takes the organization''s lock');

-- An organization's own roles: refused before the lock, or the lock taken --------------------
select pg_temp.as_user('nora');
select throws_ok($$select public.create_role(pg_temp.org('acme'), 'temp', 'Temp', 5, '{}')$$, 'P0002', null,
  'T260.19 a non-member''s create_role is refused before the organization''s lock (P0002)');
select throws_ok($$select public.update_role(pg_temp.clerk(), 'Clerk', 5, '{}')$$, 'P0002', null,
  'T260.20 a non-member''s update_role is refused before the organization''s lock (P0002)');
select pg_temp.as_user('frank');
select throws_ok($$select public.delete_role(pg_temp.clerk())$$, 'P0002', null,
  'T260.21 another organization''s owner cannot reach Acme''s lock through its role (P0002)');
select pg_temp.as_user('carol');
select throws_ok($$select public.create_role(pg_temp.org('acme'), 'temp', 'Temp', 5, '{}')$$, '42501', null,
  'T260.22 create_role without roles.manage is refused before the organization''s lock (42501)');
select throws_ok($$select public.update_role(pg_temp.clerk(), 'Clerk', 5, '{}')$$, '42501', null,
  'T260.23 update_role without roles.manage is refused before the organization''s lock (42501)');
select throws_ok($$select public.delete_role(pg_temp.clerk())$$, '42501', null,
  'T260.24 delete_role without roles.manage is refused before the organization''s lock (42501)');
select pg_temp.as_user('bob');
select throws_ok($$select public.create_role(pg_temp.org('acme'), 'temp', 'Temp', 5, '{}')$$, 'SPY01', null,
  'T260.25 create_role takes the organization''s lock');
select throws_ok($$select public.update_role(pg_temp.clerk(), 'Clerk', 5, '{}')$$, 'SPY01', null,
  'T260.26 update_role takes the organization''s lock');
select throws_ok($$select public.delete_role(pg_temp.clerk())$$, 'SPY01', null,
  'T260.27 delete_role takes the organization''s lock');

-- The lock helper ---------------------------------------------------------------------------
select pg_temp.as_postgres();
select ok(not has_function_privilege(r, 'private.lock_organization(uuid)', 'execute'),
  format('T260.%s %s cannot call private.lock_organization directly', 14 + n, r))
from unnest(array['anon', 'authenticated', 'service_role']) with ordinality as u (r, n);
drop trigger test_lock_spy on private.owner_guards;
select throws_ok($$select private.lock_organization('10000000-0000-4000-8000-00000000ffff')$$, 'P0002', 'organization not found',
  'T260.18 locking an organization that does not exist raises P0002');

select * from finish();
rollback;

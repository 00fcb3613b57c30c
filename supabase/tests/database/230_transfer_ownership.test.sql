-- Threat cases for transfer_ownership (SPEC §4 owner invariant and "nobody
-- changes their own roles except by transfer_ownership", §5, §9 forged
-- arguments):
--   * only an owner of the organization transfers it: admin, manager, member,
--     viewer get 42501; non-members and forged organization ids get P0002;
--     anon cannot execute it;
--   * the new owner must already be a member (P0002), and cannot be the caller
--     (22023);
--   * atomically: the new owner gains owner (keeping their roles), the previous
--     owner loses owner and keeps admin; the organization still has an owner at
--     commit; the previous owner's owner powers are gone.
-- Personas and ids: personas.psql.
begin;
create extension if not exists pgtap with schema extensions;
select plan(34);

-- The suite's personas, organizations and invitations (fixtures, not the seed).
\ir personas.psql

-- Who may call it ----------------------------------------------------------------------

set local role anon;
select set_config('request.jwt.claims', '', true);
select throws_ok(
  $$select public.transfer_ownership('f1000000-0000-4000-8000-000000000001', 'f0000000-0000-4000-a000-000000000002')$$,
  '42501', 'permission denied for function transfer_ownership',
  'T230.01 anon cannot execute transfer_ownership (42501)');

reset role;
set local role authenticated;
select set_config('request.jwt.claims', '{"role":"authenticated"}', true);
select throws_ok(
  $$select public.transfer_ownership('f1000000-0000-4000-8000-000000000001', 'f0000000-0000-4000-a000-000000000002')$$,
  '42501', 'not signed in',
  'T230.02 a request without a user cannot transfer (42501)');

-- bob: admin of Acme, tries to make himself owner
select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000002","role":"authenticated"}', true);
select throws_ok(
  $$select public.transfer_ownership('f1000000-0000-4000-8000-000000000001', 'f0000000-0000-4000-a000-000000000002')$$,
  '42501', 'permission denied: only an owner transfers ownership',
  'T230.03 an admin (not owner) cannot take ownership for himself (42501)');
select throws_ok(
  $$select public.transfer_ownership('f1000000-0000-4000-8000-000000000001', 'f0000000-0000-4000-a000-000000000003')$$,
  '42501', 'permission denied: only an owner transfers ownership',
  'T230.04 an admin cannot hand ownership to another member (42501)');

select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000003","role":"authenticated"}', true);
select throws_ok(
  $$select public.transfer_ownership('f1000000-0000-4000-8000-000000000001', 'f0000000-0000-4000-a000-000000000003')$$,
  '42501', 'permission denied: only an owner transfers ownership',
  'T230.05 a manager cannot transfer ownership (42501)');
select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000004","role":"authenticated"}', true);
select throws_ok(
  $$select public.transfer_ownership('f1000000-0000-4000-8000-000000000001', 'f0000000-0000-4000-a000-000000000004')$$,
  '42501', 'permission denied: only an owner transfers ownership',
  'T230.06 a member cannot transfer ownership (42501)');
select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000005","role":"authenticated"}', true);
select throws_ok(
  $$select public.transfer_ownership('f1000000-0000-4000-8000-000000000001', 'f0000000-0000-4000-a000-000000000005')$$,
  '42501', 'permission denied: only an owner transfers ownership',
  'T230.07 a viewer cannot transfer ownership (42501)');

-- grace: admin + manager of Globex
select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000007","role":"authenticated"}', true);
select throws_ok(
  $$select public.transfer_ownership('f1000000-0000-4000-8000-000000000002', 'f0000000-0000-4000-a000-000000000007')$$,
  '42501', 'permission denied: only an owner transfers ownership',
  'T230.08 several roles below owner still cannot transfer (42501)');

-- nora: no organization
select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000012","role":"authenticated"}', true);
select throws_ok(
  $$select public.transfer_ownership('f1000000-0000-4000-8000-000000000001', 'f0000000-0000-4000-a000-000000000012')$$,
  'P0002', 'organization not found',
  'T230.09 a non-member cannot take an organization; it stays invisible (P0002)');

-- frank: owner of Globex, forging Acme's id
select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000006","role":"authenticated"}', true);
select throws_ok(
  $$select public.transfer_ownership('f1000000-0000-4000-8000-000000000001', 'f0000000-0000-4000-a000-000000000006')$$,
  'P0002', 'organization not found',
  'T230.10 forged organization id: the owner of Globex cannot make himself owner of Acme (P0002)');
select throws_ok(
  $$select public.transfer_ownership('f1000000-0000-4000-8000-000000000001', 'f0000000-0000-4000-a000-000000000002')$$,
  'P0002', 'organization not found',
  'T230.11 forged organization id: the owner of Globex cannot make Acme''s admin its owner (P0002)');
select throws_ok(
  $$select public.transfer_ownership('10000000-0000-4000-8000-0000000000ff', 'f0000000-0000-4000-a000-000000000007')$$,
  'P0002', 'organization not found',
  'T230.12 an unknown organization id is not found (P0002)');

-- alice: owner of Acme, bad targets
select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000001","role":"authenticated"}', true);
select throws_ok(
  $$select public.transfer_ownership('f1000000-0000-4000-8000-000000000001', 'f0000000-0000-4000-a000-000000000001')$$,
  '22023', 'choose another member as the new owner',
  'T230.13 an owner cannot transfer to themselves (22023)');
select throws_ok(
  $$select public.transfer_ownership('f1000000-0000-4000-8000-000000000001', null)$$,
  '22023', 'choose another member as the new owner',
  'T230.14 a null new owner is refused (22023)');
select throws_ok(
  $$select public.transfer_ownership('f1000000-0000-4000-8000-000000000001', 'f0000000-0000-4000-a000-000000000012')$$,
  'P0002', 'member not found: the new owner must already be a member',
  'T230.15 the new owner must already be a member: a signed-up non-member is refused (P0002)');
select throws_ok(
  $$select public.transfer_ownership('f1000000-0000-4000-8000-000000000001', 'f0000000-0000-4000-a000-000000000006')$$,
  'P0002', 'member not found: the new owner must already be a member',
  'T230.16 a member of another organization cannot be made owner (P0002)');
select throws_ok(
  $$select public.transfer_ownership('f1000000-0000-4000-8000-000000000001', 'f0000000-0000-4000-a000-0000000000ff')$$,
  'P0002', 'member not found: the new owner must already be a member',
  'T230.17 an unknown user cannot be made owner (P0002)');

reset role;
select results_eq(
  $$select ur.organization_id, ur.user_id from public.user_roles ur join public.roles r on r.id = ur.role_id
    where r.key = 'owner' and ur.organization_id in (select pg_temp.org(o) from unnest(array['acme', 'globex', 'initech']) o)
    order by 1, 2$$,
  $$values ('f1000000-0000-4000-8000-000000000001'::uuid, 'f0000000-0000-4000-a000-000000000001'::uuid),
           ('f1000000-0000-4000-8000-000000000002'::uuid, 'f0000000-0000-4000-a000-000000000006'::uuid),
           ('f1000000-0000-4000-8000-000000000003'::uuid, 'f0000000-0000-4000-a000-000000000009'::uuid)$$,
  'T230.18 the refused attempts changed no owner of the three organizations');

-- alice transfers Acme to bob ------------------------------------------------------------

set local role authenticated;
select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000001","role":"authenticated"}', true);
select lives_ok(
  $$select public.transfer_ownership('f1000000-0000-4000-8000-000000000001', 'f0000000-0000-4000-a000-000000000002')$$,
  'T230.19 the owner transfers ownership to a member (the admin bob)');
select is(
  (select array_agg(r.key order by r.rank desc) from public.user_roles ur join public.roles r on r.id = ur.role_id
   where ur.organization_id = 'f1000000-0000-4000-8000-000000000001' and ur.user_id = 'f0000000-0000-4000-a000-000000000002'),
  array['owner', 'admin'], 'T230.20 the new owner holds owner (and keeps their roles)');
select is(
  (select array_agg(r.key order by r.rank desc) from public.user_roles ur join public.roles r on r.id = ur.role_id
   where ur.organization_id = 'f1000000-0000-4000-8000-000000000001' and ur.user_id = 'f0000000-0000-4000-a000-000000000001'),
  array['admin'], 'T230.21 the previous owner loses owner and keeps admin');
select is(
  (select array_agg(ur.user_id) from public.user_roles ur join public.roles r on r.id = ur.role_id
   where ur.organization_id = 'f1000000-0000-4000-8000-000000000001' and r.key = 'owner'),
  array['f0000000-0000-4000-a000-000000000002'::uuid], 'T230.22 the organization has exactly one owner: the new one');
select lives_ok($$set constraints all immediate$$,
  'T230.23 the organization still has an owner at commit (deferred invariant checked now)');
set constraints all deferred;

-- The previous owner lost the owner's powers.
select throws_ok(
  $$select public.transfer_ownership('f1000000-0000-4000-8000-000000000001', 'f0000000-0000-4000-a000-000000000001')$$,
  '42501', 'permission denied: only an owner transfers ownership',
  'T230.24 the previous owner cannot take ownership back (42501)');
select throws_ok(
  $$select * from public.invite_member('f1000000-0000-4000-8000-000000000001', 'x@example.com', 'owner')$$,
  '42501', 'permission denied: only owners invite owners',
  'T230.25 the previous owner can no longer invite owners (42501)');
select throws_ok(
  $$select public.delete_organization('f1000000-0000-4000-8000-000000000001')$$,
  '42501', 'permission denied: organization.delete is required in this organization',
  'T230.26 the previous owner can no longer delete the organization (organization.delete is gone)');
select ok(public.authorize('f1000000-0000-4000-8000-000000000001', 'members.manage'),
  'T230.27 the previous owner keeps the admin''s powers (members.manage)');

-- bob hands it on to erin, a viewer.
select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000002","role":"authenticated"}', true);
select lives_ok(
  $$select public.transfer_ownership('f1000000-0000-4000-8000-000000000001', 'f0000000-0000-4000-a000-000000000005')$$,
  'T230.28 the new owner can transfer in turn (to the viewer erin)');
select is(
  (select array_agg(r.key order by r.rank desc) from public.user_roles ur join public.roles r on r.id = ur.role_id
   where ur.organization_id = 'f1000000-0000-4000-8000-000000000001' and ur.user_id = 'f0000000-0000-4000-a000-000000000005'),
  array['owner', 'viewer'], 'T230.29 a viewer made owner holds owner and viewer');
select is(
  (select array_agg(r.key order by r.rank desc) from public.user_roles ur join public.roles r on r.id = ur.role_id
   where ur.organization_id = 'f1000000-0000-4000-8000-000000000001' and ur.user_id = 'f0000000-0000-4000-a000-000000000002'),
  array['admin'], 'T230.30 the owner who already was admin ends with admin only (no duplicate)');

-- frank transfers Globex to mallory, who is also a member of Acme.
select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000006","role":"authenticated"}', true);
select lives_ok(
  $$select public.transfer_ownership('f1000000-0000-4000-8000-000000000002', 'f0000000-0000-4000-a000-000000000011')$$,
  'T230.31 an owner transfers to a member who also belongs to another organization');
reset role;
select is(
  (select array_agg(r.key order by r.rank desc) from public.user_roles ur join public.roles r on r.id = ur.role_id
   where ur.organization_id = 'f1000000-0000-4000-8000-000000000001' and ur.user_id = 'f0000000-0000-4000-a000-000000000011'),
  array['member'], 'T230.32 a transfer in one organization changes nothing in the other');
select lives_ok($$set constraints all immediate$$,
  'T230.33 every organization still has an owner after the transfers');
select results_eq(
  $$select a.action, a.record_id, r.key from public.audit_log a join public.roles r on r.id = (coalesce(a.new, a.old) ->> 'role_id')::uuid
    where a.table_name = 'user_roles' and a.organization_id = 'f1000000-0000-4000-8000-000000000001'
      and a.actor_id = 'f0000000-0000-4000-a000-000000000001' order by a.created_at$$,
  $$values ('insert', 'f0000000-0000-4000-a000-000000000002'::uuid, 'owner'),
           ('insert', 'f0000000-0000-4000-a000-000000000001'::uuid, 'admin'),
           ('delete', 'f0000000-0000-4000-a000-000000000001'::uuid, 'owner')$$,
  'T230.34 the transfer is in the audit log: owner granted to the new owner, admin granted to and owner revoked from the previous one, by the previous owner');

select * from finish();
rollback;

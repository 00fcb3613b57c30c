-- Threat cases for revoking invitations (SPEC §4 invariants on invitations,
-- §5 revoke_invitation, §9 someone else's invitation):
--   * only holders of members.manage revoke; manager, member, viewer get 42501;
--     non-members, members of another organization and unknown ids get P0002
--     (another organization's invitation stays invisible);
--   * never an invitation for a role above the caller's highest (an admin
--     cannot revoke an owner invitation);
--   * inviting the same email again revokes the pending invitation, so the
--     same rank cap applies there;
--   * a revoked invitation's token stops working; revoking twice does nothing;
--     an accepted invitation cannot be revoked; revocation is not undone by
--     writing the table directly.
-- Personas and ids: personas.psql. Fixture invitations: f3000000-...0001
-- (Acme, pat@example.com, member, pending), f3000000-...0002 (Globex,
-- quinn@example.com, viewer, expired).
begin;
create extension if not exists pgtap with schema extensions;
select plan(34);

-- The suite's personas, organizations and invitations (fixtures, not the seed).
\ir personas.psql

create temp table t_inv (label text primary key, invitation_id uuid, token text, expires_at timestamptz);
grant all on t_inv to authenticated, anon, service_role;

insert into auth.users (id, aud, role, email, email_confirmed_at, created_at, updated_at) values
  ('f0000000-0000-4000-a000-000000000022', 'authenticated', 'authenticated', 'pat@example.com', now(), now(), now()),
  ('f0000000-0000-4000-a000-000000000024', 'authenticated', 'authenticated', 'olga@example.com', now(), now(), now());

-- alice (owner) invites an owner; bob (admin) invites a member.
set local role authenticated;
select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000001","role":"authenticated"}', true);
insert into t_inv select 'olga-owner', i.* from public.invite_member('f1000000-0000-4000-8000-000000000001', 'olga@example.com', 'owner') i;
select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000002","role":"authenticated"}', true);
insert into t_inv select 'newbie', i.* from public.invite_member('f1000000-0000-4000-8000-000000000001', 'newbie@example.com', 'member') i;
insert into t_inv select 'nora', i.* from public.invite_member('f1000000-0000-4000-8000-000000000001', 'nora@example.test', 'viewer') i;
reset role;

-- Who may call it ---------------------------------------------------------------------

set local role anon;
select set_config('request.jwt.claims', '', true);
select throws_ok($$select public.revoke_invitation('f3000000-0000-4000-8000-000000000001')$$,
  '42501', 'permission denied for function revoke_invitation',
  'T220.01 anon cannot execute revoke_invitation (42501)');

reset role;
set local role authenticated;
select set_config('request.jwt.claims', '{"role":"authenticated"}', true);
select throws_ok($$select public.revoke_invitation('f3000000-0000-4000-8000-000000000001')$$,
  '42501', 'not signed in',
  'T220.02 a request without a user cannot revoke (42501)');

-- carol: manager, dave: member, erin: viewer of Acme
select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000003","role":"authenticated"}', true);
select throws_ok($$select public.revoke_invitation('f3000000-0000-4000-8000-000000000001')$$,
  '42501', 'permission denied: members.manage is required in this organization',
  'T220.03 a manager cannot revoke (42501)');
select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000004","role":"authenticated"}', true);
select throws_ok($$select public.revoke_invitation('f3000000-0000-4000-8000-000000000001')$$,
  '42501', 'permission denied: members.manage is required in this organization',
  'T220.04 a member cannot revoke (42501)');
select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000005","role":"authenticated"}', true);
select throws_ok($$select public.revoke_invitation('f3000000-0000-4000-8000-000000000001')$$,
  '42501', 'permission denied: members.manage is required in this organization',
  'T220.05 a viewer cannot revoke (42501)');

-- nora: no organization, but the invitation is addressed to her
select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000012","role":"authenticated"}', true);
select throws_ok($$select public.revoke_invitation('f3000000-0000-4000-8000-000000000001')$$,
  'P0002', 'invitation not found',
  'T220.06 a non-member cannot revoke; the invitation stays invisible (P0002)');
select throws_ok($$select public.revoke_invitation((select invitation_id from t_inv where label = 'nora'))$$,
  'P0002', 'invitation not found',
  'T220.07 the addressee of an invitation cannot revoke it through the RPC (P0002)');

-- frank: owner of Globex; grace: admin of Globex
select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000006","role":"authenticated"}', true);
select throws_ok($$select public.revoke_invitation('f3000000-0000-4000-8000-000000000001')$$,
  'P0002', 'invitation not found',
  'T220.08 forged id: the owner of another organization cannot revoke Acme''s invitation (P0002)');
select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000007","role":"authenticated"}', true);
select throws_ok($$select public.revoke_invitation((select invitation_id from t_inv where label = 'olga-owner'))$$,
  'P0002', 'invitation not found',
  'T220.09 forged id: an admin of another organization cannot revoke Acme''s owner invitation (P0002)');

-- bob: admin of Acme, trying Globex's invitation
select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000002","role":"authenticated"}', true);
select throws_ok($$select public.revoke_invitation('f3000000-0000-4000-8000-000000000002')$$,
  'P0002', 'invitation not found',
  'T220.10 forged id: an admin cannot revoke another organization''s invitation (P0002)');
select throws_ok($$select public.revoke_invitation('f3000000-0000-4000-8000-0000000000ff')$$,
  'P0002', 'invitation not found',
  'T220.11 an unknown invitation id is not found (P0002)');
select throws_ok($$select public.revoke_invitation(null)$$,
  'P0002', 'invitation not found',
  'T220.12 a null invitation id is not found (P0002)');

-- mallory: member of Acme, viewer of Globex
select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000011","role":"authenticated"}', true);
select throws_ok($$select public.revoke_invitation('f3000000-0000-4000-8000-000000000002')$$,
  '42501', 'permission denied: members.manage is required in this organization',
  'T220.13 a viewer of the invitation''s organization cannot revoke it (42501)');

reset role;
select ok((select bool_and(revoked_at is null) from public.invitations
           where id in ('f3000000-0000-4000-8000-000000000001', 'f3000000-0000-4000-8000-000000000002')),
  'T220.14 the refused attempts revoked nothing');

-- Rank cap ---------------------------------------------------------------------------

set local role authenticated;
select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000002","role":"authenticated"}', true);
select throws_ok($$select public.revoke_invitation((select invitation_id from t_inv where label = 'olga-owner'))$$,
  '42501', 'permission denied: only owners invite owners',
  'T220.15 an admin cannot revoke an owner invitation (42501)');
reset role;
select is((select revoked_at from public.invitations where id = (select invitation_id from t_inv where label = 'olga-owner')),
  null::timestamptz, 'T220.16 the owner invitation is still pending after the admin''s attempt');
set local role authenticated;
select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000001","role":"authenticated"}', true);
select lives_ok($$select public.revoke_invitation((select invitation_id from t_inv where label = 'olga-owner'))$$,
  'T220.17 an owner revokes an owner invitation');
select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000024","role":"authenticated"}', true);
select throws_ok($$select public.accept_invitation((select token from t_inv where label = 'olga-owner'))$$,
  'P0001', 'invitation revoked',
  'T220.18 a revoked owner invitation cannot be accepted (P0001)');

-- Revoking as admin ------------------------------------------------------------------

select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000002","role":"authenticated"}', true);
select lives_ok($$select public.revoke_invitation('f3000000-0000-4000-8000-000000000001')$$,
  'T220.19 an admin revokes a member invitation of their organization');
select is((select revoked_at from public.invitations where id = 'f3000000-0000-4000-8000-000000000001'), now(),
  'T220.20 revoked_at is set (the admin sees it in the list)');
select lives_ok($$select public.revoke_invitation('f3000000-0000-4000-8000-000000000001')$$,
  'T220.21 revoking a revoked invitation does nothing and does not fail');
select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000022","role":"authenticated"}', true);
select throws_ok($$select public.accept_invitation('fixture-invitation-token-for-pat-0001')$$,
  'P0001', 'invitation revoked',
  'T220.22 the revoked token stops working for its addressee (P0001)');
select is((select count(*) from public.organizations), 0::bigint,
  'T220.23 the addressee of a revoked invitation joined nothing');

-- grace (admin of Globex) revokes the expired Globex invitation.
select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000007","role":"authenticated"}', true);
select lives_ok($$select public.revoke_invitation('f3000000-0000-4000-8000-000000000002')$$,
  'T220.24 an admin revokes an expired invitation of their organization');
select isnt((select revoked_at from public.invitations where id = 'f3000000-0000-4000-8000-000000000002'), null,
  'T220.34 ... and it is revoked (revoked_at set)');

-- Revocation cannot be undone by writing the table -----------------------------------

select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000002","role":"authenticated"}', true);
select throws_ok($$update public.invitations set revoked_at = null where id = 'f3000000-0000-4000-8000-000000000001'$$,
  '42501', 'permission denied for table invitations',
  'T220.25 an admin cannot un-revoke an invitation by updating it (42501)');

-- A new invitation after revocation --------------------------------------------------

select lives_ok(
  $$insert into t_inv select 'pat-again', i.* from public.invite_member('f1000000-0000-4000-8000-000000000001', 'pat@example.com', 'member') i$$,
  'T220.26 after revocation the same email can be invited again');
select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000022","role":"authenticated"}', true);
select lives_ok($$select public.accept_invitation((select token from t_inv where label = 'pat-again'))$$,
  'T220.27 the new invitation works while the revoked one does not');

-- An accepted invitation cannot be revoked -------------------------------------------

select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000001","role":"authenticated"}', true);
select throws_ok($$select public.revoke_invitation((select invitation_id from t_inv where label = 'pat-again'))$$,
  'P0001', 'invitation already used',
  'T220.28 an accepted invitation cannot be revoked (P0001; remove the member instead)');
select ok(exists (select 1 from public.organization_users
                  where organization_id = 'f1000000-0000-4000-8000-000000000001' and user_id = 'f0000000-0000-4000-a000-000000000022'),
  'T220.29 the membership obtained through the invitation stays');
reset role;
select ok((select accepted_at is not null and revoked_at is null from public.invitations
           where id = (select invitation_id from t_inv where label = 'pat-again')),
  'T220.30 the accepted invitation is not marked revoked');

-- The new-member invitation bob made is still pending: revocations touched only their target.
select ok((select revoked_at is null and accepted_at is null from public.invitations
           where id = (select invitation_id from t_inv where label = 'newbie')),
  'T220.31 revoking one invitation leaves the others pending');

-- Replacing is revoking: the rank cap must hold there too. -------------------------------

set local role authenticated;
select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000001","role":"authenticated"}', true);
insert into t_inv select 'vera-owner', i.* from public.invite_member('f1000000-0000-4000-8000-000000000001', 'vera@example.com', 'owner') i;
select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000002","role":"authenticated"}', true);
select throws_ok(
  $$select * from public.invite_member('f1000000-0000-4000-8000-000000000001', 'vera@example.com', 'member')$$,
  '42501', null,
  'T220.32 an admin cannot revoke a pending owner invitation by inviting the same email again (42501)');
reset role;
select ok((select revoked_at is null from public.invitations where id = (select invitation_id from t_inv where label = 'vera-owner')),
  'T220.33 the owner invitation is still pending after the admin''s re-invitation');

select * from finish();
rollback;

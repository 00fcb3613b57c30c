-- Threat cases for accepting invitations (SPEC §4 invariants on invitations,
-- §5 accept_invitation, §9 someone else's invitation, expired or used tokens):
--   * anon cannot execute accept_invitation; a request without a user is refused;
--   * an invitation is bound to its email, case-insensitively, as recorded in
--     auth.users (not a claim the caller could choose);
--   * unknown or malformed tokens: P0002; expired, used, revoked or replaced
--     invitations: P0001 with distinct messages; already a member: 23505;
--   * accepting makes the caller a member with exactly the invited role and
--     records accepted_at / accepted_by; failed attempts consume nothing.
-- Personas and ids: personas.psql. Its fixtures hold a pending Acme invitation
-- for pat@example.com ('fixture-invitation-token-for-pat-0001') and an expired
-- Globex one for quinn@example.com ('fixture-invitation-token-for-quinn-0002').
begin;
create extension if not exists pgtap with schema extensions;
select plan(39);

-- The suite's personas, organizations and invitations (fixtures, not the seed).
\ir personas.psql

create temp table t_inv (label text primary key, invitation_id uuid, token text, expires_at timestamptz);
grant all on t_inv to authenticated, anon, service_role;
create temp table t_res (label text primary key, organization_id uuid);
grant all on t_res to authenticated, anon, service_role;

-- Users who sign up during the test: quinn, pat (with a mixed-case address), heidi is a fixture persona.
insert into auth.users (id, aud, role, email, email_confirmed_at, raw_user_meta_data, created_at, updated_at) values
  ('f0000000-0000-4000-a000-000000000021', 'authenticated', 'authenticated', 'quinn@example.com', now(), '{"full_name":"Quinn Quade"}', now(), now()),
  ('f0000000-0000-4000-a000-000000000022', 'authenticated', 'authenticated', 'Pat@Example.COM', now(), '{"full_name":"Pat Park"}', now(), now()),
  ('f0000000-0000-4000-a000-000000000023', 'authenticated', 'authenticated', 'rita@example.com', now(), '{"full_name":"Rita Ross"}', now(), now());

-- Who may call it at all -------------------------------------------------------

set local role anon;
select set_config('request.jwt.claims', '', true);
select throws_ok($$select public.accept_invitation('fixture-invitation-token-for-pat-0001')$$,
  '42501', 'permission denied for function accept_invitation',
  'T210.01 anon cannot execute accept_invitation (42501)');

reset role;
set local role authenticated;
select set_config('request.jwt.claims', '{"role":"authenticated","email":"pat@example.com"}', true);
select throws_ok($$select public.accept_invitation('fixture-invitation-token-for-pat-0001')$$,
  '42501', 'not signed in',
  'T210.02 a request without a user cannot accept, whatever email it claims (42501)');

-- Unknown tokens ----------------------------------------------------------------

select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000012","role":"authenticated"}', true);
select throws_ok($$select public.accept_invitation('this-token-was-never-issued-0000000000000')$$,
  'P0002', 'invitation not found',
  'T210.03 an unknown token is not found (P0002)');
select throws_ok($$select public.accept_invitation('short')$$,
  'P0002', 'invitation not found',
  'T210.04 a malformed token is not found (P0002)');
select throws_ok($$select public.accept_invitation(null)$$,
  'P0002', 'invitation not found',
  'T210.05 a null token is not found (P0002)');
select throws_ok($$select public.accept_invitation(encode(extensions.digest('fixture-invitation-token-for-pat-0001', 'sha256'), 'hex'))$$,
  'P0002', 'invitation not found',
  'T210.06 the hash is not a token: presenting sha256(token) finds nothing (P0002)');

-- Bound to an email --------------------------------------------------------------

-- alice (owner of Acme) invites Nora with an address in mixed case.
select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000001","role":"authenticated"}', true);
select lives_ok(
  $$insert into t_inv select 'nora', i.* from public.invite_member('f1000000-0000-4000-8000-000000000001', 'Nora@Example.TEST', 'manager') i$$,
  'T210.07 setup: an owner invites Nora@Example.TEST as manager');

-- erin: viewer of Acme, another signed-in user
select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000005","role":"authenticated"}', true);
select throws_ok($$select public.accept_invitation((select token from t_inv where label = 'nora'))$$,
  '42501', 'invitation is for another email address',
  'T210.08 an invitation is bound to its email: a member of the organization with another email cannot accept it (42501)');
select set_config('request.jwt.claims',
  '{"sub":"f0000000-0000-4000-a000-000000000005","role":"authenticated","email":"nora@example.test"}', true);
select throws_ok($$select public.accept_invitation((select token from t_inv where label = 'nora'))$$,
  '42501', 'invitation is for another email address',
  'T210.09 the email comes from auth.users, not from the JWT: a forged email claim does not help (42501)');
-- rita: signed in, no organization
select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000023","role":"authenticated"}', true);
select throws_ok($$select public.accept_invitation((select token from t_inv where label = 'nora'))$$,
  '42501', 'invitation is for another email address',
  'T210.10 a stranger holding the token cannot use it (42501)');
select is((select count(*) from public.organization_users where user_id = 'f0000000-0000-4000-a000-000000000023'),
  0::bigint, 'T210.11 the stranger joined nothing');

reset role;
select ok((select accepted_at is null and accepted_by is null and revoked_at is null
           from public.invitations where id = (select invitation_id from t_inv where label = 'nora')),
  'T210.12 failed attempts do not consume the invitation');

-- nora accepts
set local role authenticated;
select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000012","role":"authenticated"}', true);
select lives_ok($$insert into t_res select 'nora', public.accept_invitation((select token from t_inv where label = 'nora'))$$,
  'T210.13 the invited user (nora@example.test, invited as Nora@Example.TEST) accepts');
select is((select organization_id from t_res where label = 'nora'), 'f1000000-0000-4000-8000-000000000001'::uuid,
  'T210.14 accept_invitation returns the organization id');
select ok(exists (select 1 from public.organization_users
                  where organization_id = 'f1000000-0000-4000-8000-000000000001' and user_id = 'f0000000-0000-4000-a000-000000000012'),
  'T210.15 after accepting, the user is a member');
select is((select array_agg(r.key order by r.key) from public.user_roles ur join public.roles r on r.id = ur.role_id
           where ur.organization_id = 'f1000000-0000-4000-8000-000000000001' and ur.user_id = 'f0000000-0000-4000-a000-000000000012'),
  array['manager'], 'T210.16 the new member holds exactly the invited role');
select is((select name from public.organizations where id = 'f1000000-0000-4000-8000-000000000001'),
  'Acme Corporation', 'T210.17 the new member sees the organization through RLS');

reset role;
select ok((select accepted_at = now() and accepted_by = 'f0000000-0000-4000-a000-000000000012'::uuid
           from public.invitations where id = (select invitation_id from t_inv where label = 'nora')),
  'T210.18 accepted_at and accepted_by are recorded');

-- Single use --------------------------------------------------------------------

set local role authenticated;
select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000012","role":"authenticated"}', true);
select throws_ok($$select public.accept_invitation((select token from t_inv where label = 'nora'))$$,
  'P0001', 'invitation already used',
  'T210.19 an invitation is single use: accepting twice fails (P0001)');
select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000023","role":"authenticated"}', true);
select throws_ok($$select public.accept_invitation((select token from t_inv where label = 'nora'))$$,
  'P0001', 'invitation already used',
  'T210.20 a used token stays used for anybody else (P0001)');
reset role;
select is((select count(*) from public.user_roles where user_id = 'f0000000-0000-4000-a000-000000000012'), 1::bigint,
  'T210.21 accepting again granted nothing more');
set local role authenticated;

-- Expiry -------------------------------------------------------------------------

-- quinn signs up with the address of the fixture's expired Globex invitation.
select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000021","role":"authenticated"}', true);
select throws_ok($$select public.accept_invitation('fixture-invitation-token-for-quinn-0002')$$,
  'P0001', 'invitation expired',
  'T210.22 an expired invitation cannot be accepted, even by its addressee (P0001)');
reset role;
select ok(not exists (select 1 from public.organization_users where user_id = 'f0000000-0000-4000-a000-000000000021')
          and (select accepted_at is null from public.invitations where id = 'f3000000-0000-4000-8000-000000000002'),
  'T210.23 the expired invitation admitted nobody and stays unaccepted');

-- An invitation whose expires_at is exactly now is expired too.
set local role authenticated;
select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000006","role":"authenticated"}', true);
select lives_ok(
  $$insert into t_inv select 'rita-globex', i.* from public.invite_member('f1000000-0000-4000-8000-000000000002', 'rita@example.com', 'member', interval '1 minute') i$$,
  'T210.24 setup: the owner of Globex invites rita for one minute');
reset role;
update public.invitations set created_at = now() - interval '1 hour', expires_at = now()
where id = (select invitation_id from t_inv where label = 'rita-globex');
set local role authenticated;
select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000023","role":"authenticated"}', true);
select throws_ok($$select public.accept_invitation((select token from t_inv where label = 'rita-globex'))$$,
  'P0001', 'invitation expired',
  'T210.25 an invitation is expired from the instant expires_at is reached (P0001)');

-- Case-insensitive on the user's side too ----------------------------------------------

-- pat signed up as Pat@Example.COM; the fixtures invited pat@example.com to Acme as member.
select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000022","role":"authenticated"}', true);
select lives_ok($$select public.accept_invitation('fixture-invitation-token-for-pat-0001')$$,
  'T210.26 the email match ignores the case of the auth.users address');
select is((select array_agg(r.key) from public.user_roles ur join public.roles r on r.id = ur.role_id
           where ur.organization_id = 'f1000000-0000-4000-8000-000000000001' and ur.user_id = 'f0000000-0000-4000-a000-000000000022'),
  array['member'], 'T210.27 pat holds exactly the invited role (member)');
select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000002","role":"authenticated"}', true);
select throws_ok(
  $$select * from public.invite_member('f1000000-0000-4000-8000-000000000001', 'pat@example.com', 'admin')$$,
  '23505', 'already a member: pat@example.com belongs to this organization',
  'T210.28 a member whose account address is mixed-case cannot be re-invited (23505)');

-- Revoked and replaced ---------------------------------------------------------------

select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000001","role":"authenticated"}', true);
select lives_ok(
  $$insert into t_inv select 'quinn-1', i.* from public.invite_member('f1000000-0000-4000-8000-000000000001', 'quinn@example.com', 'admin') i$$,
  'T210.29 setup: alice invites quinn to Acme as admin');
select lives_ok(
  $$insert into t_inv select 'quinn-2', i.* from public.invite_member('f1000000-0000-4000-8000-000000000001', 'quinn@example.com', 'viewer') i$$,
  'T210.30 setup: alice invites quinn again, as viewer (replaces the first)');
select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000021","role":"authenticated"}', true);
select throws_ok($$select public.accept_invitation((select token from t_inv where label = 'quinn-1'))$$,
  'P0001', 'invitation revoked',
  'T210.31 the token of a replaced invitation stops working (P0001 invitation revoked)');
select lives_ok($$select public.accept_invitation((select token from t_inv where label = 'quinn-2'))$$,
  'T210.32 the token of the replacing invitation works');
select is((select array_agg(r.key) from public.user_roles ur join public.roles r on r.id = ur.role_id
           where ur.organization_id = 'f1000000-0000-4000-8000-000000000001' and ur.user_id = 'f0000000-0000-4000-a000-000000000021'),
  array['viewer'], 'T210.33 the member holds the role of the replacing invitation, not the replaced one');

select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000002","role":"authenticated"}', true);
select lives_ok(
  $$insert into t_inv select 'rita-acme', i.* from public.invite_member('f1000000-0000-4000-8000-000000000001', 'rita@example.com', 'member') i$$,
  'T210.34 setup: bob (admin) invites rita to Acme');
select lives_ok($$select public.revoke_invitation((select invitation_id from t_inv where label = 'rita-acme'))$$,
  'T210.35 setup: bob revokes it');
select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000023","role":"authenticated"}', true);
select throws_ok($$select public.accept_invitation((select token from t_inv where label = 'rita-acme'))$$,
  'P0001', 'invitation revoked',
  'T210.36 a revoked invitation cannot be accepted (P0001)');

-- Already a member ---------------------------------------------------------------------

-- heidi (member of Globex) is invited to Acme as admin; before she accepts she
-- becomes a viewer of Acme by other means. The invitation must not add a role.
select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000001","role":"authenticated"}', true);
select lives_ok(
  $$insert into t_inv select 'heidi', i.* from public.invite_member('f1000000-0000-4000-8000-000000000001', 'heidi@globex.test', 'admin') i$$,
  'T210.37 setup: alice invites heidi to Acme as admin');
reset role;
insert into public.organization_users (organization_id, user_id) values ('f1000000-0000-4000-8000-000000000001', 'f0000000-0000-4000-a000-000000000008');
insert into public.user_roles (organization_id, user_id, role_id)
select 'f1000000-0000-4000-8000-000000000001', 'f0000000-0000-4000-a000-000000000008', id from public.roles where key = 'viewer';
set local role authenticated;
select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000008","role":"authenticated"}', true);
select throws_ok($$select public.accept_invitation((select token from t_inv where label = 'heidi'))$$,
  '23505', 'already a member of this organization',
  'T210.38 a member cannot accept an invitation to their own organization to gain a role (23505)');
select is((select array_agg(r.key) from public.user_roles ur join public.roles r on r.id = ur.role_id
           where ur.organization_id = 'f1000000-0000-4000-8000-000000000001' and ur.user_id = 'f0000000-0000-4000-a000-000000000008'),
  array['viewer'], 'T210.39 the existing member''s roles are unchanged');
reset role;

select * from finish();
rollback;

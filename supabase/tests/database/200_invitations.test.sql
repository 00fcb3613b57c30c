-- Threat cases for creating and listing invitations (SPEC §4 invariants on
-- invitations, §5 invite_member, §9 forged arguments):
--   * only holders of members.manage (owner, admin) invite and list; manager,
--     member, viewer get 42501, non-members and members of other organizations
--     P0002; anon cannot execute invite_member nor read invitations;
--   * never for a role above the inviter's highest rank in that organization;
--     owner only by owners;
--   * the token carries >= 128 random bits, is returned once, only its SHA-256
--     is stored and the hash is not readable through the API;
--   * the email is stored lowercased; default expiry is 7 days;
--   * inviting the same email again replaces the pending invitation; inviting
--     the email of a member is a conflict (23505);
--   * invitations change only through the RPCs (no insert/update/delete grant).
-- Personas and ids: personas.psql.
begin;
create extension if not exists pgtap with schema extensions;
select plan(59);

-- The suite's personas, organizations and invitations (fixtures, not the seed).
\ir personas.psql

-- Tokens returned by invite_member, carried between statements.
create temp table t_inv (label text primary key, invitation_id uuid, token text, expires_at timestamptz);
grant all on t_inv to authenticated, anon, service_role;

-- Who may invite -------------------------------------------------------------

set local role anon;
select set_config('request.jwt.claims', '', true);
select throws_ok(
  $$select * from public.invite_member('f1000000-0000-4000-8000-000000000001', 'x@example.com', 'member')$$,
  '42501', 'permission denied for function invite_member',
  'T200.01 anon cannot execute invite_member (42501)');

reset role;
set local role authenticated;
select set_config('request.jwt.claims', '{"role":"authenticated"}', true);
select throws_ok(
  $$select * from public.invite_member('f1000000-0000-4000-8000-000000000001', 'x@example.com', 'member')$$,
  '42501', 'not signed in',
  'T200.02 an authenticated request without a user (no sub) cannot invite (42501)');

-- alice: owner of Acme
select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000001","role":"authenticated"}', true);
select lives_ok(
  $$insert into t_inv select 'nora', i.* from public.invite_member('f1000000-0000-4000-8000-000000000001', 'Nora@Example.TEST', 'manager') i$$,
  'T200.03 an owner (members.manage) invites');

-- bob: admin of Acme
select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000002","role":"authenticated"}', true);
select lives_ok(
  $$insert into t_inv select 'ron', i.* from public.invite_member('f1000000-0000-4000-8000-000000000001', 'ron@example.com', 'member', interval '1 day') i$$,
  'T200.04 an admin (members.manage) invites');

-- carol: manager of Acme
select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000003","role":"authenticated"}', true);
select throws_ok(
  $$select * from public.invite_member('f1000000-0000-4000-8000-000000000001', 'x@example.com', 'viewer')$$,
  '42501', 'permission denied: members.manage is required in this organization',
  'T200.05 a manager lacks members.manage and cannot invite (42501)');

-- dave: member of Acme
select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000004","role":"authenticated"}', true);
select throws_ok(
  $$select * from public.invite_member('f1000000-0000-4000-8000-000000000001', 'x@example.com', 'viewer')$$,
  '42501', 'permission denied: members.manage is required in this organization',
  'T200.06 a member cannot invite (42501)');

-- erin: viewer of Acme
select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000005","role":"authenticated"}', true);
select throws_ok(
  $$select * from public.invite_member('f1000000-0000-4000-8000-000000000001', 'x@example.com', 'viewer')$$,
  '42501', 'permission denied: members.manage is required in this organization',
  'T200.07 a viewer cannot invite (42501)');

-- nora: signed in, no organization
select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000012","role":"authenticated"}', true);
select throws_ok(
  $$select * from public.invite_member('f1000000-0000-4000-8000-000000000001', 'x@example.com', 'viewer')$$,
  'P0002', 'organization not found',
  'T200.08 a signed-in non-member cannot invite; the organization stays invisible (P0002)');

-- frank: owner of Globex, forging Acme's id
select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000006","role":"authenticated"}', true);
select throws_ok(
  $$select * from public.invite_member('f1000000-0000-4000-8000-000000000001', 'x@example.com', 'owner')$$,
  'P0002', 'organization not found',
  'T200.09 forged organization id: the owner of another organization cannot invite into Acme (P0002)');

-- grace: admin + manager of Globex, forging Acme's id
select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000007","role":"authenticated"}', true);
select throws_ok(
  $$select * from public.invite_member('f1000000-0000-4000-8000-000000000001', 'x@example.com', 'viewer')$$,
  'P0002', 'organization not found',
  'T200.10 forged organization id: an admin of another organization cannot invite into Acme (P0002)');

-- mallory: member of Acme, viewer of Globex
select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000011","role":"authenticated"}', true);
select throws_ok(
  $$select * from public.invite_member('f1000000-0000-4000-8000-000000000002', 'x@example.com', 'viewer')$$,
  '42501', 'permission denied: members.manage is required in this organization',
  'T200.11 a user in two organizations holds members.manage in neither and cannot invite (42501)');

-- Rank cap -------------------------------------------------------------------

select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000002","role":"authenticated"}', true);
select throws_ok(
  $$select * from public.invite_member('f1000000-0000-4000-8000-000000000001', 'x@example.com', 'owner')$$,
  '42501', 'permission denied: only owners invite owners',
  'T200.12 an admin cannot invite an owner (42501)');
select lives_ok(
  $$insert into t_inv select 'sam', i.* from public.invite_member('f1000000-0000-4000-8000-000000000001', 'sam@example.com', 'admin') i$$,
  'T200.13 an admin may invite with their own highest role (admin)');

select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000007","role":"authenticated"}', true);
select throws_ok(
  $$select * from public.invite_member('f1000000-0000-4000-8000-000000000002', 'x@example.com', 'owner')$$,
  '42501', 'permission denied: only owners invite owners',
  'T200.14 holding admin + manager still does not allow inviting an owner (42501)');

-- bob becomes the owner of an organization of his own: that rank must not leak into Acme.
select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000002","role":"authenticated"}', true);
select lives_ok($$select public.create_organization('Bob Co', 'bob-co')$$, 'T200.15 setup: bob creates his own organization (owner there)');
select lives_ok(
  $$select * from public.invite_member((select id from public.organizations where slug = 'bob-co'), 'x@example.com', 'owner')$$,
  'T200.16 an owner invites an owner in their own organization');
select throws_ok(
  $$select * from public.invite_member('f1000000-0000-4000-8000-000000000001', 'y@example.com', 'owner')$$,
  '42501', 'permission denied: only owners invite owners',
  'T200.17 the rank cap is per organization: owner elsewhere, admin in Acme, still cannot invite an owner to Acme (42501)');

select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000001","role":"authenticated"}', true);
select lives_ok(
  $$insert into t_inv select 'olga', i.* from public.invite_member('f1000000-0000-4000-8000-000000000001', 'olga@example.com', 'owner') i$$,
  'T200.18 an owner may invite an owner');

-- Bad arguments ----------------------------------------------------------------

select throws_ok(
  $$select * from public.invite_member('f1000000-0000-4000-8000-000000000001', 'x@example.com', 'superuser')$$,
  '22023', 'unknown role: superuser',
  'T200.19 an unknown role is refused (22023)');
select throws_ok(
  $$select * from public.invite_member('f1000000-0000-4000-8000-000000000001', 'not-an-email', 'member')$$,
  '22023', 'invalid email address: not-an-email',
  'T200.20 an invalid email is refused (22023)');
select throws_ok(
  $$select * from public.invite_member('f1000000-0000-4000-8000-000000000001', 'x@example.com', 'member', interval '31 days')$$,
  '22023', 'expires_in must be between 1 minute and 30 days',
  'T200.21 an invitation cannot live longer than 30 days (22023)');
select throws_ok(
  $$select * from public.invite_member('f1000000-0000-4000-8000-000000000001', 'x@example.com', 'member', interval '-1 day')$$,
  '22023', 'expires_in must be between 1 minute and 30 days',
  'T200.22 an invitation cannot be created already expired (22023)');
select throws_ok(
  $$select * from public.invite_member('f1000000-0000-4000-8000-000000000001', 'x@example.com', 'member', interval '1200 mons -35970 days')$$,
  '22023', 'expires_in must be between 1 minute and 30 days',
  'T200.58 an interval that compares equal to 30 days but adds over 500 days to a date is refused (22023)');
select throws_ok(
  $$select * from public.invite_member('f1000000-0000-4000-8000-000000000001', 'x@example.com', 'member', interval '-12 mons 361 days')$$,
  '22023', 'expires_in must be between 1 minute and 30 days',
  'T200.59 an interval that compares equal to 1 day but gives an expiry days past is refused (22023)');

-- The token --------------------------------------------------------------------

reset role;
select ok((select bool_and(char_length(token) >= 22) from t_inv),
  'T200.23 every token has at least 22 base64url characters (>= 128 bits)');
select ok((select bool_and(token ~ '^[A-Za-z0-9_-]+$') from t_inv),
  'T200.24 tokens are URL-safe (base64url, no padding)');
select is((select count(distinct token) from t_inv), (select count(*) from t_inv),
  'T200.25 two invitations never share a token');
select is(
  (select count(*) from t_inv t join public.invitations i on i.id = t.invitation_id
   where i.token_hash = extensions.digest(convert_to(t.token, 'UTF8'), 'sha256')),
  (select count(*) from t_inv),
  'T200.26 token_hash is the SHA-256 of the returned token');
select is_empty(
  $$select 1 from t_inv t join public.invitations i on i.id = t.invitation_id
    cross join lateral jsonb_each_text(to_jsonb(i)) c
    where strpos(c.value, t.token) > 0
       or strpos(c.value, encode(convert_to(t.token, 'UTF8'), 'hex')) > 0$$,
  'T200.27 no column of invitations holds the token (only its hash is stored)');

-- What was stored --------------------------------------------------------------

select is((select email from public.invitations where id = (select invitation_id from t_inv where label = 'nora')),
  'nora@example.test', 'T200.28 the email is stored lowercased (bound case-insensitively)');
select is((select r.key from public.invitations i join public.roles r on r.id = i.role_id
           where i.id = (select invitation_id from t_inv where label = 'nora')),
  'manager', 'T200.29 the invitation carries the requested role');
select is((select invited_by from public.invitations where id = (select invitation_id from t_inv where label = 'nora')),
  'f0000000-0000-4000-a000-000000000001'::uuid, 'T200.30 invited_by is the caller');
select ok((select abs(extract(epoch from (t.expires_at - (now() + interval '7 days')))) < 60
           and i.expires_at = t.expires_at and i.accepted_at is null and i.revoked_at is null
           from t_inv t join public.invitations i on i.id = t.invitation_id where t.label = 'nora'),
  'T200.31 by default an invitation expires 7 days after it is made, and starts pending');
select ok((select abs(extract(epoch from (expires_at - (now() + interval '1 day')))) < 60 from t_inv where label = 'ron'),
  'T200.32 expires_in sets a shorter lifetime');

-- Column privilege on the hash ---------------------------------------------------

set local role authenticated;
select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000001","role":"authenticated"}', true);
select throws_ok($$select token_hash from public.invitations$$, '42501', 'permission denied for table invitations',
  'T200.33 even an owner cannot read token_hash (column privilege, 42501)');
select throws_ok($$select count(*) from public.invitations where token_hash = '\x00'::bytea$$, '42501', 'permission denied for table invitations',
  'T200.34 token_hash cannot be probed in a filter either (42501)');
select throws_ok($$select to_jsonb(i) from public.invitations i$$, '42501', 'permission denied for table invitations',
  'T200.35 token_hash cannot be read through a whole-row reference either (42501)');

-- Who may list -----------------------------------------------------------------

select is((select array_agg(distinct organization_id) from public.invitations),
  array['f1000000-0000-4000-8000-000000000001'::uuid],
  'T200.36 an owner lists only their organization''s invitations');
select ok((select count(*) >= 5 from public.invitations where email in ('pat@example.com', 'nora@example.test', 'ron@example.com', 'sam@example.com', 'olga@example.com')),
  'T200.37 an owner lists the pending invitations (the fixture''s and new)');

select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000002","role":"authenticated"}', true);
select is((select array_agg(distinct organization_id order by organization_id) from public.invitations where organization_id <> (select id from public.organizations where slug = 'bob-co')),
  array['f1000000-0000-4000-8000-000000000001'::uuid],
  'T200.38 an admin lists their organization''s invitations (and nothing of Globex or Initech)');

select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000003","role":"authenticated"}', true);
select is_empty($$select id from public.invitations$$, 'T200.39 a manager lists no invitations');
select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000004","role":"authenticated"}', true);
select is_empty($$select id from public.invitations$$, 'T200.40 a member lists no invitations');
select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000005","role":"authenticated"}', true);
select is_empty($$select id from public.invitations$$, 'T200.41 a viewer lists no invitations');
select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000012","role":"authenticated"}', true);
select is_empty($$select id from public.invitations$$,
  'T200.42 a non-member lists no invitations, not even the one addressed to their own email');
select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000006","role":"authenticated"}', true);
select is((select array_agg(distinct organization_id) from public.invitations),
  array['f1000000-0000-4000-8000-000000000002'::uuid],
  'T200.43 the owner of another organization sees only their own invitations, none of Acme''s');

reset role;
set local role anon;
select set_config('request.jwt.claims', '', true);
select throws_ok($$select id, email from public.invitations$$, '42501', 'permission denied for table invitations',
  'T200.44 anon cannot read invitations (42501)');

-- Changes only through the RPCs ---------------------------------------------------

reset role;
set local role authenticated;
select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000001","role":"authenticated"}', true);
select throws_ok(
  $$insert into public.invitations (organization_id, email, role_id, token_hash)
    values ('f1000000-0000-4000-8000-000000000001', 'mine@example.com', (select id from public.roles where key = 'owner'),
            extensions.digest('a-token-i-chose-myself', 'sha256'))$$,
  '42501', 'permission denied for table invitations',
  'T200.45 an owner cannot insert an invitation with a token of their choosing (42501)');
select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000002","role":"authenticated"}', true);
select throws_ok(
  $$update public.invitations set role_id = (select id from public.roles where key = 'owner') where email = 'pat@example.com'$$,
  '42501', 'permission denied for table invitations',
  'T200.46 an admin cannot raise a pending invitation to owner by updating it (42501)');
select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000006","role":"authenticated"}', true);
select throws_ok(
  $$update public.invitations set expires_at = now() + interval '7 days' where email = 'quinn@example.com'$$,
  '42501', 'permission denied for table invitations',
  'T200.47 an owner cannot revive an expired invitation by updating it (42501)');
select throws_ok($$delete from public.invitations where true$$, '42501', 'permission denied for table invitations',
  'T200.48 invitations cannot be deleted directly (42501)');

-- Inviting again, inviting a member ---------------------------------------------------

select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000001","role":"authenticated"}', true);
select lives_ok(
  $$insert into t_inv select 'nora-again', i.* from public.invite_member('f1000000-0000-4000-8000-000000000001', ' NORA@example.test ', 'viewer') i$$,
  'T200.49 the same email (any case, surrounding spaces) can be invited again');
select results_eq(
  $$select i.id, i.revoked_at is not null from public.invitations i
    where i.organization_id = 'f1000000-0000-4000-8000-000000000001' and i.email = 'nora@example.test' order by i.created_at, i.revoked_at nulls last$$,
  $$select invitation_id, label = 'nora' from t_inv where label in ('nora', 'nora-again') order by label = 'nora-again'$$,
  'T200.50 inviting again replaces the pending invitation: the old one is revoked, the new one is the only pending one');
select throws_ok(
  $$select * from public.invite_member('f1000000-0000-4000-8000-000000000001', 'bob@acme.test', 'member')$$,
  '23505', 'already a member: bob@acme.test belongs to this organization',
  'T200.51 inviting the email of a member is a conflict (23505)');
select throws_ok(
  $$select * from public.invite_member('f1000000-0000-4000-8000-000000000001', 'Mallory@EXAMPLE.test', 'admin')$$,
  '23505', 'already a member: mallory@example.test belongs to this organization',
  'T200.52 the member check ignores case: a member cannot be re-invited with a higher role (23505)');

-- The same email may be invited by two organizations independently.
select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000006","role":"authenticated"}', true);
select lives_ok(
  $$insert into t_inv select 'nora-globex', i.* from public.invite_member('f1000000-0000-4000-8000-000000000002', 'nora@example.test', 'member') i$$,
  'T200.53 another organization may invite the same email');
reset role;
select ok((select revoked_at is null and accepted_at is null from public.invitations
           where id = (select invitation_id from t_inv where label = 'nora-again')),
  'T200.54 an invitation by another organization does not replace Acme''s pending invitation of that email');

-- The RPCs: security definer, search_path = pg_catalog, pg_temp, executable by authenticated only (SPEC §5).
select results_eq(
  $$select p.oid::regprocedure::text, has_function_privilege('authenticated', p.oid, 'execute'),
           has_function_privilege('anon', p.oid, 'execute'), p.prosecdef, p.proconfig::text collate "default"
    from pg_proc p
    where p.oid in ('public.invite_member(uuid, text, text, interval)'::regprocedure, 'public.accept_invitation(text)'::regprocedure,
                    'public.revoke_invitation(uuid)'::regprocedure, 'public.transfer_ownership(uuid, uuid)'::regprocedure)
    order by 1$$,
  $$values ('accept_invitation(text)', true, false, true, array['search_path=pg_catalog, pg_temp']::text),
           ('invite_member(uuid,text,text,interval)', true, false, true, array['search_path=pg_catalog, pg_temp']::text),
           ('revoke_invitation(uuid)', true, false, true, array['search_path=pg_catalog, pg_temp']::text),
           ('transfer_ownership(uuid,uuid)', true, false, true, array['search_path=pg_catalog, pg_temp']::text)$$,
  'T200.55 the membership RPCs are security definer with search_path = pg_catalog, pg_temp, executable by authenticated and not by anon');
select is_empty(
  $$select p.oid::regprocedure::text from pg_proc p
    where p.oid in ('public.invite_member(uuid, text, text, interval)'::regprocedure, 'public.accept_invitation(text)'::regprocedure,
                    'public.revoke_invitation(uuid)'::regprocedure, 'public.transfer_ownership(uuid, uuid)'::regprocedure)
      and has_function_privilege('service_role', p.oid, 'execute')$$,
  'T200.56 the membership RPCs are executable by authenticated only: service_role holds no execute grant (SPEC §5)');
select ok(not has_function_privilege('authenticated', 'private.hash_token(text)', 'execute')
          and not has_function_privilege('authenticated', 'private.check_role_grantable(uuid, uuid)', 'execute'),
  'T200.57 the invitation helpers in private are not callable by users');

select * from finish();
rollback;

-- Threat cases for the invitation hardening (SPEC §4 "invitations are bound to
-- an email"):
--   * accepting needs a confirmed email (auth.users.email_confirmed_at): with
--     "confirm email" off, anyone can sign up as an address they do not own
--     (OL003), and the refused attempt consumes nothing;
--   * addresses compare by ASCII case folding only, independent of the
--     database's locale; an address whose NFKC normal form differs from
--     itself (U+212A KELVIN SIGN, full-width letters) is refused when inviting
--     (22023) and when accepting (OL004);
--   * anonymous sign-ins (is_anonymous claim, or auth.users.is_anonymous)
--     cannot accept (OL001).
-- Personas and ids: personas.psql (the suite's own fixtures).
begin;
create extension if not exists pgtap with schema extensions;
select plan(18);

\ir personas.psql

create temp table t_tok (label text primary key, token text);
grant all on t_tok to authenticated;

insert into auth.users (id, email, email_confirmed_at, is_anonymous) values
  ('f0000000-0000-4000-a000-000000000031', 'sam@example.com', null, false),             -- signed up, not confirmed
  ('f0000000-0000-4000-a000-000000000032', U&'\212Aate@example.com', now(), false),       -- Kelvin sign for K
  ('f0000000-0000-4000-a000-000000000033', 'Uma.Upton@Example.COM', now(), false),        -- mixed case
  ('f0000000-0000-4000-a000-000000000034', 'vic@example.com', now(), true);               -- an anonymous sign-in with an email

-- bob (admin of Acme) invites
select pg_temp.as_user('bob');
insert into t_tok select 'sam', token from public.invite_member(pg_temp.org('acme'), 'sam@example.com', 'member');
insert into t_tok select 'kate', token from public.invite_member(pg_temp.org('acme'), 'kate@example.com', 'member');
insert into t_tok select 'uma', token from public.invite_member(pg_temp.org('acme'), '  UMA.upton@example.com ', 'viewer');
insert into t_tok select 'vic', token from public.invite_member(pg_temp.org('acme'), 'vic@example.com', 'viewer');
insert into t_tok select 'nora', token from public.invite_member(pg_temp.org('acme'), 'nora@example.test', 'viewer');

select throws_ok($$select public.invite_member(pg_temp.org('acme'), U&'\212Aate@example.com', 'member')$$,
  '22023', null,
  'T270.01 inviting an address with a compatibility character (KELVIN SIGN) is refused (22023)');
select throws_ok($$select public.invite_member(pg_temp.org('acme'), U&'\FF4Bate@example.com', 'member')$$,
  '22023', null,
  'T270.02 inviting an address with a full-width letter is refused (22023)');
select is((select email from public.invitations where email like 'uma%' and revoked_at is null), 'uma.upton@example.com',
  'T270.03 the invited address is stored trimmed with A-Z folded to a-z');
select lives_ok($$select public.invite_member(pg_temp.org('acme'), 'Ägir@Example.com', 'viewer')$$,
  'T270.04 an address with a non-ASCII capital letter can be invited');
select is((select email from public.invitations where email like '%gir@example.com' and revoked_at is null), 'Ägir@example.com',
  'T270.05 only A-Z are folded: the non-ASCII capital stays as written (no locale-dependent lower())');

-- Confirmation
select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000031","role":"authenticated"}', true);
select throws_ok($$select public.accept_invitation((select token from t_tok where label = 'sam'))$$,
  'OL003', 'email address not confirmed',
  'T270.06 a user whose email is not confirmed cannot accept (OL003)');
select pg_temp.as_postgres();
select is((select accepted_at from public.invitations where email = 'sam@example.com' and revoked_at is null), null,
  'T270.07 the refused attempt consumed nothing');
select ok(not exists (select 1 from public.organization_users where user_id = 'f0000000-0000-4000-a000-000000000031'),
  'T270.08 and made no membership');
update auth.users set email_confirmed_at = now() where id = 'f0000000-0000-4000-a000-000000000031';
select pg_temp.as_user('nora');
select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000031","role":"authenticated"}', true);
select is(public.accept_invitation((select token from t_tok where label = 'sam')), pg_temp.org('acme'),
  'T270.09 once confirmed, the same user accepts');

-- Locale-independent, normalized comparison
select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000032","role":"authenticated"}', true);
select throws_ok($$select public.accept_invitation((select token from t_tok where label = 'kate'))$$,
  'OL004', 'your email address is not in Unicode normal form NFKC',
  'T270.10 a user whose address spells K with the KELVIN SIGN cannot accept kate@''s invitation (OL004)');
select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000033","role":"authenticated"}', true);
select is(public.accept_invitation((select token from t_tok where label = 'uma')), pg_temp.org('acme'),
  'T270.11 ASCII case differences do not matter: Uma.Upton@Example.COM accepts uma.upton@example.com''s invitation');

-- Anonymous sign-ins
select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000012","role":"authenticated","is_anonymous":true}', true);
select throws_ok($$select public.accept_invitation((select token from t_tok where label = 'nora'))$$,
  'OL001', 'anonymous sign-ins cannot accept invitations',
  'T270.12 a token with is_anonymous true cannot accept, even for its user''s email (OL001)');
select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000012","role":"authenticated","is_anonymous":"true"}', true);
select throws_ok($$select public.accept_invitation((select token from t_tok where label = 'nora'))$$,
  'OL001', 'anonymous sign-ins cannot accept invitations',
  'T270.13 any is_anonymous value but false counts as anonymous (OL001)');
select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000034","role":"authenticated"}', true);
select throws_ok($$select public.accept_invitation((select token from t_tok where label = 'vic'))$$,
  'OL001', 'anonymous sign-ins cannot accept invitations',
  'T270.14 a user auth.users marks anonymous cannot accept without the claim (OL001)');
select set_config('request.jwt.claims', '{"sub":"f0000000-0000-4000-a000-000000000012","role":"authenticated","is_anonymous":false}', true);
select is(public.accept_invitation((select token from t_tok where label = 'nora')), pg_temp.org('acme'),
  'T270.15 is_anonymous false accepts');

-- The constraint
select pg_temp.as_service();
select throws_ok($$insert into public.invitations (organization_id, email, role_id, token_hash)
  select pg_temp.org('acme'), 'Mixed@example.com', r.id, extensions.digest('x1', 'sha256') from public.roles r where r.key = 'viewer'$$,
  '23514', null, 'T270.16 the service cannot store an address with A-Z capitals (23514)');
select throws_ok($$insert into public.invitations (organization_id, email, role_id, token_hash)
  select pg_temp.org('acme'), U&'\212Aate@example.com', r.id, extensions.digest('x2', 'sha256') from public.roles r where r.key = 'viewer'$$,
  '23514', null, 'T270.17 the service cannot store an address that is not NFKC-normal (23514)');
select lives_ok($$insert into public.invitations (organization_id, email, role_id, token_hash)
  select pg_temp.org('acme'), 'Ünal@example.com', r.id, extensions.digest('x3', 'sha256') from public.roles r where r.key = 'viewer'$$,
  'T270.18 an NFKC-normal address with a non-ASCII capital can be stored');

select * from finish();
rollback;

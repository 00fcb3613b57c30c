-- Invitations: confirmed, locale-independent, normalized email addresses;
-- no anonymous sign-ins; accepting is a role change serialized with the
-- others of its organization.
--
-- * Accepting needs a confirmed email (auth.users.email_confirmed_at): with
--   Supabase Auth's "confirm email" off, anyone can sign up as an address
--   they do not own. SQLSTATE OL003.
-- * Addresses are compared with ASCII case folding of the whole address
--   (private.fold_email), not lower(), whose result depends on the
--   database's locale (lower() of U+212A KELVIN SIGN is "k" under UTF-8
--   locales). An address whose Unicode normal form (NFKC) differs from
--   itself is refused when inviting (22023) and when accepting (OL004):
--   compatibility characters cannot stand in for ASCII ones.
-- * Anonymous sign-ins (the `is_anonymous` claim Supabase Auth puts in the
--   JWT, or auth.users.is_anonymous) cannot accept invitations. SQLSTATE OL001.
-- * accept_invitation finds and checks the invitation without locking
--   anything, then takes the organization's lock, then reads the invitation
--   again FOR UPDATE and checks everything again (racing accepts still admit
--   one user; a role change of the inviter that committed meanwhile counts).

-- Fail fast rather than queue behind live traffic (and block it) on a busy database.
set lock_timeout = '10s';
set statement_timeout = '15min';

create function private.fold_email(address text)
returns text
language sql
immutable
parallel safe
set search_path = pg_catalog, pg_temp
as $$
  select pg_catalog.translate(pg_catalog.btrim(address), 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')
$$;
comment on function private.fold_email(text) is
  'An email address as invitations store and compare it: surrounding spaces removed, A-Z folded to a-z, nothing else changed (independent of the database''s locale).';

create function private.is_anonymous()
returns boolean
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
  -- Any value of the claim but false (or null) counts as anonymous.
  return coalesce(auth.jwt() -> 'is_anonymous', 'false'::jsonb) not in ('false'::jsonb, 'null'::jsonb)
      or coalesce((select u.is_anonymous from auth.users u where u.id = auth.uid()), false);
end;
$$;
comment on function private.is_anonymous() is
  'Whether the signed-in user is an anonymous sign-in: the is_anonymous claim of the JWT is anything but false, or auth.users says so.';

revoke all on function private.fold_email(text), private.is_anonymous() from public, anon, authenticated, service_role;

-- New and changed invitations hold a folded, NFKC-normal address. Rows written
-- before are left as they were (NOT VALID): one that is not NFKC-normal can
-- never be accepted, since accepting refuses such addresses.
alter table public.invitations drop constraint invitations_email_check;
alter table public.invitations add constraint invitations_email_check check (
  email = pg_catalog.translate(pg_catalog.btrim(email), 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')
  and pg_catalog.normalize(email, 'NFKC') = email
  and char_length(email) <= 320
  and email ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$'
) not valid;
comment on constraint invitations_email_check on public.invitations is
  'The address as private.fold_email gives it (A-Z folded to a-z), in Unicode normal form NFKC, at most 320 characters, shaped like an address.';
comment on column public.invitations.email is
  'The invited address, A-Z folded to a-z (private.fold_email) and NFKC-normal; only a signed-in user whose confirmed auth.users email folds to it can accept.';

create or replace function public.invite_member(
  organization_id uuid,
  email text,
  role text,
  expires_in interval default interval '7 days'
)
returns public.invitation_ticket
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  uid uuid := private.require_permission(invite_member.organization_id, 'members.manage');
  address text := private.fold_email(invite_member.email);
  role_id uuid;
  ticket public.invitation_ticket;
begin
  if address is null or address !~ '^[^@\s]+@[^@\s]+\.[^@\s]+$' or char_length(address) > 320 then
    raise exception 'invalid email address: %', coalesce(invite_member.email, 'null') using errcode = '22023';
  end if;
  if pg_catalog.normalize(address, 'NFKC') <> address then
    raise exception 'invalid email address: % is not in Unicode normal form NFKC', invite_member.email using errcode = '22023',
      hint = 'Write the address with the characters its owner signs in with (no compatibility characters such as the Kelvin sign or full-width letters).';
  end if;
  if expires_in is null or expires_in < interval '1 minute' or expires_in > interval '30 days' then
    raise exception 'expires_in must be between 1 minute and 30 days' using errcode = '22023';
  end if;
  role_id := (private.role_ids(array[invite_member.role]))[1];
  perform private.check_role_grantable(invite_member.organization_id, role_id);
  if exists (
    select 1 from public.organization_users ou join auth.users u on u.id = ou.user_id
    where ou.organization_id = invite_member.organization_id and private.fold_email(u.email) = address
  ) then
    raise exception 'already a member: % belongs to this organization', address using errcode = '23505';
  end if;

  -- Inviting again replaces the pending invitation, which the caller must be
  -- allowed to revoke (an admin cannot replace an owner's owner invitation).
  perform private.check_role_grantable(invite_member.organization_id, i.role_id)
  from public.invitations i
  where i.organization_id = invite_member.organization_id
    and i.email = address
    and i.accepted_at is null and i.revoked_at is null;
  update public.invitations i
     set revoked_at = pg_catalog.now()
   where i.organization_id = invite_member.organization_id
     and i.email = address
     and i.accepted_at is null and i.revoked_at is null;

  ticket.token := pg_catalog.translate(pg_catalog.encode(extensions.gen_random_bytes(32), 'base64'), '+/=', '-_');
  insert into public.invitations (organization_id, email, role_id, token_hash, invited_by, expires_at)
  values (invite_member.organization_id, address, role_id, private.hash_token(ticket.token), uid, pg_catalog.now() + expires_in)
  returning id, invitations.expires_at into ticket.invitation_id, ticket.expires_at;
  return ticket;
end;
$$;
comment on function public.invite_member(uuid, text, text, interval) is
  'Invites an email to the organization with a role (members.manage; never above the caller''s highest role; owner only by owners). The address is stored with A-Z folded to a-z and must be NFKC-normal (22023). Returns the invitation id, the token (shown once: only its hash is stored) and its expiry (7 days by default). Replaces a pending invitation of the same email.';

create or replace function public.accept_invitation(token text)
returns uuid
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  uid uuid := private.require_user();
  invitation public.invitations;
  my_email text;
  my_email_confirmed_at timestamptz;
begin
  if private.is_anonymous() then
    raise exception 'anonymous sign-ins cannot accept invitations' using errcode = 'OL001',
      hint = 'Sign up with an email address (or add one to this account and confirm it), then accept.';
  end if;
  if token is null or char_length(token) < 16 or char_length(token) > 200 then
    raise exception 'invitation not found' using errcode = 'P0002', detail = 'The token is malformed.';
  end if;
  -- Everything is checked before any lock (only the invitee can make this call wait on the
  -- organization's lock), then again once the organization's lock and the invitation's are held.
  for pass in 1 .. 2 loop
    if pass = 1 then
      select * into invitation from public.invitations i where i.token_hash = private.hash_token(accept_invitation.token);
    else
      perform private.lock_organization(invitation.organization_id);
      -- Racing accepts of one invitation run one after the other from here.
      select * into invitation from public.invitations i where i.id = invitation.id for update;
    end if;
    if not found then
      raise exception 'invitation not found' using errcode = 'P0002', detail = 'No invitation has this token.';
    end if;
    if invitation.revoked_at is not null then
      raise exception 'invitation revoked' using errcode = 'P0001', detail = 'This invitation was revoked or replaced by a newer one.';
    end if;
    if invitation.accepted_at is not null then
      raise exception 'invitation already used' using errcode = 'P0001', detail = 'Invitations are single use.';
    end if;
    if invitation.expires_at <= pg_catalog.now() then
      raise exception 'invitation expired' using errcode = 'P0001', detail = 'Ask for a new invitation.';
    end if;
    select u.email, u.email_confirmed_at into my_email, my_email_confirmed_at from auth.users u where u.id = uid;
    if pg_catalog.normalize(my_email, 'NFKC') <> my_email then
      raise exception 'your email address is not in Unicode normal form NFKC' using errcode = 'OL004',
        detail = 'Invitations are accepted only with an address written without compatibility characters.';
    end if;
    if private.fold_email(my_email) is distinct from invitation.email then
      raise exception 'invitation is for another email address' using errcode = '42501',
        detail = 'Sign in with the email address the invitation was sent to.';
    end if;
    if my_email_confirmed_at is null then
      raise exception 'email address not confirmed' using errcode = 'OL003',
        detail = 'Confirm your email address (follow the link Supabase Auth sent), then accept the invitation.';
    end if;
    if private.is_member(invitation.organization_id, uid) then
      raise exception 'already a member of this organization' using errcode = '23505';
    end if;
    -- The inviter grants the role: they must still be able to, now.
    if invitation.invited_by is null
       or not exists (
         select 1 from public.user_roles ur join public.role_permissions rp on rp.role_id = ur.role_id
         where ur.organization_id = invitation.organization_id and ur.user_id = invitation.invited_by
           and rp.permission = 'members.manage'
       )
       or private.max_rank(invitation.organization_id, invitation.invited_by)
          < (select r.rank from public.roles r where r.id = invitation.role_id) then
      raise exception 'invitation no longer valid' using errcode = 'P0001',
        detail = 'Its inviter can no longer grant this role. Ask for a new invitation.';
    end if;
  end loop;

  insert into public.organization_users (organization_id, user_id) values (invitation.organization_id, uid);
  insert into public.user_roles (organization_id, user_id, role_id) values (invitation.organization_id, uid, invitation.role_id);
  update public.invitations i set accepted_at = pg_catalog.now(), accepted_by = uid where i.id = invitation.id;
  return invitation.organization_id;
end;
$$;
comment on function public.accept_invitation(text) is
  'Accepts an invitation by its token: the caller, whose confirmed email must fold (A-Z to a-z) to the invited one, becomes a member with the invited role. Returns the organization id. Distinct errors: not found (P0002), revoked, used, expired, no longer valid because the inviter can no longer grant the role (P0001), another email (42501), anonymous sign-in (OL001), email not confirmed (OL003), email not NFKC-normal (OL004), already a member (23505). Serialized with the other role changes of the organization.';

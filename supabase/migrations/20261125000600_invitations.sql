-- Invitations: join an organization with a role, by email.
--
-- * Only holders of members.manage invite, list and revoke, never for a role
--   above their own highest (owner only by owners).
-- * The token carries 256 random bits, is returned once by invite_member, and
--   only its SHA-256 hash is stored (the hash never leaves the database: it
--   has no column grant and is left out of the audit log).
-- * An invitation is bound to its email, compared case-insensitively with the
--   accepting user's auth.users email.
-- * It expires (7 days by default) and is single use, also when several
--   accepts race (the row is locked). Inviting the same email to the same
--   organization again replaces the pending invitation.

-- Fail fast rather than queue behind live traffic (and block it) on a busy database.
set local lock_timeout = '10s';
set local statement_timeout = '15min';

create extension if not exists pgcrypto with schema extensions;

create table public.invitations (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null references public.organizations (id) on delete cascade,
  email text not null check (email = lower(trim(email)) and char_length(email) <= 320 and email ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$'),
  role_id uuid not null references public.roles (id),
  token_hash bytea not null unique check (octet_length(token_hash) = 32),
  invited_by uuid references public.users (id) on delete set null,
  expires_at timestamptz not null default now() + interval '7 days',
  accepted_at timestamptz,
  accepted_by uuid references public.users (id) on delete set null,
  revoked_at timestamptz,
  created_at timestamptz not null default now(),
  check (accepted_at is null or revoked_at is null),
  check (expires_at > created_at)
);
comment on table public.invitations is
  'An invitation to join an organization with a role, bound to an email. Pending while neither accepted nor revoked (and until expires_at).';
comment on column public.invitations.email is 'Lowercased email; only a signed-in user with this auth.users email (case-insensitive) can accept.';
comment on column public.invitations.token_hash is
  'SHA-256 of the token returned once by invite_member. The token itself is never stored; this column is not readable through the API.';

create unique index invitations_one_pending_per_email_idx
  on public.invitations (organization_id, email)
  where accepted_at is null and revoked_at is null;
comment on index public.invitations_one_pending_per_email_idx is
  'At most one pending invitation per organization and email: inviting again replaces it.';
create index invitations_organization_id_created_at_idx on public.invitations (organization_id, created_at desc);
create index invitations_role_id_idx on public.invitations (role_id);
create index invitations_invited_by_idx on public.invitations (invited_by);
create index invitations_accepted_by_idx on public.invitations (accepted_by);

alter table public.invitations enable row level security;

revoke all on table public.invitations from anon, authenticated;
grant select (id, organization_id, email, role_id, invited_by, expires_at, accepted_at, accepted_by, revoked_at, created_at)
  on table public.invitations to authenticated;
grant all on table public.invitations to service_role;

create policy invitations_select_managers on public.invitations
  for select to authenticated
  using (organization_id = any ((select private.organization_ids_with('members.manage'))::uuid[]));
comment on policy invitations_select_managers on public.invitations is
  'Holders of members.manage (owner, admin) list their organization''s invitations. Changes go through the RPCs.';

-- RPCs -------------------------------------------------------------------------

create function private.hash_token(token text)
returns bytea
language sql
immutable
set search_path = ''
as $$
  select pg_catalog.sha256(pg_catalog.convert_to(token, 'UTF8'))
$$;
comment on function private.hash_token(text) is 'SHA-256 of an invitation token: what invitations.token_hash stores.';

create function private.check_role_grantable(organization_id uuid, role_id uuid)
returns void
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  role_rank integer := (select r.rank from public.roles r where r.id = check_role_grantable.role_id);
  role_key text := (select r.key from public.roles r where r.id = check_role_grantable.role_id);
begin
  if role_key = 'owner' and private.max_rank(check_role_grantable.organization_id, auth.uid()) < role_rank then
    raise exception 'permission denied: only owners invite owners' using errcode = '42501';
  end if;
  if role_rank > private.max_rank(check_role_grantable.organization_id, auth.uid()) then
    raise exception 'permission denied: you cannot invite with a role above your own highest role' using errcode = '42501';
  end if;
end;
$$;
comment on function private.check_role_grantable(uuid, uuid) is
  'Raises 42501 when the signed-in user may not hand out this role in the organization (above their highest rank; owner only by owners).';

create type public.invitation_ticket as (
  invitation_id uuid,
  token text,
  expires_at timestamptz
);
comment on type public.invitation_ticket is
  'What invite_member returns: the invitation id, its token (shown once, never stored) and when it expires.';

create function public.invite_member(
  organization_id uuid,
  email text,
  role text,
  expires_in interval default interval '7 days'
)
returns public.invitation_ticket
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  uid uuid := private.require_permission(invite_member.organization_id, 'members.manage');
  address text := lower(trim(invite_member.email));
  role_id uuid;
  ticket public.invitation_ticket;
begin
  if address is null or address !~ '^[^@\s]+@[^@\s]+\.[^@\s]+$' or char_length(address) > 320 then
    raise exception 'invalid email address: %', coalesce(invite_member.email, 'null') using errcode = '22023';
  end if;
  if expires_in is null or expires_in < interval '1 minute' or expires_in > interval '30 days' then
    raise exception 'expires_in must be between 1 minute and 30 days' using errcode = '22023';
  end if;
  role_id := (private.role_ids(array[invite_member.role]))[1];
  perform private.check_role_grantable(invite_member.organization_id, role_id);
  if exists (
    select 1 from public.organization_users ou join auth.users u on u.id = ou.user_id
    where ou.organization_id = invite_member.organization_id and lower(u.email) = address
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
     set revoked_at = now()
   where i.organization_id = invite_member.organization_id
     and i.email = address
     and i.accepted_at is null and i.revoked_at is null;

  ticket.token := translate(encode(extensions.gen_random_bytes(32), 'base64'), '+/=', '-_');
  insert into public.invitations (organization_id, email, role_id, token_hash, invited_by, expires_at)
  values (invite_member.organization_id, address, role_id, private.hash_token(ticket.token), uid, now() + expires_in)
  returning id, invitations.expires_at into ticket.invitation_id, ticket.expires_at;
  return ticket;
end;
$$;
comment on function public.invite_member(uuid, text, text, interval) is
  'Invites an email to the organization with a role (members.manage; never above the caller''s highest role; owner only by owners). Returns the invitation id, the token (shown once: only its hash is stored) and its expiry (7 days by default). Replaces a pending invitation of the same email.';

create function public.accept_invitation(token text)
returns uuid
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  uid uuid := private.require_user();
  invitation public.invitations;
  my_email text;
begin
  if token is null or char_length(token) < 16 or char_length(token) > 200 then
    raise exception 'invitation not found' using errcode = 'P0002', detail = 'The token is malformed.';
  end if;
  -- Lock the invitation: racing accepts run one after the other.
  select * into invitation from public.invitations i
  where i.token_hash = private.hash_token(accept_invitation.token)
  for update;
  if not found then
    raise exception 'invitation not found' using errcode = 'P0002', detail = 'No invitation has this token.';
  end if;
  if invitation.revoked_at is not null then
    raise exception 'invitation revoked' using errcode = 'P0001', detail = 'This invitation was revoked or replaced by a newer one.';
  end if;
  if invitation.accepted_at is not null then
    raise exception 'invitation already used' using errcode = 'P0001', detail = 'Invitations are single use.';
  end if;
  if invitation.expires_at <= now() then
    raise exception 'invitation expired' using errcode = 'P0001', detail = 'Ask for a new invitation.';
  end if;
  select lower(u.email) into my_email from auth.users u where u.id = uid;
  if my_email is distinct from invitation.email then
    raise exception 'invitation is for another email address' using errcode = '42501',
      detail = 'Sign in with the email address the invitation was sent to.';
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

  insert into public.organization_users (organization_id, user_id) values (invitation.organization_id, uid);
  insert into public.user_roles (organization_id, user_id, role_id) values (invitation.organization_id, uid, invitation.role_id);
  update public.invitations i set accepted_at = now(), accepted_by = uid where i.id = invitation.id;
  return invitation.organization_id;
end;
$$;
comment on function public.accept_invitation(text) is
  'Accepts an invitation by its token: the caller, whose email must match, becomes a member with the invited role. Returns the organization id. Distinct errors: not found (P0002), revoked, used, expired, no longer valid because the inviter can no longer grant the role (P0001), another email (42501), already a member (23505).';

create function public.revoke_invitation(invitation_id uuid)
returns void
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  invitation public.invitations;
begin
  perform private.require_user();
  select * into invitation from public.invitations i where i.id = revoke_invitation.invitation_id for update;
  if not found or not private.is_member(invitation.organization_id, auth.uid()) then
    raise exception 'invitation not found' using errcode = 'P0002';
  end if;
  perform private.require_permission(invitation.organization_id, 'members.manage');
  perform private.check_role_grantable(invitation.organization_id, invitation.role_id);
  if invitation.accepted_at is not null then
    raise exception 'invitation already used' using errcode = 'P0001', detail = 'Remove the member instead.';
  end if;
  if invitation.revoked_at is null then
    update public.invitations i set revoked_at = now() where i.id = invitation.id;
  end if;
end;
$$;
comment on function public.revoke_invitation(uuid) is
  'Revokes a pending invitation (members.manage; not for a role above the caller''s highest). Revoking a revoked invitation does nothing; an accepted one cannot be revoked.';

revoke all on function private.hash_token(text), private.check_role_grantable(uuid, uuid) from public, anon, authenticated;
revoke all on function
  public.invite_member(uuid, text, text, interval), public.accept_invitation(text), public.revoke_invitation(uuid)
  from public, anon, service_role;
grant execute on function
  public.invite_member(uuid, text, text, interval), public.accept_invitation(text), public.revoke_invitation(uuid)
  to authenticated;

-- invite_member's limit on an invitation's life, 1 minute to 30 days, is
-- checked on the expiry it gives, not on the interval.
--
-- PostgreSQL compares intervals as if every month had 30 days, while adding
-- one to a date counts calendar months: '1200 mons -35970 days' compared
-- equal to 30 days and passed the check, then gave an invitation that
-- expires 554 days later ('3000000 mons -89999970 days': in the year 5615).
-- A leaked invitation link then stayed usable for as long as its inviter
-- could grant its role. The check is now on now() + expires_in against
-- now() plus 1 minute and plus 30 days; a calendar month from the 31st of
-- a month (31 days) is refused like any other life over 30 days.
-- The body is that of 20261201011200 with this change.

set lock_timeout = '10s';
set statement_timeout = '15min';

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
  -- Compared as dates, not as intervals: interval comparison counts a month
  -- as 30 days, so '1200 mons -35970 days' compares equal to 30 days and
  -- adds 554 days to a date.
  if expires_in is null
     or pg_catalog.now() + expires_in < pg_catalog.now() + interval '1 minute'
     or pg_catalog.now() + expires_in > pg_catalog.now() + interval '30 days' then
    raise exception 'expires_in must be between 1 minute and 30 days' using errcode = '22023';
  end if;
  -- Serialized with the organization's other role changes (delete_role, a
  -- racing invitation of the same address), rights checked again under the lock.
  perform private.lock_organization(invite_member.organization_id);
  perform private.require_permission(invite_member.organization_id, 'members.manage');
  role_id := (private.role_ids(invite_member.organization_id, array[invite_member.role]))[1];
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
  'Invites an email to the organization with a role: a built-in key or one of the organization''s own (members.manage; never above the caller''s highest role; owner only by owners; an organization''s role only by someone holding all its permissions). The address is stored with A-Z folded to a-z and must be NFKC-normal (22023). Returns the invitation id, the token (shown once: only its hash is stored) and its expiry (7 days by default). Replaces a pending invitation of the same email. Serialized with the organization''s other role changes (its lock, after the first check of rights; rights and role checked again under it).';


-- Account deletion and invitations serialized with the organization's other changes.
--
-- * Deleting an account decided "only member" and "only owner" from what had
--   committed when the deletion began, then waited for the organization's
--   row: an invitee whose accept_invitation committed meanwhile was deleted
--   with the organization (a two-member organization gone with one account,
--   and a join that had succeeded lost), an outcome no serial order gives.
--   private.refuse_deleting_only_owner() (trigger on_auth_user_deleting) now
--   locks the user's organizations first, in id order, as the role changes
--   and accept_invitation lock them, and decides after.
-- * Accounts deleted together (20261201011000): the organization left without
--   members is locked and checked again before it is deleted.
-- * invite_member took no lock of the organization: it locked the pending
--   invitation of the address, then the role its new row names, while
--   delete_role locks the role, then re-points pending invitations: a
--   re-invitation racing delete_role with a replacement deadlocked (40P01),
--   and two invitations of one address racing each other failed on the
--   unique index (23505). It now takes the organization's lock after its
--   first check of rights and checks rights and the role again under it:
--   the second call waits, then replaces the first's invitation, or finds
--   the role deleted.
-- The bodies are those of 20261201007100, 20261201011000 and 20261201006000
-- with these changes.

set lock_timeout = '10s';
set statement_timeout = '15min';

create or replace function private.refuse_deleting_only_owner()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  blocking text;
  sole uuid;
begin
  -- The user's organizations, locked (in id order) as role changes,
  -- accept_invitation and deletion lock them: a member who joined while this
  -- waited counts below (each statement of this function reads what has
  -- committed by then), and nobody joins until this transaction ends.
  perform 1 from public.organizations o
   where o.id in (select ou.organization_id from public.organization_users ou where ou.user_id = old.id)
   order by o.id
     for no key update of o;
  select pg_catalog.string_agg(pg_catalog.format('"%s" (%s)', o.name, o.id), ', ' order by o.name, o.id)
    into blocking
    from public.organizations o
   where exists (select 1 from public.user_roles ur join public.roles r on r.id = ur.role_id
                  where ur.organization_id = o.id and ur.user_id = old.id and r.key = 'owner')
     and not exists (select 1 from public.user_roles ur join public.roles r on r.id = ur.role_id
                      where ur.organization_id = o.id and ur.user_id <> old.id and r.key = 'owner')
     and exists (select 1 from public.organization_users ou where ou.organization_id = o.id and ou.user_id <> old.id);
  if blocking is not null then
    raise exception 'cannot delete user %: they are the only owner of %', old.id, blocking
      using errcode = 'P0001',
            detail = 'Every organization keeps at least one owner, and these have other members.',
            hint = 'For each organization: transfer ownership to another member (transfer_ownership), or delete the organization (delete_organization); then delete the user.';
  end if;
  -- Organizations nobody else belongs to go with their only member.
  for sole in
    select ou.organization_id from public.organization_users ou
     where ou.user_id = old.id
       and not exists (select 1 from public.organization_users x
                        where x.organization_id = ou.organization_id and x.user_id <> old.id)
     order by ou.organization_id
  loop
    perform private.finish_organization_deletion(sole, old.id, 'account_deletion');
  end loop;
  return old;
end;
$$;
comment on function private.refuse_deleting_only_owner() is
  'Trigger on auth.users (before delete): refuses to delete a user who is the only owner of an organization that has other members, naming each such organization and the remedy (transfer ownership or delete the organization); nothing changes then. Otherwise deletes the organizations where the user is the only member (one summary audit entry each, actor: the user), and lets the rest cascade. Takes the lock of each of the user''s organizations first (in id order), so that a member who joins meanwhile counts.';

create or replace function private.delete_organizations_left_by_deleted_accounts()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  emptied record;
begin
  for emptied in
    select g.organization_id, (pg_catalog.array_agg(g.user_id order by g.user_id))[1] as last_member
      from gone g
     where exists (select 1 from public.organizations o where o.id = g.organization_id)
       and not exists (select 1 from public.organization_users ou where ou.organization_id = g.organization_id)
       and not exists (select 1 from gone s join auth.users u on u.id = s.user_id
                        where s.organization_id = g.organization_id)
     group by g.organization_id
     order by g.organization_id
  loop
    -- Locked, then checked again: a member who joined meanwhile keeps it.
    perform 1 from public.organizations o where o.id = emptied.organization_id for no key update;
    continue when not found;
    continue when exists (select 1 from public.organization_users ou where ou.organization_id = emptied.organization_id);
    perform private.finish_organization_deletion(emptied.organization_id, emptied.last_member, 'account_deletion');
  end loop;
  return null;
end;
$$;

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


-- Role changes: serialized per organization, rights checked after the lock.
--
-- Two admins demoting each other at the same time both passed their rights
-- check before either committed, and both lost members.manage; with three
-- owners, r1 demoting r2 while r2 demoted r1 let r2's call wait on the owner
-- guard, then proceed without looking at its own rights again. No serial
-- order allows either outcome (write skew). Every role change of an
-- organization (set_member_roles, remove_member, transfer_ownership, and
-- accept_invitation in the invitations hardening) now:
--   1. checks that the caller is a member, and holds the rights, without
--      locking anything (a non-member cannot wait on, or time, another
--      organization's locks);
--   2. takes the organization's lock (private.lock_organization);
--   3. checks the caller's rights again: a role change that committed while
--      it waited is seen (read committed takes a new snapshot per
--      statement; under repeatable read the lock's write makes the second
--      transaction fail to serialize, and the typed layer retries it).
-- revoke_invitation read the invitation FOR UPDATE before checking
-- membership; it now checks membership and rights first, then locks the
-- invitation, then checks again.

-- Fail fast rather than queue behind live traffic (and block it) on a busy database.
set lock_timeout = '10s';
set statement_timeout = '15min';

comment on table private.owner_guards is
  'One row per organization whose members or roles changed: the organization''s lock row. Role-changing RPCs write it (private.lock_organization), and so does the trigger on every removal of an owner role, so concurrent changes are serialized: the second waits for the first to commit (read committed) or fails to serialize (repeatable read).';

create function private.lock_organization(organization_id uuid)
returns void
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
  -- The row lock conflicts with deletion and renaming of the organization, not with
  -- the key-share locks that foreign keys (new clients, members) take.
  perform 1 from public.organizations o where o.id = lock_organization.organization_id for no key update;
  if not found then
    raise exception 'organization not found' using errcode = 'P0002',
      detail = 'No organization with this id has the caller as a member.';
  end if;
  -- The write: under repeatable read a concurrent change makes this transaction fail to serialize.
  insert into private.owner_guards (organization_id) values (lock_organization.organization_id)
  on conflict on constraint owner_guards_pkey do update set changed_at = pg_catalog.now();
end;
$$;
comment on function private.lock_organization(uuid) is
  'Takes the organization''s lock for a change of its members or roles: a no-key-update row lock on the organization, then a write of its owner_guards row. Held until the transaction ends. Call it after checking membership, and check rights again after it.';
revoke all on function private.lock_organization(uuid) from public, anon, authenticated, service_role;

create or replace function public.set_member_roles(organization_id uuid, user_id uuid, roles text[])
returns void
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  -- Membership and rights first, before any lock.
  uid uuid := private.require_permission(set_member_roles.organization_id, 'members.manage');
  wanted uuid[] := private.role_ids(set_member_roles.roles);
  owner_id uuid := (select r.id from public.roles r where r.key = 'owner');
  my_rank integer;
  changed uuid[];
begin
  if set_member_roles.user_id = uid then
    raise exception 'you cannot change your own roles' using errcode = '42501',
      hint = 'Another member with members.manage can, or use transfer_ownership.';
  end if;

  perform private.lock_organization(set_member_roles.organization_id);
  -- Rights again: a role change that committed while this call waited counts.
  perform private.require_permission(set_member_roles.organization_id, 'members.manage');
  my_rank := private.max_rank(set_member_roles.organization_id, uid);

  if not private.is_member(set_member_roles.organization_id, set_member_roles.user_id) then
    raise exception 'member not found' using errcode = 'P0002';
  end if;
  if private.max_rank(set_member_roles.organization_id, set_member_roles.user_id) > my_rank then
    raise exception 'permission denied: the member outranks you' using errcode = '42501';
  end if;

  -- Roles granted or revoked: the symmetric difference of the old and new sets.
  select coalesce(array_agg(x), '{}') into changed from (
    (select unnest(wanted) except
     select ur.role_id from public.user_roles ur
     where ur.organization_id = set_member_roles.organization_id and ur.user_id = set_member_roles.user_id)
    union
    (select ur.role_id from public.user_roles ur
     where ur.organization_id = set_member_roles.organization_id and ur.user_id = set_member_roles.user_id
     except select unnest(wanted))
  ) d (x);

  if owner_id = any (changed) and my_rank < (select r.rank from public.roles r where r.id = owner_id) then
    raise exception 'permission denied: only owners grant or revoke owner' using errcode = '42501';
  end if;
  if exists (select 1 from public.roles r where r.id = any (changed) and r.rank > my_rank) then
    raise exception 'permission denied: you cannot grant or revoke a role above your own highest role' using errcode = '42501';
  end if;

  delete from public.user_roles ur
  where ur.organization_id = set_member_roles.organization_id
    and ur.user_id = set_member_roles.user_id
    and ur.role_id <> all (wanted);
  insert into public.user_roles (organization_id, user_id, role_id)
  select set_member_roles.organization_id, set_member_roles.user_id, w from unnest(wanted) w
  on conflict do nothing;
end;
$$;
comment on function public.set_member_roles(uuid, uuid, text[]) is
  'Replaces a member''s roles. Needs members.manage; nobody changes their own roles, manages a member who outranks them, or grants/revokes a role above their own highest; only owners grant or revoke owner. Serialized with every other role change of the organization; rights are checked again once its lock is held.';

create or replace function public.remove_member(organization_id uuid, user_id uuid)
returns void
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  uid uuid := private.require_user();
  owner_rank integer := (select r.rank from public.roles r where r.key = 'owner');
  my_rank integer;
begin
  -- Membership and rights first, before any lock.
  if not private.is_member(remove_member.organization_id, uid) then
    raise exception 'organization not found' using errcode = 'P0002';
  end if;
  if remove_member.user_id <> uid then
    perform private.require_permission(remove_member.organization_id, 'members.manage');
  end if;

  perform private.lock_organization(remove_member.organization_id);
  -- Rights again: a role change that committed while this call waited counts.
  if not private.is_member(remove_member.organization_id, uid) then
    raise exception 'organization not found' using errcode = 'P0002';
  end if;
  if remove_member.user_id <> uid then
    perform private.require_permission(remove_member.organization_id, 'members.manage');
    if not private.is_member(remove_member.organization_id, remove_member.user_id) then
      raise exception 'member not found' using errcode = 'P0002';
    end if;
    my_rank := private.max_rank(remove_member.organization_id, uid);
    if private.max_rank(remove_member.organization_id, remove_member.user_id) > my_rank then
      raise exception 'permission denied: the member outranks you' using errcode = '42501';
    end if;
    if private.max_rank(remove_member.organization_id, remove_member.user_id) >= owner_rank and my_rank < owner_rank then
      raise exception 'permission denied: only owners remove owners' using errcode = '42501';
    end if;
  end if;
  delete from public.organization_users ou
  where ou.organization_id = remove_member.organization_id and ou.user_id = remove_member.user_id;
end;
$$;
comment on function public.remove_member(uuid, uuid) is
  'Removes a member with their roles and client assignments; with user_id = the caller, leaves the organization. Removing others needs members.manage and a rank at least theirs (owners only by owners). The last owner cannot leave. Serialized with every other role change of the organization; rights are checked again once its lock is held.';

create or replace function public.transfer_ownership(organization_id uuid, new_owner_id uuid)
returns void
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  uid uuid := private.require_user();
  owner_role uuid := (select r.id from public.roles r where r.key = 'owner');
  admin_role uuid := (select r.id from public.roles r where r.key = 'admin');
begin
  -- Membership and ownership first, before any lock; both again once the lock is held.
  for pass in 1 .. 2 loop
    if pass = 2 then
      perform private.lock_organization(transfer_ownership.organization_id);
    end if;
    if not private.is_member(transfer_ownership.organization_id, uid) then
      raise exception 'organization not found' using errcode = 'P0002';
    end if;
    if not exists (
      select 1 from public.user_roles ur
      where ur.organization_id = transfer_ownership.organization_id and ur.user_id = uid and ur.role_id = owner_role
    ) then
      raise exception 'permission denied: only an owner transfers ownership' using errcode = '42501';
    end if;
  end loop;
  if new_owner_id is null or new_owner_id = uid then
    raise exception 'choose another member as the new owner' using errcode = '22023';
  end if;
  if not private.is_member(transfer_ownership.organization_id, new_owner_id) then
    raise exception 'member not found: the new owner must already be a member' using errcode = 'P0002';
  end if;

  insert into public.user_roles (organization_id, user_id, role_id)
  values (transfer_ownership.organization_id, new_owner_id, owner_role)
  on conflict do nothing;
  insert into public.user_roles (organization_id, user_id, role_id)
  values (transfer_ownership.organization_id, uid, admin_role)
  on conflict do nothing;
  delete from public.user_roles ur
  where ur.organization_id = transfer_ownership.organization_id and ur.user_id = uid and ur.role_id = owner_role;
end;
$$;
comment on function public.transfer_ownership(uuid, uuid) is
  'Makes another member an owner and the caller (an owner) an admin, atomically. The new owner must already be a member. Membership and ownership are checked before the organization''s lock is taken, and again once it is held.';

create or replace function public.revoke_invitation(invitation_id uuid)
returns void
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  uid uuid := private.require_user();
  invitation public.invitations;
begin
  -- Membership and rights first, without a lock; then the invitation's row lock; then both again.
  for pass in 1 .. 2 loop
    if pass = 1 then
      select * into invitation from public.invitations i where i.id = revoke_invitation.invitation_id;
    else
      select * into invitation from public.invitations i where i.id = revoke_invitation.invitation_id for update;
    end if;
    if not found or not private.is_member(invitation.organization_id, uid) then
      raise exception 'invitation not found' using errcode = 'P0002';
    end if;
    perform private.require_permission(invitation.organization_id, 'members.manage');
    perform private.check_role_grantable(invitation.organization_id, invitation.role_id);
  end loop;
  if invitation.accepted_at is not null then
    raise exception 'invitation already used' using errcode = 'P0001', detail = 'Remove the member instead.';
  end if;
  if invitation.revoked_at is null then
    update public.invitations i set revoked_at = pg_catalog.now() where i.id = invitation.id;
  end if;
end;
$$;
comment on function public.revoke_invitation(uuid) is
  'Revokes a pending invitation (members.manage; not for a role above the caller''s highest). Revoking a revoked invitation does nothing; an accepted one cannot be revoked. Membership and rights are checked before the invitation is locked, and again once it is.';

-- remove_member checks rights for a null user id too.
--
-- remove_member(organization_id, user_id) skipped its members.manage check
-- when user_id was null (`user_id <> uid` is null, not true), took the
-- organization's lock, deleted nothing and returned success: anyone signed in
-- could make the organization's role changes wait behind a call that did
-- nothing, and a caller was told a removal worked. Now a null user id is
-- someone else: it needs members.manage, before any lock, and is then not
-- found (P0002). The body is 20261201001100's with `is distinct from` in
-- place of `<>`; nothing else changes.

set lock_timeout = '10s';
set statement_timeout = '15min';

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
  if remove_member.user_id is distinct from uid then
    perform private.require_permission(remove_member.organization_id, 'members.manage');
  end if;

  perform private.lock_organization(remove_member.organization_id);
  -- Rights again: a role change that committed while this call waited counts.
  if not private.is_member(remove_member.organization_id, uid) then
    raise exception 'organization not found' using errcode = 'P0002';
  end if;
  if remove_member.user_id is distinct from uid then
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

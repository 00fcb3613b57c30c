-- Ownership transfer: an owner hands the organization to another member.
--
-- Atomic: the new owner gains `owner`, the previous owner loses it and keeps
-- (or gains) `admin`, in one transaction. Concurrent transfers and removals
-- are serialized by the owner guard (see the organizations migration), and the
-- deferred "at least one owner" check runs at commit.

-- Fail fast rather than queue behind live traffic (and block it) on a busy database.
set local lock_timeout = '10s';
set local statement_timeout = '15min';

create function public.transfer_ownership(organization_id uuid, new_owner_id uuid)
returns void
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  uid uuid := private.require_user();
  owner_role uuid := (select r.id from public.roles r where r.key = 'owner');
  admin_role uuid := (select r.id from public.roles r where r.key = 'admin');
begin
  if not private.is_member(transfer_ownership.organization_id, uid) then
    raise exception 'organization not found' using errcode = 'P0002';
  end if;
  -- Serialize with other owner changes of this organization before reading who owns it.
  insert into private.owner_guards (organization_id) values (transfer_ownership.organization_id)
  on conflict on constraint owner_guards_pkey do update set changed_at = now();
  if not exists (
    select 1 from public.user_roles ur
    where ur.organization_id = transfer_ownership.organization_id and ur.user_id = uid and ur.role_id = owner_role
  ) then
    raise exception 'permission denied: only an owner transfers ownership' using errcode = '42501';
  end if;
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
  'Makes another member an owner and the caller (an owner) an admin, atomically. The new owner must already be a member.';

revoke all on function public.transfer_ownership(uuid, uuid) from public, anon, service_role;
grant execute on function public.transfer_ownership(uuid, uuid) to authenticated;

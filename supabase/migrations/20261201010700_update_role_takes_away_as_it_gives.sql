-- update_role: taking permissions away from a role members hold is revoking
-- them; renaming a role checks nothing it does not change.
--
-- Since 20261201009500, giving a role that members hold (or pending
-- invitations name) another rank or more permissions needed members.manage
-- and no holder ranking above the caller, but taking permissions away needed
-- roles.manage only. A holder of roles.manage without members.manage, or an
-- admin, could so take a permission from a member who outranks them (empty a
-- role an owner gave to an admin), though delete_role with a replacement,
-- which does the same, refused them. Now any change of a held or invited
-- role's permissions, added or removed, is managing its holders: members.manage,
-- and no holder who outranks the caller (SPEC 4: roles are granted or revoked
-- only by holders of members.manage, never above the granter's own rank).
-- Renaming, and changing a role nobody holds, still need roles.manage only.
--
-- And the role's definition was checked whole on every call: an admin could
-- not rename a role carrying a permission she does not hold (one an owner
-- gave it, e.g. members.manage), though she could take that permission away.
-- Now the permissions the call adds are checked (known, held by the caller,
-- owners-only ones by owners); the whole role is checked, as before, when its
-- rank changes.

set lock_timeout = '10s';
set statement_timeout = '15min';

create or replace function public.update_role(role_id uuid, name text default null, rank integer default null, permissions text[] default null)
returns void
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  uid uuid := private.require_user();
  target public.roles;
  new_rank integer;
  current_permissions text[];
  new_permissions text[];
  added text[];
  removed text[];
begin
  -- Membership and rights first, before any lock.
  target := private.find_role_to_manage(update_role.role_id, uid, false);
  if update_role.name is not null and char_length(pg_catalog.btrim(update_role.name)) not between 1 and 100 then
    raise exception 'invalid role name: 1 to 100 characters' using errcode = '22023';
  end if;

  perform private.lock_organization(target.organization_id);
  -- Rights again, and the role as it is now.
  target := private.find_role_to_manage(update_role.role_id, uid, true);
  new_rank := coalesce(update_role.rank, target.rank);
  current_permissions := array(select rp.permission from public.role_permissions rp where rp.role_id = target.id);
  new_permissions := coalesce(update_role.permissions, current_permissions);
  added := array(select p from unnest(new_permissions) p except select c from unnest(current_permissions) c);
  removed := array(select c from unnest(current_permissions) c except select p from unnest(new_permissions) p);
  -- A new rank redefines the role: all of it must be the caller's to define.
  -- Otherwise what the call adds must be.
  perform private.check_role_definition(
    target.organization_id, uid, new_rank, case when new_rank <> target.rank then new_permissions else added end
  );
  if (new_rank <> target.rank or cardinality(added) > 0 or cardinality(removed) > 0) and (
    exists (select 1 from public.user_roles ur where ur.role_id = target.id)
    or exists (
      select 1 from public.invitations i
      where i.role_id = target.id and i.accepted_at is null and i.revoked_at is null and i.expires_at > pg_catalog.now()
    )
  ) then
    -- Another rank, or permissions given or taken, reach the role's holders
    -- (a member ranks as her highest role: a rank moves whom her
    -- members.manage reaches and who may manage her): managing members, as
    -- set_member_roles does it.
    perform private.require_permission(target.organization_id, 'members.manage');
    if private.role_holder_outranks(target.id, uid) then
      raise exception 'permission denied: a holder of the role outranks you' using errcode = '42501',
        hint = 'Someone who ranks at least as high as every holder can change its rank or permissions.';
    end if;
  end if;

  update public.roles r
     set name = coalesce(pg_catalog.btrim(update_role.name), r.name), rank = new_rank
   where r.id = target.id;
  delete from public.role_permissions rp
   where rp.role_id = target.id and rp.permission = any (removed);
  insert into public.role_permissions (role_id, permission)
  select distinct target.id, p from unnest(added) p
  on conflict do nothing;
end;
$$;
comment on function public.update_role(uuid, text, integer, text[]) is
  'Changes an organization''s role: name, rank, permissions (left out or null keeps the current value; permissions replace the whole set). Needs roles.manage in its organization and a highest role above the role''s current and new rank. The permissions it adds follow create_role''s rules (known, held by the caller, members.manage, roles.manage and organization.delete by owners), and all of them do when the rank changes. Changing the rank or the permissions (added or removed) of a role members hold or pending invitations name also needs members.manage and no holder ranking above the caller; renaming needs roles.manage only. Built-in roles never change (42501); another organization''s role is not found (P0002). Takes effect for every holder from the next statement. Serialized with the organization''s other role changes. Audited.';

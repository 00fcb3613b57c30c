-- update_role's name, rank and permissions may be left out.
--
-- update_role(role_id, name, rank, permissions) already kept the current
-- value of any of the three given as null, but all four were required
-- arguments. The types `supabase gen types` writes from the schema made every
-- one a required string, number or array, so a supabase-js caller could not
-- write `rpc('update_role', { role_id, name: 'Billing' })` to rename a role
-- and keep its rank and permissions. The three now default to null: left
-- out, or null, they keep the current value. Nothing else changes: the body
-- below is 20261201009500's, word for word, and the function keeps its
-- privileges (create or replace keeps the function); its comment now says
-- that a value left out is kept.

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
  new_permissions text[];
  added text[];
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
  new_permissions := coalesce(
    update_role.permissions,
    (select coalesce(array_agg(rp.permission), '{}') from public.role_permissions rp where rp.role_id = target.id)
  );
  perform private.check_role_definition(target.organization_id, uid, new_rank, new_permissions);
  added := array(
    select p from unnest(new_permissions) p
    except
    select rp.permission from public.role_permissions rp where rp.role_id = target.id
  );
  if (new_rank <> target.rank or cardinality(added) > 0) and (
    exists (select 1 from public.user_roles ur where ur.role_id = target.id)
    or exists (
      select 1 from public.invitations i
      where i.role_id = target.id and i.accepted_at is null and i.revoked_at is null and i.expires_at > pg_catalog.now()
    )
  ) then
    -- Giving a role that members hold, or pending invitations name, another
    -- rank or more permissions hands those to its holders (a member ranks as
    -- her highest role: a rank moves whom her members.manage reaches and who
    -- may manage her): managing members, as set_member_roles does it.
    perform private.require_permission(target.organization_id, 'members.manage');
    if private.role_holder_outranks(target.id, uid) then
      raise exception 'permission denied: a holder of the role outranks you' using errcode = '42501',
        hint = 'Someone who ranks at least as high as every holder can change its rank or add permissions.';
    end if;
  end if;

  update public.roles r
     set name = coalesce(pg_catalog.btrim(update_role.name), r.name), rank = new_rank
   where r.id = target.id;
  delete from public.role_permissions rp
   where rp.role_id = target.id and rp.permission <> all (new_permissions);
  insert into public.role_permissions (role_id, permission)
  select distinct target.id, p from unnest(new_permissions) p
  on conflict do nothing;
end;
$$;
comment on function public.update_role(uuid, text, integer, text[]) is
  'Changes an organization''s role: name, rank, permissions (left out or null keeps the current value; permissions replace the whole set). Needs roles.manage in its organization and a highest role above the role''s current and new rank (and, to change the rank of a role members hold or pending invitations name, or to add permissions to it, members.manage and no holder ranking above the caller; removing permissions and renaming need roles.manage only); the permissions follow create_role''s rules. Built-in roles never change (42501); another organization''s role is not found (P0002). Takes effect for every holder from the next statement. Serialized with the organization''s other role changes. Audited.';

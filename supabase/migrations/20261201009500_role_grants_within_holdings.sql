-- Handing out a role never hands out more than the giver holds.
--
-- private.role_grant_problem (20261201006000), which set_member_roles,
-- invite_member, accept_invitation (for the inviter) and delete_role (for a
-- replacement) apply, compared an organization's own roles with the giver's
-- permissions but judged a built-in role by rank alone. An owner may define a
-- role that ranks above admin; a holder of such a role with members.manage
-- alone could then hand out admin or manager (and so members.manage,
-- roles.manage, clients.delete ...) without holding them. And delete_role,
-- which needs roles.manage only, moved the deleted role's holders (the caller
-- among them) and re-pointed its pending invitations to any replacement that
-- check let through: a holder of roles.manage alone could move herself and
-- others to admin; it also moved holders who outranked the caller, who then
-- used what they received at their own rank. And update_role, with
-- roles.manage alone, could move the rank of a role others hold (and so the
-- reach of their members.manage) or add permissions to it, and an admin could
-- add permissions to a role held by a member who outranks her, who then used
-- them at her own rank.
--
-- Now:
--   * a role carrying a permission the giver neither holds nor covers is
--     refused, built-in ones included, unless a built-in role of the giver
--     that carries members.manage ranks at least as high as the built-in role
--     handed out (the built-in ladder stays as it was: owners and admins hand
--     out the built-in roles at or below their own, whatever permissions the
--     catalog gives them; a member's rank does not count);
--   * delete_role with a replacement hands the replacement out: it needs
--     members.manage too, the replacement must be one the caller may hand
--     out, and, as in set_member_roles, the caller may not hold the role
--     (nobody changes their own roles) and no holder may outrank her;
--   * update_role giving a role that members hold, or pending invitations
--     name, another rank (a member ranks as her highest role, so whom her
--     members.manage reaches and who may manage her) or more permissions
--     hands those to its holders: it needs members.manage too, and no holder
--     may outrank the caller (removing permissions, or renaming, needs
--     roles.manage only);
--   * <area>.work_assigned is covered by <area>.read with <area>.update for
--     every area (the tables entity:new adds), as clients.work_assigned was.

set lock_timeout = '10s';
set statement_timeout = '15min';

create or replace function private.grantable_permissions(organization_id uuid, user_id uuid)
returns text[]
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  held constant text[] := private.permissions_of(grantable_permissions.organization_id, grantable_permissions.user_id);
begin
  return held || array(
    select c.permission from private.permission_covers c where c.covered_by <@ held
    union
    -- Working one's assigned rows of an area is less than reading and updating all of them.
    select p.key from public.permissions p
    where p.key like '%.work\_assigned'
      and array[pg_catalog.split_part(p.key, '.', 1) || '.read', pg_catalog.split_part(p.key, '.', 1) || '.update'] <@ held
  );
end;
$$;
comment on function private.grantable_permissions(uuid, uuid) is
  'The permissions a user may give to a role, or hand out with a role, in an organization: those they hold, those private.permission_covers says their permissions cover, and <area>.work_assigned where they hold <area>.read and <area>.update.';

create or replace function private.role_grant_problem(organization_id uuid, grantor uuid, role_id uuid)
returns text
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  target public.roles;
begin
  select * into target from public.roles r where r.id = role_grant_problem.role_id;
  if not found or (target.organization_id is not null and target.organization_id <> role_grant_problem.organization_id) then
    return 'unknown-role';
  end if;
  if target.organization_id is null and target.key = 'owner'
     and not private.is_owner(role_grant_problem.organization_id, grantor) then
    return 'owner';
  end if;
  if target.rank > private.max_rank(role_grant_problem.organization_id, grantor) then
    return 'rank';
  end if;
  if cardinality(private.missing_permissions(role_grant_problem.organization_id, grantor, target.id)) > 0
     and (
       target.organization_id is not null
       -- A built-in role: the built-in ladder lets a giver whose own built-in role
       -- carries members.manage (owner, admin) hand out the built-in roles at or
       -- below it; members.manage or rank from an organization's role does not.
       or not exists (
         select 1
         from public.user_roles ur
         join public.roles r on r.id = ur.role_id
         join public.role_permissions rp on rp.role_id = r.id and rp.permission = 'members.manage'
         where ur.organization_id = role_grant_problem.organization_id and ur.user_id = grantor
           and r.organization_id is null and r.rank >= target.rank
       )
     ) then
    return 'permissions';
  end if;
  return null;
end;
$$;
comment on function private.role_grant_problem(uuid, uuid, uuid) is
  'Why a user may not hand out a role in an organization, or null when they may: unknown-role (missing, or of another organization), owner (only owners hand out owner), rank (above their highest), permissions (the role carries a permission they neither hold nor cover there; for a built-in role, unless a built-in role of theirs that carries members.manage ranks at least as high).';

create function private.role_holder_outranks(role_id uuid, user_id uuid)
returns boolean
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
  select exists (
    select 1
    from public.user_roles ur
    where ur.role_id = role_holder_outranks.role_id
      and private.max_rank(ur.organization_id, ur.user_id) > private.max_rank(ur.organization_id, role_holder_outranks.user_id)
  )
$$;
comment on function private.role_holder_outranks(uuid, uuid) is
  'Whether a member holding the role ranks above the user in its organization (a member ranks as her highest role): changing what the role gives its holders would then reach someone the user may not manage.';
revoke all on function private.role_holder_outranks(uuid, uuid) from public, anon, authenticated, service_role;

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
  wanted uuid[] := private.role_ids(set_member_roles.organization_id, set_member_roles.roles);
  owner_id uuid := (select r.id from public.roles r where r.key = 'owner' and r.organization_id is null);
  my_rank integer;
  changed uuid[];
  granted uuid[];
begin
  if set_member_roles.user_id = uid then
    raise exception 'you cannot change your own roles' using errcode = '42501',
      hint = 'Another member with members.manage can, or use transfer_ownership.';
  end if;

  perform private.lock_organization(set_member_roles.organization_id);
  -- Rights again: a role change that committed while this call waited counts.
  perform private.require_permission(set_member_roles.organization_id, 'members.manage');
  my_rank := private.max_rank(set_member_roles.organization_id, uid);
  -- The roles again: one deleted while this call waited is unknown now.
  wanted := private.role_ids(set_member_roles.organization_id, set_member_roles.roles);

  if not private.is_member(set_member_roles.organization_id, set_member_roles.user_id) then
    raise exception 'member not found' using errcode = 'P0002';
  end if;
  if private.max_rank(set_member_roles.organization_id, set_member_roles.user_id) > my_rank then
    raise exception 'permission denied: the member outranks you' using errcode = '42501';
  end if;

  -- Roles granted, and roles granted or revoked (the symmetric difference of the old and new sets).
  select coalesce(array_agg(x), '{}') into granted from (
    select unnest(wanted) except
    select ur.role_id from public.user_roles ur
    where ur.organization_id = set_member_roles.organization_id and ur.user_id = set_member_roles.user_id
  ) g (x);
  select coalesce(array_agg(x), '{}') into changed from (
    select unnest(granted)
    union
    (select ur.role_id from public.user_roles ur
     where ur.organization_id = set_member_roles.organization_id and ur.user_id = set_member_roles.user_id
     except select unnest(wanted))
  ) d (x);

  if owner_id = any (changed) and not private.is_owner(set_member_roles.organization_id, uid) then
    raise exception 'permission denied: only owners grant or revoke owner' using errcode = '42501';
  end if;
  if exists (select 1 from public.roles r where r.id = any (changed) and r.rank > my_rank) then
    raise exception 'permission denied: you cannot grant or revoke a role above your own highest role' using errcode = '42501';
  end if;
  if exists (
    select 1 from unnest(granted) g (role_id)
    where private.role_grant_problem(set_member_roles.organization_id, uid, g.role_id) = 'permissions'
  ) then
    raise exception 'permission denied: the role carries permissions you do not hold' using errcode = '42501';
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
  'Replaces a member''s roles: keys of built-in roles or of the organization''s own. Needs members.manage; nobody changes their own roles, manages a member who outranks them, grants/revokes a role above their own highest, or grants a role carrying a permission they do not hold (a built-in role at or below a built-in role of theirs excepted: owners and admins hand out the built-in ladder); only owners grant or revoke owner. Serialized with every other role change of the organization; rights and roles are read again once its lock is held.';

create or replace function public.update_role(role_id uuid, name text, rank integer, permissions text[])
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
  'Changes an organization''s role: name, rank, permissions (null keeps the current value; permissions replace the whole set). Needs roles.manage in its organization and a highest role above the role''s current and new rank (and, to change the rank of a role members hold or pending invitations name, or to add permissions to it, members.manage and no holder ranking above the caller; removing permissions and renaming need roles.manage only); the permissions follow create_role''s rules. Built-in roles never change (42501); another organization''s role is not found (P0002). Takes effect for every holder from the next statement. Serialized with the organization''s other role changes. Audited.';

create or replace function public.delete_role(role_id uuid, replacement_role_id uuid default null)
returns void
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  uid uuid := private.require_user();
  target public.roles;
  holders integer;
  pending integer;
  problem text;
begin
  -- Membership and rights first, before any lock.
  target := private.find_role_to_manage(delete_role.role_id, uid, false);
  if delete_role.replacement_role_id is not null then
    -- Moving holders and invitations to the replacement hands it out.
    perform private.require_permission(target.organization_id, 'members.manage');
  end if;

  perform private.lock_organization(target.organization_id);
  -- Rights again, and the role as it is now.
  target := private.find_role_to_manage(delete_role.role_id, uid, true);

  select count(distinct ur.user_id)::integer into holders from public.user_roles ur where ur.role_id = target.id;
  select count(*)::integer into pending from public.invitations i
   where i.role_id = target.id and i.accepted_at is null and i.revoked_at is null and i.expires_at > pg_catalog.now();

  if delete_role.replacement_role_id is null then
    if holders > 0 or pending > 0 then
      raise exception 'role in use: held by % member(s) and named by % pending invitation(s)', holders, pending
        using errcode = 'P0001',
              hint = 'Give a replacement role (delete_role(role_id, replacement_role_id)): its holders and pending invitations move to it.';
    end if;
  else
    if delete_role.replacement_role_id = target.id then
      raise exception 'the replacement must be another role' using errcode = '22023';
    end if;
    perform private.require_permission(target.organization_id, 'members.manage');
    -- As set_member_roles: nobody changes their own roles, or those of a member who outranks them.
    if exists (select 1 from public.user_roles ur where ur.role_id = target.id and ur.user_id = uid) then
      raise exception 'you cannot change your own roles' using errcode = '42501',
        hint = 'You hold this role: another member with roles.manage and members.manage can delete it with a replacement.';
    end if;
    if private.role_holder_outranks(target.id, uid) then
      raise exception 'permission denied: a holder of the role outranks you' using errcode = '42501',
        hint = 'Someone who ranks at least as high as every holder can delete it with a replacement.';
    end if;
    problem := private.role_grant_problem(target.organization_id, uid, delete_role.replacement_role_id);
    if problem = 'unknown-role' then
      raise exception 'role not found: the replacement is neither a built-in nor a role of this organization' using errcode = 'P0002';
    elsif problem is not null then
      raise exception 'permission denied: you cannot grant the replacement role' using errcode = '42501';
    end if;
    -- Holders move to the replacement (kept when they already hold it).
    insert into public.user_roles (organization_id, user_id, role_id)
    select ur.organization_id, ur.user_id, delete_role.replacement_role_id
    from public.user_roles ur where ur.role_id = target.id
    on conflict do nothing;
    delete from public.user_roles ur where ur.role_id = target.id;
    -- Invitations not yet accepted or revoked follow.
    update public.invitations i set role_id = delete_role.replacement_role_id
     where i.role_id = target.id and i.accepted_at is null and i.revoked_at is null;
  end if;

  -- Its permissions go with it (cascade, audited); used, revoked or expired invitations lose it.
  delete from public.roles r where r.id = target.id;
end;
$$;
comment on function public.delete_role(uuid, uuid) is
  'Deletes an organization''s role. Needs roles.manage in its organization and a highest role above the role''s rank. Refused (P0001, naming how many) while members hold it or pending invitations name it, unless replacement_role_id names a built-in or another role of the organization that the caller may hand out (members.manage, and set_member_roles'' rules: rank, owner and permissions of the replacement, not the caller''s own role, no holder who outranks the caller): holders then move to it and pending invitations are re-pointed to it (each still accepted only if its inviter may grant it then). Built-in roles never go (42501). Serialized with the organization''s other role changes. Every change is audited.';

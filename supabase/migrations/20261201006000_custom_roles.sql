-- Organization-defined roles, and assigned-only access as a permission.
--
-- * public.roles: built-in roles (owner, admin, manager, member, viewer) stay
--   global (organization_id null), visible to every signed-in user, with
--   unique keys and ranks. A role may belong to an organization
--   (organization_id): its key is unique within that organization and never
--   equal to a built-in key; its rank is >= 1 and below owner's, and may equal
--   a built-in's rank. Such a role, and its permissions, are visible only to
--   the members of its organization. A role's key and organization never
--   change; a built-in's rank never changes.
-- * public.role_permissions carries the role's organization_id (set from the
--   role by a trigger, checked by a composite foreign key), so its policy and
--   the audit log read it without a join.
-- * user_roles and invitations can name a role of their own organization (or a
--   built-in) only. Deleting a role removes it from accepted, revoked or
--   expired invitations (role_id becomes null); pending ones must be re-pointed
--   first (delete_role does it with a replacement).
-- * Permissions roles.manage (owner, admin: create_role, update_role,
--   delete_role) and clients.work_assigned (member: read and update the
--   clients assigned to you; a client you create is assigned to you). The
--   clients policies and the creator's assignment look for the permission,
--   no longer for the role key `member`.
-- * The grant rules learn about permissions: a role of the organization can
--   be created, given, granted or named by an invitation only by someone who
--   holds every permission it carries there (and outranks or equals it, as
--   before); members.manage, roles.manage and organization.delete are given
--   to a role by owners only.
-- * Role changes serialize with the organization's other role changes
--   (private.lock_organization): membership and rights first, the lock, then
--   the rights again.
-- Permissions are never cached beyond one statement: the policies' helpers
-- run once per statement, the RPCs read the catalog when they run.

set lock_timeout = '10s';
set statement_timeout = '15min';

-- Permissions -------------------------------------------------------------------

-- Keys like clients.work_assigned, and the generator's <plural_snake_case>.read.
-- public.permissions is a catalog of a dozen rows: the scan and its lock are brief.
alter table public.permissions drop constraint permissions_key_check;
-- squawk-ignore constraint-missing-not-valid
alter table public.permissions add constraint permissions_key_check check (key ~ '^[a-z][a-z_]*\.[a-z][a-z_]*$');

insert into public.permissions (key, description) values
  ('roles.manage', 'Create, change and delete the organization''s own roles (never above one''s own highest role, never with a permission one does not hold).'),
  ('clients.work_assigned', 'Read and update the clients assigned to oneself; a client one creates is assigned to oneself.');

-- Roles -------------------------------------------------------------------------

-- public.roles holds the catalog (a few rows per organization at most); the new column checks nothing but nulls.
-- squawk-ignore adding-foreign-key-constraint
alter table public.roles add column organization_id uuid references public.organizations (id) on delete cascade;
comment on column public.roles.organization_id is
  'The organization that defined the role (create_role); null for the built-in roles every organization shares.';
comment on column public.roles.key is
  'Stable identifier used by the API. Built-in: owner, admin, manager, member, viewer (unique); an organization''s own roles: unique within it, never a built-in key.';
comment on column public.roles.rank is
  'Higher is more powerful. Used for the rank cap on granting, revoking and removing. Built-in ranks are unique; an organization''s roles rank from 1 to below owner''s and may share a rank.';
comment on table public.roles is
  'Catalog of roles: the built-in ones (organization_id null) and those organizations define (create_role). rank orders them (owner highest): nobody grants a role ranked above their own highest.';

alter table public.roles drop constraint roles_key_key;
alter table public.roles drop constraint roles_rank_key;
-- Five rows when this runs: building these takes no time, and concurrently cannot run in a transaction.
-- squawk-ignore require-concurrent-index-creation
create unique index roles_builtin_key_idx on public.roles (key) where organization_id is null;
-- squawk-ignore require-concurrent-index-creation
create unique index roles_builtin_rank_idx on public.roles (rank) where organization_id is null;
-- squawk-ignore require-concurrent-index-creation
create unique index roles_organization_id_key_idx on public.roles (organization_id, key) where organization_id is not null;
-- squawk-ignore constraint-missing-not-valid, disallowed-unique-constraint
alter table public.roles add constraint roles_organization_id_id_key unique (organization_id, id);
comment on index public.roles_builtin_key_idx is 'Built-in keys are unique.';
comment on index public.roles_builtin_rank_idx is 'Built-in ranks are unique: owner > admin > manager > member > viewer.';
comment on index public.roles_organization_id_key_idx is 'An organization''s role keys are unique within it.';
comment on constraint roles_organization_id_id_key on public.roles is
  'Target of the composite foreign key from role_permissions, which keeps a permission row in its role''s organization.';

create function private.check_role_row()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  owner_rank integer := (select r.rank from public.roles r where r.key = 'owner' and r.organization_id is null);
begin
  if tg_op = 'UPDATE' then
    if new.key is distinct from old.key or new.organization_id is distinct from old.organization_id then
      raise exception 'a role''s key and organization never change' using errcode = '42501';
    end if;
    if old.organization_id is null and new.rank is distinct from old.rank then
      raise exception 'a built-in role''s rank never changes' using errcode = '42501';
    end if;
  end if;
  if new.organization_id is not null then
    if exists (select 1 from public.roles r where r.organization_id is null and r.key = new.key) then
      raise exception 'role key % is reserved for a built-in role', new.key using errcode = '23505';
    end if;
    if new.rank < 1 or new.rank >= owner_rank then
      raise exception 'role rank must be between 1 and %', owner_rank - 1 using errcode = '22023';
    end if;
  end if;
  return new;
end;
$$;
comment on function private.check_role_row() is
  'Trigger: an organization''s role never takes a built-in key and ranks from 1 to below owner; no role changes its key or organization; a built-in role keeps its rank.';

create trigger roles_check_row
  before insert or update on public.roles
  for each row execute function private.check_role_row();

-- Role permissions ---------------------------------------------------------------

alter table public.role_permissions add column organization_id uuid;
comment on column public.role_permissions.organization_id is
  'The role''s organization (null for a built-in role), copied from roles by a trigger and checked by a composite foreign key.';
-- The table is tiny (the built-in matrix); no rows of an organization's roles exist yet.
-- squawk-ignore adding-foreign-key-constraint, constraint-missing-not-valid
alter table public.role_permissions add constraint role_permissions_organization_id_role_id_fkey
  foreign key (organization_id, role_id) references public.roles (organization_id, id) on delete cascade;
-- squawk-ignore require-concurrent-index-creation
create index role_permissions_organization_id_idx on public.role_permissions (organization_id);

create function private.set_role_permission_organization()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
  new.organization_id := (select r.organization_id from public.roles r where r.id = new.role_id);
  return new;
end;
$$;
comment on function private.set_role_permission_organization() is
  'Trigger: role_permissions.organization_id is always its role''s organization (null for a built-in).';

create trigger role_permissions_set_organization
  before insert or update on public.role_permissions
  for each row execute function private.set_role_permission_organization();

-- The built-in matrix gains the two new permissions.
insert into public.role_permissions (role_id, permission)
select r.id, p.permission
from public.roles r
join (values ('owner', 'roles.manage'), ('admin', 'roles.manage'), ('member', 'clients.work_assigned')) as p (role_key, permission)
  on p.role_key = r.key and r.organization_id is null;

-- A role of another organization is never held or offered ---------------------------

create function private.check_role_in_organization()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
  if new.role_id is not null and exists (
    select 1 from public.roles r
    where r.id = new.role_id and r.organization_id is not null and r.organization_id <> new.organization_id
  ) then
    raise exception 'role belongs to another organization' using errcode = '42501';
  end if;
  return new;
end;
$$;
comment on function private.check_role_in_organization() is
  'Trigger on user_roles and invitations: the role is a built-in or one of the row''s own organization.';

create trigger user_roles_role_in_organization
  before insert or update on public.user_roles
  for each row execute function private.check_role_in_organization();
create trigger invitations_role_in_organization
  before insert or update on public.invitations
  for each row execute function private.check_role_in_organization();

-- Deleting a role leaves accepted, revoked or expired invitations without it.
-- Only an invitation that is no longer pending loses its role (accept_invitation refuses it);
-- the generated types say role_id may be null.
-- squawk-ignore ban-drop-not-null
alter table public.invitations alter column role_id drop not null;
alter table public.invitations drop constraint invitations_role_id_fkey;
-- Existing rows all name roles that exist (the old constraint held); the scan
-- is one pass over invitations under the lock the drop above already took.
-- squawk-ignore adding-foreign-key-constraint, constraint-missing-not-valid
alter table public.invitations add constraint invitations_role_id_fkey
  foreign key (role_id) references public.roles (id) on delete set null;
comment on column public.invitations.role_id is
  'The role the invitee receives: a built-in or one of the organization''s own. Null once that role was deleted (only an invitation no longer pending: delete_role re-points pending ones or refuses); such an invitation cannot be accepted.';

-- Helpers ---------------------------------------------------------------------------

create function private.permissions_of(organization_id uuid, user_id uuid)
returns text[]
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
  select coalesce(array_agg(distinct rp.permission), '{}')
  from public.user_roles ur
  join public.role_permissions rp on rp.role_id = ur.role_id
  where ur.organization_id = permissions_of.organization_id
    and ur.user_id = permissions_of.user_id
$$;
comment on function private.permissions_of(uuid, uuid) is
  'The permissions a user holds in an organization: the union over their roles there.';

-- clients.work_assigned is weaker than clients.read with clients.update, which
-- owners, admins and managers hold: they may give it although no built-in
-- role of theirs carries it.
create table private.permission_covers (
  permission text primary key references public.permissions (key) on update cascade on delete cascade,
  covered_by text[] not null check (cardinality(covered_by) > 0)
);
comment on table private.permission_covers is
  'Permissions that someone holding every permission of covered_by may give to a role (create_role, update_role) or hand out with a role, without holding them: e.g. clients.work_assigned is covered by clients.read and clients.update.';
revoke all on table private.permission_covers from public;
insert into private.permission_covers (permission, covered_by) values ('clients.work_assigned', '{clients.read,clients.update}');

create function private.grantable_permissions(organization_id uuid, user_id uuid)
returns text[]
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
  with held as (select private.permissions_of(grantable_permissions.organization_id, grantable_permissions.user_id) as p)
  select held.p || coalesce((select array_agg(c.permission) from private.permission_covers c where c.covered_by <@ held.p), '{}')
  from held
$$;
comment on function private.grantable_permissions(uuid, uuid) is
  'The permissions a user may give to a role, or hand out with a role, in an organization: those they hold, and those private.permission_covers says their permissions cover.';

create function private.is_owner(organization_id uuid, user_id uuid)
returns boolean
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
  select exists (
    select 1 from public.user_roles ur join public.roles r on r.id = ur.role_id
    where ur.organization_id = is_owner.organization_id and ur.user_id = is_owner.user_id
      and r.key = 'owner' and r.organization_id is null
  )
$$;
comment on function private.is_owner(uuid, uuid) is 'Whether a user holds the built-in owner role in an organization.';

create function private.missing_permissions(organization_id uuid, user_id uuid, role_id uuid)
returns text[]
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
  select coalesce(array_agg(rp.permission order by rp.permission), '{}')
  from public.role_permissions rp
  where rp.role_id = missing_permissions.role_id
    and rp.permission <> all (private.grantable_permissions(missing_permissions.organization_id, missing_permissions.user_id))
$$;
comment on function private.missing_permissions(uuid, uuid, uuid) is
  'The permissions of a role that a user may not hand out in an organization (neither held nor covered: private.grantable_permissions); empty when they may hand out the role''s every permission.';

create function private.role_grant_problem(organization_id uuid, grantor uuid, role_id uuid)
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
  if target.organization_id is not null
     and cardinality(private.missing_permissions(role_grant_problem.organization_id, grantor, target.id)) > 0 then
    return 'permissions';
  end if;
  return null;
end;
$$;
comment on function private.role_grant_problem(uuid, uuid, uuid) is
  'Why a user may not hand out a role in an organization, or null when they may: unknown-role (missing, or of another organization), owner (only owners hand out owner), rank (above their highest), permissions (an organization''s role carrying a permission they do not hold there).';

create or replace function private.check_role_grantable(organization_id uuid, role_id uuid)
returns void
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
  -- An invitation whose role was deleted (no longer pending) names none: nothing to hand out.
  if check_role_grantable.role_id is null then
    return;
  end if;
  case private.role_grant_problem(check_role_grantable.organization_id, auth.uid(), check_role_grantable.role_id)
    when 'unknown-role' then
      raise exception 'unknown role' using errcode = '22023';
    when 'owner' then
      raise exception 'permission denied: only owners invite owners' using errcode = '42501';
    when 'rank' then
      raise exception 'permission denied: you cannot invite with a role above your own highest role' using errcode = '42501';
    when 'permissions' then
      raise exception 'permission denied: the role carries permissions you do not hold' using errcode = '42501';
    else
      null;
  end case;
end;
$$;
comment on function private.check_role_grantable(uuid, uuid) is
  'Raises when the signed-in user may not hand out this role in the organization: 22023 for a role unknown there; 42501 above their highest rank, owner by a non-owner, or an organization''s role carrying a permission they do not hold. A null role (an invitation whose role was deleted) passes.';

-- Only the built-in keys: the old resolver knew no organization.
create or replace function private.role_ids(keys text[])
returns uuid[]
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $$
begin
  return private.role_ids(null, keys);
end;
$$;
comment on function private.role_ids(text[]) is 'Ids of the built-in roles with these keys; raises 22023 for an empty list or an unknown key.';

create function private.role_ids(organization_id uuid, keys text[])
returns uuid[]
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  unknown text;
begin
  if keys is null or cardinality(keys) = 0 then
    raise exception 'at least one role is required' using errcode = '22023',
      hint = 'Roles: owner, admin, manager, member, viewer, or one of the organization''s own. To remove a member use remove_member.';
  end if;
  select k into unknown from unnest(keys) k
  where k is null or not exists (
    select 1 from public.roles r
    where r.key = k and (r.organization_id is null or r.organization_id = role_ids.organization_id)
  )
  limit 1;
  if found then
    raise exception 'unknown role: %', coalesce(unknown, 'null') using errcode = '22023',
      hint = 'Roles: owner, admin, manager, member, viewer, or one of the organization''s own (public.roles).';
  end if;
  return (
    select array_agg(distinct r.id) from public.roles r
    where r.key = any (keys) and (r.organization_id is null or r.organization_id = role_ids.organization_id)
  );
end;
$$;
comment on function private.role_ids(uuid, text[]) is
  'Ids of the roles with these keys in an organization: its own roles and the built-ins (keys never collide). Raises 22023 for an empty list or a key unknown there.';

create function private.workable_client_ids()
returns uuid[]
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
  -- plpgsql keeps this query's plan for the session: policies call it on every statement.
  return (
    select coalesce(array_agg(uc.client_id), '{}')
    from public.user_clients uc
    where uc.user_id = auth.uid()
      and uc.organization_id = any (private.organization_ids_with('clients.work_assigned'))
  );
end;
$$;
comment on function private.workable_client_ids() is
  'Ids of the clients assigned to the signed-in user in the organizations where they hold clients.work_assigned. For policies: id = any ((select private.workable_client_ids())::uuid[]).';

revoke all on function
  private.check_role_row(), private.set_role_permission_organization(), private.check_role_in_organization(),
  private.permissions_of(uuid, uuid), private.grantable_permissions(uuid, uuid), private.is_owner(uuid, uuid),
  private.missing_permissions(uuid, uuid, uuid), private.role_grant_problem(uuid, uuid, uuid), private.role_ids(uuid, text[]),
  private.workable_client_ids()
  from public, anon;
revoke all on function
  private.check_role_row(), private.set_role_permission_organization(), private.check_role_in_organization(),
  private.permissions_of(uuid, uuid), private.grantable_permissions(uuid, uuid), private.is_owner(uuid, uuid),
  private.missing_permissions(uuid, uuid, uuid), private.role_grant_problem(uuid, uuid, uuid), private.role_ids(uuid, text[])
  from authenticated, service_role;
grant execute on function private.workable_client_ids() to authenticated, service_role;

-- Policies: the catalog ---------------------------------------------------------------

drop policy roles_select_signed_in on public.roles;
create policy roles_select_builtin_or_member on public.roles
  for select to authenticated
  using (organization_id is null or organization_id = any ((select private.organization_ids())::uuid[]));
comment on policy roles_select_builtin_or_member on public.roles is
  'Every signed-in user sees the built-in roles; an organization''s own roles only its members. Changes go through create_role, update_role, delete_role.';

drop policy role_permissions_select_signed_in on public.role_permissions;
create policy role_permissions_select_builtin_or_member on public.role_permissions
  for select to authenticated
  using (organization_id is null or organization_id = any ((select private.organization_ids())::uuid[]));
comment on policy role_permissions_select_builtin_or_member on public.role_permissions is
  'Every signed-in user sees the built-in permission matrix; the permissions of an organization''s own roles only its members.';

-- Policies and trigger: assigned-only access is clients.work_assigned ------------------

drop policy clients_select_readers_or_assigned on public.clients;
create policy clients_select_readers_or_assigned on public.clients
  for select to authenticated
  using (
    organization_id = any ((select private.organization_ids_with('clients.read'))::uuid[])
    or id = any ((select private.workable_client_ids())::uuid[])
    or (
      created_by = (select auth.uid()) and created_at = now()
      and organization_id = any ((select private.organization_ids_with('clients.create'))::uuid[])
    )
  );
comment on policy clients_select_readers_or_assigned on public.clients is
  'Holders of clients.read (owner, admin, manager, viewer) see every client of the organization; holders of clients.work_assigned (member) the clients assigned to them. The third arm lets a creator read back, in the transaction that created it, the client it just inserted (insert ... returning, supabase-js insert().select()): the creator''s assignment is written by an AFTER trigger, too late for RETURNING. created_by and created_at are not writable through the API, so the arm matches nothing outside that transaction, and only while the creator may still create clients there.';

drop policy clients_update_updaters_or_assigned on public.clients;
create policy clients_update_updaters_or_assigned on public.clients
  for update to authenticated
  using (
    organization_id = any ((select private.organization_ids_with('clients.update'))::uuid[])
    or id = any ((select private.workable_client_ids())::uuid[])
  )
  with check (
    organization_id = any ((select private.organization_ids_with('clients.update'))::uuid[])
    or id = any ((select private.workable_client_ids())::uuid[])
  );
comment on policy clients_update_updaters_or_assigned on public.clients is
  'Holders of clients.update (owner, admin, manager) update every client of the organization; holders of clients.work_assigned (member) the clients assigned to them (an assigned viewer does not).';

create or replace function private.assign_client_to_member_creator()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
  if new.created_by is not null
     and new.created_by = (select auth.uid())
     and new.organization_id = any (private.organization_ids_with('clients.work_assigned')) then
    insert into public.user_clients (organization_id, user_id, client_id)
    values (new.organization_id, new.created_by, new.id)
    on conflict do nothing;
  end if;
  return null;
end;
$$;
comment on function private.assign_client_to_member_creator() is
  'Trigger: a client created by a holder of clients.work_assigned (member, or an organization''s role carrying it) is assigned to its creator, so they keep seeing and updating it.';

-- Grants ------------------------------------------------------------------------------

-- Every change goes through the RPCs below; the API roles read only.
revoke insert, update, delete, truncate on table public.roles, public.role_permissions from authenticated, anon;

-- Audit: changes of a role or its permissions carry the organization ------------------

select private.register_audited_table('public.roles', record_id_column => 'id', organization_id_column => 'organization_id',
  secret_columns => '{}');
select private.register_audited_table('public.role_permissions', record_id_column => 'role_id',
  organization_id_column => 'organization_id', secret_columns => '{}');

-- RPCs ----------------------------------------------------------------------------------

create function private.check_role_definition(organization_id uuid, uid uuid, rank integer, permissions text[])
returns void
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  my_rank integer := private.max_rank(check_role_definition.organization_id, uid);
  owner_rank integer := (select r.rank from public.roles r where r.key = 'owner' and r.organization_id is null);
  unknown text;
  not_held text;
begin
  if check_role_definition.rank is null or check_role_definition.rank < 1 or check_role_definition.rank >= owner_rank then
    raise exception 'role rank must be between 1 and %', owner_rank - 1 using errcode = '22023';
  end if;
  if check_role_definition.rank >= my_rank then
    raise exception 'permission denied: a role''s rank must be below your own highest role (%)', my_rank using errcode = '42501';
  end if;
  if permissions is null then
    raise exception 'permissions must be a list (empty for none)' using errcode = '22023';
  end if;
  select p into unknown from unnest(permissions) p
  where p is null or not exists (select 1 from public.permissions c where c.key = p) limit 1;
  if found then
    raise exception 'unknown permission: %', coalesce(unknown, 'null') using errcode = '22023';
  end if;
  select p into not_held from unnest(permissions) p
  where p <> all (private.grantable_permissions(check_role_definition.organization_id, uid)) order by p limit 1;
  if found then
    raise exception 'permission denied: you cannot give a role % (you do not hold it here)', not_held using errcode = '42501',
      hint = 'A role''s permissions are among those you hold in the organization (clients.work_assigned: clients.read with clients.update covers it).';
  end if;
  select p into not_held from unnest(permissions) p
  where p in ('members.manage', 'roles.manage', 'organization.delete') order by p limit 1;
  if found and not private.is_owner(check_role_definition.organization_id, uid) then
    raise exception 'permission denied: only owners give a role %', not_held using errcode = '42501';
  end if;
end;
$$;
comment on function private.check_role_definition(uuid, uuid, integer, text[]) is
  'Raises unless the user may define a role of the organization with this rank and these permissions: rank from 1 to below owner and below their own highest (22023, 42501); known permissions (22023) they hold there (42501); members.manage, roles.manage, organization.delete by owners only (42501).';

create function private.find_role_to_manage(role_id uuid, uid uuid, lock boolean)
returns public.roles
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  target public.roles;
begin
  if lock then
    select * into target from public.roles r where r.id = find_role_to_manage.role_id for update;
  else
    select * into target from public.roles r where r.id = find_role_to_manage.role_id;
  end if;
  if found and target.organization_id is null then
    raise exception 'permission denied: built-in roles cannot be changed' using errcode = '42501';
  end if;
  if not found or not private.is_member(target.organization_id, uid) then
    raise exception 'role not found' using errcode = 'P0002',
      detail = 'No role with this id belongs to an organization of the caller.';
  end if;
  perform private.require_permission(target.organization_id, 'roles.manage');
  if target.rank >= private.max_rank(target.organization_id, uid) then
    raise exception 'permission denied: the role ranks at or above your own highest role' using errcode = '42501';
  end if;
  return target;
end;
$$;
comment on function private.find_role_to_manage(uuid, uuid, boolean) is
  'The organization''s role the user may change or delete (optionally locked): P0002 when it is not one of their organizations'' roles, 42501 for a built-in, without roles.manage, or when it ranks at or above their highest.';

revoke all on function private.check_role_definition(uuid, uuid, integer, text[]), private.find_role_to_manage(uuid, uuid, boolean)
  from public, anon, authenticated, service_role;

create function public.create_role(organization_id uuid, key text, name text, rank integer, permissions text[])
returns uuid
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  -- Membership and rights first, before any lock.
  uid uuid := private.require_permission(create_role.organization_id, 'roles.manage');
  new_id uuid;
begin
  if create_role.key is null or create_role.key !~ '^[a-z][a-z_]{1,30}$' then
    raise exception 'invalid role key: %', coalesce(create_role.key, 'null') using errcode = '22023',
      hint = '2 to 31 characters: a-z and _, starting with a letter.';
  end if;
  if create_role.name is null or char_length(pg_catalog.btrim(create_role.name)) not between 1 and 100 then
    raise exception 'invalid role name: 1 to 100 characters' using errcode = '22023';
  end if;
  if exists (select 1 from public.roles r where r.organization_id is null and r.key = create_role.key) then
    raise exception 'role key % is reserved for a built-in role', create_role.key using errcode = '23505';
  end if;
  perform private.check_role_definition(create_role.organization_id, uid, create_role.rank, create_role.permissions);

  perform private.lock_organization(create_role.organization_id);
  -- Rights again: a role change that committed while this call waited counts.
  perform private.require_permission(create_role.organization_id, 'roles.manage');
  perform private.check_role_definition(create_role.organization_id, uid, create_role.rank, create_role.permissions);

  if exists (select 1 from public.roles r where r.organization_id = create_role.organization_id and r.key = create_role.key) then
    raise exception 'role key % is taken in this organization', create_role.key using errcode = '23505';
  end if;
  insert into public.roles (organization_id, key, name, rank)
  values (create_role.organization_id, create_role.key, pg_catalog.btrim(create_role.name), create_role.rank)
  returning id into new_id;
  insert into public.role_permissions (role_id, permission)
  select distinct new_id, p from unnest(create_role.permissions) p;
  return new_id;
end;
$$;
comment on function public.create_role(uuid, text, text, integer, text[]) is
  'Defines a role of the organization and returns its id. Needs roles.manage. key: a-z and _, 2 to 31 characters, unique in the organization, never a built-in key (23505). rank: 1 to below owner, and below the caller''s highest role. permissions: known ones the caller holds there; members.manage, roles.manage and organization.delete only from owners. Serialized with the organization''s other role changes; rights are checked again once its lock is held. Audited.';

create function public.update_role(role_id uuid, name text, rank integer, permissions text[])
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
  'Changes an organization''s role: name, rank, permissions (null keeps the current value; permissions replace the whole set). Needs roles.manage in its organization and a highest role above the role''s current and new rank; the permissions follow create_role''s rules. Built-in roles never change (42501); another organization''s role is not found (P0002). Takes effect for every holder from the next statement. Serialized with the organization''s other role changes. Audited.';

create function public.delete_role(role_id uuid, replacement_role_id uuid default null)
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
  'Deletes an organization''s role. Needs roles.manage in its organization and a highest role above the role''s rank. Refused (P0001, naming how many) while members hold it or pending invitations name it, unless replacement_role_id names a built-in or another role of the organization that the caller may grant: holders then move to it and pending invitations are re-pointed to it. Built-in roles never go (42501). Serialized with the organization''s other role changes. Every change is audited.';

revoke all on function
  public.create_role(uuid, text, text, integer, text[]), public.update_role(uuid, text, integer, text[]),
  public.delete_role(uuid, uuid)
  from public, anon, service_role;
grant execute on function
  public.create_role(uuid, text, text, integer, text[]), public.update_role(uuid, text, integer, text[]),
  public.delete_role(uuid, uuid)
  to authenticated;

-- Custom roles everywhere built-in roles go ----------------------------------------------

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
    select 1 from public.roles r
    where r.id = any (granted) and r.organization_id is not null
      and cardinality(private.missing_permissions(set_member_roles.organization_id, uid, r.id)) > 0
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
  'Replaces a member''s roles: keys of built-in roles or of the organization''s own. Needs members.manage; nobody changes their own roles, manages a member who outranks them, grants/revokes a role above their own highest, or grants an organization''s role carrying a permission they do not hold; only owners grant or revoke owner. Serialized with every other role change of the organization; rights and roles are read again once its lock is held.';

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
  'Invites an email to the organization with a role: a built-in key or one of the organization''s own (members.manage; never above the caller''s highest role; owner only by owners; an organization''s role only by someone holding all its permissions). The address is stored with A-Z folded to a-z and must be NFKC-normal (22023). Returns the invitation id, the token (shown once: only its hash is stored) and its expiry (7 days by default). Replaces a pending invitation of the same email.';

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
    -- The role must still exist, and the inviter must still be able to grant it, now.
    if invitation.role_id is null then
      raise exception 'invitation no longer valid' using errcode = 'P0001',
        detail = 'Its role was deleted. Ask for a new invitation.';
    end if;
    if invitation.invited_by is null
       or not ('members.manage' = any (private.permissions_of(invitation.organization_id, invitation.invited_by)))
       or private.role_grant_problem(invitation.organization_id, invitation.invited_by, invitation.role_id) is not null then
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
  'Accepts an invitation by its token: the caller, whose confirmed email must fold (A-Z to a-z) to the invited one, becomes a member with the invited role. Returns the organization id. Distinct errors: not found (P0002), revoked, used, expired, no longer valid because its role was deleted or the inviter can no longer grant it (rank, owner, or a permission of an organization''s role the inviter lacks) (P0001), another email (42501), anonymous sign-in (OL001), email not confirmed (OL003), email not NFKC-normal (OL004), already a member (23505). Serialized with the other role changes of the organization.';

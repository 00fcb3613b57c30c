-- Organizations and membership: the tenants, who belongs to them, and the
-- roles each member holds there.
--
-- Authorization helpers live in `private` (security definer, stable,
-- search_path ''). Each returns an array of ids for the signed-in user, so a
-- policy reads `organization_id = any ((select private.fn())::uuid[])`: the sub-select
-- runs once per statement (an InitPlan) and the comparison can use the index
-- on organization_id, instead of a per-row function call or sub-query.
--
-- Membership and roles change only through the RPCs below (create_organization,
-- set_member_roles, remove_member; invitations and transfer_ownership in their
-- own migrations), which enforce the rank rules. Invariant: every organization
-- keeps at least one owner at every commit, also under concurrent requests.

-- Fail fast rather than queue behind live traffic (and block it) on a busy database.
set local lock_timeout = '10s';
set local statement_timeout = '15min';

-- Tables ----------------------------------------------------------------------

create table public.organizations (
  id uuid primary key default gen_random_uuid(),
  name text not null check (char_length(trim(name)) between 1 and 100 and name = trim(name)),
  slug text not null unique check (slug ~ '^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$'),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
comment on table public.organizations is 'A tenant. Every tenant-owned row carries its organization_id.';
comment on column public.organizations.slug is
  'URL name: unique, lowercase a-z, 0-9 and "-", 3 to 63 characters, no leading or trailing "-".';

create table public.organization_users (
  organization_id uuid not null references public.organizations (id) on delete cascade,
  user_id uuid not null references public.users (id) on delete cascade,
  created_at timestamptz not null default now(),
  primary key (organization_id, user_id)
);
comment on table public.organization_users is
  'Membership: a user belongs to an organization. Removing it removes their roles and client assignments there.';
create index organization_users_user_id_idx on public.organization_users (user_id, organization_id);

create table public.user_roles (
  organization_id uuid not null,
  user_id uuid not null,
  role_id uuid not null references public.roles (id),
  created_at timestamptz not null default now(),
  primary key (organization_id, user_id, role_id),
  foreign key (organization_id, user_id)
    references public.organization_users (organization_id, user_id) on delete cascade
);
comment on table public.user_roles is
  'Roles a member holds in an organization (several allowed; permissions are their union). Changed through set_member_roles.';
create index user_roles_user_id_idx on public.user_roles (user_id, organization_id);
create index user_roles_role_id_idx on public.user_roles (role_id);

create trigger organizations_set_updated_at
  before update on public.organizations
  for each row execute function private.set_updated_at();

-- Authorization helpers (private) --------------------------------------------

create function private.organization_ids()
returns uuid[]
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  -- plpgsql keeps this query's plan for the session: policies call it on every statement.
  return (
    select coalesce(array_agg(ou.organization_id), '{}')
    from public.organization_users ou
    where ou.user_id = auth.uid()
  );
end;
$$;
comment on function private.organization_ids() is
  'Ids of the organizations the signed-in user belongs to. For policies: organization_id = any ((select private.organization_ids())::uuid[]).';

create function private.organization_ids_with(permission text)
returns uuid[]
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  -- plpgsql keeps this query's plan for the session: policies call it on every statement.
  return (
    select coalesce(array_agg(distinct ur.organization_id), '{}')
    from public.user_roles ur
    join public.role_permissions rp on rp.role_id = ur.role_id
    where ur.user_id = auth.uid()
      and rp.permission = organization_ids_with.permission
  );
end;
$$;
comment on function private.organization_ids_with(text) is
  'Ids of the organizations where the signed-in user holds the permission through any of their roles.';

create function private.organization_ids_with_role(role_key text)
returns uuid[]
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  return (
    select coalesce(array_agg(ur.organization_id), '{}')
    from public.user_roles ur
    join public.roles r on r.id = ur.role_id
    where ur.user_id = auth.uid()
      and r.key = organization_ids_with_role.role_key
  );
end;
$$;
comment on function private.organization_ids_with_role(text) is
  'Ids of the organizations where the signed-in user holds the role (e.g. member: who may update the clients assigned to them).';

create function private.co_member_ids()
returns uuid[]
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  -- plpgsql keeps this query's plan for the session: policies call it on every statement.
  return (
    select coalesce(array_agg(distinct theirs.user_id), '{}')
    from public.organization_users mine
    join public.organization_users theirs on theirs.organization_id = mine.organization_id
    where mine.user_id = auth.uid()
  );
end;
$$;
comment on function private.co_member_ids() is
  'Ids of the users who share at least one organization with the signed-in user (including themselves).';

create function private.has_permission(organization_id uuid, permission text)
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select exists (
    select 1
    from public.user_roles ur
    join public.role_permissions rp on rp.role_id = ur.role_id
    where ur.organization_id = has_permission.organization_id
      and ur.user_id = (select auth.uid())
      and rp.permission = has_permission.permission
  )
$$;
comment on function private.has_permission(uuid, text) is
  'Whether the signed-in user holds the permission in the organization.';

create function private.max_rank(organization_id uuid, user_id uuid)
returns integer
language sql
stable
security definer
set search_path = ''
as $$
  select coalesce(max(r.rank), 0)
  from public.user_roles ur
  join public.roles r on r.id = ur.role_id
  where ur.organization_id = max_rank.organization_id
    and ur.user_id = max_rank.user_id
$$;
comment on function private.max_rank(uuid, uuid) is
  'Highest rank a user holds in an organization (0 when none).';

create function private.is_member(organization_id uuid, user_id uuid)
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select exists (
    select 1 from public.organization_users ou
    where ou.organization_id = is_member.organization_id and ou.user_id = is_member.user_id
  )
$$;
comment on function private.is_member(uuid, uuid) is 'Whether a user belongs to an organization.';

create function private.require_user()
returns uuid
language plpgsql
stable
set search_path = ''
as $$
declare
  uid uuid := auth.uid();
begin
  if uid is null then
    raise exception 'not signed in' using errcode = '42501', hint = 'Call this function with a user''s JWT.';
  end if;
  return uid;
end;
$$;
comment on function private.require_user() is 'The signed-in user''s id; raises 42501 when there is none.';

create function private.require_permission(organization_id uuid, permission text)
returns uuid
language plpgsql
stable
set search_path = ''
as $$
declare
  uid uuid := private.require_user();
begin
  if not private.is_member(require_permission.organization_id, uid) then
    raise exception 'organization not found' using errcode = 'P0002',
      detail = 'No organization with this id has the caller as a member.';
  end if;
  if not private.has_permission(require_permission.organization_id, require_permission.permission) then
    raise exception 'permission denied: % is required in this organization', require_permission.permission
      using errcode = '42501';
  end if;
  return uid;
end;
$$;
comment on function private.require_permission(uuid, text) is
  'Raises P0002 when the caller is not a member (the organization stays invisible), 42501 when they lack the permission; returns their id.';

create function private.role_ids(keys text[])
returns uuid[]
language plpgsql
stable
set search_path = ''
as $$
declare
  unknown text;
begin
  if keys is null or cardinality(keys) = 0 then
    raise exception 'at least one role is required' using errcode = '22023',
      hint = 'Roles: owner, admin, manager, member, viewer. To remove a member use remove_member.';
  end if;
  if exists (select 1 from unnest(keys) k where k is null or not exists (select 1 from public.roles r where r.key = k)) then
    select k into unknown from unnest(keys) k where k is not null and not exists (select 1 from public.roles r where r.key = k) limit 1;
    raise exception 'unknown role: %', coalesce(unknown, 'null') using errcode = '22023',
      hint = 'Roles: owner, admin, manager, member, viewer.';
  end if;
  return (select array_agg(distinct r.id) from public.roles r where r.key = any (keys));
end;
$$;
comment on function private.role_ids(text[]) is 'Ids of the roles with these keys; raises 22023 for an empty list or an unknown key.';

revoke all on function
  private.organization_ids(), private.organization_ids_with(text), private.organization_ids_with_role(text), private.co_member_ids(),
  private.has_permission(uuid, text), private.max_rank(uuid, uuid), private.is_member(uuid, uuid),
  private.require_user(), private.require_permission(uuid, text), private.role_ids(text[])
  from public, anon;
grant execute on function
  private.organization_ids(), private.organization_ids_with(text), private.organization_ids_with_role(text), private.co_member_ids(),
  private.has_permission(uuid, text)
  to authenticated, service_role;

-- Invariant: at least one owner per organization -------------------------------

create table private.owner_guards (
  organization_id uuid primary key references public.organizations (id) on delete cascade,
  changed_at timestamptz not null default now()
);
comment on table private.owner_guards is
  'One row per organization whose owners changed. Writing it serializes concurrent owner removals: the second waits for the first to commit (read committed) or fails to serialize (repeatable read).';

create function private.guard_owner_removal()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if old.role_id = (select r.id from public.roles r where r.key = 'owner')
     and (tg_op = 'DELETE' or new.role_id is distinct from old.role_id or new.organization_id is distinct from old.organization_id)
     and exists (select 1 from public.organizations o where o.id = old.organization_id) then
    insert into private.owner_guards (organization_id) values (old.organization_id)
    on conflict (organization_id) do update set changed_at = now();
  end if;
  if tg_op = 'DELETE' then
    return old;
  end if;
  return new;
end;
$$;
comment on function private.guard_owner_removal() is
  'Trigger: before an owner role is removed, write the organization''s guard row so that concurrent removals are serialized.';

create trigger user_roles_guard_owner_removal
  before delete or update on public.user_roles
  for each row execute function private.guard_owner_removal();

create function private.check_organization_has_owner()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if exists (select 1 from public.organizations o where o.id = old.organization_id)
     and not exists (
       select 1 from public.user_roles ur
       join public.roles r on r.id = ur.role_id
       where ur.organization_id = old.organization_id and r.key = 'owner'
     ) then
    raise exception 'organization % must keep at least one owner', old.organization_id
      using errcode = 'P0001',
            hint = 'Transfer ownership (transfer_ownership) or grant owner to another member first, or delete the organization.';
  end if;
  return null;
end;
$$;
comment on function private.check_organization_has_owner() is
  'Deferred constraint trigger: at commit, an organization that still exists has at least one owner.';

create constraint trigger user_roles_keep_an_owner
  after delete or update on public.user_roles
  deferrable initially deferred
  for each row execute function private.check_organization_has_owner();

create function private.check_new_organization_has_owner()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if exists (select 1 from public.organizations o where o.id = new.id)
     and not exists (
       select 1 from public.user_roles ur join public.roles r on r.id = ur.role_id
       where ur.organization_id = new.id and r.key = 'owner'
     ) then
    raise exception 'organization % must have an owner', new.id
      using errcode = 'P0001', hint = 'Create organizations with create_organization, or add an owner in the same transaction.';
  end if;
  return null;
end;
$$;
comment on function private.check_new_organization_has_owner() is
  'Deferred constraint trigger: a new organization has an owner by the end of the transaction that created it.';

create constraint trigger organizations_have_an_owner
  after insert on public.organizations
  deferrable initially deferred
  for each row execute function private.check_new_organization_has_owner();

-- Grants and policies --------------------------------------------------------

alter table public.organizations enable row level security;
alter table public.organization_users enable row level security;
alter table public.user_roles enable row level security;

revoke all on table public.organizations, public.organization_users, public.user_roles from anon, authenticated;
grant select, delete on table public.organizations to authenticated;
grant update (name, slug) on table public.organizations to authenticated;
grant select on table public.organization_users, public.user_roles to authenticated;
grant all on table public.organizations, public.organization_users, public.user_roles to service_role;

create policy organizations_select_member on public.organizations
  for select to authenticated
  using (id = any ((select private.organization_ids())::uuid[]));
comment on policy organizations_select_member on public.organizations is 'Members see their organizations.';

create policy organizations_update_permitted on public.organizations
  for update to authenticated
  using (id = any ((select private.organization_ids_with('organization.update'))::uuid[]))
  with check (id = any ((select private.organization_ids_with('organization.update'))::uuid[]));
comment on policy organizations_update_permitted on public.organizations is
  'Holders of organization.update (owner, admin) change the name and slug (the only columns granted).';

create policy organizations_delete_permitted on public.organizations
  for delete to authenticated
  using (id = any ((select private.organization_ids_with('organization.delete'))::uuid[]));
comment on policy organizations_delete_permitted on public.organizations is
  'Holders of organization.delete (owner) delete the organization, with its memberships and clients.';

create policy organization_users_select_member on public.organization_users
  for select to authenticated
  using (organization_id = any ((select private.organization_ids())::uuid[]));
comment on policy organization_users_select_member on public.organization_users is
  'Members see who else belongs to their organizations. Changes go through the RPCs.';

create policy user_roles_select_member on public.user_roles
  for select to authenticated
  using (organization_id = any ((select private.organization_ids())::uuid[]));
comment on policy user_roles_select_member on public.user_roles is
  'Members see the roles held in their organizations. Changes go through set_member_roles.';

-- Profiles are visible to co-members, so their policies live with membership.
revoke all on table public.users from anon, authenticated;
grant select on table public.users to authenticated;
grant update (full_name, avatar_url) on table public.users to authenticated;
grant all on table public.users to service_role;

create policy users_select_self_or_co_member on public.users
  for select to authenticated
  using (id = any ((select private.co_member_ids())::uuid[]) or id = (select auth.uid()));
comment on policy users_select_self_or_co_member on public.users is
  'A user sees their own profile and those of the members of their organizations.';

create policy users_update_self on public.users
  for update to authenticated
  using (id = (select auth.uid()))
  with check (id = (select auth.uid()));
comment on policy users_update_self on public.users is 'A user edits their own profile (full_name, avatar_url).';

-- RPCs -------------------------------------------------------------------------

create function public.create_organization(name text, slug text)
returns public.organizations
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  uid uuid := private.require_user();
  org public.organizations;
begin
  if not exists (select 1 from public.users u where u.id = uid) then
    raise exception 'no profile for the signed-in user' using errcode = 'P0002';
  end if;
  insert into public.organizations (name, slug)
  values (trim(create_organization.name), create_organization.slug)
  returning * into org;
  insert into public.organization_users (organization_id, user_id) values (org.id, uid);
  insert into public.user_roles (organization_id, user_id, role_id)
  select org.id, uid, r.id from public.roles r where r.key = 'owner';
  return org;
end;
$$;
comment on function public.create_organization(text, text) is
  'Creates an organization; the caller becomes its member and owner. Returns the organization row. Slug: lowercase a-z0-9-, 3 to 63 characters; 23505 when taken.';

create function public.authorize(organization_id uuid, permission text)
returns boolean
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  if not exists (select 1 from public.permissions p where p.key = authorize.permission) then
    raise exception 'unknown permission: %', authorize.permission using errcode = '22023';
  end if;
  return private.has_permission(authorize.organization_id, authorize.permission);
end;
$$;
comment on function public.authorize(uuid, text) is
  'Whether the signed-in user holds the permission in the organization (for UIs). Raises 22023 for an unknown permission name.';

create function public.set_member_roles(organization_id uuid, user_id uuid, roles text[])
returns void
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  uid uuid := private.require_permission(set_member_roles.organization_id, 'members.manage');
  wanted uuid[] := private.role_ids(set_member_roles.roles);
  my_rank integer := private.max_rank(set_member_roles.organization_id, uid);
  owner_id uuid := (select r.id from public.roles r where r.key = 'owner');
  changed uuid[];
begin
  if set_member_roles.user_id = uid then
    raise exception 'you cannot change your own roles' using errcode = '42501',
      hint = 'Another member with members.manage can, or use transfer_ownership.';
  end if;
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
  'Replaces a member''s roles. Needs members.manage; nobody changes their own roles, manages a member who outranks them, or grants/revokes a role above their own highest; only owners grant or revoke owner.';

create function public.remove_member(organization_id uuid, user_id uuid)
returns void
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  uid uuid := private.require_user();
  owner_rank integer := (select r.rank from public.roles r where r.key = 'owner');
  my_rank integer;
begin
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
  'Removes a member with their roles and client assignments; with user_id = the caller, leaves the organization. Removing others needs members.manage and a rank at least theirs (owners only by owners). The last owner cannot leave.';

revoke all on function
  public.create_organization(text, text), public.authorize(uuid, text),
  public.set_member_roles(uuid, uuid, text[]), public.remove_member(uuid, uuid)
  from public, anon, service_role;
grant execute on function
  public.create_organization(text, text), public.authorize(uuid, text),
  public.set_member_roles(uuid, uuid, text[]), public.remove_member(uuid, uuid)
  to authenticated;

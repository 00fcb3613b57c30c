-- Extension API: what a migration of your own calls to add an
-- organization-scoped table under the same rules as the core tables.
--
-- * Permission keys may name snake_case tables (`time_entries.read`): the
--   check on public.permissions.key is replaced by `permissions_key_format`.
--   Whatever its current name, the old check is found in the catalog and
--   dropped; the new one is added only when missing (a later migration may
--   have added it first).
-- * private.register_permission() adds a permission to the catalog and grants
--   it to built-in roles.
-- * private.keep_organization() is the trigger that keeps a row's
--   organization_id fixed and its created_by set once.
-- * The policy helpers (private.organization_ids_with() and friends) and
--   private.register_audited_table() are marked as Extension API: their names,
--   arguments and guarantees stay stable. Every other function of the schema
--   `private` is internal and may change in any release.
-- `npm run entity:new` writes migrations that use exactly these; see
-- docs/extending.md.

set lock_timeout = '10s';
set statement_timeout = '15min';

-- Permission keys: <table>.<action>, both snake_case --------------------------------------

do $$
declare
  old_check name;
begin
  for old_check in
    select c.conname
    from pg_catalog.pg_constraint c
    where c.conrelid = 'public.permissions'::regclass
      and c.contype = 'c'
      and c.conname <> 'permissions_key_format'
      and c.conkey = array[(select a.attnum from pg_catalog.pg_attribute a
                            where a.attrelid = 'public.permissions'::regclass and a.attname = 'key')]
  loop
    execute pg_catalog.format('alter table public.permissions drop constraint %I', old_check);
  end loop;
  if not exists (select 1 from pg_catalog.pg_constraint c
                 where c.conrelid = 'public.permissions'::regclass and c.conname = 'permissions_key_format') then
    alter table public.permissions
      add constraint permissions_key_format check (key ~ '^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$');
  end if;
end
$$;
comment on constraint permissions_key_format on public.permissions is
  'A permission key is <table or area>.<action>, both lowercase snake_case (time_entries.read, clients.work_assigned).';

-- Adding permissions ------------------------------------------------------------------------

create function private.register_permission(key text, description text, granted_to text[] default '{}')
returns void
language plpgsql
set search_path = pg_catalog, pg_temp
as $$
declare
  unknown text;
  built_in_only text := '';
begin
  if key is null or key !~ '^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$' then
    raise exception 'invalid permission key: %', key using errcode = '22023',
      hint = 'A permission key is <table>.<action>, lowercase snake_case, e.g. projects.read.';
  end if;
  -- Organization-defined roles (when the catalog has them) share keys with no built-in role: grant to built-in ones only.
  if exists (select 1 from pg_catalog.pg_attribute a
             where a.attrelid = 'public.roles'::regclass and a.attname = 'organization_id' and not a.attisdropped) then
    built_in_only := ' and r.organization_id is null';
  end if;
  execute 'select string_agg(g, '', '') from unnest($1) g
           where not exists (select 1 from public.roles r where r.key = g' || built_in_only || ')'
    into unknown using coalesce(granted_to, '{}');
  if unknown is not null then
    raise exception 'unknown role: %', unknown using errcode = '22023';
  end if;
  insert into public.permissions as p (key, description)
  values (register_permission.key, register_permission.description)
  on conflict on constraint permissions_pkey do update set description = excluded.description;
  execute 'insert into public.role_permissions (role_id, permission)
           select r.id, $1 from public.roles r where r.key = any ($2)' || built_in_only || '
           on conflict do nothing'
    using key, coalesce(granted_to, '{}');
end;
$$;
comment on function private.register_permission(text, text, text[]) is
  'Extension API (call it from a migration): add the permission `key` (<table>.<action>, snake_case) to public.permissions with its description, and grant it to the built-in roles named in granted_to (owner, admin, manager, member, viewer). Idempotent: an existing permission keeps its grants and gets the new description. Raises 22023 on a malformed key or an unknown role.';
revoke all on function private.register_permission(text, text, text[]) from public, anon, authenticated, service_role;

-- Organization-scoped rows stay in their organization --------------------------------------

create function private.keep_organization()
returns trigger
language plpgsql
set search_path = pg_catalog, pg_temp
as $$
begin
  if new.organization_id is distinct from old.organization_id then
    raise exception 'organization_id cannot change' using errcode = '42501',
      detail = pg_catalog.format('Table %s: a row never moves to another organization.', tg_relid::regclass);
  end if;
  if new.created_by is distinct from old.created_by and old.created_by is not null and new.created_by is not null then
    raise exception 'created_by cannot change' using errcode = '42501';
  end if;
  return new;
end;
$$;
comment on function private.keep_organization() is
  'Extension API (a BEFORE UPDATE row trigger): organization_id never changes, for anyone, and created_by is set once (it may only become null, when its user is deleted). For a table with columns organization_id and created_by: create trigger <table>_keep_organization before update on public.<table> for each row execute function private.keep_organization().';
revoke all on function private.keep_organization() from public, anon, authenticated;

-- The public API of the schema `private` ---------------------------------------------------

comment on function private.organization_ids() is
  'Extension API (policies): ids of the organizations the signed-in user belongs to. Use as organization_id = any ((select private.organization_ids())::uuid[]): evaluated once per statement, an index condition on organization_id.';
comment on function private.organization_ids_with(text) is
  'Extension API (policies): ids of the organizations where the signed-in user holds the permission through any of their roles. Use as organization_id = any ((select private.organization_ids_with(''<table>.<action>''))::uuid[]): evaluated once per statement, an index condition on organization_id.';
comment on function private.has_permission(uuid, text) is
  'Extension API (functions, not policies): whether the signed-in user holds the permission in the organization. In a policy it runs once per row; use private.organization_ids_with() there.';
comment on function private.require_permission(uuid, text) is
  'Extension API (security definer functions): raises P0002 when the caller is not a member (the organization stays invisible), 42501 when they lack the permission; returns their id.';
comment on function private.require_user() is
  'Extension API: the signed-in user''s id; raises 42501 when there is none.';
comment on function private.set_updated_at() is
  'Extension API (a BEFORE UPDATE row trigger): sets updated_at to now().';

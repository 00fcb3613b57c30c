-- Data export: an organization's (for its owners) and a user's own.
--
-- * public.export_organization(organization_id) (holders of
--   organization.delete): one JSON document with the organization, its
--   members (id, email, name, roles), its roles (built-in and its own, with
--   their permissions), clients, assignments, invitations (never tokens or
--   hashes) and its audit log. Above settings.export_organization_max_rows
--   rows (default 25,000; hosted's 8 s statement timeout for
--   authenticated) it refuses and points to the streaming export of the
--   typed layer (`npm run org:export -- <id>`).
-- * public.export_my_data(): the signed-in user's profile, memberships with
--   their roles, assignments, and the audit entries where they are the actor,
--   as metadata only (table, action, time, record id): never old/new rows,
--   which may hold data they cannot read.

set lock_timeout = '10s';
set statement_timeout = '15min';

-- export_my_data reads a user's audit entries by actor.
-- squawk-ignore require-concurrent-index-creation
create index audit_log_actor_id_created_at_idx on public.audit_log (actor_id, created_at, id);

create function private.export_organization_rows(organization_id uuid, up_to bigint)
returns bigint
language sql
stable
set search_path = pg_catalog, pg_temp
as $$
  select (select count(*) from (select 1 from public.clients c where c.organization_id = $1 limit $2 + 1) s)
       + (select count(*) from (select 1 from public.user_clients uc where uc.organization_id = $1 limit $2 + 1) s)
       + (select count(*) from (select 1 from public.organization_users ou where ou.organization_id = $1 limit $2 + 1) s)
       + (select count(*) from (select 1 from public.invitations i where i.organization_id = $1 limit $2 + 1) s)
       + (select count(*) from (select 1 from public.audit_log a where a.organization_id = $1 limit $2 + 1) s)
$$;
comment on function private.export_organization_rows(uuid, bigint) is
  'Rows an organization export holds (members, clients, assignments, invitations, audit entries), each count bounded by up_to + 1.';
revoke all on function private.export_organization_rows(uuid, bigint) from public, anon, authenticated, service_role;

create function private.without_secrets(data jsonb)
returns jsonb
language sql
immutable
set search_path = pg_catalog, pg_temp
as $$
  select data - coalesce((select array_agg(k) from pg_catalog.jsonb_object_keys(data) k where k ~ '(token|hash|secret)'), '{}')
$$;
comment on function private.without_secrets(jsonb) is 'A row without the keys that name a token, hash or secret (for exports of invitations).';
revoke all on function private.without_secrets(jsonb) from public, anon, authenticated, service_role;

create function public.export_organization(organization_id uuid)
returns jsonb
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  org_id uuid := export_organization.organization_id;
  uid uuid := private.require_permission(org_id, 'organization.delete');
  max_rows bigint;
begin
  select s.export_organization_max_rows into max_rows from public.settings s where s.id;
  if private.export_organization_rows(org_id, max_rows) > max_rows then
    raise exception 'organization too large to export in one call: more than % rows', max_rows
      using errcode = 'P0001',
            detail = 'An export this size would outrun the statement timeout of the API (8 s on hosted Supabase).',
            hint = 'Use the server-side streaming export: npm run org:export -- <organization id>, or streamOrganizationExport() of the typed layer (src/lifecycle.ts).';
  end if;
  return jsonb_build_object(
    'format', 'supabase-org-layer.organization-export',
    'version', 1,
    'exported_at', now(),
    'exported_by', uid,
    'organization', (select to_jsonb(o) from public.organizations o where o.id = org_id),
    'members', (
      select coalesce(jsonb_agg(jsonb_build_object(
               'id', u.id, 'email', u.email, 'name', u.full_name, 'joined_at', ou.created_at,
               'roles', (select coalesce(jsonb_agg(r.key order by r.rank desc, r.key), '[]')
                           from public.user_roles ur join public.roles r on r.id = ur.role_id
                          where ur.organization_id = org_id and ur.user_id = ou.user_id))
             order by ou.created_at, u.id), '[]')
        from public.organization_users ou join public.users u on u.id = ou.user_id
       where ou.organization_id = org_id),
    'roles', (
      select coalesce(jsonb_agg(to_jsonb(r) || jsonb_build_object(
               'permissions', (select coalesce(jsonb_agg(rp.permission order by rp.permission), '[]')
                                 from public.role_permissions rp where rp.role_id = r.id))
             order by r.rank desc, r.key), '[]')
        from public.roles r
       -- Built-in roles (no organization) and the organization's own.
       where coalesce(to_jsonb(r) ->> 'organization_id', org_id::text) = org_id::text),
    'clients', (
      select coalesce(jsonb_agg(to_jsonb(c) order by c.created_at, c.id), '[]')
        from public.clients c where c.organization_id = org_id),
    'assignments', (
      select coalesce(jsonb_agg(to_jsonb(uc) order by uc.client_id, uc.user_id), '[]')
        from public.user_clients uc where uc.organization_id = org_id),
    'invitations', (
      select coalesce(jsonb_agg(private.without_secrets(to_jsonb(i)) order by i.created_at, i.id), '[]')
        from public.invitations i where i.organization_id = org_id),
    'audit_log', (
      select coalesce(jsonb_agg(to_jsonb(a) order by a.created_at, a.id), '[]')
        from public.audit_log a where a.organization_id = org_id)
  );
end;
$$;
comment on function public.export_organization(uuid) is
  'One JSON document with everything of an organization: organization, members (id, email, name, roles), roles (with permissions), clients, assignments, invitations (never tokens or hashes) and its audit log. Needs organization.delete (owners). Refuses above settings.export_organization_max_rows rows (default 25,000), pointing to the streaming export (npm run org:export).';
revoke all on function public.export_organization(uuid) from public, anon, service_role;
grant execute on function public.export_organization(uuid) to authenticated;

create function public.export_my_data()
returns jsonb
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  uid uuid := private.require_user();
begin
  return jsonb_build_object(
    'format', 'supabase-org-layer.my-data-export',
    'version', 1,
    'exported_at', now(),
    'profile', (select to_jsonb(u) from public.users u where u.id = uid),
    'memberships', (
      select coalesce(jsonb_agg(jsonb_build_object(
               'organization_id', o.id, 'organization_name', o.name, 'slug', o.slug, 'joined_at', ou.created_at,
               'roles', (select coalesce(jsonb_agg(r.key order by r.rank desc, r.key), '[]')
                           from public.user_roles ur join public.roles r on r.id = ur.role_id
                          where ur.organization_id = o.id and ur.user_id = uid))
             order by o.name, o.id), '[]')
        from public.organization_users ou join public.organizations o on o.id = ou.organization_id
       where ou.user_id = uid),
    'assignments', (
      select coalesce(jsonb_agg(jsonb_build_object(
               'organization_id', uc.organization_id, 'client_id', uc.client_id, 'assigned_at', uc.created_at)
             order by uc.organization_id, uc.created_at, uc.client_id), '[]')
        from public.user_clients uc where uc.user_id = uid),
    'audit_entries', (
      select coalesce(jsonb_agg(jsonb_build_object(
               'table_name', a.table_name, 'action', a.action, 'created_at', a.created_at, 'record_id', a.record_id)
             order by a.created_at, a.id), '[]')
        from public.audit_log a where a.actor_id = uid)
  );
end;
$$;
comment on function public.export_my_data() is
  'The signed-in user''s own data as one JSON document: profile, memberships with their roles, client assignments, and the audit entries where they are the actor as metadata only (table_name, action, created_at, record_id), never the old/new rows.';
revoke all on function public.export_my_data() from public, anon, service_role;
grant execute on function public.export_my_data() to authenticated;

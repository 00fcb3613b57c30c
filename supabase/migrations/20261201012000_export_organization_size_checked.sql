-- export_organization refuses an organization whose document would be too
-- large to build in one call, not only one with too many rows.
--
-- The limit was a number of rows (settings.export_organization_max_rows,
-- 25,000). A client's notes may hold 10,000 characters, and each audit entry
-- repeats the row it changed: 24,728 rows built a 252 MB document in 11.4 s,
-- and under hosted's 8 s statement timeout the owner got a bare 57014
-- "canceling statement due to statement timeout", without the hint to the
-- streaming export.
--
-- Now settings.export_organization_max_bytes (default 32 MiB) bounds the
-- text the document would carry: the clients' names, emails, phones and
-- notes (their lengths, which a text's header holds, compressed or not), and
-- the audit entries' old and new rows as stored (a compressed row counts its
-- compressed size, so the bound is a floor of the document's size, not its
-- size). Sizes are read, not contents. Above it the
-- call refuses with the row limit's message kind and hint. The rows are
-- counted first, so the sizes are read for at most that many rows. The body
-- is that of 20261201009800 with the size check.

set lock_timeout = '10s';
set statement_timeout = '15min';

alter table public.settings
  add column export_organization_max_bytes bigint not null default 33554432
    check (export_organization_max_bytes >= 0);
comment on column public.settings.export_organization_max_bytes is
  'Largest organization export_organization returns in one JSON document, in bytes of the text it carries (clients'' names, emails, phones and notes; audit entries'' old and new rows, as stored); above it the call refuses and points to the streaming export.';
grant update (export_organization_max_bytes) on table public.settings to service_role;

create function private.export_organization_bytes(organization_id uuid)
returns bigint
language sql
stable
set search_path = pg_catalog, pg_temp
as $$
  -- octet_length of a text reads its length from the stored value's header (no decompression);
  -- pg_column_size of a jsonb is its stored size, compressed where it is.
  select coalesce((select pg_catalog.sum(pg_catalog.octet_length(c.name) + coalesce(pg_catalog.octet_length(c.email), 0)
                                         + coalesce(pg_catalog.octet_length(c.phone), 0) + coalesce(pg_catalog.octet_length(c.notes), 0))
                     from public.clients c where c.organization_id = $1), 0)
       + coalesce((select pg_catalog.sum(coalesce(pg_catalog.pg_column_size(a.old), 0) + coalesce(pg_catalog.pg_column_size(a.new), 0))
                     from public.audit_log a where a.organization_id = $1), 0)
$$;
comment on function private.export_organization_bytes(uuid) is
  'Bytes of text an organization export carries, at least: its clients'' names, emails, phones and notes, and its audit entries'' old and new rows as stored. For export_organization''s size check (after the row count, which bounds how many rows this reads).';
revoke all on function private.export_organization_bytes(uuid) from public, anon, authenticated, service_role;

create or replace function public.export_organization(organization_id uuid)
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
  max_bytes bigint;
begin
  select s.export_organization_max_rows, s.export_organization_max_bytes into max_rows, max_bytes
    from public.settings s where s.id;
  if private.export_organization_rows(org_id, max_rows) > max_rows then
    raise exception 'organization too large to export in one call: more than % rows', max_rows
      using errcode = 'P0001',
            detail = 'An export this size would outrun the statement timeout of the API (8 s on hosted Supabase).',
            hint = 'Use the server-side streaming export: npm run org:export -- <organization id>, or streamOrganizationExport() of the typed layer (src/lifecycle.ts).';
  end if;
  -- Few rows, but long ones (notes, the rows audit entries repeat), make a document as slow to build.
  if private.export_organization_bytes(org_id) > max_bytes then
    raise exception 'organization too large to export in one call: more than % bytes', max_bytes
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
        from public.audit_log a where a.organization_id = org_id),
    'tables', private.export_registered_tables(org_id)
  );
end;
$$;
comment on function public.export_organization(uuid) is
  'One JSON document with everything of an organization: organization, members (id, email, name, roles), roles (with permissions), clients, assignments, invitations (never tokens or hashes), its audit log, and under `tables` the rows of every table registered with an organization column (entity:new tables), without their secret columns. Needs organization.delete (owners). Refuses above settings.export_organization_max_rows rows (default 25,000) or settings.export_organization_max_bytes bytes of text (default 32 MiB), pointing to the streaming export (npm run org:export).';

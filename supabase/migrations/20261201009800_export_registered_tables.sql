-- Organization exports include the tables a project adds.
--
-- export_organization() wrote the layer's own tables only: the rows of a
-- table made with `npm run entity:new` (or any table registered with
-- private.register_audited_table() with an organization column) were in its
-- audit log but not in the export, so an owner exporting before deleting
-- the organization lost them. Now the document has a key `tables`: for
-- each such table (by name, in schema public or another), the
-- organization's rows, ordered by the record id column, without the
-- registered secret columns; `{}` when there is none. The row limit
-- (settings.export_organization_max_rows) counts them too. The streaming
-- export of the typed layer writes them as `table_row` records.

set lock_timeout = '10s';
set statement_timeout = '15min';

-- The tables the document already holds in sections of their own.
create function private.export_covered_tables()
returns regclass[]
language sql
immutable
set search_path = pg_catalog, pg_temp
as $$
  select array['public.organizations', 'public.organization_users', 'public.user_roles', 'public.clients',
               'public.user_clients', 'public.invitations', 'public.users', 'public.roles',
               'public.role_permissions', 'public.audit_log']::regclass[]
$$;
comment on function private.export_covered_tables() is
  'Tables an organization export holds in sections of their own; every other registered table with an organization column goes into its `tables` key.';
revoke all on function private.export_covered_tables() from public, anon, authenticated, service_role;

-- The tables of the `tables` key (also what the streaming export of the typed
-- layer reads): by name, schema-qualified outside public, with the query of
-- an organization's rows ($1: its id), each as `data` (without the secret
-- columns) and its place `n` in record id order, and the query counting
-- them up to a limit ($2).
create function private.export_registered_table_list()
returns table (name text, rows_query text, count_query text)
language sql
stable
set search_path = pg_catalog, pg_temp
as $$
  select case when c.relnamespace = 'public'::regnamespace then c.relname::text
              else c.relnamespace::regnamespace::text || '.' || c.relname end,
         pg_catalog.format(
           'select pg_catalog.to_jsonb(x) operator(pg_catalog.-) %L::text[] as data, pg_catalog.row_number() over (order by x.%I) as n
              from %s x where x.%I operator(pg_catalog.=) $1 order by x.%I',
           a.secret_columns, a.record_id_column, a.relid, a.organization_id_column, a.record_id_column),
         pg_catalog.format(
           'select pg_catalog.count(*) from (select from %s x where x.%I operator(pg_catalog.=) $1 limit $2) s',
           a.relid, a.organization_id_column)
  from private.audited_tables a
  join pg_catalog.pg_class c on c.oid = a.relid
  where a.organization_id_column is not null
    and a.relid <> all (private.export_covered_tables())
  order by c.relnamespace::regnamespace::text, c.relname
$$;
comment on function private.export_registered_table_list() is
  'The registered tables with an organization column that an organization export holds beyond the layer''s own: name (schema-qualified outside public), the query of one organization''s rows ($1: its id) as data (without the secret columns) and n (the place in record id order), and the query counting them up to $2. Read by export_organization, its row limit and the typed layer''s streaming export.';
revoke all on function private.export_registered_table_list() from public, anon, authenticated, service_role;

-- One table's rows of an organization, as a jsonb array in record id order.
create function private.export_table_rows(rows_query text, organization_id uuid)
returns jsonb
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $$
declare
  rows jsonb;
begin
  execute pg_catalog.format('select coalesce(pg_catalog.jsonb_agg(q.data order by q.n), ''[]'') from (%s) q', rows_query)
    into rows using export_table_rows.organization_id;
  return rows;
end;
$$;
comment on function private.export_table_rows(text, uuid) is
  'The rows a query of private.export_registered_table_list() returns for one organization, as a jsonb array in record id order.';
revoke all on function private.export_table_rows(text, uuid) from public, anon, authenticated, service_role;

-- How many rows of one organization a count query of the list finds, up to up_to + 1.
create function private.export_table_count(count_query text, organization_id uuid, up_to bigint)
returns bigint
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $$
declare
  n bigint;
begin
  execute count_query into n using export_table_count.organization_id, up_to + 1;
  return n;
end;
$$;
comment on function private.export_table_count(text, uuid, bigint) is
  'Runs a count query of private.export_registered_table_list() for one organization: its rows, counted up to up_to + 1.';
revoke all on function private.export_table_count(text, uuid, bigint) from public, anon, authenticated, service_role;

-- The `tables` key of an organization export.
create function private.export_registered_tables(organization_id uuid)
returns jsonb
language sql
stable
set search_path = pg_catalog, pg_temp
as $$
  select coalesce(pg_catalog.jsonb_object_agg(l.name, private.export_table_rows(l.rows_query, export_registered_tables.organization_id)
                                               order by l.name), '{}')
  from private.export_registered_table_list() l
$$;
comment on function private.export_registered_tables(uuid) is
  'The `tables` key of an organization export: each registered table with an organization column that the export does not hold otherwise, by name (schema-qualified outside public), with the organization''s rows.';
revoke all on function private.export_registered_tables(uuid) from public, anon, authenticated, service_role;

create or replace function private.export_organization_rows(organization_id uuid, up_to bigint)
returns bigint
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $$
declare
  org_id constant uuid := export_organization_rows.organization_id;
  total bigint;
  registered bigint;
begin
  select (select count(*) from (select 1 from public.clients c where c.organization_id = org_id limit up_to + 1) s)
       + (select count(*) from (select 1 from public.user_clients uc where uc.organization_id = org_id limit up_to + 1) s)
       + (select count(*) from (select 1 from public.organization_users ou where ou.organization_id = org_id limit up_to + 1) s)
       + (select count(*) from (select 1 from public.invitations i where i.organization_id = org_id limit up_to + 1) s)
       + (select count(*) from (select 1 from public.audit_log a where a.organization_id = org_id limit up_to + 1) s)
    into total;
  select coalesce(sum(private.export_table_count(l.count_query, org_id, up_to)), 0)
    into registered
    from private.export_registered_table_list() l;
  return total + registered;
end;
$$;
comment on function private.export_organization_rows(uuid, bigint) is
  'Rows an organization export holds (members, clients, assignments, invitations, audit entries, and the rows of registered tables of its own), each table''s count bounded by up_to + 1.';

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
        from public.audit_log a where a.organization_id = org_id),
    'tables', private.export_registered_tables(org_id)
  );
end;
$$;
comment on function public.export_organization(uuid) is
  'One JSON document with everything of an organization: organization, members (id, email, name, roles), roles (with permissions), clients, assignments, invitations (never tokens or hashes), its audit log, and under `tables` the rows of every table registered with an organization column (entity:new tables), without their secret columns. Needs organization.delete (owners). Refuses above settings.export_organization_max_rows rows (default 25,000), pointing to the streaming export (npm run org:export).';

-- A user's own export holds their rows in the project's own tables.
--
-- export_my_data() (20261201007200) listed the caller's client assignments
-- (public.user_clients) but nothing of the tables a project adds: the
-- assignments of a table made with `npm run entity:new -- <name>
-- --assignable` (public.user_<name>, one row per member assigned to a row)
-- were in export_organization's `tables` but not in the export of the user
-- they are about. Now the document has a key `tables`, as the organization's
-- has: for every registered table (private.register_audited_table, as
-- entity:new registers its tables) beyond the layer's own that has a uuid
-- column user_id, the rows whose user_id is the caller, ordered by the
-- record id column, without the registered secret columns; `{}` when there
-- is none. Rows someone else wrote about a row the caller created are the
-- organization's, as clients are, and stay out. Everything else is unchanged.

set lock_timeout = '10s';
set statement_timeout = '15min';

-- The tables of the `tables` key: by name (schema-qualified outside public),
-- with the query of a user's rows ($1: the user's id) as one JSON array.
create function private.export_user_table_list()
returns table (name text, rows_query text)
language sql
stable
set search_path = pg_catalog, pg_temp
as $$
  select case when c.relnamespace = 'public'::regnamespace then c.relname::text
              else c.relnamespace::regnamespace::text || '.' || c.relname end,
         pg_catalog.format(
           'select coalesce(pg_catalog.jsonb_agg(pg_catalog.to_jsonb(x.*) operator(pg_catalog.-) %L::text[] order by x.%I), %L::jsonb)
              from %s x where x.user_id operator(pg_catalog.=) $1',
           a.secret_columns, a.record_id_column, '[]', a.relid)
  from private.audited_tables a
  join pg_catalog.pg_class c on c.oid = a.relid
  join pg_catalog.pg_attribute u on u.attrelid = a.relid and u.attname = 'user_id' and u.attnum > 0 and not u.attisdropped
  join pg_catalog.pg_type t on t.oid = u.atttypid
  where a.relid <> all (private.export_covered_tables())
    and (case when t.typtype = 'd' then t.typbasetype else t.oid end) = 'pg_catalog.uuid'::pg_catalog.regtype
  order by c.relnamespace::regnamespace::text, c.relname
$$;
comment on function private.export_user_table_list() is
  'The registered tables beyond the layer''s own that have a uuid column user_id, whose rows of a user export_my_data holds: name (schema-qualified outside public) and the query of one user''s rows ($1: the user''s id) as one JSON array in record id order, without the registered secret columns.';
revoke all on function private.export_user_table_list() from public, anon, authenticated, service_role;

create or replace function public.export_my_data()
returns jsonb
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  uid uuid := private.require_user();
  registered record;
  own_rows jsonb;
  tables jsonb := '{}'::jsonb;
begin
  for registered in select * from private.export_user_table_list() loop
    execute registered.rows_query into own_rows using uid;
    tables := tables || jsonb_build_object(registered.name, own_rows);
  end loop;
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
        from public.audit_log a where a.actor_id = uid),
    'tables', tables
  );
end;
$$;
comment on function public.export_my_data() is
  'The signed-in user''s own data as one JSON document: profile, memberships with their roles, client assignments, the audit entries where they are the actor as metadata only (table_name, action, created_at, record_id), never the old/new rows, and under `tables` their rows (user_id = the caller) of every registered table of the project''s own with a user_id column, such as the assignments of an entity:new table made with --assignable.';

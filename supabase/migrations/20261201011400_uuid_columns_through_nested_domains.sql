-- A column typed by a domain over a domain over uuid is a uuid column too.
--
-- private.organization_scoped_tables() (20261201010800) and
-- private.export_user_table_list() (20261201010900) took a column for a uuid
-- when its type was uuid or a domain whose base type is uuid, one level down
-- only. A table keyed by a domain over such a domain (`create domain tenant_id
-- as org_ref`, org_ref a domain over uuid) was no longer the organization's:
-- delete_organization left its rows behind, or, with a foreign key to
-- organizations, failed on it for every organization (and so did the
-- deletion of an account that was the only member of one); export_my_data
-- left out such a user_id. Both now follow domains down to their base type
-- (private.is_uuid_type). Nothing else changes.

set lock_timeout = '10s';
set statement_timeout = '15min';

create function private.is_uuid_type(type_id oid)
returns boolean
language sql
stable
set search_path = pg_catalog, pg_temp
as $$
  with recursive chain (id, kind, base) as (
    select t.oid, t.typtype, t.typbasetype from pg_catalog.pg_type t where t.oid = type_id
    union all
    select t.oid, t.typtype, t.typbasetype
      from chain c join pg_catalog.pg_type t on t.oid = c.base
     where c.kind = 'd'
  )
  select exists (select 1 from chain c where c.kind <> 'd' and c.id = 'pg_catalog.uuid'::pg_catalog.regtype)
$$;
comment on function private.is_uuid_type(oid) is
  'Whether a type is uuid, or a domain over uuid at any depth (its base type, followed down through domains over domains).';
revoke all on function private.is_uuid_type(oid) from public, anon, authenticated;
-- private.organization_scoped_tables(), which calls it as its caller, is the service's too.
grant execute on function private.is_uuid_type(oid) to service_role;

create or replace function private.organization_scoped_tables()
returns table (relid regclass, depth integer)
language sql
stable
set search_path = pg_catalog, pg_temp
as $$
  with recursive scoped as (
    select c.oid
      from pg_catalog.pg_class c
      join pg_catalog.pg_namespace n on n.oid = c.relnamespace
      join pg_catalog.pg_attribute a
        on a.attrelid = c.oid and a.attname = 'organization_id' and a.attnum > 0 and not a.attisdropped
     where c.relkind in ('r', 'p')
       and not c.relispartition
       and n.nspname not in ('pg_catalog', 'information_schema')
       and n.nspname !~ '^pg_(toast|temp)'
       and private.is_uuid_type(a.atttypid)
       and c.oid <> 'public.audit_log'::pg_catalog.regclass
       and c.oid <> 'private.client_name_words'::pg_catalog.regclass
  ),
  edges as (
    select distinct f.conrelid as child, f.confrelid as parent
      from pg_catalog.pg_constraint f
     where f.contype = 'f'
       and f.conrelid <> f.confrelid
       and f.conrelid in (select s.oid from scoped s)
       and f.confrelid in (select s.oid from scoped s)
  ),
  walk (oid, depth) as (
    select s.oid, 0 from scoped s
    union all
    select e.parent, w.depth + 1 from walk w join edges e on e.child = w.oid where w.depth < 32
  )
  select w.oid::pg_catalog.regclass, max(w.depth)::integer
    from walk w
   group by w.oid
   order by 2, 1::pg_catalog.text
$$;
comment on function private.organization_scoped_tables() is
  'Every table holding rows of an organization: the tables (any schema but the system ones and temporary ones) with an organization_id column of type uuid (or a domain over uuid, at any depth), except public.audit_log and the derived private.client_name_words (removed with the organization by its foreign key). depth orders deletions: a table comes after every scoped table that references it (0: nothing references it).';

create or replace function private.export_user_table_list()
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
  where a.relid <> all (private.export_covered_tables())
    and private.is_uuid_type(u.atttypid)
  order by c.relnamespace::regnamespace::text, c.relname
$$;
comment on function private.export_user_table_list() is
  'The registered tables beyond the layer''s own that have a uuid column user_id, whose rows of a user export_my_data holds: name (schema-qualified outside public) and the query of one user''s rows ($1: the user''s id) as one JSON array in record id order, without the registered secret columns.';

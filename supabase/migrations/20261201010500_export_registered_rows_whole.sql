-- Organization exports hold the whole row of a registered table, whatever
-- its columns are called.
--
-- The query that private.export_registered_table_list() writes for each
-- registered table (read by export_organization, its row limit and the
-- typed layer's streaming export) named the row `to_jsonb(x)`, x being the
-- table's alias. In a table with a column named x (a name `npm run
-- entity:new -- <name> --columns "x text"` accepts), that name means the
-- column, not the row: the export held the column's value instead of the
-- row (a jsonb column), or failed for every organization with a row there
-- ("cannot delete from scalar", any other type). `x.*` always means the
-- row. Nothing else changes.

set lock_timeout = '10s';
set statement_timeout = '15min';

create or replace function private.export_registered_table_list()
returns table (name text, rows_query text, count_query text)
language sql
stable
set search_path = pg_catalog, pg_temp
as $$
  select case when c.relnamespace = 'public'::regnamespace then c.relname::text
              else c.relnamespace::regnamespace::text || '.' || c.relname end,
         pg_catalog.format(
           'select pg_catalog.to_jsonb(x.*) operator(pg_catalog.-) %L::text[] as data, pg_catalog.row_number() over (order by x.%I) as n
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

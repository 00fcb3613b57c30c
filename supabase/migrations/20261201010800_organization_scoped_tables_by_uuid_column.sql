-- Only a uuid organization_id column makes a table hold an organization's rows.
--
-- private.organization_scoped_tables() (20261201007000, 20261201009900), which
-- delete_organization, the batched deletion and account deletion (a sole
-- member's organization goes with them) read, took every table with a column
-- named organization_id, whatever its type. A project table keyed by another
-- system's organization id (`organization_id text`, say a billing provider's)
-- made every deletion fail: "operator does not exist: text = uuid", for every
-- organization, and with it the deletion of any account that was the only
-- member of one. Now the column must be a uuid (or a domain over uuid), as
-- organizations.id is; other tables are left alone. Nothing else changes.

set lock_timeout = '10s';
set statement_timeout = '15min';

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
      join pg_catalog.pg_type t on t.oid = a.atttypid
     where c.relkind in ('r', 'p')
       and not c.relispartition
       and n.nspname not in ('pg_catalog', 'information_schema')
       and n.nspname !~ '^pg_(toast|temp)'
       and (case when t.typtype = 'd' then t.typbasetype else t.oid end) = 'pg_catalog.uuid'::pg_catalog.regtype
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
  'Every table holding rows of an organization: the tables (any schema but the system ones and temporary ones) with an organization_id column of type uuid (or a domain over uuid), except public.audit_log and the derived private.client_name_words (removed with the organization by its foreign key). depth orders deletions: a table comes after every scoped table that references it (0: nothing references it).';

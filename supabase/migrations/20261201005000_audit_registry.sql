-- Audit, table-driven: a registry row per audited table.
--
-- private.record_audit() knew each table's record id and organization column
-- by name. It now reads them from private.audited_tables, so a new table
-- (the entity generator, organization-defined roles, deletion summaries)
-- registers itself with private.register_audited_table() instead of
-- editing one function. Behaviour is unchanged for the existing tables.

set lock_timeout = '10s';
set statement_timeout = '15min';

create table private.audited_tables (
  relid regclass primary key,
  record_id_column name not null default 'id',
  organization_id_column name,
  secret_columns text[] not null default '{}'
);
comment on table private.audited_tables is
  'Tables whose changes private.record_audit() appends to public.audit_log, and how to read a row: which column is the record id, which the organization (null: rows belong to no organization), which columns never reach the log. Register with private.register_audited_table().';
comment on column private.audited_tables.record_id_column is 'Column copied to audit_log.record_id (a uuid).';
comment on column private.audited_tables.organization_id_column is
  'Column copied to audit_log.organization_id (a uuid); null when the table''s rows belong to no organization. For organizations itself: id.';
comment on column private.audited_tables.secret_columns is 'Columns left out of audit_log.old and audit_log.new (e.g. token hashes).';
revoke all on table private.audited_tables from public;

insert into private.audited_tables (relid, record_id_column, organization_id_column, secret_columns) values
  ('public.organizations', 'id', 'id', '{}'),
  ('public.organization_users', 'user_id', 'organization_id', '{}'),
  ('public.user_roles', 'user_id', 'organization_id', '{}'),
  ('public.clients', 'id', 'organization_id', '{}'),
  ('public.user_clients', 'client_id', 'organization_id', '{}'),
  ('public.invitations', 'id', 'organization_id', '{token_hash}'),
  ('public.users', 'id', null, '{}'),
  ('public.roles', 'id', null, '{}'),
  ('public.role_permissions', 'role_id', null, '{}');

create or replace function private.record_audit()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  entry private.audited_tables;
  old_row jsonb;
  new_row jsonb;
  row_data jsonb;
begin
  select * into entry from private.audited_tables a where a.relid = tg_relid;
  if not found then
    raise exception 'table % is not registered for audit', tg_relid::regclass
      using errcode = 'P0001',
            hint = 'Register it with private.register_audited_table(), which also creates its audit trigger.';
  end if;
  old_row := case when tg_op in ('UPDATE', 'DELETE') then to_jsonb(old) - entry.secret_columns end;
  new_row := case when tg_op in ('INSERT', 'UPDATE') then to_jsonb(new) - entry.secret_columns end;
  -- Nothing changed (updated_at moves on every update): nothing to record.
  if tg_op = 'UPDATE' and (old_row - 'updated_at') = (new_row - 'updated_at') then
    return null;
  end if;
  row_data := coalesce(new_row, old_row);
  insert into public.audit_log (organization_id, actor_id, action, table_name, record_id, old, new, created_at)
  values (
    case when entry.organization_id_column is not null then (row_data ->> entry.organization_id_column)::uuid end,
    auth.uid(),
    lower(tg_op),
    tg_table_name,
    (row_data ->> entry.record_id_column)::uuid,
    old_row,
    new_row,
    clock_timestamp()
  );
  return null;
end;
$$;
comment on function private.record_audit() is
  'Trigger: appends every change of a table registered in private.audited_tables to audit_log (actor auth.uid(), organization and record id read from the registered columns, old and new row without the secret columns). An update that changes nothing but updated_at is not recorded.';

create function private.register_audited_table(
  relid regclass,
  record_id_column name default 'id',
  organization_id_column name default 'organization_id',
  secret_columns text[] default '{}'
)
returns void
language plpgsql
set search_path = pg_catalog, pg_temp
as $$
declare
  missing text;
begin
  select string_agg(c, ', ') into missing
    from unnest(array[record_id_column, organization_id_column]::text[]) c
   where c is not null
     and not exists (select 1 from pg_attribute a where a.attrelid = relid and a.attname = c and a.attnum > 0 and not a.attisdropped);
  if missing is not null then
    raise exception 'table % has no column %', relid, missing using errcode = '42703';
  end if;
  insert into private.audited_tables as a (relid, record_id_column, organization_id_column, secret_columns)
  values (relid, record_id_column, organization_id_column, coalesce(secret_columns, '{}'))
  on conflict on constraint audited_tables_pkey do update
    set record_id_column = excluded.record_id_column,
        organization_id_column = excluded.organization_id_column,
        secret_columns = excluded.secret_columns;
  if not exists (select 1 from pg_trigger t where t.tgrelid = relid and t.tgname = (select c.relname from pg_class c where c.oid = relid) || '_audit') then
    execute format('create trigger %I after insert or update or delete on %s for each row execute function private.record_audit()',
                   (select c.relname from pg_class c where c.oid = relid) || '_audit', relid);
  end if;
  -- TRUNCATE fires no row trigger: it would bypass the audit log.
  execute format('revoke truncate on table %s from anon, authenticated, service_role', relid);
end;
$$;
comment on function private.register_audited_table(regclass, name, name, text[]) is
  'Extension API (call it from a migration): audit every insert, update and delete of a table into public.audit_log. record_id_column: the uuid column recorded as record_id; organization_id_column: the uuid column recorded as organization_id (null when rows belong to no organization); secret_columns: left out of the logged rows. Creates the trigger <table>_audit when missing and revokes TRUNCATE from the API roles. Idempotent.';
revoke all on function private.register_audited_table(regclass, name, name, text[]) from public;

-- Audit log: an update that changes nothing writes no row.
--
-- `update public.clients set name = name where ...`, repeated, wrote one
-- audit row per row per statement: anyone allowed to update could grow the
-- log at will, and the history filled with changes that were none. An update
-- whose new row equals the old one, apart from updated_at (which the
-- set_updated_at trigger moves on every update), is now skipped.

-- Fail fast rather than queue behind live traffic (and block it) on a busy database.
set lock_timeout = '10s';
set statement_timeout = '15min';

create or replace function private.record_audit()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  old_row jsonb := case when tg_op in ('UPDATE', 'DELETE') then to_jsonb(old) - 'token_hash' end;
  new_row jsonb := case when tg_op in ('INSERT', 'UPDATE') then to_jsonb(new) - 'token_hash' end;
  row_data jsonb := coalesce(new_row, old_row);
  org uuid;
  record uuid;
begin
  -- Nothing changed (updated_at moves on every update): nothing to record.
  if tg_op = 'UPDATE' and (old_row - 'updated_at') = (new_row - 'updated_at') then
    return null;
  end if;
  org := case tg_table_name
    when 'organizations' then (row_data ->> 'id')::uuid
    when 'users' then null
    when 'roles' then null
    when 'role_permissions' then null
    else (row_data ->> 'organization_id')::uuid
  end;
  record := case tg_table_name
    when 'organization_users' then (row_data ->> 'user_id')::uuid
    when 'user_roles' then (row_data ->> 'user_id')::uuid
    when 'user_clients' then (row_data ->> 'client_id')::uuid
    when 'role_permissions' then (row_data ->> 'role_id')::uuid
    else (row_data ->> 'id')::uuid
  end;
  insert into public.audit_log (organization_id, actor_id, action, table_name, record_id, old, new, created_at)
  values (org, auth.uid(), lower(tg_op), tg_table_name, record, old_row, new_row, clock_timestamp());
  return null;
end;
$$;
comment on function private.record_audit() is
  'Trigger: appends every change to audit_log (actor auth.uid(), organization, table, record id, old and new row without secrets). An update that changes nothing but updated_at is not recorded.';

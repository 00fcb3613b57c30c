-- Audit log: append-only history of every insert, update and delete.
--
-- Written by triggers (security definer) on organizations, organization_users,
-- user_roles, clients, user_clients, invitations, and on the users profile and
-- role catalog. The actor is auth.uid() (null for the service and for
-- migrations). Rows carry organization_id without a foreign key, so they
-- survive the deletion of their organization; invitations' token_hash is never
-- copied. Readable with audit.read; nobody but the service changes or deletes
-- rows.

-- Fail fast rather than queue behind live traffic (and block it) on a busy database.
set local lock_timeout = '10s';
set local statement_timeout = '15min';

create table public.audit_log (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid,
  actor_id uuid,
  action text not null check (action in ('insert', 'update', 'delete')),
  table_name text not null,
  record_id uuid,
  old jsonb,
  new jsonb,
  created_at timestamptz not null default now()
);
comment on table public.audit_log is
  'Append-only history of changes, written by triggers. Survives the deletion of its organization. Read with audit.read; only the service may change or delete rows.';
comment on column public.audit_log.organization_id is
  'Organization the changed row belongs to (null for profiles and the role catalog). No foreign key: rows outlive their organization.';
comment on column public.audit_log.actor_id is 'auth.uid() of the user who made the change; null for the service, migrations and seeds.';
comment on column public.audit_log.record_id is
  'Id of the changed record: the row id; for organization_users and user_roles the member''s user id; for user_clients the client id; for role_permissions the role id.';
comment on column public.audit_log.old is 'Row before the change (update, delete), as jsonb; secrets such as token_hash are left out.';
comment on column public.audit_log.new is 'Row after the change (insert, update), as jsonb; secrets such as token_hash are left out.';

-- "Latest first in one organization", with a stable tie-break for keyset pages.
create index audit_log_organization_id_created_at_idx on public.audit_log (organization_id, created_at desc, id desc);
create index audit_log_table_name_record_id_idx on public.audit_log (table_name, record_id);

alter table public.audit_log enable row level security;

revoke all on table public.audit_log from anon, authenticated;
grant select on table public.audit_log to authenticated;
grant all on table public.audit_log to service_role;

create policy audit_log_select_auditors on public.audit_log
  for select to authenticated
  using (organization_id = any ((select private.organization_ids_with('audit.read'))::uuid[]));
comment on policy audit_log_select_auditors on public.audit_log is
  'Holders of audit.read (owner, admin) read their organization''s history. No policy allows insert, update or delete.';

create function private.record_audit()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  old_row jsonb := case when tg_op in ('UPDATE', 'DELETE') then to_jsonb(old) - 'token_hash' end;
  new_row jsonb := case when tg_op in ('INSERT', 'UPDATE') then to_jsonb(new) - 'token_hash' end;
  row_data jsonb := coalesce(new_row, old_row);
  org uuid;
  record uuid;
begin
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
  'Trigger: appends every change to audit_log (actor auth.uid(), organization, table, record id, old and new row without secrets).';

-- One AFTER row trigger per audited table, named <table>_audit.
do $$
declare
  audited text;
begin
  foreach audited in array array[
    'organizations', 'organization_users', 'user_roles', 'clients', 'user_clients',
    'invitations', 'users', 'roles', 'role_permissions'
  ] loop
    execute format(
      'create trigger %I after insert or update or delete on public.%I for each row execute function private.record_audit()',
      audited || '_audit', audited
    );
  end loop;
end
$$;

revoke all on function private.record_audit() from public, anon, authenticated;

-- TRUNCATE fires no row trigger: it would bypass the audit log and the owner
-- invariant. Nobody gets it through the API roles, not even the service.
revoke truncate on table
  public.organizations, public.users, public.roles, public.permissions, public.role_permissions,
  public.organization_users, public.user_roles, public.clients, public.user_clients,
  public.invitations, public.audit_log
  from anon, authenticated, service_role;

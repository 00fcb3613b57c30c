-- Deleting an organization: one audited path.
--
-- * public.delete_organization(organization_id) (holders of organization.delete)
--   removes the organization and every row scoped to it in one transaction.
--   "Scoped to it" is read from the catalog: every table, in any schema, with
--   an organization_id column (except audit_log), so a table added later goes
--   too. Rows are deleted children first (foreign keys decide the order), and
--   counted per table.
-- * The audit log keeps every earlier entry and gains ONE summary entry
--   (action delete on organizations, old: the organization row, new:
--   {"deleted_rows": {table: n}, "method": ...}), not one entry per removed
--   row: private.record_audit() skips the deletions of an organization's rows
--   inside the transaction that is purging it (marked in the tombstone with
--   that transaction's id, so nobody can forge it with a setting).
-- * private.deleted_organizations is the tombstone: an id once used by a
--   deleted organization is never used again (insert refused).
-- * Audit rows of a deleted organization stay, readable by the service only
--   (nobody holds audit.read in an organization that no longer exists).
-- * The API roles lose the plain table DELETE on organizations.
-- * Size: the RPC runs as `authenticated`, whose statement_timeout is 8 s on
--   hosted Supabase. Above settings.delete_organization_max_rows rows
--   (default 25,000) it refuses and points to the server-side batched
--   deletion (private.delete_organization_batch, then
--   private.finish_organization_deletion, run as the service; the typed
--   layer's deleteOrganizationInBatches does both).

set lock_timeout = '10s';
set statement_timeout = '15min';

-- Limits ------------------------------------------------------------------------

alter table public.settings
  add column delete_organization_max_rows integer not null default 25000 check (delete_organization_max_rows >= 0),
  add column export_organization_max_rows integer not null default 25000 check (export_organization_max_rows >= 0);
comment on column public.settings.delete_organization_max_rows is
  'Largest organization (rows over every organization-scoped table) delete_organization removes in one call; above it the call refuses and points to the batched deletion run as the service (hosted: authenticated has an 8 s statement timeout).';
comment on column public.settings.export_organization_max_rows is
  'Largest organization (rows exported: members, clients, assignments, invitations, audit entries) export_organization returns in one JSON document; above it the call refuses and points to the streaming export.';
grant update (delete_organization_max_rows, export_organization_max_rows) on table public.settings to service_role;

-- Tombstones ---------------------------------------------------------------------

create table private.deleted_organizations (
  id uuid primary key,
  name text not null,
  slug text not null,
  requested_by uuid,
  started_at timestamptz not null default now(),
  deleted_at timestamptz,
  deleted_rows jsonb not null default '{}',
  purging_xid xid8
);
comment on table private.deleted_organizations is
  'Tombstones: one row per deleted organization (or one being deleted in batches: deleted_at null). Its id is never used again.';
comment on column private.deleted_organizations.requested_by is 'Who asked for the deletion (null: the service).';
comment on column private.deleted_organizations.deleted_at is 'When the organization row went; null while a batched deletion is under way.';
comment on column private.deleted_organizations.deleted_rows is 'Rows removed so far, per table ({"public.clients": 300000, ...}).';
comment on column private.deleted_organizations.purging_xid is
  'Id of the transaction purging the organization''s rows right now: private.record_audit() skips their deletions in that transaction only (the summary entry replaces them).';
revoke all on table private.deleted_organizations from public, anon, authenticated;
grant select on table private.deleted_organizations to service_role;

create function private.refuse_tombstoned_organization_id()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
  if exists (select 1 from private.deleted_organizations d where d.id = new.id) then
    raise exception 'organization id % belonged to a deleted organization', new.id
      using errcode = '23505',
            detail = 'Ids of deleted organizations are never used again.',
            hint = 'Let the database choose the id.';
  end if;
  return new;
end;
$$;
comment on function private.refuse_tombstoned_organization_id() is
  'Trigger on organizations (before insert, before update of id): refuses the id of a deleted organization (private.deleted_organizations), so an id never names two organizations.';
revoke all on function private.refuse_tombstoned_organization_id() from public, anon, authenticated, service_role;

create trigger organizations_refuse_tombstoned_id
  before insert or update of id on public.organizations
  for each row execute function private.refuse_tombstoned_organization_id();

-- Which tables hold an organization's rows -----------------------------------------

create function private.organization_scoped_tables()
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
       and c.oid <> 'public.audit_log'::pg_catalog.regclass
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
  'Every table holding rows of an organization: the tables (any schema but the system ones and temporary ones) with an organization_id column, except public.audit_log. depth orders deletions: a table comes after every scoped table that references it (0: nothing references it).';
revoke all on function private.organization_scoped_tables() from public, anon, authenticated;
grant execute on function private.organization_scoped_tables() to service_role;

create function private.organization_row_count(organization_id uuid, up_to bigint)
returns bigint
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $$
declare
  t regclass;
  n bigint;
  total bigint := 1;  -- the organization row itself
begin
  for t in select s.relid from private.organization_scoped_tables() s loop
    execute pg_catalog.format('select count(*) from (select 1 from %s x where x.organization_id = $1 limit $2) s', t)
      into n using organization_row_count.organization_id, greatest(up_to - total + 1, 0);
    total := total + n;
    exit when total > up_to;
  end loop;
  return total;
end;
$$;
comment on function private.organization_row_count(uuid, bigint) is
  'Rows of an organization over private.organization_scoped_tables(), plus its own row; counting stops once it exceeds up_to (a bounded, cheap size check).';
revoke all on function private.organization_row_count(uuid, bigint) from public, anon, authenticated, service_role;

create function private.add_row_counts(a jsonb, b jsonb)
returns jsonb
language sql
immutable
set search_path = pg_catalog, pg_temp
as $$
  select coalesce(pg_catalog.jsonb_object_agg(k, n), '{}')
    from (select e.key as k, sum(e.value::bigint) as n
            from (select * from pg_catalog.jsonb_each_text(coalesce(a, '{}'))
                  union all
                  select * from pg_catalog.jsonb_each_text(coalesce(b, '{}'))) e
           group by e.key) s
$$;
comment on function private.add_row_counts(jsonb, jsonb) is 'Sum of two {table: rows} objects.';
revoke all on function private.add_row_counts(jsonb, jsonb) from public, anon, authenticated, service_role;

-- Purging -------------------------------------------------------------------------

create function private.mark_organization_purging(organization public.organizations, requested_by uuid)
returns void
language plpgsql
set search_path = pg_catalog, pg_temp
as $$
begin
  insert into private.deleted_organizations as d (id, name, slug, requested_by, purging_xid)
  values (organization.id, organization.name, organization.slug, requested_by, pg_catalog.pg_current_xact_id())
  on conflict on constraint deleted_organizations_pkey do update
    set purging_xid = excluded.purging_xid,
        requested_by = coalesce(excluded.requested_by, d.requested_by);
  -- The audit trigger's fast path: only when this setting names the row's organization does it look at the tombstone.
  perform pg_catalog.set_config('org_layer.purging_organization', organization.id::text, true);
end;
$$;
comment on function private.mark_organization_purging(public.organizations, uuid) is
  'Writes (or updates) the organization''s tombstone with the current transaction''s id, so private.record_audit() skips the deletions of its rows in this transaction only.';
revoke all on function private.mark_organization_purging(public.organizations, uuid) from public, anon, authenticated, service_role;

create function private.purge_organization_rows(organization_id uuid, max_rows bigint, keep regclass[])
returns jsonb
language plpgsql
set search_path = pg_catalog, pg_temp
as $$
declare
  t regclass;
  n bigint;
  budget bigint := max_rows;
  counts jsonb := '{}'::jsonb;
begin
  for t in
    select s.relid from private.organization_scoped_tables() s
     where s.relid <> all (coalesce(keep, '{}'))
     order by s.depth, s.relid::text
  loop
    if budget is null then
      execute pg_catalog.format('delete from %s x where x.organization_id = $1', t) using purge_organization_rows.organization_id;
      get diagnostics n = row_count;
    else
      begin
        execute pg_catalog.format(
          'delete from %1$s x where x.ctid = any (array(select y.ctid from %1$s y where y.organization_id = $1 limit $2))', t)
          using purge_organization_rows.organization_id, budget;
        get diagnostics n = row_count;
      exception when foreign_key_violation then
        -- Still referenced by rows kept for the final step (e.g. roles held by members): left to it.
        n := 0;
      end;
    end if;
    -- Internal bookkeeping (schema private) goes without being reported.
    if n > 0 and (select c.relnamespace from pg_catalog.pg_class c where c.oid = t) <> 'private'::regnamespace then
      counts := counts || pg_catalog.jsonb_build_object(t::text, n);
    end if;
    if budget is not null then
      budget := budget - n;
      exit when budget <= 0;
    end if;
  end loop;
  return counts;
end;
$$;
comment on function private.purge_organization_rows(uuid, bigint, regclass[]) is
  'Deletes an organization''s rows from private.organization_scoped_tables(), children first, except the tables in keep; at most max_rows rows (null: all), one table emptied before the next. Returns the rows deleted per table (schema private not reported). Call it after private.mark_organization_purging().';
revoke all on function private.purge_organization_rows(uuid, bigint, regclass[]) from public, anon, authenticated, service_role;

create function private.finish_organization_deletion(organization_id uuid, requested_by uuid default null, method text default 'batched')
returns jsonb
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  org public.organizations;
  counts jsonb;
  tomb private.deleted_organizations;
begin
  -- FOR UPDATE: waits for, then blocks, new rows referencing the organization.
  select * into org from public.organizations o where o.id = finish_organization_deletion.organization_id for update;
  if not found then
    raise exception 'organization not found' using errcode = 'P0002',
      detail = 'No organization with this id exists (it may already be deleted).';
  end if;
  perform private.mark_organization_purging(org, requested_by);
  counts := private.purge_organization_rows(org.id, null, null);
  delete from public.organizations o where o.id = org.id;
  counts := counts || '{"public.organizations": 1}'::jsonb;
  update private.deleted_organizations d
     set deleted_at = pg_catalog.now(),
         deleted_rows = private.add_row_counts(d.deleted_rows, counts),
         purging_xid = null
   where d.id = org.id
  returning * into tomb;
  perform pg_catalog.set_config('org_layer.purging_organization', '', true);
  insert into public.audit_log (organization_id, actor_id, action, table_name, record_id, old, new, created_at)
  values (org.id, requested_by, 'delete', 'organizations', org.id, pg_catalog.to_jsonb(org),
          pg_catalog.jsonb_build_object('deleted_rows', tomb.deleted_rows, 'method', method, 'started_at', tomb.started_at),
          pg_catalog.clock_timestamp());
  return tomb.deleted_rows;
end;
$$;
comment on function private.finish_organization_deletion(uuid, uuid, text) is
  'Deletes an organization and every row still scoped to it, in this transaction, with one summary audit entry (old: the organization row; new: deleted_rows per table, including earlier batches, and method) and its tombstone. For the service after private.delete_organization_batch (requested_by: who asked, recorded as the actor), and used by delete_organization and account deletion. No size limit: run it where no short statement timeout applies.';
revoke all on function private.finish_organization_deletion(uuid, uuid, text) from public, anon, authenticated;
grant execute on function private.finish_organization_deletion(uuid, uuid, text) to service_role;

create function private.delete_organization_batch(organization_id uuid, batch_size integer default 10000, requested_by uuid default null)
returns bigint
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  org public.organizations;
  counts jsonb;
  deleted bigint;
begin
  if batch_size is null or batch_size < 1 then
    raise exception 'batch_size must be at least 1' using errcode = '22023';
  end if;
  -- Serializes with other batches and with the final step; new clients (key-share locks) still pass.
  select * into org from public.organizations o where o.id = delete_organization_batch.organization_id for no key update;
  if not found then
    raise exception 'organization not found' using errcode = 'P0002',
      detail = 'No organization with this id exists (it may already be deleted).';
  end if;
  perform private.mark_organization_purging(org, requested_by);
  -- Memberships and roles stay for the final step: the organization keeps its owner until it goes.
  counts := private.purge_organization_rows(org.id, batch_size, array['public.organization_users', 'public.user_roles']::regclass[]);
  update private.deleted_organizations d
     set deleted_rows = private.add_row_counts(d.deleted_rows, counts),
         purging_xid = null
   where d.id = org.id;
  perform pg_catalog.set_config('org_layer.purging_organization', '', true);
  select coalesce(sum(e.value::bigint), 0) into deleted from pg_catalog.jsonb_each_text(counts) e;
  return deleted;
end;
$$;
comment on function private.delete_organization_batch(uuid, integer, uuid) is
  'Server-side deletion of a large organization, step 1 (service only): deletes at most batch_size of its rows (children first; memberships and roles stay), counts them in the tombstone, writes no per-row audit entries. Returns the rows deleted: call it in separate transactions until it returns 0, then private.finish_organization_deletion.';
revoke all on function private.delete_organization_batch(uuid, integer, uuid) from public, anon, authenticated;
grant execute on function private.delete_organization_batch(uuid, integer, uuid) to service_role;

-- The audit trigger: skips the purge's deletions -------------------------------------

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
  org uuid;
begin
  select * into entry from private.audited_tables a where a.relid = tg_relid;
  if not found then
    raise exception 'table % is not registered for audit', tg_relid::regclass
      using errcode = 'P0001',
            hint = 'Register it with private.register_audited_table(), which also creates its audit trigger.';
  end if;
  -- An organization being deleted: its summary entry replaces one entry per removed row.
  -- Checked first, so that the purge pays as little as possible per row.
  if tg_op = 'DELETE' and entry.organization_id_column is not null
     and current_setting('org_layer.purging_organization', true) <> '' then
    org := (to_jsonb(old) ->> entry.organization_id_column)::uuid;
    if current_setting('org_layer.purging_organization', true) = org::text
       and exists (select 1 from private.deleted_organizations d
                    where d.id = org and d.purging_xid = pg_current_xact_id()) then
      return null;
    end if;
  end if;
  old_row := case when tg_op in ('UPDATE', 'DELETE') then to_jsonb(old) - entry.secret_columns end;
  new_row := case when tg_op in ('INSERT', 'UPDATE') then to_jsonb(new) - entry.secret_columns end;
  -- Nothing changed (updated_at moves on every update): nothing to record.
  if tg_op = 'UPDATE' and (old_row - 'updated_at') = (new_row - 'updated_at') then
    return null;
  end if;
  row_data := coalesce(new_row, old_row);
  org := case when entry.organization_id_column is not null then (row_data ->> entry.organization_id_column)::uuid end;
  insert into public.audit_log (organization_id, actor_id, action, table_name, record_id, old, new, created_at)
  values (
    org,
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
  'Trigger: appends every change of a table registered in private.audited_tables to audit_log (actor auth.uid(), organization and record id read from the registered columns, old and new row without the secret columns). An update that changes nothing but updated_at is not recorded, nor are the deletions of an organization''s rows by the transaction deleting that organization (its tombstone names the transaction): that deletion writes one summary entry instead.';

-- The RPC ---------------------------------------------------------------------------

create function public.delete_organization(organization_id uuid)
returns void
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  -- Membership and rights first, before any lock.
  uid uuid := private.require_permission(delete_organization.organization_id, 'organization.delete');
  max_rows bigint;
begin
  perform private.lock_organization(delete_organization.organization_id);
  -- Rights again: a role change that committed while this call waited counts.
  perform private.require_permission(delete_organization.organization_id, 'organization.delete');
  select s.delete_organization_max_rows into max_rows from public.settings s where s.id;
  if private.organization_row_count(delete_organization.organization_id, max_rows) > max_rows then
    raise exception 'organization too large to delete in one call: more than % rows', max_rows
      using errcode = 'P0001',
            detail = 'A deletion this size would outrun the statement timeout of the API (8 s on hosted Supabase).',
            hint = 'Delete it server-side as the service, in batches: deleteOrganizationInBatches() of the typed layer (src/lifecycle.ts).';
  end if;
  perform private.finish_organization_deletion(delete_organization.organization_id, uid, 'delete_organization');
end;
$$;
comment on function public.delete_organization(uuid) is
  'Deletes an organization with everything scoped to it (memberships, roles, its own roles, clients, assignments, invitations: every table with an organization_id but audit_log), in one transaction. Needs organization.delete. The audit log keeps its earlier entries and gains one summary entry (who, rows per table); the id is never used again. Refuses organizations above settings.delete_organization_max_rows rows (default 25,000), pointing to the batched deletion.';
revoke all on function public.delete_organization(uuid) from public, anon, service_role;
grant execute on function public.delete_organization(uuid) to authenticated;

-- One path: no plain DELETE on organizations through the API --------------------------

drop policy organizations_delete_permitted on public.organizations;
revoke delete on table public.organizations from anon, authenticated, service_role;

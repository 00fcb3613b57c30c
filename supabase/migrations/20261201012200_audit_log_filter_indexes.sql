-- The audit log's filters are index searches within an organization.
--
-- Holders of audit.read list their organization's entries latest first
-- (audit_log_organization_id_created_at_idx), and filter them by record, by
-- actor, by table or by action (the typed layer's listAuditLog, or the same
-- filters through supabase-js). Only the organization and the time were
-- indexed together: in an organization with 854,315 entries (a 3,000,000-entry
-- log) a record's history took 1.5 s under RLS, an actor's 196 ms, the
-- entries of a rarely changed table 147 ms, the deletions 1.8 s, each reading
-- the organization's whole log (the planner cannot see which organizations
-- the read policy's array names, so it takes both conditions on
-- organization_id for a few thousand rows and picks the time index). Each
-- now has an index of its own, in the list's order: 0.13 to 0.4 ms.
--
-- Deletions are rare, so they get a partial index; inserts and updates are
-- most of the log, and the time index finds them at once. Each index costs
-- every audited write a little (about 0.05 ms).
--
-- Plain index builds: a concurrent build cannot run inside the migration's
-- transaction. They block audited writes while they run (seconds per million
-- entries); on a large, busy log apply this migration in a quiet moment.

set lock_timeout = '10s';
set statement_timeout = '15min';

-- squawk-ignore require-concurrent-index-creation
create index audit_log_organization_id_record_id_created_at_idx
  on public.audit_log (organization_id, record_id, created_at desc, id desc);
comment on index public.audit_log_organization_id_record_id_created_at_idx is
  'An organization''s history of one record, latest first (audit readers: listAuditLog recordId, supabase-js .eq(''record_id'', ...)).';

-- squawk-ignore require-concurrent-index-creation
create index audit_log_organization_id_actor_id_created_at_idx
  on public.audit_log (organization_id, actor_id, created_at desc, id desc);
comment on index public.audit_log_organization_id_actor_id_created_at_idx is
  'What one user changed in an organization, latest first (listAuditLog actorId). audit_log_actor_id_created_at_idx serves a user''s entries across organizations (export_my_data).';

-- squawk-ignore require-concurrent-index-creation
create index audit_log_organization_id_table_name_created_at_idx
  on public.audit_log (organization_id, table_name, created_at desc, id desc);
comment on index public.audit_log_organization_id_table_name_created_at_idx is
  'An organization''s entries of one table, latest first (listAuditLog tableName).';

-- squawk-ignore require-concurrent-index-creation
create index audit_log_organization_id_deletes_created_at_idx
  on public.audit_log (organization_id, created_at desc, id desc)
  where action = 'delete';
comment on index public.audit_log_organization_id_deletes_created_at_idx is
  'An organization''s deletions, latest first (listAuditLog action delete): few among the entries, so found here instead of among every insert and update.';

-- The clients read policy (20261201006100) writes its rule twice: an exact
-- version checked on every row (the workable clients as a hashed set) and a
-- version of arrays compared with columns, there for the indexes. The second
-- version's creator arm also compared organization_id with
-- private.organization_ids_with('clients.create'): one more helper call on
-- every statement that reads clients through a bitmap, for an arm whose
-- index finds only rows created by the caller in the current transaction.
-- The exact version keeps that comparison (it is evaluated only for such
-- rows); the index version now matches on created_by and created_at alone,
-- which the index's leading columns serve. The policy is the exact rule and
-- a condition every row of the rule meets, so it admits the same rows.

set lock_timeout = '10s';
set statement_timeout = '15min';

alter policy clients_select_readers_or_assigned on public.clients
  using (
    -- The rule, exactly, with the workable clients as a hashed set: one
    -- lookup per row. Wrapped in `(case when ... then true end) is not null`
    -- so that the planner, which cannot estimate a sub-select, takes it for
    -- nearly always true and keeps its estimates of the clause below.
    (case when
      organization_id = any ((select private.organization_ids_with('clients.read'))::uuid[])
      or id in (select pg_catalog.unnest((select private.workable_client_ids())::uuid[]))
      or (
        created_by = (select auth.uid()) and created_at = (select pg_catalog.now())
        and organization_id = any ((select private.organization_ids_with('clients.create'))::uuid[])
      )
     then true end) is not null
    -- Every row of the rule meets this, and every arm is an index condition,
    -- so indexes find the rows and a bitmap scan drops the clause. The
    -- creator arm leaves the organizations to the exact rule above.
    and (
      organization_id = any ((select private.organization_ids_with('clients.read'))::uuid[])
      or id = any ((select private.workable_client_ids())::uuid[])
      or (created_by = (select auth.uid()) and created_at = (select pg_catalog.now()))
    )
  );
comment on policy clients_select_readers_or_assigned on public.clients is
  'Holders of clients.read (owner, admin, manager, viewer, or an organization''s role with it) see every client of the organization; holders of clients.work_assigned (member, or an organization''s role with it) the clients assigned to them. The rule is written exactly once, with the workable clients as a hashed set (one lookup per row, wherever rows are checked), and joined by AND with a condition every row of the rule meets, of arrays compared with columns (every arm an index condition; created_at is compared with (select now()), computed once per statement), which indexes serve and a bitmap heap scan does not check again. The third arm lets a creator read back, in the transaction that created it, the client it just inserted (insert ... returning, supabase-js insert().select()): the creator''s assignment is written by an AFTER trigger, too late for RETURNING. created_by and created_at are not writable through the API, so the arm matches nothing outside that transaction, and only while the creator may still create clients there.';

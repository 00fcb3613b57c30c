-- Clients: a read policy whose per-row check is one hash lookup, or nothing.
--
-- The policy compares each row it looks at with the array of the caller's
-- assigned clients, `id = any (<array>)`. PostgreSQL searches such an array
-- linearly when its value comes from a sub-select (it hashes only arrays
-- known when the statement is planned), so a consultant with 2,000
-- assigned clients paid up to 2,000 comparisons for every row the plan
-- checked; the explicit filter, with literal arrays, is hashed. For counts
-- and for users who read little, the planner reads the rows through a
-- bitmap of the policy's arms (readers' organizations, assigned clients,
-- the creator arm), then checked every row against the whole policy again,
-- because the creator arm called now(): PostgreSQL drops a filter that its
-- index conditions imply, but proves nothing about clauses calling a
-- function that is not immutable, and part of that arm was no index
-- condition. The consultant's page and count took about 3x the explicit
-- filter.
--
-- Now the policy is the rule written twice, joined by AND (each version
-- alone is exactly the rule):
-- * as arrays compared with columns, every arm wholly an index condition:
--   the creator arm compares created_at with `(select now())`, a value
--   computed once per statement (the same value: the transaction's start),
--   and its index covers organization_id too. Indexes find the rows, and a
--   bitmap heap scan over the arms drops this version from its filter (its
--   conditions are this version itself);
-- * with the assigned clients as `id in (select unnest(<array>))`, a hashed
--   set: whatever plan checks rows (a sequential scan of a small table, an
--   organization's name index, the bitmap's filter), a row costs one hash
--   lookup, and rows this version rejects never reach the array search.
--   The planner cannot estimate a sub-select, so this version is wrapped in
--   `(case when ... then true end) is not null`, which it takes for true
--   99.5 % of the time: its row estimates, and so its plans for large
--   organizations, stay those of the first version.
-- Who may read what is unchanged: the threat suite's select cases are the proof.

-- Fail fast rather than queue behind live traffic (and block it) on a busy database.
set lock_timeout = '10s';
set statement_timeout = '15min';

-- The creator arm's index, now with organization_id: the whole arm is an index condition.
-- squawk-ignore require-concurrent-index-creation
create index clients_created_by_created_at_organization_id_idx on public.clients (created_by, created_at, organization_id);
comment on index public.clients_created_by_created_at_organization_id_idx is
  'Behind the created_by foreign key and the read policy''s creator arm (created_by = me, created_at = now(), an organization where I create).';
-- squawk-ignore require-concurrent-index-deletion
drop index public.clients_created_by_created_at_idx;

-- alter, not drop and create: there is never a moment without the policy
-- (supabase db push does not wrap a migration in a transaction).
alter policy clients_select_readers_or_assigned on public.clients
  using (
    -- The rule, with the assigned clients as a hashed set: one lookup per row.
    -- Wrapped in `(case when ... then true end) is not null` so that the
    -- planner, which cannot estimate a sub-select, takes it for nearly always
    -- true (0.995) and keeps its estimates of the clause below.
    (case when
      organization_id = any ((select private.organization_ids_with('clients.read'))::uuid[])
      or id in (select pg_catalog.unnest((select private.assigned_client_ids())::uuid[]))
      or (
        created_by = (select auth.uid()) and created_at = (select pg_catalog.now())
        and organization_id = any ((select private.organization_ids_with('clients.create'))::uuid[])
      )
     then true end) is not null
    -- The same rule with the assigned clients as an array: every arm an index
    -- condition, so indexes find the rows and a bitmap scan drops the clause.
    and (
      organization_id = any ((select private.organization_ids_with('clients.read'))::uuid[])
      or id = any ((select private.assigned_client_ids())::uuid[])
      or (
        created_by = (select auth.uid()) and created_at = (select pg_catalog.now())
        and organization_id = any ((select private.organization_ids_with('clients.create'))::uuid[])
      )
    )
  );
comment on policy clients_select_readers_or_assigned on public.clients is
  'Holders of clients.read (owner, admin, manager, viewer) see every client of the organization; others see the clients assigned to them. The rule is written twice: once with the assigned clients as a hashed set (one lookup per row, wherever rows are checked), once as arrays compared with columns (every arm an index condition; created_at is compared with (select now()), computed once per statement), which indexes serve and a bitmap heap scan does not check again. The third arm lets a creator read back, in the transaction that created it, the client it just inserted (insert ... returning, supabase-js insert().select()): the creator''s assignment is written by an AFTER trigger, too late for RETURNING. created_by and created_at are not writable through the API, so the arm matches nothing outside that transaction, and only while the creator may still create clients there.';

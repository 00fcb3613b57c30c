-- Clients: case-insensitive name search that an index serves under RLS.
--
-- Under row-level security PostgreSQL evaluates a query's own conditions
-- before the policy only when they are leakproof, and only those can become
-- index conditions. LIKE, ILIKE and lower() are not leakproof, so
-- `lower(name) like 'acm%'` was checked row by row over every client of the
-- organization the policy let through. The lower-cased name is now stored in
-- a generated column with the C collation, whose comparison operators are
-- leakproof and byte-ordered: a prefix search is the range
-- `name_lower >= 'acm' and name_lower < 'acm' || U&'\+10FFFF'`, which the index
-- on (organization_id, name_lower) serves with or without RLS, with literal
-- values or with parameters (supabase-js: .gte() and .lt()).
--
-- Adding a stored generated column rewrites the table under an exclusive lock:
-- a few seconds per million clients. On a large, busy table run it in a quiet
-- moment (the lock timeout below makes it give up rather than queue).

-- Fail fast rather than queue behind live traffic (and block it) on a busy database.
set local lock_timeout = '10s';
set local statement_timeout = '15min';

-- The rewrite is the price of a column the database keeps right by itself
-- (squawk's alternative, a trigger and a backfill, rewrites every row too).
-- squawk-ignore adding-field-with-default
alter table public.clients add column name_lower text collate "C" not null generated always as (lower(name)) stored;
comment on column public.clients.name_lower is
  'lower(name), kept by the database (C collation: byte order, leakproof comparisons). Search by prefix with name_lower >= p and name_lower < p || U&''\+10FFFF'' where p is the lower-cased prefix; an index serves it under RLS.';

-- The table is locked exclusively by the rewrite above already; building and
-- dropping concurrently would gain nothing (and cannot run in a transaction).
-- squawk-ignore require-concurrent-index-creation
create index clients_organization_id_name_lower_idx on public.clients (organization_id, name_lower);
-- It served `lower(name) like ...`, which no index can serve under RLS.
-- squawk-ignore require-concurrent-index-deletion
drop index public.clients_organization_id_lower_name_idx;

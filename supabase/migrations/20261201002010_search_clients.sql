-- Clients: search by name and email (prefix, contains, typo-tolerant), served
-- by indexes for every reader.
--
-- Under row-level security only leakproof conditions reach an index, and
-- neither LIKE nor pg_trgm's operators are leakproof: a search through the
-- table's policies scans every client of the organization the policy lets
-- through. public.search_clients() therefore runs as its owner (security
-- definer, no RLS) and restates the clients read policy itself, for the
-- signed-in caller and the one organization asked for:
--   * holders of clients.read there: every client of the organization;
--   * everyone else: the clients assigned to them there, plus the clients
--     they created in the current transaction where they may create
--     (the policy's creator arm).
-- Readers' searches go through the indexes below; other callers' searches
-- start from their assignments, which are few.
--
-- pg_trgm and btree_gin (both trusted extensions: a database owner that is
-- not a superuser may create them) live in schema `extensions`, never in
-- `public`, where Supabase's default privileges would expose them to anon.

-- Fail fast rather than queue behind live traffic (and block it) on a busy database.
set lock_timeout = '10s';
set statement_timeout = '15min';

do $$
declare
  found_in text;
begin
  select e.extnamespace::regnamespace::text into found_in
  from pg_catalog.pg_extension e
  where e.extname in ('pg_trgm', 'btree_gin') and e.extnamespace::regnamespace::text <> 'extensions'
  limit 1;
  if found_in is not null then
    raise exception 'pg_trgm or btree_gin is installed in schema %, not in extensions', found_in
      using errcode = '55000',
            hint = 'Move it first: alter extension pg_trgm set schema extensions; alter extension btree_gin set schema extensions;';
  end if;
end
$$;

create extension if not exists pg_trgm with schema extensions;
create extension if not exists btree_gin with schema extensions;

-- Plain index builds: a concurrent build cannot run inside the migration's
-- transaction. They block writes to clients while they run (seconds per
-- million clients); on a large, busy table apply this migration in a quiet moment.
-- squawk-ignore require-concurrent-index-creation
create index clients_organization_id_email_lower_idx on public.clients (organization_id, (lower(email) collate "C"));
-- squawk-ignore require-concurrent-index-creation
create index clients_organization_id_name_lower_trgm_idx on public.clients
  using gin (organization_id, name_lower extensions.gin_trgm_ops);
-- squawk-ignore require-concurrent-index-creation
create index clients_organization_id_email_lower_trgm_idx on public.clients
  using gin (organization_id, (lower(email)) extensions.gin_trgm_ops);
comment on index public.clients_organization_id_email_lower_idx is
  'Email prefix search in one organization (search_clients): lower(email) in byte order, searched as a range.';
comment on index public.clients_organization_id_name_lower_trgm_idx is
  'Contains and typo-tolerant name search in one organization (search_clients): trigrams of name_lower, with organization_id (btree_gin).';
comment on index public.clients_organization_id_email_lower_trgm_idx is
  'Contains and typo-tolerant email search in one organization (search_clients): trigrams of lower(email), with organization_id (btree_gin).';

create function public.search_clients(organization_id uuid, query text, max_results integer default 20)
returns setof public.clients
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
-- Typo tolerance: a word of the name or email shares at least half of the
-- query's trigrams (pg_trgm's default, 0.6, misses one swapped letter in a
-- six-letter word). Set here, the caller's setting never changes what matches.
set pg_trgm.word_similarity_threshold = 0.5
rows 20
as $$
declare
  org constant uuid := search_clients.organization_id;
  uid uuid;
  term text;
  upper_bound text;
  pattern text;
  -- Prefix matches ranked per column: at most this many, the first by name (by email).
  prefix_cap constant integer := 500;
  reads_all boolean;
  may_create boolean;
  prefix_ids uuid[] := '{}'::uuid[];
  other_ids uuid[] := '{}'::uuid[];
begin
  if org is null then
    raise exception 'organization_id is required' using errcode = '22004';
  end if;
  if query is null or pg_catalog.btrim(query) = '' then
    raise exception 'query must not be empty' using errcode = '22023';
  end if;
  if pg_catalog.char_length(query) > 200 then
    raise exception 'query is longer than 200 characters' using errcode = '22023';
  end if;
  if max_results is null or max_results < 1 or max_results > 100 then
    raise exception 'max_results must be between 1 and 100, got %', coalesce(max_results::text, 'null')
      using errcode = '22023';
  end if;
  uid := private.require_user();

  term := pg_catalog.lower(pg_catalog.btrim(query));
  upper_bound := term || U&'\+10FFFF';
  pattern := '%' || pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(term, '\', '\\'), '%', '\%'), '_', '\_') || '%';

  -- The read policy of public.clients, for this caller and this organization.
  reads_all := org = any (private.organization_ids_with('clients.read'));

  if not reads_all then
    may_create := org = any (private.organization_ids_with('clients.create'));
    -- Assigned clients (id = any (assigned_client_ids())), and the creator arm.
    return query
    select c.*
    from public.clients c
    where c.organization_id = org
      and c.id in (
        select uc.client_id from public.user_clients uc
        where uc.organization_id = org and uc.user_id = uid
        union all
        select mine.id from public.clients mine
        where may_create and mine.created_by = uid and mine.created_at = pg_catalog.now() and mine.organization_id = org
      )
      and (
        pg_catalog.starts_with(c.name_lower, term)
        or pg_catalog.starts_with(pg_catalog.lower(c.email), term)
        or (pg_catalog.char_length(term) >= 3 and (
          pg_catalog.strpos(c.name_lower, term) > 0
          or pg_catalog.strpos(pg_catalog.lower(c.email), term) > 0
          or term operator(extensions.<%) c.name_lower))
      )
    order by
      (pg_catalog.starts_with(c.name_lower, term) or pg_catalog.starts_with(pg_catalog.lower(c.email), term)) desc,
      greatest(
        extensions.word_similarity(term, c.name_lower),
        case when pg_catalog.strpos(pg_catalog.lower(c.email), term) > 0
             then extensions.word_similarity(term, pg_catalog.lower(c.email)) else 0 end) desc,
      c.name, c.id
    limit max_results;
    return;
  end if;

  -- Readers: prefix matches first, through the (organization_id, name_lower)
  -- and (organization_id, lower(email)) ranges.
  select coalesce(pg_catalog.array_agg(p.id), '{}') into prefix_ids
  from (
    (select c.id from public.clients c
     where c.organization_id = org and c.name_lower >= term and c.name_lower < upper_bound
       and pg_catalog.starts_with(c.name_lower, term)
     order by c.name_lower
     limit prefix_cap)
    union
    (select c.id from public.clients c
     where c.organization_id = org
       and pg_catalog.lower(c.email) collate "C" >= term and pg_catalog.lower(c.email) collate "C" < upper_bound
       and pg_catalog.starts_with(pg_catalog.lower(c.email), term)
     order by pg_catalog.lower(c.email) collate "C"
     limit prefix_cap)
  ) p;

  -- Every prefix match ranks before any other match: other matches (contains,
  -- or similar words) are looked for only when the prefix matches leave room,
  -- and only for queries of three characters or more.
  if pg_catalog.cardinality(prefix_ids) < max_results and pg_catalog.char_length(term) >= 3 then
    select coalesce(pg_catalog.array_agg(o.id), '{}') into other_ids
    from (
      select c.id
      from public.clients c
      where c.organization_id = org
        and (c.name_lower like pattern
             or pg_catalog.lower(c.email) like pattern
             or term operator(extensions.<%) c.name_lower)
        and c.id <> all (prefix_ids)
      order by greatest(
        extensions.word_similarity(term, c.name_lower),
        case when pg_catalog.strpos(pg_catalog.lower(c.email), term) > 0
             then extensions.word_similarity(term, pg_catalog.lower(c.email)) else 0 end) desc,
               c.name, c.id
      limit max_results - pg_catalog.cardinality(prefix_ids)
    ) o;
  end if;

  return query
  select c.*
  from public.clients c
  where c.id = any (prefix_ids || other_ids) and c.organization_id = org
  order by
    (c.id = any (prefix_ids)) desc,
    greatest(
        extensions.word_similarity(term, c.name_lower),
        case when pg_catalog.strpos(pg_catalog.lower(c.email), term) > 0
             then extensions.word_similarity(term, pg_catalog.lower(c.email)) else 0 end) desc,
    c.name, c.id
  limit max_results;
end;
$$;
comment on function public.search_clients(uuid, text, integer) is
  'Search the clients of one organization that the caller may read (exactly the rows the clients select policy shows them) by name and email, case-insensitively: prefix matches first, then, for queries of 3 characters or more, names or emails containing the query, or names holding a word similar to it (pg_trgm word similarity at least 0.5). Ranked by prefix match, then trigram word similarity (to the name, or to the email when it contains the query), then name; among more than 500 prefix matches per column, the first 500 by name (by email) are ranked. Raises 22004 for a null organization, 22023 for an empty query, one over 200 characters or max_results outside 1..100, 42501 without a signed-in user. Runs as its owner so that indexes serve the search (LIKE and pg_trgm operators are not leakproof, so under RLS they could not be index conditions); it restates the read policy for the caller itself.';

revoke all on function public.search_clients(uuid, text, integer) from public, anon, service_role;
grant execute on function public.search_clients(uuid, text, integer) to authenticated;

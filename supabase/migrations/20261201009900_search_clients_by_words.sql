-- Clients search by words: typo-tolerant and contains matches found through
-- an index of the words of client names, not by scoring every client that
-- shares a few trigrams with the query.
--
-- Until now a name matched a query of three characters or more when the
-- query was part of the name, or when pg_trgm's word similarity of the whole
-- query to the name reached 0.5. That similarity has no index that stops
-- early: in an organization of 300,000 clients whose names share their words
-- (16 first words), "nortstar lab" scored 18,750 names (120 ms).
--
-- The rule for names becomes word by word, as search engines do:
--   * the query's words are its runs of letters and digits, lower-cased
--     (private.search_words); so are a name's;
--   * a query word of three characters or more matches a name word that
--     contains it or whose pg_trgm word similarity to it is at least 0.5 (a
--     typo; not for a name word of digits only: numbers have no typos); a
--     shorter query word matches a name word that starts with it;
--   * a name matches when every query word matches one of its words. Its
--     score is the average, over the query words of three characters or
--     more, of the best word similarity of a name word matching it (shorter
--     query words, typed as the start of a word, only filter).
-- Results: prefix matches first (the name or email starts with the query;
-- ranked as before), then word matches by score, then names or emails that
-- contain the query otherwise (across words, or in the email), by name; name
-- and id break ties. Queries of one or two characters still match prefixes
-- only.
--
-- Served by:
--   * private.client_name_words, the words used in each organization's
--     client names (a dictionary, kept by triggers on clients), with a
--     trigram index: a query word finds the few dictionary words it matches;
--     a shorter query word needs no lookup: the index below also keys each
--     word's first one and two characters;
--   * a GIN index of each client's words, each prefixed by the
--     organization's id (so its lists are per organization and word): the
--     clients holding a combination of those words come from the index, and
--     clients sharing a combination share its score, so only the best
--     combinations' clients are read.

set lock_timeout = '10s';
set statement_timeout = '15min';

-- Words --------------------------------------------------------------------------

create function private.search_words(value text)
returns text[]
language sql
immutable
strict
parallel safe
set search_path = pg_catalog, pg_temp
as $$
  select coalesce(pg_catalog.array_agg(distinct w.word order by w.word), '{}')
  from pg_catalog.regexp_split_to_table(pg_catalog.lower(value), '[^[:alnum:]]+') as w (word)
  where w.word <> ''
$$;
comment on function private.search_words(text) is
  'The distinct words of a text for search_clients: its runs of letters and digits, lower-cased, in byte order.';
revoke all on function private.search_words(text) from public, anon, authenticated, service_role;

create function private.search_word_matches(query_word text, word text)
returns boolean
language sql
immutable
strict
parallel safe
set search_path = pg_catalog, pg_temp
as $$
  select case
    when pg_catalog.char_length(query_word) < 3 then pg_catalog.starts_with(word, query_word)
    else pg_catalog.strpos(word, query_word) > 0
         or (pg_catalog.ltrim(word, '0123456789') <> '' and extensions.word_similarity(query_word, word) >= 0.5)
  end
$$;
comment on function private.search_word_matches(text, text) is
  'Whether a word matches a query word in search_clients: for a query word of three characters or more, the word contains it or (unless the word is all digits: numbers have no typos) its pg_trgm word similarity to it is at least 0.5; for a shorter one, the word starts with it.';
revoke all on function private.search_word_matches(text, text) from public, anon, authenticated, service_role;

create function private.client_name_word_score(query_words text[], name text)
returns numeric
language sql
immutable
parallel safe
set search_path = pg_catalog, pg_temp
as $$
  select case when pg_catalog.count(*) = pg_catalog.cardinality(query_words) and pg_catalog.count(*) > 0
              then coalesce(pg_catalog.round(pg_catalog.avg(b.best) filter (where pg_catalog.char_length(b.word) >= 3), 6), 0) end
  from (
    select q.word, pg_catalog.max(extensions.word_similarity(q.word, w.word))::numeric as best
    from pg_catalog.unnest(query_words) as q (word)
    cross join pg_catalog.unnest(private.search_words(name)) as w (word)
    where private.search_word_matches(q.word, w.word)
    group by q.word
  ) b
$$;
comment on function private.client_name_word_score(text[], text) is
  'A name''s word-match score for search_clients: null unless every query word (distinct, as private.search_words gives them) matches a word of the name; else the average over the query words of three characters or more of the best pg_trgm word similarity of a matching name word, rounded to 6 decimals (0 when there are none: shorter words only filter).';
revoke all on function private.client_name_word_score(text[], text) from public, anon, authenticated, service_role;

-- The dictionary -----------------------------------------------------------------

create table private.client_name_words (
  organization_id uuid not null references public.organizations (id) on delete cascade,
  word text collate "C" not null,
  primary key (organization_id, word)
);
comment on table private.client_name_words is
  'The words used in each organization''s client names (private.search_words), for search_clients to find the words a query word matches. Written by triggers on clients (new names); a word stays after the last name using it changes or goes, until private.prune_client_name_words() removes it; deleted with its organization. Derived data: not exported, not counted in deletion summaries.';
revoke all on table private.client_name_words from public, anon, authenticated, service_role;

-- Plain index builds: a concurrent build cannot run inside the migration's
-- transaction. They block writes to clients while they run (about 30 seconds
-- per million clients); on a large, busy table apply this migration in a quiet moment.
-- squawk-ignore require-concurrent-index-creation
create index client_name_words_trgm_idx on private.client_name_words
  using gin (organization_id, word extensions.gin_trgm_ops);
comment on index private.client_name_words_trgm_idx is
  'Dictionary words of one organization that contain a query word (search_clients).';
-- squawk-ignore require-concurrent-index-creation
create index client_name_words_similar_trgm_idx on private.client_name_words
  using gin (organization_id, word extensions.gin_trgm_ops)
  where pg_catalog.ltrim(word, '0123456789') <> '';
comment on index private.client_name_words_similar_trgm_idx is
  'Dictionary words of one organization, numbers left out, that contain a query word with a letter or are similar to a query word (search_clients): numbers, often one per name, would make every lookup read them.';

insert into private.client_name_words (organization_id, word)
select distinct c.organization_id, w.word
from public.clients c
cross join lateral pg_catalog.unnest(private.search_words(c.name)) as w (word)
on conflict do nothing;

-- The keys: each word of the name (as private.search_words splits it), and
-- its first one and first two characters followed by *, each prefixed by the
-- organization's id and a space. Written with built-in
-- functions only, here and in every query that uses the index (the planner
-- matches the expression as written): an index expression runs with the
-- privileges of whoever writes the row, and every role may execute these.
-- squawk-ignore require-concurrent-index-creation
create index clients_name_words_idx on public.clients using gin ((
  pg_catalog.array_remove(pg_catalog.string_to_array(pg_catalog.regexp_replace(
    pg_catalog.regexp_replace(pg_catalog.lower(name), '[^[:alnum:]]+', E'\n', 'g'),
    '([[:alnum:]])([[:alnum:]]?)([[:alnum:]]*)',
    E'\n' || organization_id::text || E' \\1*\n' || organization_id::text || E' \\1\\2*\n' || organization_id::text || E' \\1\\2\\3\n', 'g'),
    E'\n'), '')));
comment on index public.clients_name_words_idx is
  'Clients by organization and word of their name, and by a word''s first one and two characters (keys ending in *) (search_clients): the clients holding every word of a combination.';

create function private.record_client_name_words()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
  if tg_level = 'ROW' then
    insert into private.client_name_words (organization_id, word)
    select new.organization_id, w.word from pg_catalog.unnest(private.search_words(new.name)) as w (word)
    on conflict do nothing;
  else
    insert into private.client_name_words (organization_id, word)
    select distinct n.organization_id, w.word
    from new_clients n
    cross join lateral pg_catalog.unnest(private.search_words(n.name)) as w (word)
    on conflict do nothing;
  end if;
  return null;
end;
$$;
comment on function private.record_client_name_words() is
  'Trigger on clients: adds the words of new names to private.client_name_words (after insert, once per statement; after an update that changes a name, per row).';
revoke all on function private.record_client_name_words() from public, anon, authenticated, service_role;

create trigger clients_name_words_after_insert
  after insert on public.clients
  referencing new table as new_clients
  for each statement execute function private.record_client_name_words();
create trigger clients_name_words_after_update
  after update of name, organization_id on public.clients
  for each row
  when (old.name is distinct from new.name or old.organization_id is distinct from new.organization_id)
  execute function private.record_client_name_words();

create function private.prune_client_name_words(organization_id uuid default null)
returns bigint
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  removed bigint;
begin
  -- Writers of names add their words under row exclusive locks held until
  -- they commit: this waits for them, so the check below sees their names,
  -- and holds new ones back until the pruning commits.
  lock table private.client_name_words in share row exclusive mode;
  delete from private.client_name_words d
  where (prune_client_name_words.organization_id is null or d.organization_id = prune_client_name_words.organization_id)
    and not exists (
      select 1 from public.clients c
      where pg_catalog.array_remove(pg_catalog.string_to_array(pg_catalog.regexp_replace(
              pg_catalog.regexp_replace(pg_catalog.lower(c.name), '[^[:alnum:]]+', E'\n', 'g'),
              '([[:alnum:]])([[:alnum:]]?)([[:alnum:]]*)',
              E'\n' || c.organization_id::text || E' \\1*\n' || c.organization_id::text || E' \\1\\2*\n' || c.organization_id::text || E' \\1\\2\\3\n', 'g'),
              E'\n'), '')
            @> array[d.organization_id::text || ' ' || d.word]);
  get diagnostics removed = row_count;
  return removed;
end;
$$;
comment on function private.prune_client_name_words(uuid) is
  'Removes from private.client_name_words the words no client name of the organization (null: of any organization) uses any more, and returns how many. Holds back writes of client names while it runs (seconds per 100,000 words): run it in a quiet moment, e.g. nightly.';
revoke all on function private.prune_client_name_words(uuid) from public, anon, authenticated;
grant execute on function private.prune_client_name_words(uuid) to service_role;

-- The dictionary is derived from clients: the organization's deletion removes
-- it through its foreign key, and it is neither purged in batches nor counted
-- in the deletion's summary.
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
     where c.relkind in ('r', 'p')
       and not c.relispartition
       and n.nspname not in ('pg_catalog', 'information_schema')
       and n.nspname !~ '^pg_(toast|temp)'
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
  'Every table holding rows of an organization: the tables (any schema but the system ones and temporary ones) with an organization_id column, except public.audit_log and the derived private.client_name_words (removed with the organization by its foreign key). depth orders deletions: a table comes after every scoped table that references it (0: nothing references it).';

-- The search ---------------------------------------------------------------------

-- The function sets pg_trgm.word_similarity_threshold, which a role that is
-- not a superuser may set only once pg_trgm's library is loaded in the session.
select extensions.word_similarity('a', 'a');

create or replace function public.search_clients(organization_id uuid, query text, max_results integer default 20)
returns setof public.clients
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
-- Typo tolerance: a dictionary word whose word similarity to a query word is
-- at least 0.5 (operator <%); set here, the caller's setting never changes what matches.
set pg_trgm.word_similarity_threshold = 0.5
rows 20
as $$
declare
  org constant uuid := search_clients.organization_id;
  uid uuid;
  term text;
  upper_bound text;
  pattern text;
  query_words text[];
  -- Query words of three characters or more (looked up in the dictionary,
  -- scored), and index keys for the shorter ones (words starting with them).
  long_words text[];
  short_keys text[];
  -- Prefix matches ranked per column: at most this many, the first by name (by email).
  prefix_cap constant integer := 500;
  -- Word matches through the indexes while each query word matches at most
  -- this many dictionary words and their combinations are at most combination_cap.
  words_cap constant integer := 1000;
  combination_cap constant integer := 64;
  match_n bigint[];
  match_words text[];
  match_similarity numeric[];
  found_words integer;
  fewest integer;
  fewest_words integer;
  combinations bigint;
  words_complete boolean := false;
  -- Words that a matching name holds one of (as '%word%'): a cheap test before scoring a name.
  match_patterns text[];
  reads_all boolean;
  may_create boolean;
  may_work boolean;
  prefix_ids uuid[] := '{}'::uuid[];
  word_ids uuid[] := '{}'::uuid[];
  other_ids uuid[] := '{}'::uuid[];
  need integer;
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
  query_words := case when pg_catalog.char_length(term) >= 3 then private.search_words(term) else '{}'::text[] end;
  long_words := array(select w.word from pg_catalog.unnest(query_words) as w (word) where pg_catalog.char_length(w.word) >= 3);
  short_keys := array(select org::text || ' ' || w.word || '*' from pg_catalog.unnest(query_words) as w (word)
                      where pg_catalog.char_length(w.word) < 3);

  -- Each long query word's matching dictionary words, with their
  -- similarity (at most words_cap + 1 per query word).
  if pg_catalog.cardinality(query_words) > 0 then
    select coalesce(pg_catalog.array_agg(m.n order by m.n, m.word), '{}'),
           coalesce(pg_catalog.array_agg(m.word order by m.n, m.word), '{}'),
           coalesce(pg_catalog.array_agg(m.similarity order by m.n, m.word), '{}')
      into match_n, match_words, match_similarity
    from pg_catalog.unnest(long_words) with ordinality as q (word, n)
    cross join lateral (
      select q.n, f.word, pg_catalog.round(extensions.word_similarity(q.word, f.word)::numeric, 6) as similarity
      from (
        -- A word containing a query word with a letter has a letter: the
        -- index without numbers serves; a query word of digits needs both.
        select d.word from private.client_name_words d
        where pg_catalog.ltrim(q.word, '0123456789') = ''
          and d.organization_id = org and d.word like '%' || q.word || '%'
        union all
        select d.word from private.client_name_words d
        where pg_catalog.ltrim(q.word, '0123456789') <> ''
          and d.organization_id = org and pg_catalog.ltrim(d.word, '0123456789') <> ''
          and d.word like '%' || q.word || '%'
        union
        select d.word from private.client_name_words d
        where d.organization_id = org and pg_catalog.ltrim(d.word, '0123456789') <> ''
          and q.word operator(extensions.<%) d.word
      ) f
      where private.search_word_matches(q.word, f.word)
      limit words_cap + 1
    ) m;

    -- How many combinations (counted up to combination_cap + 1), which query
    -- word matches the fewest words, and whether every list is whole.
    combinations := 1;
    fewest := null;
    words_complete := true;
    for i in 1 .. pg_catalog.cardinality(long_words) loop
      found_words := pg_catalog.cardinality(pg_catalog.array_positions(match_n, i::bigint));
      combinations := least(combinations * found_words, combination_cap + 1);
      words_complete := words_complete and found_words <= words_cap;
      if fewest is null or found_words < fewest_words then
        fewest := i;
        fewest_words := found_words;
      end if;
    end loop;
    match_patterns := array(select '%' || w.word || '%' from pg_catalog.unnest(match_words) as w (word));
  end if;

  -- The read policy of public.clients, for this caller and this organization.
  reads_all := org = any (private.organization_ids_with('clients.read'));

  if not reads_all then
    may_create := org = any (private.organization_ids_with('clients.create'));
    may_work := org = any (private.organization_ids_with('clients.work_assigned'));
    -- Assigned clients where the caller holds clients.work_assigned (id = any (workable_client_ids())),
    -- and the creator arm: few rows, each matched and ranked in place.
    return query
    select (m.c).*
    from (
      select c as c, p.is_prefix,
             case when p.is_prefix then
               greatest(
                 extensions.word_similarity(term, c.name_lower),
                 case when pg_catalog.strpos(pg_catalog.lower(c.email), term) > 0
                      then extensions.word_similarity(term, pg_catalog.lower(c.email)) else 0 end)::numeric
             end as prefix_rank,
             -- Scored only when it can match: it holds one of the matching words.
             case when not p.is_prefix and combinations > 0
                       and (not words_complete or pg_catalog.cardinality(long_words) = 0
                            or c.name_lower like any (match_patterns))
                  then private.client_name_word_score(query_words, c.name) end as word_score
      from public.clients c
      cross join lateral (
        select pg_catalog.starts_with(c.name_lower, term)
               or coalesce(pg_catalog.starts_with(pg_catalog.lower(c.email), term), false) as is_prefix
      ) p
      where c.organization_id = org
        and c.id in (
          select uc.client_id from public.user_clients uc
          where may_work and uc.organization_id = org and uc.user_id = uid
          union all
          select mine.id from public.clients mine
          where may_create and mine.created_by = uid and mine.created_at = pg_catalog.now() and mine.organization_id = org
        )
    ) m
    where m.is_prefix
       or m.word_score is not null
       or (pg_catalog.char_length(term) >= 3
           and (pg_catalog.strpos((m.c).name_lower, term) > 0 or pg_catalog.strpos(pg_catalog.lower((m.c).email), term) > 0))
    order by m.is_prefix desc, m.prefix_rank desc nulls last, m.word_score desc nulls last, (m.c).name, (m.c).id
    limit max_results;
    return;
  end if;

  -- Readers: prefix matches first, through the (organization_id, name_lower)
  -- and (organization_id, lower(email)) ranges, then ranked. In byte order
  -- ("C") the range holds exactly the texts starting with the term; a
  -- starts_with() filter besides, which the planner cannot estimate, made it
  -- sort a whole range instead of walking the index to the cap.
  select coalesce(pg_catalog.array_agg(p.id), '{}') into prefix_ids
  from (
    (select c.id from public.clients c
     where c.organization_id = org and c.name_lower >= term and c.name_lower < upper_bound
     order by c.name_lower
     limit prefix_cap)
    union
    (select c.id from public.clients c
     where c.organization_id = org
       and pg_catalog.lower(c.email) collate "C" >= term and pg_catalog.lower(c.email) collate "C" < upper_bound
     order by pg_catalog.lower(c.email) collate "C"
     limit prefix_cap)
  ) p;
  select coalesce(pg_catalog.array_agg(r.id order by r.rank desc, r.name, r.id), '{}') into prefix_ids
  from (
    select c.id, c.name,
           greatest(
             extensions.word_similarity(term, c.name_lower),
             case when pg_catalog.strpos(pg_catalog.lower(c.email), term) > 0
                  then extensions.word_similarity(term, pg_catalog.lower(c.email)) else 0 end) as rank
    from public.clients c
    where c.id = any (prefix_ids) and c.organization_id = org
    order by 3 desc, c.name, c.id
    limit max_results
  ) r;
  need := max_results - pg_catalog.cardinality(prefix_ids);

  -- Word matches. A combination of one matching word per query word scores
  -- their similarities' average; a client's score is that of its best combination. Each
  -- combination's first clients by name come from the index; the best of
  -- them are the best clients overall (a client left out of its best
  -- combination's list is outranked by the whole list).
  if need > 0 and pg_catalog.cardinality(query_words) > 0 then
    if combinations = 0 then
      -- A query word matches no word of any name.
      null;
    elsif combinations <= combination_cap then
      with recursive matching as (
        -- unnest of several arrays is syntax (rows from), not pg_catalog.unnest.
        select m.n, m.word, m.similarity
        from unnest(match_n, match_words, match_similarity) as m (n, word, similarity)
      ),
      combination (n, keys, total) as (
        select 0::bigint, short_keys, 0::numeric
        union all
        select m.n, c.keys || (org::text || ' ' || m.word), c.total + m.similarity
        from combination c join matching m on m.n = c.n + 1
      ),
      found as (
        select f.id, f.name,
               pg_catalog.max(case when pg_catalog.cardinality(long_words) > 0
                                   then pg_catalog.round(c.total / pg_catalog.cardinality(long_words), 6) else 0 end) as score
        from combination c
        cross join lateral (
          select cl.id, cl.name
          from public.clients cl
          -- The keys name the organization; the comparison below is a check, not an index condition.
          where pg_catalog.array_remove(pg_catalog.string_to_array(pg_catalog.regexp_replace(
                  pg_catalog.regexp_replace(pg_catalog.lower(cl.name), '[^[:alnum:]]+', E'\n', 'g'),
                  '([[:alnum:]])([[:alnum:]]?)([[:alnum:]]*)',
                  E'\n' || cl.organization_id::text || E' \\1*\n' || cl.organization_id::text || E' \\1\\2*\n' || cl.organization_id::text || E' \\1\\2\\3\n', 'g'),
                  E'\n'), '')
                @> c.keys
            and (cl.organization_id = org) is true
            and cl.id <> all (prefix_ids)
          order by cl.name, cl.id
          limit need
        ) f
        where c.n = pg_catalog.cardinality(long_words)
        group by f.id, f.name
      )
      select coalesce(pg_catalog.array_agg(t.id order by t.score desc, t.name, t.id), '{}') into word_ids
      from (select * from found order by score desc, name, id limit need) t;
    else
      -- Too many combinations: the clients holding a word matching the query
      -- word with the fewest matches (every client of the organization when
      -- that word matches more than words_cap words), each scored.
      select coalesce(pg_catalog.array_agg(t.id order by t.score desc, t.name, t.id), '{}') into word_ids
      from (
        select s.id, s.name, s.score
        from (
          select cl.id, cl.name, private.client_name_word_score(query_words, cl.name) as score
          from public.clients cl
          where cl.organization_id = org
            and (fewest_words > words_cap
                 or pg_catalog.array_remove(pg_catalog.string_to_array(pg_catalog.regexp_replace(
                      pg_catalog.regexp_replace(pg_catalog.lower(cl.name), '[^[:alnum:]]+', E'\n', 'g'),
                      '([[:alnum:]])([[:alnum:]]?)([[:alnum:]]*)',
                      E'\n' || cl.organization_id::text || E' \\1*\n' || cl.organization_id::text || E' \\1\\2*\n' || cl.organization_id::text || E' \\1\\2\\3\n', 'g'),
                      E'\n'), '') && array(
                      select org::text || ' ' || m.word
                      from unnest(match_n, match_words) as m (n, word)
                      where m.n = fewest))
            and cl.id <> all (prefix_ids)
        ) s
        where s.score is not null
        order by s.score desc, s.name, s.id
        limit need
      ) t;
    end if;
    need := need - pg_catalog.cardinality(word_ids);
  end if;

  -- Then names or emails that contain the query otherwise: across words, or
  -- in the email (a name containing a one-word query is a word match).
  if need > 0 and pg_catalog.char_length(term) >= 3 then
    select coalesce(pg_catalog.array_agg(t.id order by t.name, t.id), '{}') into other_ids
    from (
      select c.id, c.name
      from public.clients c
      where c.organization_id = org
        and (pg_catalog.lower(c.email) like pattern
             or (query_words <> array[term] and c.name_lower like pattern))
        and c.id <> all (prefix_ids || word_ids)
      order by c.name, c.id
      limit need
    ) t;
  end if;

  return query
  select c.*
  from pg_catalog.unnest(prefix_ids || word_ids || other_ids) with ordinality as r (id, n)
  join public.clients c on c.id = r.id and c.organization_id = org
  order by r.n;
end;
$$;
comment on function public.search_clients(uuid, text, integer) is
  'Search the clients of one organization that the caller may read (exactly the rows the clients select policy shows them) by name and email, case-insensitively. Prefix matches first (the name or email starts with the query), ranked by pg_trgm word similarity of the query to the name (or to the email when it contains the query), then name; among more than 500 prefix matches per column, the first 500 by name (by email) are ranked. For queries of 3 characters or more, then word matches: every word of the query (runs of letters and digits) matches a word of the name that contains it or whose word similarity to it is at least 0.5 (a query word of one or two characters: a word starting with it), ranked by the average best similarity of the query words of 3 characters or more (shorter ones only filter), then name; then names or emails that contain the query otherwise, by name. Raises 22004 for a null organization, 22023 for an empty query, one over 200 characters or max_results outside 1..100, 42501 without a signed-in user. Runs as its owner so that indexes serve the search (LIKE and pg_trgm operators are not leakproof, so under RLS they could not be index conditions); it restates the read policy for the caller itself.';

revoke all on function public.search_clients(uuid, text, integer) from public, anon, service_role;
grant execute on function public.search_clients(uuid, text, integer) to authenticated;

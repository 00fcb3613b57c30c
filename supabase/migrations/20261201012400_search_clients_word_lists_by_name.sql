-- search_clients lists a matched word's clients by name from an index, instead
-- of reading every client that holds the word and sorting them.
--
-- A reader's word matches took, for each combination of matching words, the
-- first clients by name holding it: the GIN index of name words
-- (clients_name_words_idx) gives them in no order, so every client holding
-- the combination was read and sorted. In a 300,000-client organization a
-- typo of a word that 18,750 names hold ("nortstar") read all 18,750 (40 ms);
-- a word that 37,500 names hold ("labs"), 23 ms; "nortstar lab", 10 ms.
--
-- private.client_words holds each client's name words (numbers left out:
-- one name holds each) with the name, keyed by organization, word, name and
-- id: a word's clients by name are a walk of its primary key, which stops at
-- the page. A combination's clients are now found by walking the clients of
-- its longest word, each checked for the combination's other words and the
-- query's short words (the name is in the key); when a walk of 2,000 clients
-- leaves the page short and the word has more, or the combination holds a
-- number (rare: few clients), through the GIN index as before. Combinations
-- are searched most similar first, and the search stops once the page is
-- full and the next combination scores lower (the rest would rank below it).
--
-- The table is derived data, kept by triggers on clients (insert, update of
-- the name, delete, truncate): not exported, not counted in deletion
-- summaries, and left out of private.organization_scoped_tables() (restated
-- here), like the dictionary of name words. What may be read, what matches
-- and the order of the results are unchanged.

set lock_timeout = '10s';
set statement_timeout = '15min';

-- A word's clients by name ----------------------------------------------------------

create table private.client_words (
  organization_id uuid not null,
  word text collate "C" not null,
  name text not null,
  client_id uuid not null,
  primary key (organization_id, word, name, client_id)
);
comment on table private.client_words is
  'Each client''s name words (private.search_words, numbers left out) with its name, for search_clients to list the clients holding a word by name: the primary key''s order. Kept by triggers on clients (private.record_client_name_words, private.unlist_client_words); derived data: not exported, not counted in deletion summaries, removed with its client.';
revoke all on table private.client_words from public, anon, authenticated, service_role;

-- The words private.client_words holds of a name: its words (private.search_words) but numbers.
create function private.client_list_words(name text)
returns text[]
language sql
immutable
strict
parallel safe
set search_path = pg_catalog, pg_temp
as $$
  select coalesce(pg_catalog.array_agg(w.word order by w.word), '{}')
  from pg_catalog.unnest(private.search_words(name)) as w (word)
  where pg_catalog.ltrim(w.word, '0123456789') <> ''
$$;
comment on function private.client_list_words(text) is
  'The words of a client name that private.client_words lists it under: its words (private.search_words) but those of digits only.';
revoke all on function private.client_list_words(text) from public, anon, authenticated, service_role;

-- New names: the trigger that adds their words to the dictionary
-- (20261201009900_search_clients_by_words) lists their clients too, from the
-- same rows, in the same trigger call.
create or replace function private.record_client_name_words()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
  if tg_level = 'ROW' then
    delete from private.client_words x
    where x.organization_id = old.organization_id
      and x.word = any (private.client_list_words(old.name))
      and x.name = old.name and x.client_id = old.id;
    with words as (
      select w.word from pg_catalog.unnest(private.search_words(new.name)) as w (word)
    ),
    dictionary as (
      insert into private.client_name_words (organization_id, word)
      select new.organization_id, w.word from words w
      on conflict do nothing
    )
    insert into private.client_words (organization_id, word, name, client_id)
    select new.organization_id, w.word, new.name, new.id
    from words w
    where pg_catalog.ltrim(w.word, '0123456789') <> '';
  else
    with words as (
      select n.organization_id, w.word, n.name, n.id
      from new_clients n
      cross join lateral pg_catalog.unnest(private.search_words(n.name)) as w (word)
    ),
    dictionary as (
      insert into private.client_name_words (organization_id, word)
      select distinct w.organization_id, w.word from words w
      on conflict do nothing
    )
    insert into private.client_words (organization_id, word, name, client_id)
    select w.organization_id, w.word, w.name, w.id
    from words w
    where pg_catalog.ltrim(w.word, '0123456789') <> '';
  end if;
  return null;
end;
$$;
comment on function private.record_client_name_words() is
  'Trigger on clients: adds the words of new names to private.client_name_words and lists the clients under them in private.client_words (after insert, once per statement; after an update that changes a name, per row, taking the client off its old words'' lists).';

-- Clients that go: off the lists.
create function private.unlist_client_words()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
  if tg_op = 'TRUNCATE' then
    truncate private.client_words;
  else
    delete from private.client_words x
    using old_clients o
    cross join lateral pg_catalog.unnest(private.client_list_words(o.name)) as w (word)
    where x.organization_id = o.organization_id and x.word = w.word and x.name = o.name and x.client_id = o.id;
  end if;
  return null;
end;
$$;
comment on function private.unlist_client_words() is
  'Trigger on clients: takes deleted clients off private.client_words (after delete, once per statement; after truncate).';
revoke all on function private.unlist_client_words() from public, anon, authenticated, service_role;

create trigger clients_words_after_delete
  after delete on public.clients
  referencing old table as old_clients
  for each statement execute function private.unlist_client_words();
create trigger clients_words_after_truncate
  after truncate on public.clients
  for each statement execute function private.unlist_client_words();

-- The lists of the clients there are now, written after the triggers so
-- that no client written meanwhile is missed (one the triggers listed first
-- is skipped), in key order, the primary key's pages filling one after
-- another; then what a client deleted or renamed meanwhile may have left.
insert into private.client_words (organization_id, word, name, client_id)
select c.organization_id, w.word, c.name, c.id
from public.clients c
cross join lateral pg_catalog.unnest(private.client_list_words(c.name)) as w (word)
order by 1, 2, 3, 4
on conflict do nothing;
delete from private.client_words x
where not exists (select 1 from public.clients c
                  where c.id = x.client_id and c.organization_id = x.organization_id and c.name = x.name);

analyze private.client_words;

-- Derived rows are not the organization's data: restated from
-- 20261201011400_uuid_columns_through_nested_domains with private.client_words left out too.

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
       and private.is_uuid_type(a.atttypid)
       and c.oid <> 'public.audit_log'::pg_catalog.regclass
       and c.oid <> 'private.client_name_words'::pg_catalog.regclass
       and c.oid <> 'private.client_words'::pg_catalog.regclass
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
  'Every table holding rows of an organization: the tables (any schema but the system ones and temporary ones) with an organization_id column of type uuid (or a domain over uuid, at any depth), except public.audit_log and the derived private.client_name_words (removed with the organization by its foreign key) and private.client_words (removed with its clients). depth orders deletions: a table comes after every scoped table that references it (0: nothing references it).';

-- search_clients: restated from 20261201012300_search_clients_fills_short_pages with the word matches above.

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
  -- The query without the whitespace around it (what String.prototype.trim takes away).
  trimmed text;
  -- Prefix matches ranked per column: at most this many, the first by name (by email),
  prefix_cap constant integer := 500;
  -- and at most this many in each range where the query ends a word (the text
  -- is the query, or goes on with a character other than a letter or digit).
  whole_word_cap constant integer := 100;
  -- At most this many distinct query words.
  word_limit constant integer := 12;
  -- Whether pg_trgm can take a trigram from '%<query>%' (three letters or
  -- digits in a row, or a run of them whose start, or whose end after two,
  -- the query shows): contains matching needs one to use an index.
  has_trigrams boolean;
  -- Word matches through the indexes while each query word matches at most
  -- this many dictionary words and their combinations are at most combination_cap.
  words_cap constant integer := 1000;
  combination_cap constant integer := 64;
  match_n bigint[];
  match_words text[];
  match_similarity numeric[];
  found_words integer;
  combinations bigint;
  -- A reader's most similar matches kept per query word when their
  -- combinations exceed combination_cap.
  keep integer[];
  budget float8;
  remaining integer;
  word_count record;
  -- When they did: the keys of every match of the query word with the fewest
  -- (before keeping), and at most how many of its clients, by name, are
  -- scored to fill a page the kept combinations left short.
  fewest_keys text[];
  fewest_words text[];
  fill_cap constant integer := 1000;
  words_complete boolean := false;
  -- Words that a matching name holds one of (as '%word%'): a cheap test before scoring a name.
  match_patterns text[];
  reads_all boolean;
  may_create boolean;
  may_work boolean;
  -- Everyone else's candidates: their assigned clients there, and those they created in this transaction.
  own_ids uuid[];
  -- The words of their names (as private.search_words splits them).
  own_words text[];
  prefix_ids uuid[] := '{}'::uuid[];
  word_ids uuid[] := '{}'::uuid[];
  other_ids uuid[] := '{}'::uuid[];
  need integer;
begin
  if org is null then
    raise exception 'organization_id is required' using errcode = '22004';
  end if;
  -- Whitespace around the query is dropped (tabs, line breaks, no-break and
  -- other Unicode spaces: what String.prototype.trim drops), then its length checked.
  trimmed := pg_catalog.regexp_replace(query,
    '^[\u0009-\u000d\u0020\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]+|[\u0009-\u000d\u0020\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]+$',
    '', 'g');
  if trimmed is null or trimmed = '' then
    raise exception 'query must not be empty' using errcode = '22023';
  end if;
  if pg_catalog.char_length(trimmed) > 200 then
    raise exception 'query is longer than 200 characters' using errcode = '22023';
  end if;
  if max_results is null or max_results < 1 or max_results > 100 then
    raise exception 'max_results must be between 1 and 100, got %', coalesce(max_results::text, 'null')
      using errcode = '22023';
  end if;
  uid := private.require_user();

  term := pg_catalog.lower(trimmed);
  upper_bound := term || U&'\+10FFFF';
  pattern := '%' || pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(term, '\', '\\'), '%', '\%'), '_', '\_') || '%';
  query_words := case when pg_catalog.char_length(term) >= 3 then private.search_words(term) else '{}'::text[] end;
  if pg_catalog.cardinality(query_words) > word_limit then
    raise exception 'query has more than % words', word_limit using errcode = '22023';
  end if;
  has_trigrams := term ~ '[[:alnum:]]{3}|[^[:alnum:]][[:alnum:]]|[[:alnum:]]{2}[^[:alnum:]]';
  long_words := array(select w.word from pg_catalog.unnest(query_words) as w (word) where pg_catalog.char_length(w.word) >= 3);
  short_keys := array(select org::text || ' ' || w.word || '*' from pg_catalog.unnest(query_words) as w (word)
                      where pg_catalog.char_length(w.word) < 3);

  -- The read policy of public.clients, for this caller and this organization.
  reads_all := org = any (private.organization_ids_with('clients.read'));

  if not reads_all then
    -- Everyone else reads only their own candidates, and nothing else of the
    -- organization: neither the results nor the time a search takes may
    -- depend on clients the caller cannot read (what they are called).
    may_create := org = any (private.organization_ids_with('clients.create'));
    may_work := org = any (private.organization_ids_with('clients.work_assigned'));
    if not (may_create or may_work) then
      return;
    end if;
    own_ids := array(
      select uc.client_id from public.user_clients uc
      where may_work and uc.organization_id = org and uc.user_id = uid
      union
      select mine.id from public.clients mine
      where may_create and mine.created_by = uid and mine.created_at = pg_catalog.now() and mine.organization_id = org);
    if pg_catalog.cardinality(own_ids) = 0 then
      return;
    end if;
    if pg_catalog.cardinality(query_words) > 0 then
      own_words := array(
        select distinct w.word
        from public.clients c
        cross join pg_catalog.regexp_split_to_table(c.name_lower, '[^[:alnum:]]+') as w (word)
        where c.id = any (own_ids) and c.organization_id = org and w.word <> '');
    end if;
  end if;

  if reads_all then
    -- Readers: prefix matches first, through the (organization_id, name_lower)
    -- and (organization_id, lower(email)) ranges, ranked from the rows those
    -- ranges read (each row visited once). In byte order ("C") the range
    -- holds exactly the texts starting with the term; a starts_with() filter
    -- besides, which the planner cannot estimate, made it sort a whole range
    -- instead of walking the index to the cap.
    select coalesce(pg_catalog.array_agg(r.id order by r.rank desc, r.name, r.id), '{}') into prefix_ids
    from (
      select p.id, p.name,
             greatest(
               extensions.word_similarity(term, p.name_lower),
               case when pg_catalog.strpos(p.email_lower, term) > 0
                    then extensions.word_similarity(term, p.email_lower) else 0 end) as rank
      from (
        -- The whole range, and the parts of it where the query ends a word
        -- (nothing follows it, or a character below '0', between '9' and 'a',
        -- or above 'z', a letter outside ASCII included): the best matches there ('contact1@...' for
        -- 'contact1') must not be cut off by many longer words before them
        -- ('contact10...').
        select n.id, n.name, n.name_lower, n.email_lower
        from (values (term, upper_bound, prefix_cap), (term, term || '0', whole_word_cap),
                     (term || ':', term || 'a', whole_word_cap), (term || '{', upper_bound, whole_word_cap)) as r (low, high, cap)
        cross join lateral (
          select c.id, c.name, c.name_lower, pg_catalog.lower(c.email) as email_lower
          from public.clients c
          where c.organization_id = org and c.name_lower >= r.low and c.name_lower < r.high
          order by c.name_lower
          limit r.cap) n
        union
        select e.id, e.name, e.name_lower, e.email_lower
        from (values (term, upper_bound, prefix_cap), (term, term || '0', whole_word_cap),
                     (term || ':', term || 'a', whole_word_cap), (term || '{', upper_bound, whole_word_cap)) as r (low, high, cap)
        cross join lateral (
          select c.id, c.name, c.name_lower, pg_catalog.lower(c.email) as email_lower
          from public.clients c
          where c.organization_id = org
            and pg_catalog.lower(c.email) collate "C" >= r.low and pg_catalog.lower(c.email) collate "C" < r.high
          order by pg_catalog.lower(c.email) collate "C"
          limit r.cap) e
      ) p
      order by 3 desc, p.name, p.id
      limit max_results
    ) r;
    need := max_results - pg_catalog.cardinality(prefix_ids);
  end if;

  -- Each long query word's matching words, with their similarity (at most
  -- words_cap + 1 per query word): for readers, from the organization's
  -- dictionary of name words, only when the prefix matches left room; for
  -- everyone else, whose matches are scored with them, from the names of
  -- their own candidates only.
  if pg_catalog.cardinality(query_words) > 0 and (not reads_all or need > 0) then
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
        where reads_all and pg_catalog.ltrim(q.word, '0123456789') = ''
          and d.organization_id = org and d.word like '%' || q.word || '%'
        union all
        select d.word from private.client_name_words d
        where reads_all and pg_catalog.ltrim(q.word, '0123456789') <> ''
          and d.organization_id = org and pg_catalog.ltrim(d.word, '0123456789') <> ''
          and d.word like '%' || q.word || '%'
        union
        select d.word from private.client_name_words d
        where reads_all and d.organization_id = org and pg_catalog.ltrim(d.word, '0123456789') <> ''
          and q.word operator(extensions.<%) d.word
        union
        -- The words of the candidates' names, tested as the dictionary's
        -- indexes test theirs (search_word_matches below decides).
        select w.word from pg_catalog.unnest(own_words) as w (word)
        where not reads_all and (pg_catalog.strpos(w.word, q.word) > 0 or q.word operator(extensions.<%) w.word)
      ) f
      where private.search_word_matches(q.word, f.word)
      -- The most similar first: a reader's combinations keep the best of them.
      order by 3 desc, 2
      limit words_cap + 1
    ) m;

    -- How many combinations (counted up to combination_cap + 1), and whether every list is whole.
    combinations := 1;
    words_complete := true;
    for i in 1 .. pg_catalog.cardinality(long_words) loop
      found_words := pg_catalog.cardinality(pg_catalog.array_positions(match_n, i::bigint));
      combinations := least(combinations * found_words, combination_cap + 1);
      words_complete := words_complete and found_words <= words_cap;
    end loop;
    match_patterns := array(select '%' || w.word || '%' from pg_catalog.unnest(match_words) as w (word));

    -- A reader's query words with too many matches between them keep their
    -- most similar ones, at most combination_cap combinations in all: the
    -- word with the fewest matches keeps all it can, and what it leaves of
    -- the budget goes to the others. The search then reads at most the
    -- first clients of each kept combination, never every client holding a
    -- common word (a number, a common syllable), and fills a page they leave
    -- short from a bounded list (below).
    if reads_all and combinations > combination_cap then
      keep := array_fill(0, array[pg_catalog.cardinality(long_words)]);
      budget := combination_cap;
      remaining := pg_catalog.cardinality(long_words);
      combinations := 1;
      for word_count in
        select q.n, pg_catalog.cardinality(pg_catalog.array_positions(match_n, q.n::bigint)) as matched
        from pg_catalog.generate_series(1, pg_catalog.cardinality(long_words)) as q (n)
        order by 2, 1
      loop
        -- The first word is the one with the fewest matches: every one of them, for the fill below.
        if fewest_keys is null then
          fewest_keys := array(select org::text || ' ' || m.word from unnest(match_n, match_words) as m (n, word)
                                where m.n = word_count.n);
          fewest_words := array(select m.word from unnest(match_n, match_words) as m (n, word)
                                 where m.n = word_count.n);
        end if;
        keep[word_count.n] := greatest(1, least(word_count.matched, floor(budget ^ (1.0 / remaining) + 1e-9)::integer));
        budget := budget / keep[word_count.n];
        remaining := remaining - 1;
        combinations := combinations * keep[word_count.n];
      end loop;
      select coalesce(pg_catalog.array_agg(k.n order by k.n, k.similarity desc, k.word), '{}'),
             coalesce(pg_catalog.array_agg(k.word order by k.n, k.similarity desc, k.word), '{}'),
             coalesce(pg_catalog.array_agg(k.similarity order by k.n, k.similarity desc, k.word), '{}')
        into match_n, match_words, match_similarity
      from (
        select m.n, m.word, m.similarity,
               pg_catalog.row_number() over (partition by m.n order by m.similarity desc, m.word) as place
        from unnest(match_n, match_words, match_similarity) as m (n, word, similarity)
      ) k
      where k.place <= keep[k.n::integer];
    end if;
  end if;

  if not reads_all then
    -- Their candidates (assigned clients where the caller holds
    -- clients.work_assigned, and the creator arm): few rows, each matched and ranked in place.
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
                       -- Every short query word starts a word of the name (cheaper than scoring every word).
                       and not exists (
                         select 1 from pg_catalog.unnest(query_words) as q (word)
                         where pg_catalog.char_length(q.word) < 3
                           and not exists (select 1 from pg_catalog.unnest(private.search_words(c.name)) as w (word)
                                            where pg_catalog.starts_with(w.word, q.word)))
                  then private.client_name_word_score(query_words, c.name) end as word_score
      from public.clients c
      cross join lateral (
        select pg_catalog.starts_with(c.name_lower, term)
               or coalesce(pg_catalog.starts_with(pg_catalog.lower(c.email), term), false) as is_prefix
      ) p
      where c.organization_id = org and c.id = any (own_ids)
    ) m
    where m.is_prefix
       or m.word_score is not null
       or (pg_catalog.char_length(term) >= 3 and has_trigrams
           and (pg_catalog.strpos((m.c).name_lower, term) > 0 or pg_catalog.strpos(pg_catalog.lower((m.c).email), term) > 0))
    order by m.is_prefix desc, m.prefix_rank desc nulls last, m.word_score desc nulls last, (m.c).name, (m.c).id
    limit max_results;
    return;
  end if;


  -- Word matches. A combination of one matching word per query word scores
  -- their similarities' average; a client's score is that of its best combination. Each
  -- combination's first clients by name come from an index; the best of
  -- them are the best clients overall (a client left out of its best
  -- combination's list is outranked by the whole list).
  if need > 0 and pg_catalog.cardinality(query_words) > 0 then
    if combinations = 0 then
      -- A query word matches no word of any name.
      null;
    else
      with recursive matching as (
        -- unnest of several arrays is syntax (rows from), not pg_catalog.unnest.
        select m.n, m.word, m.similarity
        from unnest(match_n, match_words, match_similarity) as m (n, word, similarity)
      ),
      combination (n, keys, words, total) as (
        select 0::bigint, short_keys, '{}'::text[], 0::numeric
        union all
        select m.n, c.keys || (org::text || ' ' || m.word), c.words || m.word, c.total + m.similarity
        from combination c join matching m on m.n = c.n + 1
      ),
      found as (
        select f.id, f.name,
               pg_catalog.max(case when pg_catalog.cardinality(long_words) > 0
                                   then pg_catalog.round(c.total / pg_catalog.cardinality(long_words), 6) else 0 end) as score
        from combination c
        cross join lateral (
          select pg_catalog.cardinality(c.words) = 1 and pg_catalog.cardinality(c.keys) = 1
                 and pg_catalog.ltrim(c.words[1], '0123456789') <> '' as listed
        ) one
        cross join lateral (
          -- One word (not a number: one name holds each), and no short query
          -- word: its first clients by name, in the order of private.client_words' primary key.
          (select x.client_id as id, x.name
           from private.client_words x
           where one.listed and x.organization_id = org and x.word = c.words[1]
             and x.client_id <> all (prefix_ids)
           order by x.name, x.client_id
           limit need)
          union all
          -- Several keys: the clients holding all of them, from the GIN index.
          (select cl.id, cl.name
           from public.clients cl
           -- The keys name the organization; the comparison below is a check, not an index condition.
           where not one.listed
             and pg_catalog.array_remove(pg_catalog.string_to_array(pg_catalog.regexp_replace(
                   pg_catalog.regexp_replace(pg_catalog.lower(cl.name), '[^[:alnum:]]+', E'\n', 'g'),
                   '([[:alnum:]])([[:alnum:]]?)([[:alnum:]]*)',
                   E'\n' || cl.organization_id::text || E' \\1*\n' || cl.organization_id::text || E' \\1\\2*\n' || cl.organization_id::text || E' \\1\\2\\3\n', 'g'),
                   E'\n'), '')
                 @> c.keys
             and (cl.organization_id = org) is true
             and cl.id <> all (prefix_ids)
           order by cl.name, cl.id
           limit need)
        ) f
        where c.n = pg_catalog.cardinality(long_words)
        group by f.id, f.name
      )
      select coalesce(pg_catalog.array_agg(t.id order by t.score desc, t.name, t.id), '{}') into word_ids
      from (select * from found order by score desc, name, id limit need) t;
    end if;
    -- Kept combinations that rarely meet in one name (equally similar words,
    -- kept per query word) can leave the page short: then the clients holding
    -- any match of the query word with the fewest, the first fill_cap by
    -- name, are scored with those found, and the best fill it.
    if fewest_keys is not null and pg_catalog.cardinality(word_ids) < need then
      select coalesce(pg_catalog.array_agg(t.id order by t.score desc, t.name, t.id), '{}') into word_ids
      from (
        select s.id, s.name, s.score
        from (
          select cl.id, cl.name, private.client_name_word_score(query_words, cl.name) as score
          from (
            select f.id, f.name from public.clients f
            where f.id = any (word_ids) and f.organization_id = org
            union
            -- When none of those matches is a number, from private.client_words
            -- (no row of clients read, one sort of index entries);
            (select x.client_id, x.name
             from private.client_words x
             where not exists (select 1 from pg_catalog.unnest(fewest_words) as w (word)
                               where pg_catalog.ltrim(w.word, '0123456789') = '')
               and x.organization_id = org and x.word = any (fewest_words)
               and x.client_id <> all (prefix_ids)
             group by x.name, x.client_id
             order by x.name, x.client_id
             limit fill_cap)
            union
            -- otherwise from the GIN index.
            (select cl.id, cl.name
             from public.clients cl
             -- The keys name the organization; the comparison below is a check, not an index condition.
             where exists (select 1 from pg_catalog.unnest(fewest_words) as w (word)
                           where pg_catalog.ltrim(w.word, '0123456789') = '')
               and pg_catalog.array_remove(pg_catalog.string_to_array(pg_catalog.regexp_replace(
                     pg_catalog.regexp_replace(pg_catalog.lower(cl.name), '[^[:alnum:]]+', E'\n', 'g'),
                     '([[:alnum:]])([[:alnum:]]?)([[:alnum:]]*)',
                     E'\n' || cl.organization_id::text || E' \\1*\n' || cl.organization_id::text || E' \\1\\2*\n' || cl.organization_id::text || E' \\1\\2\\3\n', 'g'),
                     E'\n'), '')
                   && fewest_keys
               and (cl.organization_id = org) is true
               and cl.id <> all (prefix_ids)
             order by cl.name, cl.id
             limit fill_cap)
          ) cl
        ) s
        where s.score is not null
        order by s.score desc, s.name, s.id
        limit need
      ) t;
    end if;
    need := need - pg_catalog.cardinality(word_ids);
  end if;

  -- Then names or emails that contain the query otherwise: across words, or
  -- in the email. A name containing the query is a word match, found above,
  -- when the query is one word, or when every combination of its words'
  -- matches was searched and it does not start with a word of one or two
  -- characters (which a word of the name may end with, not start with): each
  -- query word then lies in a word of the name, the first at its end, the
  -- last at its start, the others whole.
  -- A query from which pg_trgm takes no trigram ('...', 'c++') is not matched
  -- this way: its pattern would make the trigram index read every row of the organization.
  if need > 0 and pg_catalog.char_length(term) >= 3 and has_trigrams then
    select coalesce(pg_catalog.array_agg(t.id order by t.name, t.id), '{}') into other_ids
    from (
      select c.id, c.name
      from public.clients c
      where c.organization_id = org
        and (pg_catalog.lower(c.email) like pattern
             or (query_words <> array[term]
                 and not (words_complete and fewest_keys is null and term !~ '^[[:alnum:]]{1,2}[^[:alnum:]]')
                 and c.name_lower like pattern))
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
  'Search the clients of one organization that the caller may read (exactly the rows the clients select policy shows them) by name and email, case-insensitively; whitespace around the query is dropped. Prefix matches first (the name or email starts with the query), ranked by pg_trgm word similarity of the query to the name (or to the email when it contains the query), then name; among more than 500 prefix matches per column, the first 500 by name (by email) are ranked, with the first 100 of each range where the query ends a word. For queries of 3 characters or more, then word matches: every word of the query (runs of letters and digits) matches a word of the name that contains it or whose word similarity to it is at least 0.5 (a query word of one or two characters: a word starting with it), ranked by the average best similarity of the query words of 3 characters or more (shorter ones only filter), then name; when the query words'' matches make more than 64 combinations, the most similar are searched, 64 combinations at most, and a page they leave short is filled from the first 1,000 clients by name holding a match of the query word with the fewest matches; then, for a query from which pg_trgm takes a trigram (three letters or digits in a row, or a run of them whose start, or whose end after two, the query shows), names or emails that contain the query otherwise, by name. Raises 22004 for a null organization, 22023 for an empty query, one over 200 characters or with more than 12 words, or max_results outside 1..100, 42501 without a signed-in user. Runs as its owner so that indexes serve the search (LIKE and pg_trgm operators are not leakproof, so under RLS they could not be index conditions); it restates the read policy for the caller itself.';

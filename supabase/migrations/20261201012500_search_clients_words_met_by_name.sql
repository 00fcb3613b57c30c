-- search_clients finds the clients whose names hold several matched words by
-- walking those words' lists of clients by name together, instead of reading
-- every client that holds them all and sorting them.
--
-- A combination of one matching word per query word, with no query word of
-- one or two characters, took its first clients by name from the GIN index
-- of name words when it had several words: that index gives the clients
-- holding them all in no order, so each was read and sorted. In a
-- 300,000-client organization "nortstar lab" read the 2,344 names holding
-- both "northstar" and "labs" (6 ms of a 8 to 13 ms search; the target is
-- 10 ms).
--
-- Each word's clients are listed by name in private.client_words
-- (20261201012400_search_clients_word_lists_by_name; the opening comment of
-- that migration describes a walk of one word's list with the other words
-- checked, and combinations searched most similar first: its function does
-- neither, it walks a list for combinations of one word only).
-- private.clients_listed_under_all walks several lists together: each step
-- reads the next list from the last client found on (one index probe), so
-- the walk leaps over the runs of clients the other lists do not hold, and
-- a client every list holds in turn is a result. Clients come in name order,
-- so the walk stops at the page; each result takes a probe of each list. It
-- is bounded: after 2 * words * need + 64 probes (twice what the results
-- take, and 64) with the page still short it gives up, and the GIN index
-- answers for that combination as before (lists that cross often and rarely
-- meet: at most about 1.4 ms more for two words and a page of 20). The GIN
-- index also still answers for a combination holding a number (numbers are
-- not listed) or a short query word, and for every combination when there
-- are more than 4 (to bound the walks' work).
--
-- Also:
-- - A short page's fill takes its candidates, the first 1,000 clients by
--   name holding a match of the fewest query word, from a walk of each such
--   word's list that stops at 1,000; it read and sorted every entry of those
--   lists ("northstar 123" in the same organization: 18,750 entries, 37 ms
--   of search, now 24), and it scores a candidate only when each long query
--   word lies in its name or is similar to a part of it (a necessary test of
--   a match: "northstar 123" took 100 ms before it).
-- - The dictionary's words a query word matches are no longer tested again,
--   one by one, by private.search_word_matches: the lookups' own conditions
--   are that test ("123", 1,900 numbers: 18 ms, now 9 ms).
-- - Every statement of the function is planned for the call's values
--   (plan_cache_mode): from a session's sixth call on, PostgreSQL could keep
--   one plan of the dictionary lookup for any organization, which read a
--   300,000-client organization's whole dictionary (a typo: 7 ms, then
--   530 ms on every call).
--
-- What may be read, what matches and the order of the results are unchanged.

set lock_timeout = '10s';
set statement_timeout = '15min';

-- The function sets pg_trgm.word_similarity_threshold, which a role that is
-- not a superuser may set only once pg_trgm's library is loaded in the session.
select extensions.word_similarity('a', 'a');

-- The clients listed under every one of several words, by name ---------------------

create function private.clients_listed_under_all(organization_id uuid, words text[], excluded uuid[], wanted integer, probes integer)
returns table (client_id uuid, name text)
language plpgsql
stable
set search_path = pg_catalog, pg_temp
-- One plan per session: its probes read the primary key whatever the values.
set plan_cache_mode = auto
as $$
declare
  found_ids uuid[];
  found_names text[];
  stopped boolean;
begin
  with recursive walk (name, client_id, list, agreed, steps) as (
    -- The first client of the first list, which one list (that one) holds.
    (select x.name, x.client_id, 1, 1, 0
     from private.client_words x
     where x.organization_id = clients_listed_under_all.organization_id and x.word = words[1]
     order by x.name, x.client_id
     limit 1)
    union all
    -- The next list's first client from there on (past it, once every list
    -- held it): the same client in one list more, or a later one that only
    -- that list is known to hold.
    select e.name, e.client_id, w.list % pg_catalog.cardinality(words) + 1,
           case when e.name = w.name and e.client_id = w.client_id then w.agreed + 1 else 1 end,
           w.steps + 1
    from walk w
    cross join lateral (
      select x.name, x.client_id
      from private.client_words x
      where x.organization_id = clients_listed_under_all.organization_id
        and x.word = words[w.list % pg_catalog.cardinality(words) + 1]
        and (x.name, x.client_id) >= (w.name, w.client_id)
        and not (w.agreed = pg_catalog.cardinality(words) and x.name = w.name and x.client_id = w.client_id)
      order by x.name, x.client_id
      limit 1
    ) e
    where w.steps < probes
  ),
  -- The clients every list holds (but the excluded), and the walk's last step.
  held as (
    select h.client_id, h.name, h.steps, h.met, h.steps = probes as last
    from (select w.client_id, w.name, w.steps,
                 w.agreed = pg_catalog.cardinality(words) and w.client_id <> all (excluded) as met
          from walk w) h
    where h.met or h.steps = probes
    limit wanted
  )
  select coalesce(pg_catalog.array_agg(h.client_id order by h.steps) filter (where h.met), '{}'),
         coalesce(pg_catalog.array_agg(h.name order by h.steps) filter (where h.met), '{}'),
         coalesce(pg_catalog.bool_or(h.last), false)
    into found_ids, found_names, stopped
  from held h;
  -- A walk that stopped at its last probe with the page short says so.
  if stopped and pg_catalog.cardinality(found_ids) < wanted then
    return query select null::uuid, null::text;
    return;
  end if;
  return query select f.client_id, f.name from unnest(found_ids, found_names) as f (client_id, name);
end;
$$;
comment on function private.clients_listed_under_all(uuid, text[], uuid[], integer, integer) is
  'The first wanted clients by name (then id) that private.client_words lists under every word of words in an organization, but those in excluded, from a walk of the lists together: each step reads one list from the last client found on (an index probe), until the lists meet on as many clients as wanted or one of them ends; at most probes steps, and one row of nulls instead when that bound is reached with the page short. For search_clients.';
revoke all on function private.clients_listed_under_all(uuid, text[], uuid[], integer, integer) from public, anon, authenticated, service_role;

create or replace function public.search_clients(organization_id uuid, query text, max_results integer default 20)
returns setof public.clients
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
-- Typo tolerance: a dictionary word whose word similarity to a query word is
-- at least 0.5 (operator <%); set here, the caller's setting never changes what matches.
set pg_trgm.word_similarity_threshold = 0.5
-- Each statement planned for the call's values: a plan made once for any
-- organization reads the whale's whole dictionary of words by its primary
-- key (260 ms a query word in a 300,000-client organization) where the
-- trigram indexes take under a millisecond.
set plan_cache_mode = force_custom_plan
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
  -- Whether none of them is a number: their clients are then listed by name (private.client_words).
  fewest_listed boolean;
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
  -- Combinations of several listed words are walked by name while there
  -- are at most walk_combinations of them: at most 2 index probes per word
  -- and result wanted, and walk_spare_probes more, each.
  walk_combinations constant integer := 4;
  walk_spare_probes constant integer := 64;
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
        -- indexes test theirs (search_word_matches decides; for the
        -- dictionary's words the conditions above are its own).
        select w.word from pg_catalog.unnest(own_words) as w (word)
        where not reads_all and (pg_catalog.strpos(w.word, q.word) > 0 or q.word operator(extensions.<%) w.word)
          and private.search_word_matches(q.word, w.word)
      ) f
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
          fewest_words := array(select m.word from unnest(match_n, match_words) as m (n, word)
                                 where m.n = word_count.n);
          fewest_keys := array(select org::text || ' ' || w.word from pg_catalog.unnest(fewest_words) as w (word));
          fewest_listed := not exists (select 1 from pg_catalog.unnest(fewest_words) as w (word)
                                       where pg_catalog.ltrim(w.word, '0123456789') = '');
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
                 and pg_catalog.ltrim(c.words[1], '0123456789') <> '' as listed,
                 pg_catalog.cardinality(c.words) > 1 and pg_catalog.cardinality(short_keys) = 0
                 and combinations <= walk_combinations
                 and not exists (select 1 from pg_catalog.unnest(c.words) as w (word)
                                 where pg_catalog.ltrim(w.word, '0123456789') = '') as walked
        ) one
        cross join lateral (
          -- Several words (none a number), and no short query word: their
          -- lists in private.client_words walked together (a row of nulls:
          -- the walk stopped at its bound with the page short).
          with walked as materialized (
            select k.client_id, k.name
            from private.clients_listed_under_all(
                   org, c.words, prefix_ids, need, 2 * pg_catalog.cardinality(c.words) * need + walk_spare_probes) k
            where one.walked
          )
          -- One word (not a number: one name holds each), and no short query
          -- word: its first clients by name, in the order of private.client_words' primary key.
          (select x.client_id as id, x.name
           from private.client_words x
           where one.listed and x.organization_id = org and x.word = c.words[1]
             and x.client_id <> all (prefix_ids)
           order by x.name, x.client_id
           limit need)
          union all
          select k.client_id, k.name from walked k where k.client_id is not null
          union all
          -- Otherwise: the clients holding all of the keys, from the GIN index.
          (select cl.id, cl.name
           from public.clients cl
           -- The keys name the organization; the comparison below is a check, not an index condition.
           where not one.listed and (not one.walked or exists (select from walked k where k.client_id is null))
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
          select cl.id, cl.name,
                 -- Scored only when each long query word lies in the name,
                 -- or is similar to a part of it (as it is to the word it
                 -- matches): cheap tests that spare most candidates the scoring.
                 case when not exists (select 1 from pg_catalog.unnest(long_words) as q (word)
                                       where not (pg_catalog.strpos(pg_catalog.lower(cl.name), q.word) > 0
                                                  or q.word operator(extensions.<%) pg_catalog.lower(cl.name)))
                      then private.client_name_word_score(query_words, cl.name) end as score
          from (
            select f.id, f.name from public.clients f
            where f.id = any (word_ids) and f.organization_id = org
            union
            -- When none of those matches is a number, from private.client_words
            -- (no row of clients read): each word's first fill_cap by name, a
            -- walk of its list that stops there (the first fill_cap of them
            -- all are among those; all of each list were read and sorted before);
            (select x.client_id, x.name
             from pg_catalog.unnest(fewest_words) as w (word)
             cross join lateral (
               select y.client_id, y.name
               from private.client_words y
               where y.organization_id = org and y.word = w.word and y.client_id <> all (prefix_ids)
               order by y.name, y.client_id
               limit fill_cap) x
             where fewest_listed
             group by x.name, x.client_id
             order by x.name, x.client_id
             limit fill_cap)
            union
            -- otherwise from the GIN index.
            (select cl.id, cl.name
             from public.clients cl
             -- The keys name the organization; the comparison below is a check, not an index condition.
             where not fewest_listed
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

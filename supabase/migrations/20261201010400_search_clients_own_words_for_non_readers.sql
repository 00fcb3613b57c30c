-- search_clients: a caller who does not read an organization's clients
-- searches their own candidates, and nothing else of the organization.
--
-- Before, a caller without clients.read there (a member, an organization's
-- own assigned-only role, or someone who belongs to no organization at all)
-- had each query word of three characters or more looked up in the
-- organization's dictionary of name words (private.client_name_words: the
-- words of every client's name) before their own candidates were found.
-- The results were right (only their assigned clients, and those they created
-- in this transaction), but the time a search took grew with how many of
-- the organization's name words matched the query: from 2 to 3 ms for a word
-- no name holds to 8 ms for one 300 names hold, 80 ms for one 5,000 names
-- hold, and 1.7 s for a query of 29 such words. Anyone signed in could so
-- learn which words another organization's client names hold, and make the
-- database do that work.
--
-- Now such a caller's candidates are found first, and the search stops at
-- once when there are none (no rights there, or nothing assigned); their
-- query words are matched against the words of their candidates' names
-- only (the dictionary served only to find the few names worth scoring, and
-- a candidate's own words are all a match can use). What is found and its
-- order are unchanged; readers' searches are unchanged. The searches above
-- by someone in no organization take about 0.5 ms each, whatever the
-- organization holds. The body is 20261201010200's but for those two steps.

set lock_timeout = '10s';
set statement_timeout = '15min';

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
        (select c.id, c.name, c.name_lower, pg_catalog.lower(c.email) as email_lower
         from public.clients c
         where c.organization_id = org and c.name_lower >= term and c.name_lower < upper_bound
         order by c.name_lower
         limit prefix_cap)
        union
        (select c.id, c.name, c.name_lower, pg_catalog.lower(c.email)
         from public.clients c
         where c.organization_id = org
           and pg_catalog.lower(c.email) collate "C" >= term and pg_catalog.lower(c.email) collate "C" < upper_bound
         order by pg_catalog.lower(c.email) collate "C"
         limit prefix_cap)
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
       or (pg_catalog.char_length(term) >= 3
           and (pg_catalog.strpos((m.c).name_lower, term) > 0 or pg_catalog.strpos(pg_catalog.lower((m.c).email), term) > 0))
    order by m.is_prefix desc, m.prefix_rank desc nulls last, m.word_score desc nulls last, (m.c).name, (m.c).id
    limit max_results;
    return;
  end if;


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


-- Threat cases for public.search_clients(organization_id, query, max_results),
-- the indexed client search. It runs as its owner (no RLS) and restates the
-- clients read policy, so every case here checks that restatement.
-- Seed: Acme's 25 clients were created by carol; dave is assigned to Acme
-- clients 1-5, mallory to 5-7; heidi to Globex 1-4; mallory is a viewer of Globex.
-- Rules proved:
--   R1  only signed-in users call it: anon and the service hold no execute
--       privilege, a token without a user is refused.
--   R2  for every persona, organization and query, the results are exactly
--       the matching rows the clients select policy lets that persona read.
--   R3  members find only their assigned clients, never an unassigned one,
--       whatever they search for.
--   R4  forged arguments (another organization, an unknown one) find nothing.
--   R5  bad input is refused with a clear error: null organization (22004),
--       empty or blank query, a query over 200 characters, max_results
--       outside 1..100 or null (22023).
--   R6  matching and ranking: case-insensitive prefix on name and email;
--       from 3 characters, word by word typo-tolerant and contains matching
--       on names, and contains on name and email; 1-2 characters prefix
--       only; LIKE wildcards are plain characters; prefix matches first,
--       then word matches by similarity, then other matches, then name;
--       max_results caps.
--   R8  the words of new and renamed clients are found at once (the
--       dictionary of name words follows inserts and renames); pruning
--       removes words no name uses; only the service may prune.
--   R7  shape: security definer with a pinned search_path; pg_trgm and
--       btree_gin live in schema extensions, not public.
--   R9  organizations' own roles: a role with clients.work_assigned finds its
--       holder's assigned clients only, a role with clients.read every match,
--       a role with neither only what its holder created in this transaction
--       where they may create; a permission taken from a role applies
--       to its holder's next search.
--   R10 a caller who does not read an organization's clients searches only
--       their own candidates there: neither what they find nor the work the
--       search does depends on the names of clients they cannot read (the
--       organization's dictionary of name words is not consulted for them).
--   R11 bounded work: a query word matching more than a thousand words of
--       the organization's names reads the clients of its most similar
--       matches only (the exact word first), never every client holding one;
--       a query without a letter or digit matches by prefix only and reads no
--       more; the best prefix match (the query ending a word) is found among
--       more than 500 longer ones; a query holds at most 12 words; whitespace
--       around a query (tabs, no-break spaces) is dropped before its length
--       is checked, as the typed layer drops it; a page the kept
--       combinations leave short is filled.

begin;
create extension if not exists pgtap with schema extensions;
select plan(96);

\ir personas.psql

-- The matching rule, restated independently of the function.
-- Words: runs of letters and digits, lower-cased.
create function pg_temp.words(v text) returns text[] language sql immutable as $$
  select coalesce(array_agg(distinct w), '{}') from regexp_split_to_table(lower(v), '[^[:alnum:]]+') w where w <> ''
$$;
-- A query word of 3 characters or more matches a word containing it or similar to it (0.5; not a word of digits only); a shorter one, a word starting with it.
create function pg_temp.word_matches(q text, w text) returns boolean language sql immutable as $$
  select case when char_length(q) < 3 then starts_with(w, q)
              else strpos(w, q) > 0 or (w ~ '[^0-9]' and extensions.word_similarity(q, w) >= 0.5) end
$$;
-- A name's word score: null unless every query word matches one of its words; else the average best
-- similarity of the query words of 3 characters or more (0 without any: shorter ones only filter).
create function pg_temp.word_score(query text, name text) returns numeric language sql stable as $$
  select case when char_length(t) >= 3 and cardinality(qw) > 0
                   and not exists (select 1 from unnest(qw) q
                                   where not exists (select 1 from unnest(pg_temp.words(name)) w where pg_temp.word_matches(q, w)))
              then (select coalesce(round(avg(b.best), 6), 0)
                    from (select max(extensions.word_similarity(q, w))::numeric as best
                          from unnest(qw) q cross join unnest(pg_temp.words(name)) w
                          where char_length(q) >= 3 and pg_temp.word_matches(q, w) group by q) b) end
  from (select lower(btrim(query)) as t, pg_temp.words(btrim(query)) as qw) x
$$;
create function pg_temp.matches(query text, name text, email text) returns boolean language sql stable as $$
  select starts_with(lower(name), t) or coalesce(starts_with(lower(email), t), false)
      or (char_length(t) >= 3 and (pg_temp.word_score(query, name) is not null
                                   or (t ~ '[[:alnum:]]{3}|[^[:alnum:]][[:alnum:]]|[[:alnum:]]{2}[^[:alnum:]]'
                                       and (strpos(lower(name), t) > 0 or coalesce(strpos(lower(email), t) > 0, false)))))
  from (select lower(btrim(query)) as t) q
$$;
create function pg_temp.queries() returns setof text language sql immutable as $$
  select unnest(array['nor', 'co', 'c', 'N', 'client1', 'CONTACT2', 'contso', 'wintery', 'example', 'ro', '1-0',
                      'blue yonder', 'globex', '%', '_o', 'zzzz', 'wide wrld', 'contoso zzzz', 'nrthwind', 'orld',
                      'blue yondr', 'co wi', 'works 1', 'e w', 'contoso 1', 'wingtp 2', 'a b c'])
$$;
-- For the current actor: (organization, query, client) found by search_clients.
create function pg_temp.found() returns table (org uuid, query text, id uuid) language sql volatile as $$
  select o.id, q, s.id
  from (values (pg_temp.org('acme')), (pg_temp.org('globex')), (pg_temp.org('initech')),
               ('10000000-0000-4000-8000-0000000000ff'::uuid)) o (id)
  cross join pg_temp.queries() q
  cross join lateral public.search_clients(o.id, q, 100) s
$$;
-- For the current actor: (organization, query, client) matching and readable under the select policy.
create function pg_temp.readable_matches() returns table (org uuid, query text, id uuid) language sql volatile as $$
  select c.organization_id, q, c.id
  from public.clients c
  cross join pg_temp.queries() q
  where pg_temp.matches(q, c.name, c.email)
$$;
grant execute on all functions in schema pg_temp to public;
-- Every client's name and email, read before acting as anyone.
create temp table all_clients as select id, name, email from public.clients;
grant select on all_clients to public;

-- R1 ---------------------------------------------------------------------------------------------
select pg_temp.as_anon();
select throws_ok($$ select * from public.search_clients(pg_temp.org('acme'), 'nor') $$, '42501',
  'permission denied for function search_clients', 'T300.01 anon cannot call search_clients');
select pg_temp.as_service();
select throws_ok($$ select * from public.search_clients(pg_temp.org('acme'), 'nor') $$, '42501',
  'permission denied for function search_clients', 'T300.02 the service cannot call it either (it reads tables directly)');
select pg_temp.as_postgres();
select set_config('request.jwt.claims', '{"role":"authenticated"}', true);
set local role authenticated;
select throws_ok($$ select * from public.search_clients(pg_temp.org('acme'), 'nor') $$, '42501', 'not signed in',
  'T300.03 a token without a user (no sub) is refused');
select pg_temp.as_postgres();
select ok(not has_function_privilege('public', 'public.search_clients(uuid, text, integer)', 'execute'),
  'T300.04 PUBLIC holds no execute privilege on search_clients');

-- R2 every persona: exactly the readable matching rows ---------------------------------------------
select pg_temp.as_user('alice');
select set_eq($$ select * from pg_temp.found() $$, $$ select * from pg_temp.readable_matches() $$,
  'T300.05 owner (alice): results are exactly the matching clients the select policy shows her');
select pg_temp.as_user('bob');
select set_eq($$ select * from pg_temp.found() $$, $$ select * from pg_temp.readable_matches() $$,
  'T300.06 admin (bob): exactly the readable matches');
select pg_temp.as_user('carol');
select set_eq($$ select * from pg_temp.found() $$, $$ select * from pg_temp.readable_matches() $$,
  'T300.07 manager (carol): exactly the readable matches');
select pg_temp.as_user('dave');
select set_eq($$ select * from pg_temp.found() $$, $$ select * from pg_temp.readable_matches() $$,
  'T300.08 member (dave): exactly the readable matches (his assigned clients)');
select pg_temp.as_user('erin');
select set_eq($$ select * from pg_temp.found() $$, $$ select * from pg_temp.readable_matches() $$,
  'T300.09 viewer (erin): exactly the readable matches');
select pg_temp.as_user('frank');
select set_eq($$ select * from pg_temp.found() $$, $$ select * from pg_temp.readable_matches() $$,
  'T300.10 owner of Globex (frank): exactly the readable matches, none in Acme or Initech');
select pg_temp.as_user('grace');
select set_eq($$ select * from pg_temp.found() $$, $$ select * from pg_temp.readable_matches() $$,
  'T300.11 admin + manager of Globex (grace): exactly the readable matches');
select pg_temp.as_user('heidi');
select set_eq($$ select * from pg_temp.found() $$, $$ select * from pg_temp.readable_matches() $$,
  'T300.12 member of Globex (heidi): exactly the readable matches');
select pg_temp.as_user('ivan');
select set_eq($$ select * from pg_temp.found() $$, $$ select * from pg_temp.readable_matches() $$,
  'T300.13 owner of Initech (ivan): exactly the readable matches');
select pg_temp.as_user('judy');
select set_eq($$ select * from pg_temp.found() $$, $$ select * from pg_temp.readable_matches() $$,
  'T300.14 manager of Initech (judy): exactly the readable matches');
select pg_temp.as_user('mallory');
select set_eq($$ select * from pg_temp.found() $$, $$ select * from pg_temp.readable_matches() $$,
  'T300.15 member of Acme and viewer of Globex (mallory): exactly the readable matches, per organization');
select pg_temp.as_user('nora');
select is_empty($$ select * from pg_temp.found() $$, 'T300.16 signed-in non-member (nora): finds nothing anywhere');
select pg_temp.as_user('bob');
select ok((select count(*) from pg_temp.found()) > 100 and (select count(distinct query) from pg_temp.found()) >= 10,
  'T300.17 the comparison above is not vacuous: an admin finds clients for most queries');

-- The creator arm: a client created in this transaction by someone who may create but not read.
select pg_temp.as_user('dave');
insert into public.clients (organization_id, name, email) values (pg_temp.org('acme'), 'Zephyr Fresh', 'zephyr@new.example');
select set_eq($$ select id from public.search_clients(pg_temp.org('acme'), 'zephyr') $$,
  $$ select id from public.clients where name = 'Zephyr Fresh' $$,
  'T300.18 a member finds the client he just created (assigned to him, readable under the policy)');
select set_eq($$ select * from pg_temp.found() $$, $$ select * from pg_temp.readable_matches() $$,
  'T300.19 member (dave) after creating a client: still exactly the readable matches');
insert into public.clients (organization_id, name) values (pg_temp.org('acme'), 'Yarrow Tidewell');
select set_eq($$ select name from public.search_clients(pg_temp.org('acme'), 'tydewell') $$, array['Yarrow Tidewell'],
  'T300.54 a member finds a client of his without an email by a typo of one of its words');

-- R3 members ---------------------------------------------------------------------------------------
select pg_temp.as_user('dave');
select is_empty($$ select 1 from public.search_clients(pg_temp.org('acme'), (select name from all_clients where id = pg_temp.client(1, 10))) s
                   where s.id = pg_temp.client(1, 10) $$,
  'T300.20 a member searching an unassigned client''s exact name does not find it');
select is_empty($$ select 1 from public.search_clients(pg_temp.org('acme'), 'contact10@client1.example') $$,
  'T300.21 ... nor by its exact email');
select set_eq($$ select id from public.search_clients(pg_temp.org('acme'), 'client1', 100) $$,
  $$ select pg_temp.client(1, i) from generate_series(1, 5) i $$,
  'T300.22 a query every Acme client matches returns exactly the member''s assigned clients');
select pg_temp.as_user('heidi');
select is_empty($$ select 1 from public.search_clients(pg_temp.org('globex'), 'client2') s
                   where s.id not in (select pg_temp.client(2, i) from generate_series(1, 4) i) $$,
  'T300.23 member of Globex finds no client outside her assignments');

-- R4 forged arguments --------------------------------------------------------------------------------
select pg_temp.as_user('frank');
select is_empty($$ select 1 from public.search_clients(pg_temp.org('acme'), 'client1', 100) $$,
  'T300.24 owner of Globex finds nothing in Acme');
select pg_temp.as_user('heidi');
select is_empty($$ select 1 from public.search_clients(pg_temp.org('acme'), 'client1', 100) $$,
  'T300.25 member of Globex finds nothing in Acme');
select pg_temp.as_user('bob');
select is_empty($$ select 1 from public.search_clients('10000000-0000-4000-8000-0000000000ff', 'client', 100) $$,
  'T300.26 an unknown organization id finds nothing');
select is_empty($$ select 1 from public.search_clients(pg_temp.org('globex'), 'client2', 100) $$,
  'T300.27 admin of Acme finds nothing in Globex');
select pg_temp.as_user('mallory');
select is_empty($$ select 1 from public.search_clients(pg_temp.org('acme'), 'client1', 100) s
                   where s.id not in (select pg_temp.client(1, i) from generate_series(5, 7) i) $$,
  'T300.28 a viewer of Globex who is a member of Acme reads only her assignments in Acme (no union across organizations)');

-- R5 bad input ----------------------------------------------------------------------------------------
select pg_temp.as_user('bob');
select throws_ok($$ select * from public.search_clients(null, 'nor') $$, '22004', 'organization_id is required',
  'T300.29 a null organization is refused');
select throws_ok($$ select * from public.search_clients(pg_temp.org('acme'), '') $$, '22023', 'query must not be empty',
  'T300.30 an empty query is refused');
select throws_ok($$ select * from public.search_clients(pg_temp.org('acme'), '   ') $$, '22023', 'query must not be empty',
  'T300.31 a blank query is refused');
select throws_ok($$ select * from public.search_clients(pg_temp.org('acme'), null) $$, '22023', 'query must not be empty',
  'T300.32 a null query is refused');
select throws_ok($$ select * from public.search_clients(pg_temp.org('acme'), repeat('a', 201)) $$, '22023',
  'query is longer than 200 characters', 'T300.33 a query over 200 characters is refused');
select throws_ok($$ select * from public.search_clients(pg_temp.org('acme'), 'nor', 0) $$, '22023',
  'max_results must be between 1 and 100, got 0', 'T300.34 max_results 0 is refused');
select throws_ok($$ select * from public.search_clients(pg_temp.org('acme'), 'nor', 101) $$, '22023',
  'max_results must be between 1 and 100, got 101', 'T300.35 max_results 101 is refused');
select throws_ok($$ select * from public.search_clients(pg_temp.org('acme'), 'nor', null) $$, '22023',
  'max_results must be between 1 and 100, got null', 'T300.36 a null max_results is refused');

-- R6 matching and ranking --------------------------------------------------------------------------
select is((select count(*)::int from public.search_clients(pg_temp.org('acme'), 'client1')), 20,
  'T300.37 max_results defaults to 20');
select is_empty($$ select 1 from public.search_clients(pg_temp.org('acme'), 'on', 100) s
                   where not starts_with(lower(s.name), 'on') and not starts_with(lower(s.email), 'on') $$,
  'T300.38 a two-character query matches prefixes only (no "Blue Yonder" for "on")');
select results_eq($$ select name from public.search_clients(pg_temp.org('acme'), 'CONTSO') $$,
  $$ select name from public.clients where organization_id = pg_temp.org('acme') and name like 'Contoso %' $$,
  'T300.39 typo-tolerant and case-insensitive: "CONTSO" finds Contoso');
select is_empty($$ select 1 from public.search_clients(pg_temp.org('acme'), '%', 100) $$,
  'T300.40 "%" is a plain character, not a wildcard');
select results_eq(
  $$ select s.name from pg_temp.queries() q cross join lateral public.search_clients(pg_temp.org('acme'), q, 100) s $$,
  $$ select c.name from pg_temp.queries() q
     cross join lateral (
       select c.name from public.clients c
       cross join lateral (select lower(btrim(q)) as t) t
       cross join lateral (select starts_with(lower(c.name), t.t) or coalesce(starts_with(lower(c.email), t.t), false) as prefix) p
       where c.organization_id = pg_temp.org('acme') and pg_temp.matches(q, c.name, c.email)
       order by p.prefix desc,
                case when p.prefix then greatest(extensions.word_similarity(t.t, lower(c.name)),
                     case when strpos(lower(c.email), t.t) > 0 then extensions.word_similarity(t.t, lower(c.email)) else 0 end) end desc nulls last,
                pg_temp.word_score(q, c.name) desc nulls last,
                c.name, c.id) c $$,
  'T300.41 every query''s results come in rank order: prefix matches, then word matches by similarity, then other matches, name breaking ties');
select is(
  (select array_agg(starts_with(s.name_lower, 'win')) from public.search_clients(pg_temp.org('acme'), 'win', 100) s),
  array[true, true, false, false, false, false, false]::boolean[],
  'T300.42 prefix matches (Wingtip) come before every other match (Northwind, Coho Winery, Wide World Importers)');

-- R8 the dictionary of name words ---------------------------------------------------------------------
select pg_temp.as_user('bob');
insert into public.clients (organization_id, name) values (pg_temp.org('acme'), 'Quillon Vexwood Marrowgate');
select set_eq($$ select name from public.search_clients(pg_temp.org('acme'), 'quilon vexwod') $$, array['Quillon Vexwood Marrowgate'],
  'T300.44 a client inserted now is found by typos of its words (not a prefix of its name)');
select set_eq($$ select name from public.search_clients(pg_temp.org('acme'), 'rrowga') $$, array['Quillon Vexwood Marrowgate'],
  'T300.45 ... and by a part of a word');
update public.clients set name = 'Quillon Bramble' where organization_id = pg_temp.org('acme') and name = 'Quillon Vexwood Marrowgate';
select set_eq($$ select name from public.search_clients(pg_temp.org('acme'), 'brambel') $$, array['Quillon Bramble'],
  'T300.46 a renamed client is found by a typo of its new word');
select is_empty($$ select 1 from public.search_clients(pg_temp.org('acme'), 'rrowga') $$,
  'T300.47 ... and no longer by its old one');
insert into public.clients (organization_id, name) values (pg_temp.org('acme'), 'Depot 48213');
select set_eq($$ select name from public.search_clients(pg_temp.org('acme'), '8213') $$, array['Depot 48213'],
  'T300.52 a number is found by a part of it');
select is_empty($$ select 1 from public.search_clients(pg_temp.org('acme'), '482135') $$,
  'T300.53 ... but numbers have no typos: one with a digit more finds nothing');
select throws_ok($$ select private.prune_client_name_words(pg_temp.org('acme')) $$, '42501', null,
  'T300.48 a signed-in user cannot prune the dictionary');
select pg_temp.as_service();
select is(private.prune_client_name_words(pg_temp.org('acme')), 2::bigint,
  'T300.49 the service prunes the words no name uses any more (vexwood, marrowgate)');
select pg_temp.as_postgres();
select is(
  (select array_agg(word order by word) from private.client_name_words
    where organization_id = pg_temp.org('acme') and word in ('quillon', 'vexwood', 'marrowgate', 'bramble')),
  array['bramble', 'quillon'],
  'T300.50 the words of current names stay');
select ok(not has_table_privilege('authenticated', 'private.client_name_words', 'select')
          and not has_table_privilege('anon', 'private.client_name_words', 'select'),
  'T300.51 the API roles cannot read the dictionary');

-- R8b each word's clients by name (private.client_words) -----------------------------------------------
-- What the table holds, written out: each client's name words but numbers.
create function pg_temp.listed_words_drift() returns bigint language sql stable as $$
  select count(*) from (
    (select organization_id, word, name, client_id from private.client_words
     except all
     select c.organization_id, w.word, c.name, c.id from public.clients c
     cross join lateral unnest(private.search_words(c.name)) as w (word) where ltrim(w.word, '0123456789') <> '')
    union all
    (select c.organization_id, w.word, c.name, c.id from public.clients c
     cross join lateral unnest(private.search_words(c.name)) as w (word) where ltrim(w.word, '0123456789') <> ''
     except all
     select organization_id, word, name, client_id from private.client_words)) d
$$;
select is(pg_temp.listed_words_drift(), 0::bigint,
  'T300.77 each client is listed under each word of its name but numbers, after inserts of one and of many rows and a rename');
select ok((select count(*) from private.client_words where word = 'bramble') = 1
          and not exists (select 1 from private.client_words where word in ('vexwood', '48213')),
  'T300.78 ... under its new word, not its old one, and never under a number');
savepoint listed;
delete from public.clients where organization_id = pg_temp.org('acme') and name = 'Quillon Bramble';
select is(pg_temp.listed_words_drift(), 0::bigint, 'T300.79 a deleted client is no longer listed');
delete from public.clients where organization_id = pg_temp.org('acme');
select is((select count(*) from private.client_words where organization_id = pg_temp.org('acme')), 0::bigint,
  'T300.80 ... nor an organization''s clients deleted in one statement');
truncate public.clients cascade;
select is((select count(*) from private.client_words), 0::bigint, 'T300.81 truncating clients empties the lists');
rollback to savepoint listed;
savepoint listed;
with gone as (delete from public.clients where organization_id = pg_temp.org('acme') and name = 'Quillon Bramble' returning *)
insert into public.clients (id, organization_id, name) select id, organization_id, name from gone;
with gone as (delete from public.clients where organization_id = pg_temp.org('acme') and name = 'Depot 48213' returning *)
insert into public.clients (id, organization_id, name) select id, organization_id, 'Depot Harbor' from gone;
select is(pg_temp.listed_words_drift(), 0::bigint,
  'T300.84 a client deleted and inserted again in one statement, under its name or another, is listed as it is');
update public.clients set name = '4711' where organization_id = pg_temp.org('acme') and name = 'Quillon Bramble';
insert into public.clients (id, organization_id, name)
select id, organization_id, 'Harbor Quay' from public.clients where organization_id = pg_temp.org('acme') and name = 'Depot Harbor'
on conflict (id) do update set name = excluded.name;
select is(pg_temp.listed_words_drift(), 0::bigint,
  'T300.85 ... and one renamed to a number, or by an upsert');
delete from public.user_clients
where client_id in (select id from public.clients where organization_id = pg_temp.org('acme') and name = 'Harbor Quay');
create temp table t_moved as
select id as old_id from public.clients where organization_id = pg_temp.org('acme') and name = 'Harbor Quay';
update public.clients set id = gen_random_uuid() where organization_id = pg_temp.org('acme') and name = 'Harbor Quay';
select ok((select count(*) from t_moved) = 1
          and not exists (select 1 from public.clients c join t_moved m on m.old_id = c.id)
          and not exists (select 1 from private.client_words x join t_moved m on m.old_id = x.client_id)
          and (select count(*) from private.client_words x join public.clients c on c.id = x.client_id
               where c.name = 'Harbor Quay') = 2
          and pg_temp.listed_words_drift() = 0,
  'T300.88 ... and one whose id changes, under its new id');
select pg_temp.org('acme') as acme_id \gset
select ok((select count(*) from private.client_words where organization_id = :'acme_id') > 0, 'T300.86 acme''s clients are listed');
delete from public.organizations where id = :'acme_id';
select is((select count(*) from private.client_words where organization_id = :'acme_id'), 0::bigint,
  'T300.87 an organization''s deletion takes its lists with it');
rollback to savepoint listed;
select ok(not has_table_privilege('authenticated', 'private.client_words', 'select')
          and not has_table_privilege('anon', 'private.client_words', 'select')
          and not has_table_privilege('service_role', 'private.client_words', 'select'),
  'T300.82 the API roles cannot read the lists');
select ok(not exists (select 1 from private.organization_scoped_tables() where relid = 'private.client_words'::regclass),
  'T300.83 the lists are derived data: not an organization''s table to export or count');

-- R10 no work on what the caller cannot read ----------------------------------------------------------
-- Scans of the dictionary of name words (the table and its indexes) in this transaction so far.
select pg_temp.as_postgres();
create function pg_temp.dictionary_scans() returns bigint language sql stable as $$
  select sum(pg_stat_get_xact_numscans(c.oid))::bigint from pg_class c
  where c.oid in ('private.client_name_words'::regclass, 'private.client_words'::regclass)
     or c.oid in (select i.indexrelid from pg_index i
                  where i.indrelid in ('private.client_name_words'::regclass, 'private.client_words'::regclass))
$$;
create temp table scans_before (n bigint);
insert into scans_before select pg_temp.dictionary_scans();
select pg_temp.as_user('nora');
select is_empty($$ select 1 from public.search_clients(pg_temp.org('acme'), 'nrthwind yondr works', 100) $$,
  'T300.61 a signed-in non-member finds nothing in an organization, by words its client names hold');
select pg_temp.as_user('heidi');
select set_eq($$ select id from public.search_clients(pg_temp.org('globex'), 'nrthwind', 100) $$,
  $$ select c.id from public.clients c where c.organization_id = pg_temp.org('globex') and c.name ilike 'northwind%' $$,
  'T300.62 a member (heidi) finds her assigned client by a typo of its word');
select pg_temp.as_postgres();
select is(pg_temp.dictionary_scans(), (select n from scans_before),
  'T300.63 ... and neither search read the organization''s dictionary of name words (the words of clients they cannot read)');
update scans_before set n = pg_temp.dictionary_scans() where true;
select pg_temp.as_user('alice');
select count(*) from public.search_clients(pg_temp.org('acme'), 'nrthwind', 100);
select pg_temp.as_postgres();
select cmp_ok(pg_temp.dictionary_scans(), '>', (select n from scans_before),
  'T300.64 a reader''s typo search does read it (the count above sees a lookup)');

-- R9 organizations' own roles --------------------------------------------------------------------------
-- Acme defines a field agent (clients.create, clients.work_assigned), an auditor (clients.read) and an
-- intake clerk (clients.create); erin (a viewer) becomes a field agent assigned Acme clients 20-22, dave
-- (a member) an auditor, and bob (an admin) an intake clerk.
select pg_temp.as_user('alice');
select public.create_role(pg_temp.org('acme'), 'field_agent', 'Field agent', 10, '{clients.create,clients.work_assigned}');
select public.create_role(pg_temp.org('acme'), 'auditor', 'Auditor', 10, '{clients.read}');
select public.create_role(pg_temp.org('acme'), 'intake', 'Intake', 10, '{clients.create}');
select public.set_member_roles(pg_temp.org('acme'), pg_temp.uid('erin'), '{field_agent}');
select public.set_member_roles(pg_temp.org('acme'), pg_temp.uid('dave'), '{auditor}');
select public.set_member_roles(pg_temp.org('acme'), pg_temp.uid('bob'), '{intake}');
select pg_temp.as_postgres();
insert into public.user_clients (organization_id, client_id, user_id)
select pg_temp.org('acme'), pg_temp.client(1, i), pg_temp.uid('erin') from generate_series(20, 22) i;
select pg_temp.as_user('erin');
select set_eq($$ select id from public.search_clients(pg_temp.org('acme'), 'client1', 100) $$,
  $$ select pg_temp.client(1, i) from generate_series(20, 22) i $$,
  'T300.55 the holder of an organization''s role with clients.work_assigned finds exactly their assigned clients');
select set_eq($$ select * from pg_temp.found() $$, $$ select * from pg_temp.readable_matches() $$,
  'T300.56 ... and for every query exactly the matching clients the select policy shows them');
select pg_temp.as_user('dave');
select set_eq($$ select * from pg_temp.found() $$, $$ select * from pg_temp.readable_matches() $$,
  'T300.57 the holder of an organization''s role with clients.read: exactly the readable matches (every Acme match)');
select pg_temp.as_user('bob');
select is_empty($$ select 1 from public.search_clients(pg_temp.org('acme'), 'client1', 100) $$,
  'T300.58 the holder of an organization''s role with neither clients.read nor clients.work_assigned finds none of its clients');
select set_eq($$ select name from public.search_clients(pg_temp.org('acme'), 'quillon', 100) $$, array['Quillon Bramble'],
  'T300.60 ... but the client they created in this transaction (R8), where the role lets them create');
select pg_temp.as_user('alice');
select public.update_role((select id from public.roles where organization_id = pg_temp.org('acme') and key = 'field_agent'),
                          'Field agent', 10, '{clients.create}');
select pg_temp.as_user('erin');
select is_empty($$ select 1 from public.search_clients(pg_temp.org('acme'), 'client1', 100) $$,
  'T300.59 once the role loses clients.work_assigned, its holder''s next search finds nothing');

-- R11 bounded work ------------------------------------------------------------------------------------
-- Initech gains 1,200 clients whose names hold a number containing 123 (1230 to 1231199), one named
-- Tally 123, 600 named Desk counter whose emails start with desk7 and a digit, one whose email is
-- desk7@..., one whose email holds +++ and one whose name starts with it.
select pg_temp.as_postgres();
insert into public.clients (organization_id, name, email)
select pg_temp.org('initech'), 'Tally 123' || i, null from generate_series(0, 1199) i
union all select pg_temp.org('initech'), 'Tally 123', null
union all select pg_temp.org('initech'), 'Desk counter', 'desk7' || i || '@tally.example' from generate_series(0, 599) i
union all select pg_temp.org('initech'), 'Zed Desk', 'desk7@tally.example'
union all select pg_temp.org('initech'), 'Plus Sign', 'x+++y@tally.example'
union all select pg_temp.org('initech'), '+++ Plus', null
union all select pg_temp.org('initech'), 'Dotted Mail', 'xq..y@tally.example'
union all select pg_temp.org('initech'), 'Wq01z' || i || ' Wq02z' || i, null from generate_series(1, 150) i;
-- Statistics, and the word index's pending entries merged, as autovacuum leaves a table of that size
-- (the plans the function makes depend on both).
analyze public.clients;
select gin_clean_pending_list('public.clients_name_words_idx');
-- Rows of clients read so far: fetched through any of its indexes (counted on the index), by bitmap scans
-- (counted on the table) or sequentially.
create function pg_temp.clients_read() returns bigint language sql stable as $$
  select sum(pg_stat_get_xact_tuples_fetched(r.oid))::bigint + pg_stat_get_xact_tuples_returned('public.clients'::regclass)
  from (select 'public.clients'::regclass::oid as oid
        union all select i.indexrelid from pg_index i where i.indrelid = 'public.clients'::regclass) r
$$;
create temp table reads_before (n bigint);
insert into reads_before select pg_temp.clients_read();
select pg_temp.as_user('ivan');
create temp table tally_found as select * from public.search_clients(pg_temp.org('initech'), '123', 5);
select pg_temp.as_postgres();
select cmp_ok(pg_temp.clients_read() - (select n from reads_before), '<', 300::bigint,
  'T300.65 a query word held by 1,200 words of the names (123) reads the clients of its most similar matches, not every client holding one');
select is((select array_agg(name) from (select name from tally_found limit 1) f), array['Tally 123'],
  'T300.66 ... and the client holding the word itself comes first');
select is((select count(*) from tally_found), 5::bigint, 'T300.67 ... with as many results as asked for');
update reads_before set n = pg_temp.clients_read() where true;
select pg_temp.as_user('ivan');
select is(array(select name from public.search_clients(pg_temp.org('initech'), '+++', 100)), array['+++ Plus'],
  'T300.68 a query without a letter or digit matches by prefix only (not the email that contains +++)');
select is_empty($$ select name from public.search_clients(pg_temp.org('initech'), 'q..', 100) where name = 'Dotted Mail' $$,
  'T300.75 ... nor does one from which no trigram can be taken for a contains search (q..: one letter, its start unknown)');
select pg_temp.as_postgres();
select cmp_ok(pg_temp.clients_read() - (select n from reads_before), '<', 50::bigint,
  'T300.69 ... and both read no more than their prefix ranges (Initech holds 1,800 clients)');
select pg_temp.as_user('ivan');
select is((select name from public.search_clients(pg_temp.org('initech'), 'desk7', 1)), 'Zed Desk',
  'T300.70 the best prefix match (desk7@...) is found behind 600 longer ones (desk70@, desk71@, ... sort before it)');
select is((select count(*) from public.search_clients(pg_temp.org('initech'), 'wq01z wq02z', 20)), 20::bigint,
  'T300.76 two query words with 150 equally matching words each (22,500 combinations, 8 kept for each) still fill the page');
-- Several words: their lists of clients by name walked together. Xeno and Yolo's lists cross 120 times
-- (Cross10 Xeno, Cross10 Yolo, Cross11 Xeno, ...) before the one name holding both, a probe of a list each;
-- 300 names hold Vexa and Quor.
select pg_temp.as_postgres();
insert into public.clients (organization_id, name, email)
select pg_temp.org('initech'), 'Cross' || i || ' ' || v.word, null
from generate_series(10, 69) i cross join (values ('Xeno'), ('Yolo')) v (word)
union all select pg_temp.org('initech'), 'Zulu Xeno Yolo', null
union all select pg_temp.org('initech'), 'Duo Vexa Quor ' || i, null from generate_series(1, 300) i;
create function pg_temp.word_index_scans() returns bigint language sql stable as $$
  select pg_stat_get_xact_numscans('public.clients_name_words_idx'::regclass)
$$;
update reads_before set n = pg_temp.word_index_scans() where true;
select pg_temp.as_user('ivan');
create temp table met_one as select name from public.search_clients(pg_temp.org('initech'), 'xeno yolo', 1);
select pg_temp.as_postgres();
select is(array(select name from met_one), array['Zulu Xeno Yolo'],
  'T300.89 two words whose lists cross more often than the walk may probe them (68 probes for one result) still find the name holding both');
select is(array(select row(w.client_id, w.name)::text
                 from private.clients_listed_under_all(pg_temp.org('initech'), '{xeno,yolo}', '{}', 1, 68) w),
  array[row(null::uuid, null::text)::text],
  'T300.90 ... which the walk of their lists, given those 68 probes, does not reach: it says so with a row of nulls');
update reads_before set n = pg_temp.word_index_scans() where true;
select pg_temp.as_user('ivan');
create temp table met_all as select name from public.search_clients(pg_temp.org('initech'), 'xeno yolo', 100);
select pg_temp.as_postgres();
select is(array(select name from met_all), array['Zulu Xeno Yolo'],
  'T300.91 ... and by the walk itself where it may probe them that often (464 probes for 100 results)');
select is(pg_temp.word_index_scans(), (select n from reads_before),
  'T300.92 ... which reads no index of the clients'' names');
update reads_before set n = pg_temp.clients_read() where true;
select pg_temp.as_user('ivan');
create temp table met_five as select name from public.search_clients(pg_temp.org('initech'), 'vexa quor', 5);
select pg_temp.as_postgres();
select cmp_ok(pg_temp.clients_read() - (select n from reads_before), '<=', 5::bigint,
  'T300.93 two words 300 names hold together, five results asked: read from their lists, no row of clients but the five found');
select is(array(select name from met_five),
  array(select name from public.clients where organization_id = pg_temp.org('initech') and name like 'Duo Vexa Quor %'
        order by name, id limit 5),
  'T300.94 ... which are the first five of those names');
-- A walk of five lists takes five probes a result: its bound grows with them.
insert into public.clients (organization_id, name, email)
select pg_temp.org('initech'), 'Alpha Beta Nova Labs Xeno Yolo Zed ' || i, null from generate_series(1, 100) i;
update reads_before set n = pg_temp.word_index_scans() where true;
select pg_temp.as_user('ivan');
create temp table met_many as select name from public.search_clients(pg_temp.org('initech'), 'xeno labs nova beta alpha', 66);
select pg_temp.as_postgres();
select is((select count(*) from met_many), 66::bigint,
  'T300.95 five words 100 names hold together, 66 results asked: 66 found');
select is(pg_temp.word_index_scans(), (select n from reads_before),
  'T300.96 ... by a walk of the five lists (330 probes), within its bound: no index of the names read');
select pg_temp.as_user('ivan');
select throws_ok($$ select * from public.search_clients(pg_temp.org('initech'), 'a b c d e f g h i j k l m') $$, '22023',
  'query has more than 12 words', 'T300.71 a query of more than 12 words is refused');
select lives_ok($$ select * from public.search_clients(pg_temp.org('initech'), 'a b c d e f g h i j k l') $$,
  'T300.72 ... and one of 12 is searched');
select throws_ok($$ select * from public.search_clients(pg_temp.org('initech'), E'\t\u00a0\n\u3000') $$, '22023',
  'query must not be empty', 'T300.73 a query of tabs, line breaks and no-break spaces is blank');
select set_eq($$ select id from public.search_clients(pg_temp.org('initech'), E'\t\u00a0' || repeat(' ', 30) || 'Tally 123' || repeat(' ', 200), 100) $$,
  $$ select id from public.search_clients(pg_temp.org('initech'), 'tally 123', 100) $$,
  'T300.74 whitespace around a query is dropped before its length is checked (the query is Tally 123)');

-- R7 shape ---------------------------------------------------------------------------------------------
select pg_temp.as_postgres();
select ok(
  (select p.prosecdef and p.proconfig @> array['search_path=pg_catalog, pg_temp'] from pg_proc p
   where p.oid = 'public.search_clients(uuid, text, integer)'::regprocedure)
  and (select bool_and(e.extnamespace = 'extensions'::regnamespace) from pg_extension e where e.extname in ('pg_trgm', 'btree_gin'))
  and (select count(*) from pg_extension e where e.extname in ('pg_trgm', 'btree_gin')) = 2,
  'T300.43 security definer with search_path pg_catalog, pg_temp; pg_trgm and btree_gin in schema extensions');

select * from finish();
rollback;

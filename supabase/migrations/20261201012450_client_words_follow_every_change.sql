-- private.client_words follows every change of a client, and goes with its
-- organization. The triggers of 20261201012400_search_clients_word_lists_by_name
-- are restated:
-- - A client whose id changes (nothing refuses it when no assignment names
--   the client) stayed listed under its old id, and was not listed under its
--   new one: search_clients no longer found it by its words. The update
--   trigger now fires when the id changes too.
-- - A client deleted and inserted again in one statement (a data-modifying
--   WITH can) failed on the lists' primary key when the insert's trigger ran
--   first; under another name, the delete's trigger could take the new rows
--   off. The insert skips rows already listed, and the delete keeps the rows
--   of a client that is there again under the same name.
-- - The lists reference their organization (on delete cascade), like the
--   dictionary of name words.
-- Then the lists are brought up to date with the clients there are (what an
-- id change left behind): missing rows added, stale ones removed (about 45
-- seconds per million clients, the triggers in place first so that no
-- client written meanwhile is missed).

set lock_timeout = '10s';
set statement_timeout = '15min';

-- Lists of an organization that is gone (none are expected: its clients' deletion took them off).
delete from private.client_words x
where not exists (select 1 from public.organizations o where o.id = x.organization_id);
-- One file is one transaction (db push), so a NOT VALID constraint validated
-- after it would hold the same locks: writes to organizations and clients
-- wait for the check, one pass over the lists (seconds per million clients).
-- squawk-ignore adding-foreign-key-constraint, constraint-missing-not-valid
alter table private.client_words add constraint client_words_organization_id_fkey foreign key (organization_id) references public.organizations (id) on delete cascade;
comment on table private.client_words is
  'Each client''s name words (private.search_words, numbers left out) with its name, for search_clients to list the clients holding a word by name: the primary key''s order. Kept by triggers on clients (private.record_client_name_words, private.unlist_client_words); derived data: not exported, not counted in deletion summaries, removed with its client and with its organization.';

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
    where pg_catalog.ltrim(w.word, '0123456789') <> ''
    on conflict do nothing;
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
    -- A client deleted and inserted again in one statement may still be
    -- listed: the delete's trigger, which may run after this one, keeps it.
    insert into private.client_words (organization_id, word, name, client_id)
    select w.organization_id, w.word, w.name, w.id
    from words w
    where pg_catalog.ltrim(w.word, '0123456789') <> ''
    on conflict do nothing;
  end if;
  return null;
end;
$$;
comment on function private.record_client_name_words() is
  'Trigger on clients: adds the words of new names to private.client_name_words and lists the clients under them in private.client_words (after insert, once per statement; after an update that changes a name or an id, per row, taking the client off its old words'' lists).';

-- A client whose id changes moves to its new id on the lists too.
drop trigger clients_name_words_after_update on public.clients;
create trigger clients_name_words_after_update
  after update of id, name, organization_id on public.clients
  for each row
  when (old.id is distinct from new.id or old.name is distinct from new.name
        or old.organization_id is distinct from new.organization_id)
  execute function private.record_client_name_words();

create or replace function private.unlist_client_words()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
  if tg_op = 'TRUNCATE' then
    truncate private.client_words;
  else
    -- Unless the statement inserted the client again under the same name
    -- (a data-modifying WITH can), whose trigger may have run first.
    delete from private.client_words x
    using old_clients o
    cross join lateral pg_catalog.unnest(private.client_list_words(o.name)) as w (word)
    where x.organization_id = o.organization_id and x.word = w.word and x.name = o.name and x.client_id = o.id
      and not exists (select 1 from public.clients c
                      where c.id = o.id and c.organization_id = o.organization_id and c.name = o.name);
  end if;
  return null;
end;
$$;
comment on function private.unlist_client_words() is
  'Trigger on clients: takes deleted clients off private.client_words (after delete, once per statement; after truncate).';

-- The lists of the clients there are now, then what an id change (or a
-- client deleted or renamed meanwhile) left.
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

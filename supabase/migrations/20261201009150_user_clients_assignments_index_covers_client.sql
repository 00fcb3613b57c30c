-- The index of a user's assignments in an organization, (organization_id,
-- user_id), now carries client_id too: the readers of a caller's assigned
-- clients (private.workable_client_ids, list_clients, search_clients) take
-- the ids from the index alone, without visiting each assignment's row (a
-- member of a large organization: 177 assignments on 160 pages). Every query
-- the old index served, the new one serves: its columns lead it.
--
-- Built inside the file's transaction (supabase db push applies each file in
-- one): writes to user_clients wait while it builds (0.24 s for 152,000
-- assignments measured here, so seconds for millions); reads go on.

set lock_timeout = '10s';
set statement_timeout = '15min';

-- squawk-ignore require-concurrent-index-creation
create index user_clients_organization_id_user_id_client_id_idx
  on public.user_clients (organization_id, user_id, client_id);
comment on index public.user_clients_organization_id_user_id_client_id_idx is
  'A user''s assignments in an organization, with the client ids: read from the index alone by the helpers and functions that start from a caller''s assignments.';
-- squawk-ignore require-concurrent-index-deletion
drop index public.user_clients_organization_id_user_id_idx;

-- The index of a user's assignments in an organization, (organization_id,
-- user_id), now carries client_id too: the readers of a caller's assigned
-- clients (private.workable_client_ids, list_clients, search_clients) take
-- the ids from the index alone, without visiting each assignment's row (a
-- member of a large organization: 177 assignments on 160 pages). Every query
-- the old index served, the new one serves: its columns lead it.

set lock_timeout = '10s';
set statement_timeout = '15min';

create index user_clients_organization_id_user_id_client_id_idx
  on public.user_clients (organization_id, user_id, client_id);
drop index public.user_clients_organization_id_user_id_idx;

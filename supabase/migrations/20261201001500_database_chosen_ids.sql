-- Columns the API may not write on insert: clients.id and
-- user_clients.created_at.
--
-- * clients.id was insertable: a 23505 on a chosen id told any tenant that a
--   client with that id existed in another organization, and a deleted
--   client's id could be reused (its audit history then mixed with a new
--   client's). The database now chooses every id inserted through the API
--   (gen_random_uuid()); supabase-js insert().select() and INSERT ...
--   RETURNING read it back.
-- * user_clients.created_at was insertable (the table-level INSERT grant):
--   an assignment could be backdated. Only organization_id, user_id and
--   client_id are now insertable; created_at takes its default.

-- Fail fast rather than queue behind live traffic (and block it) on a busy database.
set lock_timeout = '10s';
set statement_timeout = '15min';

revoke insert (id) on table public.clients from authenticated;

revoke insert on table public.user_clients from authenticated;
grant insert (organization_id, user_id, client_id) on table public.user_clients to authenticated;

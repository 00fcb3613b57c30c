-- list_clients plans its readers' page once per session, not on every call.
--
-- PL/pgSQL keeps the plans of a function's queries for the session, but a
-- query with parameters is planned again with each call's values for as long
-- as those plans look cheaper than the one made without them. For the
-- readers' page (20261201009200) they always do: the walk of the
-- organization's name index for a page of 50 is priced below the same walk
-- planned for an unknown organization. So every call planned the page again:
-- about 0.05 ms of the server's time per call, a third of the call for a
-- small organization's admin in the benchmark's 10,000-client data set (0.14
-- against 0.09 ms, EXPLAIN ANALYZE).
--
-- The plan made once, without the values, is the same walk for every
-- organization: the function's `enable_sort = off` leaves no other way to
-- give the page in name order. The assigned callers' queries (their
-- assignments by index, then those rows by primary key) were already planned
-- once. Rows, order, checks and privileges are unchanged; only the function's
-- settings gain `plan_cache_mode = force_generic_plan`, which applies inside
-- it alone.

set lock_timeout = '10s';
set statement_timeout = '15min';

alter function public.list_clients(uuid, text, uuid, integer, public.client_status)
  set plan_cache_mode = force_generic_plan;

-- Organizations: private.co_member_ids() without `distinct`.
--
-- The users policy compares a profile's id with this array once per row
-- (`id = any (...)`), where a repeated id changes nothing; de-duplicating it
-- cost a sort of every membership row of the caller's organizations on each
-- statement that reads profiles (about a third of the helper's time for a
-- member of three organizations).

-- Fail fast rather than queue behind live traffic (and block it) on a busy database.
set local lock_timeout = '10s';
set local statement_timeout = '15min';

create or replace function private.co_member_ids()
returns uuid[]
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  -- plpgsql keeps this query's plan for the session: policies call it on every statement.
  return (
    select coalesce(array_agg(theirs.user_id), '{}')
    from public.organization_users mine
    join public.organization_users theirs on theirs.organization_id = mine.organization_id
    where mine.user_id = auth.uid()
  );
end;
$$;
comment on function private.co_member_ids() is
  'Ids of the users who share at least one organization with the signed-in user (including themselves); an id may repeat (one per shared organization).';

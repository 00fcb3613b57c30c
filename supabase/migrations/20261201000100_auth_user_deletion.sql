-- Deleting an account that is the only owner of an organization.
--
-- Supabase Auth deletes a user (admin API, or the user's own request) with a
-- plain DELETE on auth.users as `supabase_auth_admin`. The deletion cascades
-- to the profile, memberships, roles and assignments; where the user was an
-- organization's only owner, the deferred "keep an owner" check then failed
-- at commit with an error that named an organization id and nothing else.
-- This trigger refuses such a deletion up front, naming every organization
-- concerned and the remedy, and changes nothing.

-- `supabase db push` runs a migration outside a transaction block, where
-- `set local` does nothing: plain `set` lasts for the push's session.
set lock_timeout = '10s';
set statement_timeout = '15min';

create function private.refuse_deleting_only_owner()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  blocking text;
begin
  select string_agg(format('"%s" (%s)', o.name, o.id), ', ' order by o.name)
    into blocking
    from public.organizations o
   where exists (select 1 from public.user_roles ur join public.roles r on r.id = ur.role_id
                  where ur.organization_id = o.id and ur.user_id = old.id and r.key = 'owner')
     and not exists (select 1 from public.user_roles ur join public.roles r on r.id = ur.role_id
                      where ur.organization_id = o.id and ur.user_id <> old.id and r.key = 'owner');
  if blocking is not null then
    raise exception 'cannot delete user %: they are the only owner of %', old.id, blocking
      using errcode = 'P0001',
            detail = 'Every organization keeps at least one owner.',
            hint = 'For each organization: transfer ownership to another member (transfer_ownership), or delete the organization; then delete the user.';
  end if;
  return old;
end;
$$;
comment on function private.refuse_deleting_only_owner() is
  'Trigger on auth.users (before delete): refuses to delete a user who is the only owner of an organization, naming each such organization and the remedy (transfer ownership or delete the organization). Nothing changes when refused.';
revoke all on function private.refuse_deleting_only_owner() from public;

-- No `comment on trigger`: only the owner of auth.users (supabase_auth_admin) may comment on its triggers.
create trigger on_auth_user_deleting
  before delete on auth.users
  for each row execute function private.refuse_deleting_only_owner();

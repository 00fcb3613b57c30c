-- Accounts deleted in one statement take the organization they alone shared.
--
-- Deleting an account takes along an organization where it is the only
-- member (20261201007100: the check runs before each auth.users row goes).
-- Deleting every member of an organization in one statement (`delete from
-- auth.users where id in (...)`, as a service's clean-up job may) saw, for
-- each row, the others still members: no organization was taken, the
-- memberships then went with the profiles, and the commit failed with
-- "organization ... must keep at least one owner", naming neither the
-- accounts nor the remedy. Now, after each deletion of memberships, an
-- organization left with no member, all of whose departed members' accounts
-- are gone from auth.users, is deleted as delete_organization does it (one
-- summary audit entry whose actor is one of those users, its tombstone). An
-- organization whose last member leaves while their account stays
-- (remove_member) is not touched: the owner rule refuses that at commit, as
-- before.

set lock_timeout = '10s';
set statement_timeout = '15min';

create function private.delete_organizations_left_by_deleted_accounts()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  emptied record;
begin
  for emptied in
    select g.organization_id, (pg_catalog.array_agg(g.user_id order by g.user_id))[1] as last_member
      from gone g
     where exists (select 1 from public.organizations o where o.id = g.organization_id)
       and not exists (select 1 from public.organization_users ou where ou.organization_id = g.organization_id)
       and not exists (select 1 from gone s join auth.users u on u.id = s.user_id
                        where s.organization_id = g.organization_id)
     group by g.organization_id
     order by g.organization_id
  loop
    perform private.finish_organization_deletion(emptied.organization_id, emptied.last_member, 'account_deletion');
  end loop;
  return null;
end;
$$;
comment on function private.delete_organizations_left_by_deleted_accounts() is
  'Trigger (after delete on organization_users, per statement): deletes, as delete_organization does, each organization the statement left without members when every member it removed there had their account deleted (accounts deleted together in one statement, the last members of an organization).';
revoke all on function private.delete_organizations_left_by_deleted_accounts() from public, anon, authenticated, service_role;

create trigger organization_users_take_organizations_of_deleted_accounts
  after delete on public.organization_users
  referencing old table as gone
  for each statement execute function private.delete_organizations_left_by_deleted_accounts();
comment on trigger organization_users_take_organizations_of_deleted_accounts on public.organization_users is
  'Accounts deleted together take the organization they were the last members of (private.delete_organizations_left_by_deleted_accounts).';

-- The only-owner check of account deletion runs once the whole statement has
-- deleted its accounts.
--
-- Deleting every member of an organization in one statement (`delete from
-- auth.users where id in (...)`, as a service's clean-up job may) was meant
-- to take the organization along (20261201011000). It did only when all of
-- them were owners: with an owner and a plain member, the owner's row was
-- checked first while the member was still there, and the deletion was
-- refused ("only owner ... with other members"), although the statement was
-- about to delete that member too. Which rows a statement has already
-- processed is not known while a row's trigger runs, so the check cannot be
-- made there.
--
-- Now the row trigger (private.refuse_deleting_only_owner, before each row)
-- still locks the user's organizations first and still deletes those where
-- the user is the only member, and no longer decides about owners. A new
-- statement trigger on auth.users (after delete, for each statement, with
-- the deleted rows as a transition table) refuses the statement when an
-- organization one of its deleted accounts owned is left with members whose
-- accounts remain and no owner whose account remains, naming the
-- organizations and the users, with the same message, detail and hint as
-- before for a single user. It counts accounts, not memberships: the
-- memberships and roles of the deleted accounts go in the cascades from
-- public.users, which PostgreSQL runs after this trigger (so their owner
-- roles are still there to be read). The statement is undone whole, its
-- sole-member organizations included. The check is per statement: deleting
-- the only owner and then, in a later statement of the same transaction,
-- the other members is refused at the first statement, as before.
--
-- Several owners of one organization deleted together while others stay
-- were refused only at commit, by the owner rule, whose message names
-- neither the accounts nor the remedy; they are now refused by the same
-- named error ("they are the only owners of ...").
--
-- Deletions of members also take turns: for a user who belongs to an
-- organization, the row trigger first takes one transaction-level advisory
-- lock that every such deletion takes (key 8030594745092897125, the bytes of
-- "org_laye"; nothing else takes it). A statement deleting several accounts
-- locks each user's organizations as it reaches that user's row, so a
-- clean-up job deleting a member of one organization and then a member of
-- another, while Supabase Auth deleted a member of both, deadlocked (40P01);
-- now they run one after the other. The price: a deletion waiting for an
-- organization's lock (held by a role change, say) holds up the other
-- deletions of members until it has it. Users who belong to no organization
-- do not take it. Role changes, invitations and organization deletion lock
-- one organization at a time, as before.

set lock_timeout = '10s';
set statement_timeout = '15min';

create or replace function private.refuse_deleting_only_owner()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  sole uuid;
begin
  if exists (select 1 from public.organization_users ou where ou.user_id = old.id) then
    -- Deletions of members take turns (the lock is held until the
    -- transaction ends; a statement's later rows take it again at no cost):
    -- a statement deleting several accounts takes their organizations' locks
    -- row by row, in whatever order it reaches the rows, and would otherwise
    -- deadlock with another deletion taking them in another order. A user
    -- who belongs to no organization does not wait for it.
    perform pg_catalog.pg_advisory_xact_lock(8030594745092897125);
    -- The user's organizations, locked (in id order) as role changes,
    -- accept_invitation and deletion lock them: a member who joined while
    -- this waited counts (each statement of these triggers reads what has
    -- committed by then), and nobody joins until this transaction ends.
    perform 1 from public.organizations o
     where o.id in (select ou.organization_id from public.organization_users ou where ou.user_id = old.id)
     order by o.id
       for no key update of o;
  end if;
  -- Organizations nobody else belongs to go with their only member.
  for sole in
    select ou.organization_id from public.organization_users ou
     where ou.user_id = old.id
       and not exists (select 1 from public.organization_users x
                        where x.organization_id = ou.organization_id and x.user_id <> old.id)
     order by ou.organization_id
  loop
    perform private.finish_organization_deletion(sole, old.id, 'account_deletion');
  end loop;
  return old;
end;
$$;
comment on function private.refuse_deleting_only_owner() is
  'Trigger on auth.users (before delete, each row): for a user who belongs to an organization, takes the account deletions'' lock (advisory lock 8030594745092897125: deletions of members take turns, so that statements deleting several accounts do not deadlock), then the lock of each of the user''s organizations (in id order), so that a member who joins meanwhile counts; deletes the organizations where the user is the only member (one summary audit entry each, actor: the user). private.refuse_leaving_organizations_without_owner checks the owners once the statement''s rows are gone.';

create function private.refuse_leaving_organizations_without_owner()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  users text;
  how_many int;
  blocking text;
begin
  -- The owner roles of the deleted accounts are still there: the cascades
  -- from public.users to memberships and roles run after this trigger.
  -- (Were they gone, nothing would be found here, and the owner rule would
  -- still refuse at commit, unnamed.)
  with owner_of as (
    select distinct g.id as user_id, ur.organization_id
      from gone g
      join public.user_roles ur on ur.user_id = g.id
      join public.roles r on r.id = ur.role_id and r.key = 'owner'
  ), left_without as (
    select w.user_id, o.id, o.name
      from owner_of w
      join public.organizations o on o.id = w.organization_id
     where exists (select 1 from public.organization_users ou join auth.users u on u.id = ou.user_id
                    where ou.organization_id = o.id)
       and not exists (select 1 from public.user_roles ur
                        join public.roles r on r.id = ur.role_id
                        join auth.users u on u.id = ur.user_id
                        where ur.organization_id = o.id and r.key = 'owner')
  )
  select (select pg_catalog.string_agg(u::text, ', ' order by u) from (select distinct user_id as u from left_without) d),
         (select count(distinct user_id) from left_without),
         (select pg_catalog.string_agg(pg_catalog.format('"%s" (%s)', name, id), ', ' order by name, id)
            from (select distinct id, name from left_without) b)
    into users, how_many, blocking;
  if blocking is not null then
    if how_many = 1 then
      raise exception 'cannot delete user %: they are the only owner of %', users, blocking
        using errcode = 'P0001',
              detail = 'Every organization keeps at least one owner, and these have other members.',
              hint = 'For each organization: transfer ownership to another member (transfer_ownership), or delete the organization (delete_organization); then delete the user.';
    end if;
    raise exception 'cannot delete users %: they are the only owners of %', users, blocking
      using errcode = 'P0001',
            detail = 'Every organization keeps at least one owner, and these have other members.',
            hint = 'For each organization: make another member an owner (transfer_ownership or set_member_roles), or delete the organization (delete_organization); then delete the users.';
  end if;
  return null;
end;
$$;
comment on function private.refuse_leaving_organizations_without_owner() is
  'Trigger on auth.users (after delete, each statement, transition table gone): refuses the statement when an organization one of its deleted accounts owned is left with members whose accounts remain and no owner whose account remains, naming the organizations, the users and the remedy. Organizations where a deleted user was the only member are gone by then (private.refuse_deleting_only_owner); those the statement leaves without members go in the cascades (private.delete_organizations_left_by_deleted_accounts).';
revoke all on function private.refuse_leaving_organizations_without_owner() from public, anon, authenticated, service_role;

create trigger on_auth_users_deleted_owners_checked
  after delete on auth.users
  referencing old table as gone
  for each statement execute function private.refuse_leaving_organizations_without_owner();

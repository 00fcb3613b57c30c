-- Deleting an account refuses to take along an organization too large to
-- delete in one call, as delete_organization refuses it.
--
-- The organizations where a user is the only member go with their account,
-- in the statement that deletes it (Supabase Auth's admin API, or a
-- service's clean-up job). delete_organization refuses an organization above
-- settings.delete_organization_max_rows (default 25,000 rows) and points to
-- the batched deletion, because a deletion that size outruns the API's
-- statement timeout and holds its locks meanwhile; the account deletion took
-- any size: 700,000 rows in 12.6 s inside one Auth request, the other
-- deletions of members waiting for it. And account_deletion_blockers(),
-- which an app asks before offering to delete an account, said nothing.
--
-- Now:
-- - private.refuse_deleting_only_owner() (before each deleted account) refuses
--   when an organization the user is the only member of is above the limit,
--   naming it, the limit and the remedy (delete it in batches first, then the
--   account); nothing changes then;
-- - private.delete_organizations_left_by_deleted_accounts() (accounts deleted
--   together, the last members of an organization) refuses the same way;
-- - account_deletion_blockers() lists such organizations with reason
--   too_large, besides only_owner.
-- Below the limit nothing changes. The bodies are those of 20261201011300,
-- 20261201011200 and 20261201007100 with these changes.

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
  max_rows bigint;
  too_large text;
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
  -- Organizations nobody else belongs to go with their only member, unless
  -- one is too large to delete in one call (as delete_organization refuses it).
  select s.delete_organization_max_rows into max_rows from public.settings s where s.id;
  select pg_catalog.string_agg(pg_catalog.format('"%s" (%s)', o.name, o.id), ', ' order by o.name, o.id)
    into too_large
    from public.organizations o
   where o.id in (select ou.organization_id from public.organization_users ou
                   where ou.user_id = old.id
                     and not exists (select 1 from public.organization_users x
                                      where x.organization_id = ou.organization_id and x.user_id <> old.id))
     and private.organization_row_count(o.id, max_rows) > max_rows;
  if too_large is not null then
    raise exception 'cannot delete user %: organization too large to delete with the account: % (more than % rows)',
      old.id, too_large, max_rows
      using errcode = 'P0001',
            detail = 'The organizations where the user is the only member go with the account, in the same statement; one this size would outrun the statement timeout of the API and of Supabase Auth''s requests.',
            hint = 'Delete the organization first, server-side as the service, in batches: deleteOrganizationInBatches() of the typed layer (src/lifecycle.ts); then delete the user.';
  end if;
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
  'Trigger on auth.users (before delete, each row): for a user who belongs to an organization, takes the account deletions'' lock (advisory lock 8030594745092897125: deletions of members take turns, so that statements deleting several accounts do not deadlock), then the lock of each of the user''s organizations (in id order), so that a member who joins meanwhile counts; refuses (P0001, naming them and the remedy) when an organization where the user is the only member is above settings.delete_organization_max_rows, as delete_organization refuses it; otherwise deletes the organizations where the user is the only member (one summary audit entry each, actor: the user). private.refuse_leaving_organizations_without_owner checks the owners once the statement''s rows are gone.';

create or replace function private.delete_organizations_left_by_deleted_accounts()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  emptied record;
  max_rows bigint;
begin
  select s.delete_organization_max_rows into max_rows from public.settings s where s.id;
  for emptied in
    select g.organization_id, (pg_catalog.array_agg(g.user_id order by g.user_id))[1] as last_member,
           pg_catalog.string_agg(g.user_id::text, ', ' order by g.user_id) as members
      from gone g
     where exists (select 1 from public.organizations o where o.id = g.organization_id)
       and not exists (select 1 from public.organization_users ou where ou.organization_id = g.organization_id)
       and not exists (select 1 from gone s join auth.users u on u.id = s.user_id
                        where s.organization_id = g.organization_id)
     group by g.organization_id
     order by g.organization_id
  loop
    -- Locked, then checked again: a member who joined meanwhile keeps it.
    perform 1 from public.organizations o where o.id = emptied.organization_id for no key update;
    continue when not found;
    continue when exists (select 1 from public.organization_users ou where ou.organization_id = emptied.organization_id);
    if private.organization_row_count(emptied.organization_id, max_rows) > max_rows then
      raise exception 'cannot delete users %: organization too large to delete with the accounts: % (more than % rows)',
        emptied.members,
        (select pg_catalog.format('"%s" (%s)', o.name, o.id) from public.organizations o where o.id = emptied.organization_id),
        max_rows
        using errcode = 'P0001',
              detail = 'An organization whose last members are deleted together goes with their accounts, in the same statement; one this size would outrun the statement timeout of the API and of Supabase Auth''s requests.',
              hint = 'Delete the organization first, server-side as the service, in batches: deleteOrganizationInBatches() of the typed layer (src/lifecycle.ts); then delete the users.';
    end if;
    perform private.finish_organization_deletion(emptied.organization_id, emptied.last_member, 'account_deletion');
  end loop;
  return null;
end;
$$;
comment on function private.delete_organizations_left_by_deleted_accounts() is
  'Trigger (after delete on organization_users, per statement): deletes, as delete_organization does, each organization the statement left without members when every member it removed there had their account deleted (accounts deleted together in one statement, the last members of an organization); refuses (P0001) when such an organization is above settings.delete_organization_max_rows, as delete_organization refuses it.';

create or replace function public.account_deletion_blockers()
returns table (organization_id uuid, name text, reason text)
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  uid uuid := private.require_user();
  max_rows bigint;
begin
  select s.delete_organization_max_rows into max_rows from public.settings s where s.id;
  return query
    select b.id, b.name, b.reason
      from (
        select o.id, o.name, 'only_owner'::text as reason
          from public.organizations o
         where exists (select 1 from public.user_roles ur join public.roles r on r.id = ur.role_id
                        where ur.organization_id = o.id and ur.user_id = uid and r.key = 'owner')
           and not exists (select 1 from public.user_roles ur join public.roles r on r.id = ur.role_id
                            where ur.organization_id = o.id and ur.user_id <> uid and r.key = 'owner')
           and exists (select 1 from public.organization_users ou where ou.organization_id = o.id and ou.user_id <> uid)
        union all
        -- Where they are the only member: the organization would go with the
        -- account, unless it is too large to delete in one call.
        -- (Counted only for those: offset 0 keeps the count out of the scan of organizations.)
        select s.id, s.name, 'too_large'::text
          from (select o.id, o.name
                  from public.organizations o
                 where exists (select 1 from public.organization_users ou where ou.organization_id = o.id and ou.user_id = uid)
                   and not exists (select 1 from public.organization_users ou where ou.organization_id = o.id and ou.user_id <> uid)
                offset 0) s
         where private.organization_row_count(s.id, max_rows) > max_rows
      ) b
     order by b.name, b.id, b.reason;
end;
$$;
comment on function public.account_deletion_blockers() is
  'What blocks deleting the signed-in user''s account: each organization where they are the only owner while other members remain (reason only_owner; remedy: transfer_ownership or delete_organization), and each where they are the only member that is above settings.delete_organization_max_rows (reason too_large; remedy: delete it in batches as the service, deleteOrganizationInBatches). Empty: the account can be deleted (organizations where they are the only member go with it).';

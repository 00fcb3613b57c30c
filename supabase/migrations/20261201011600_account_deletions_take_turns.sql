-- Account deletions take turns.
--
-- A statement deleting several accounts (`delete from auth.users where id in
-- (...)`) locks each user's organizations as it reaches that user's row
-- (20261201011200, 20261201011300), so two deletions could take the same
-- organizations in opposite orders: a clean-up job deleting a member of one
-- organization and then a member of another, and Supabase Auth deleting a
-- member of both at the same time, deadlocked (40P01), one of them failing.
-- private.refuse_deleting_only_owner() now first takes one transaction-level
-- advisory lock that every account deletion takes (key 8030594745092897125,
-- the bytes of "org_laye"), so deletions run one after another; nothing else
-- takes it. Role changes, invitations and organization deletion are not
-- affected: they lock one organization at a time, as before. The body is
-- that of 20261201011300 with the lock added.

set lock_timeout = '10s';
set statement_timeout = '15min';

create or replace function private.refuse_deleting_only_owner()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  owned text;
  sole uuid;
begin
  -- One account deletion at a time (the lock is held until the transaction
  -- ends; a statement's later rows take it again at no cost): a statement
  -- deleting several accounts takes their organizations' locks row by row,
  -- in whatever order it reaches the rows, and would otherwise deadlock with
  -- another deletion taking them in another order.
  perform pg_catalog.pg_advisory_xact_lock(8030594745092897125);
  -- The user's organizations, locked (in id order) as role changes,
  -- accept_invitation and deletion lock them: a member who joined while this
  -- waited counts (each statement of these triggers reads what has committed
  -- by then), and nobody joins until this transaction ends.
  perform 1 from public.organizations o
   where o.id in (select ou.organization_id from public.organization_users ou where ou.user_id = old.id)
   order by o.id
     for no key update of o;
  -- The organizations the user owns, for the check after the statement
  -- (private.refuse_leaving_organizations_without_owner).
  select pg_catalog.string_agg(old.id::text || '/' || ur.organization_id::text, ',' order by ur.organization_id)
    into owned
    from public.user_roles ur join public.roles r on r.id = ur.role_id
   where ur.user_id = old.id and r.key = 'owner';
  if owned is not null then
    perform pg_catalog.set_config('org_layer.deleted_owners',
      pg_catalog.concat_ws(',', nullif(pg_catalog.current_setting('org_layer.deleted_owners', true), ''), owned),
      true);
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
  'Trigger on auth.users (before delete, each row): takes the account deletions'' lock (advisory lock 8030594745092897125: one deletion at a time, so that statements deleting several accounts do not deadlock), then the lock of each of the user''s organizations (in id order), so that a member who joins meanwhile counts; deletes the organizations where the user is the only member (one summary audit entry each, actor: the user); notes the organizations the user owns for private.refuse_leaving_organizations_without_owner, which refuses the statement, after all its rows, when one of them is left with members and no owner.';

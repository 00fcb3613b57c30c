-- Deleting an account (Supabase Auth: a DELETE on auth.users as supabase_auth_admin).
--
-- Before the row goes (trigger on_auth_user_deleting, whose function this
-- migration replaces):
--   * an organization where the user is the only owner while other members
--     remain blocks the deletion: it is refused with an error naming those
--     organizations and the remedy, and nothing changes;
--   * an organization where the user is the only member is deleted with them,
--     as delete_organization does (one summary audit entry, tombstone);
--   * everything else: their memberships, roles and assignments go with the
--     profile (foreign keys), the organizations' clients stay.
-- When the profile goes with it (trigger users_erase_from_audit): erasure. Audit
-- entries keep the actor id, but the deleted user's email, name and avatar
-- inside audit rows (old/new of their profile, invitations sent to their
-- address) are replaced by a pseudonym: "deleted user <first 8 characters of
-- the id>" and "deleted-<id>@erased.invalid".
-- public.account_deletion_blockers() lists, for the signed-in user, what
-- blocks the deletion, so an app can show it before calling the Auth API.

set lock_timeout = '10s';
set statement_timeout = '15min';

create or replace function private.refuse_deleting_only_owner()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  blocking text;
  sole uuid;
begin
  select pg_catalog.string_agg(pg_catalog.format('"%s" (%s)', o.name, o.id), ', ' order by o.name, o.id)
    into blocking
    from public.organizations o
   where exists (select 1 from public.user_roles ur join public.roles r on r.id = ur.role_id
                  where ur.organization_id = o.id and ur.user_id = old.id and r.key = 'owner')
     and not exists (select 1 from public.user_roles ur join public.roles r on r.id = ur.role_id
                      where ur.organization_id = o.id and ur.user_id <> old.id and r.key = 'owner')
     and exists (select 1 from public.organization_users ou where ou.organization_id = o.id and ou.user_id <> old.id);
  if blocking is not null then
    raise exception 'cannot delete user %: they are the only owner of %', old.id, blocking
      using errcode = 'P0001',
            detail = 'Every organization keeps at least one owner, and these have other members.',
            hint = 'For each organization: transfer ownership to another member (transfer_ownership), or delete the organization (delete_organization); then delete the user.';
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
  'Trigger on auth.users (before delete): refuses to delete a user who is the only owner of an organization that has other members, naming each such organization and the remedy (transfer ownership or delete the organization); nothing changes then. Otherwise deletes the organizations where the user is the only member (one summary audit entry each, actor: the user), and lets the rest cascade.';

create function private.pseudonymize_user(data jsonb, user_id uuid, email text)
returns jsonb
language sql
immutable
set search_path = pg_catalog, pg_temp
as $$
  select case
    when data is null then null
    else data
      || case when data ? 'email' and (data ->> 'id' = user_id::text or lower(data ->> 'email') = lower(email))
              then pg_catalog.jsonb_build_object('email', 'deleted-' || user_id::text || '@erased.invalid') else '{}' end
      || case when data ? 'full_name' and data ->> 'id' = user_id::text
              then pg_catalog.jsonb_build_object('full_name', 'deleted user ' || left(user_id::text, 8)) else '{}' end
      || case when data ? 'avatar_url' and data ->> 'id' = user_id::text
              then pg_catalog.jsonb_build_object('avatar_url', null) else '{}' end
  end
$$;
comment on function private.pseudonymize_user(jsonb, uuid, text) is
  'An audited row with a deleted user''s personal data replaced: in their profile row the email, full_name and avatar_url; in any row (e.g. an invitation) an email equal to theirs. Pseudonyms: "deleted user <first 8 characters of the id>", "deleted-<id>@erased.invalid".';
revoke all on function private.pseudonymize_user(jsonb, uuid, text) from public, anon, authenticated, service_role;

create function private.erase_deleted_user()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
  update public.audit_log a
     set old = private.pseudonymize_user(a.old, old.id, old.email),
         new = private.pseudonymize_user(a.new, old.id, old.email)
   where (a.table_name = 'users' and a.record_id = old.id)
      or (old.email is not null and a.table_name = 'invitations'
          and (lower(a.old ->> 'email') = lower(old.email) or lower(a.new ->> 'email') = lower(old.email)));
  return null;
end;
$$;
comment on function private.erase_deleted_user() is
  'Trigger on public.users (after delete: the profile goes with its auth.users row): replaces the deleted user''s email, name and avatar in audit rows, including the entry of this very deletion, by a pseudonym (private.pseudonymize_user); actor ids and record ids stay.';
revoke all on function private.erase_deleted_user() from public, anon, authenticated, service_role;

-- After users_audit (triggers of one event fire in name order), so the entry of the deletion itself is erased too.
create trigger users_erase_from_audit
  after delete on public.users
  for each row execute function private.erase_deleted_user();

create function public.account_deletion_blockers()
returns table (organization_id uuid, name text, reason text)
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  uid uuid := private.require_user();
begin
  return query
    select o.id, o.name, 'only_owner'::text
      from public.organizations o
     where exists (select 1 from public.user_roles ur join public.roles r on r.id = ur.role_id
                    where ur.organization_id = o.id and ur.user_id = uid and r.key = 'owner')
       and not exists (select 1 from public.user_roles ur join public.roles r on r.id = ur.role_id
                        where ur.organization_id = o.id and ur.user_id <> uid and r.key = 'owner')
       and exists (select 1 from public.organization_users ou where ou.organization_id = o.id and ou.user_id <> uid)
     order by o.name, o.id;
end;
$$;
comment on function public.account_deletion_blockers() is
  'What blocks deleting the signed-in user''s account: each organization where they are the only owner while other members remain (reason only_owner; remedy: transfer_ownership or delete_organization). Empty: the account can be deleted (organizations where they are the only member go with it).';
revoke all on function public.account_deletion_blockers() from public, anon, service_role;
grant execute on function public.account_deletion_blockers() to authenticated;

-- Profiles follow the name and avatar a user sets through Supabase Auth.
--
-- public.users took full_name and avatar_url from auth.users'
-- raw_user_meta_data at sign-up only; afterwards only the email followed. A
-- user who changed their name through Auth (supabase.auth.updateUser({ data:
-- { full_name } }), which writes raw_user_meta_data) kept the old one in the
-- profile their co-members see. Now, when an update of auth.users changes
-- the metadata's name (full_name, else name) or avatar_url, the new value is
-- copied to the profile. A change of other keys leaves the profile alone, so
-- a name the user edited in public.users stays until they set another one
-- through Auth; a name removed from the metadata is not removed from the
-- profile.
--
-- A value the profile cannot hold (a name blank or longer than 200
-- characters, an avatar address longer than 2,000) is not copied: at sign-up
-- it used to fail the profile's check, and with it the sign-up itself; now
-- the profile is created without it. Nothing else changes.

set lock_timeout = '10s';
set statement_timeout = '15min';

create or replace function private.profile_name(metadata jsonb)
returns text
language sql
immutable
set search_path = pg_catalog, pg_temp
as $$
  select case when pg_catalog.char_length(n) between 1 and 200 then n end
  from (select nullif(pg_catalog.btrim(coalesce(metadata ->> 'full_name', metadata ->> 'name')), '') as n) s
$$;
comment on function private.profile_name(jsonb) is
  'The profile name that auth.users metadata gives (full_name, else name; trimmed), or null when there is none or public.users could not hold it (over 200 characters).';
revoke all on function private.profile_name(jsonb) from public, anon, authenticated, service_role;

create or replace function private.profile_avatar(metadata jsonb)
returns text
language sql
immutable
set search_path = pg_catalog, pg_temp
as $$
  select case when pg_catalog.char_length(a) <= 2000 then a end
  from (select nullif(metadata ->> 'avatar_url', '') as a) s
$$;
comment on function private.profile_avatar(jsonb) is
  'The avatar address that auth.users metadata gives (avatar_url), or null when there is none or public.users could not hold it (over 2,000 characters).';
revoke all on function private.profile_avatar(jsonb) from public, anon, authenticated, service_role;

create or replace function private.handle_auth_user_change()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  new_name constant text := private.profile_name(new.raw_user_meta_data);
  new_avatar constant text := private.profile_avatar(new.raw_user_meta_data);
  -- A new value of the metadata, or null when the update left it as it was (or removed it).
  set_name text;
  set_avatar text;
begin
  if tg_op = 'INSERT' then
    insert into public.users (id, email, full_name, avatar_url)
    values (new.id, new.email, new_name, new_avatar)
    on conflict (id) do update set email = excluded.email;
  elsif tg_op = 'UPDATE' then
    if new_name is distinct from private.profile_name(old.raw_user_meta_data) then
      set_name := new_name;
    end if;
    if new_avatar is distinct from private.profile_avatar(old.raw_user_meta_data) then
      set_avatar := new_avatar;
    end if;
    update public.users u
       set email = new.email,
           full_name = coalesce(set_name, u.full_name),
           avatar_url = coalesce(set_avatar, u.avatar_url)
     where u.id = new.id
       -- Only when something changes: both triggers below fire for an update of the email and the metadata.
       and (u.email is distinct from new.email
            or (set_name is not null and set_name is distinct from u.full_name)
            or (set_avatar is not null and set_avatar is distinct from u.avatar_url));
  end if;
  return null;
end;
$$;
comment on function private.handle_auth_user_change() is
  'Trigger on auth.users: creates the public.users profile on sign-up (email, and the name and avatar of the metadata when the profile can hold them), and copies later changes of the email, and of the metadata''s name or avatar (a new value only: a name the user edited in the profile stays until they set another one through Auth). Deletion cascades through the foreign key.';

-- Beside on_auth_user_email_updated (after update of email), which stays: a
-- migration's role may create a trigger on auth.users, not drop one.
create trigger on_auth_user_metadata_updated
  after update of raw_user_meta_data on auth.users
  for each row execute function private.handle_auth_user_change();

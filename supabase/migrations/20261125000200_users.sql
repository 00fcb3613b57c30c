-- Users: the public profile of each auth.users row.
--
-- Created when a user signs up (email, and full_name and avatar_url from the
-- sign-up metadata), email kept in sync when it changes, removed with the auth
-- user (cascade). Members of an organization
-- see each other's profiles; everyone sees and edits their own.

-- Fail fast rather than queue behind live traffic (and block it) on a busy database.
set local lock_timeout = '10s';
set local statement_timeout = '15min';

create table public.users (
  id uuid primary key references auth.users (id) on delete cascade,
  email text,
  full_name text check (full_name is null or char_length(full_name) between 1 and 200),
  avatar_url text check (avatar_url is null or char_length(avatar_url) <= 2000),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
comment on table public.users is
  'Profile of an auth.users row, created and kept in sync by triggers on auth.users. Removed with the auth user.';
comment on column public.users.id is 'Same id as auth.users.id.';
comment on column public.users.email is 'Copy of auth.users.email, kept in sync by a trigger; not writable through the API.';
comment on column public.users.full_name is 'Display name; from raw_user_meta_data.full_name (or .name) at sign-up, editable by the user.';

create index users_email_lower_idx on public.users (lower(email));

create trigger users_set_updated_at
  before update on public.users
  for each row execute function private.set_updated_at();

alter table public.users enable row level security;

-- Sync from auth.users -------------------------------------------------------

create function private.handle_auth_user_change()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if tg_op = 'INSERT' then
    insert into public.users (id, email, full_name, avatar_url)
    values (
      new.id,
      new.email,
      nullif(trim(coalesce(new.raw_user_meta_data ->> 'full_name', new.raw_user_meta_data ->> 'name')), ''),
      nullif(new.raw_user_meta_data ->> 'avatar_url', '')
    )
    on conflict (id) do update set email = excluded.email;
  elsif tg_op = 'UPDATE' then
    update public.users
       set email = new.email
     where id = new.id
       and email is distinct from new.email;
  end if;
  return null;
end;
$$;
comment on function private.handle_auth_user_change() is
  'Trigger on auth.users: creates the public.users profile on sign-up and copies email changes. Deletion cascades through the foreign key.';

create trigger on_auth_user_created
  after insert on auth.users
  for each row execute function private.handle_auth_user_change();

create trigger on_auth_user_email_updated
  after update of email on auth.users
  for each row execute function private.handle_auth_user_change();

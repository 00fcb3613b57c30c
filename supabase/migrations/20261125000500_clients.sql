-- Clients: the customers each organization manages, and which members are
-- assigned to them.
--
-- Holders of clients.read see every client of their organization; a `member`
-- sees and updates only the clients assigned to them, and a client a member
-- creates is assigned to its creator. Assignments pair a client and a member
-- of the same organization (composite foreign keys); a client never moves to
-- another organization.

-- Fail fast rather than queue behind live traffic (and block it) on a busy database.
set local lock_timeout = '10s';
set local statement_timeout = '15min';

create type public.client_status as enum ('lead', 'active', 'inactive', 'archived');
comment on type public.client_status is 'Where a client stands: lead, active, inactive, archived.';

create table public.clients (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null references public.organizations (id) on delete cascade,
  name text not null check (char_length(trim(name)) between 1 and 200 and name = trim(name)),
  email text check (email is null or (char_length(email) <= 320 and email ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$')),
  phone text check (phone is null or phone ~ '^\+?[0-9 ().-]{3,32}$'),
  status public.client_status not null default 'active',
  notes text check (notes is null or char_length(notes) <= 10000),
  created_by uuid default auth.uid() references public.users (id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (organization_id, id)
);
comment on table public.clients is 'A customer of one organization. organization_id never changes.';
comment on column public.clients.created_by is
  'The user who created the client (defaults to the signed-in user); set to null when that user is deleted, the client stays.';
comment on constraint clients_organization_id_id_key on public.clients is
  'Target of the composite foreign key from user_clients, which keeps assignments within one organization.';

-- The first page of an organization's clients ordered by name, and name prefix search.
create index clients_organization_id_name_idx on public.clients (organization_id, name, id);
create index clients_organization_id_lower_name_idx on public.clients (organization_id, lower(name) text_pattern_ops);
-- Behind the created_by foreign key, and the read policy's creator arm
-- (created_by = me and created_at = now()), which then reads only the rows
-- created in the current transaction, not everything a user ever created.
create index clients_created_by_created_at_idx on public.clients (created_by, created_at);

create table public.user_clients (
  organization_id uuid not null,
  user_id uuid not null,
  client_id uuid not null,
  created_at timestamptz not null default now(),
  primary key (organization_id, client_id, user_id),
  foreign key (organization_id, client_id) references public.clients (organization_id, id) on delete cascade,
  foreign key (organization_id, user_id) references public.organization_users (organization_id, user_id) on delete cascade
);
comment on table public.user_clients is
  'A member assigned to a client. Both foreign keys carry organization_id, so a client and a member of different organizations cannot be paired. Removed with the client or the membership.';
create index user_clients_user_id_idx on public.user_clients (user_id, client_id);
create index user_clients_organization_id_user_id_idx on public.user_clients (organization_id, user_id);

create trigger clients_set_updated_at
  before update on public.clients
  for each row execute function private.set_updated_at();

-- Rules ------------------------------------------------------------------------

create function private.keep_client_organization()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if new.organization_id is distinct from old.organization_id then
    raise exception 'a client cannot move to another organization' using errcode = '42501';
  end if;
  if new.created_by is distinct from old.created_by and old.created_by is not null and new.created_by is not null then
    raise exception 'created_by cannot change' using errcode = '42501';
  end if;
  return new;
end;
$$;
comment on function private.keep_client_organization() is
  'Trigger: clients.organization_id never changes, and created_by is set once (it may only become null when its user is deleted).';

create trigger clients_keep_organization
  before update on public.clients
  for each row execute function private.keep_client_organization();

create function private.assign_client_to_member_creator()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if new.created_by is not null
     and new.created_by = (select auth.uid())
     and new.organization_id = any (private.organization_ids_with_role('member')) then
    insert into public.user_clients (organization_id, user_id, client_id)
    values (new.organization_id, new.created_by, new.id)
    on conflict do nothing;
  end if;
  return null;
end;
$$;
comment on function private.assign_client_to_member_creator() is
  'Trigger: a client created by a `member` (whatever other roles they hold there) is assigned to its creator, so they keep seeing and updating it.';

create trigger clients_assign_member_creator
  after insert on public.clients
  for each row execute function private.assign_client_to_member_creator();

-- Helper -----------------------------------------------------------------------

create function private.assigned_client_ids()
returns uuid[]
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  -- plpgsql keeps this query's plan for the session: policies call it on every statement.
  return (
    select coalesce(array_agg(uc.client_id), '{}')
    from public.user_clients uc
    where uc.user_id = auth.uid()
  );
end;
$$;
comment on function private.assigned_client_ids() is
  'Ids of the clients assigned to the signed-in user. For policies: id = any ((select private.assigned_client_ids())::uuid[]).';

revoke all on function private.assigned_client_ids() from public, anon;
grant execute on function private.assigned_client_ids() to authenticated, service_role;

-- Grants and policies --------------------------------------------------------

alter table public.clients enable row level security;
alter table public.user_clients enable row level security;

revoke all on table public.clients, public.user_clients from anon, authenticated;
grant select, delete on table public.clients to authenticated;
grant insert (id, organization_id, name, email, phone, status, notes) on table public.clients to authenticated;
grant update (name, email, phone, status, notes) on table public.clients to authenticated;
grant select, insert, delete on table public.user_clients to authenticated;
grant all on table public.clients, public.user_clients to service_role;

create policy clients_select_readers_or_assigned on public.clients
  for select to authenticated
  using (
    organization_id = any ((select private.organization_ids_with('clients.read'))::uuid[])
    or id = any ((select private.assigned_client_ids())::uuid[])
    or (
      created_by = (select auth.uid()) and created_at = now()
      and organization_id = any ((select private.organization_ids_with('clients.create'))::uuid[])
    )
  );
comment on policy clients_select_readers_or_assigned on public.clients is
  'Holders of clients.read (owner, admin, manager, viewer) see every client of the organization; others see the clients assigned to them. The third arm lets a creator read back, in the transaction that created it, the client it just inserted (insert ... returning, supabase-js insert().select()): the creator''s assignment is written by an AFTER trigger, too late for RETURNING. created_by and created_at are not writable through the API, so the arm matches nothing outside that transaction, and only while the creator may still create clients there.';

create policy clients_insert_creators on public.clients
  for insert to authenticated
  with check (
    organization_id = any ((select private.organization_ids_with('clients.create'))::uuid[])
    and created_by = (select auth.uid())
  );
comment on policy clients_insert_creators on public.clients is
  'Holders of clients.create (owner, admin, manager, member) create clients in their organization, as themselves.';

create policy clients_update_updaters_or_assigned on public.clients
  for update to authenticated
  using (
    organization_id = any ((select private.organization_ids_with('clients.update'))::uuid[])
    or (
      id = any ((select private.assigned_client_ids())::uuid[])
      and organization_id = any ((select private.organization_ids_with_role('member'))::uuid[])
    )
  )
  with check (
    organization_id = any ((select private.organization_ids_with('clients.update'))::uuid[])
    or (
      id = any ((select private.assigned_client_ids())::uuid[])
      and organization_id = any ((select private.organization_ids_with_role('member'))::uuid[])
    )
  );
comment on policy clients_update_updaters_or_assigned on public.clients is
  'Holders of clients.update (owner, admin, manager) update every client of the organization; a `member` updates the clients assigned to them (an assigned viewer does not).';

create policy clients_delete_deleters on public.clients
  for delete to authenticated
  using (organization_id = any ((select private.organization_ids_with('clients.delete'))::uuid[]));
comment on policy clients_delete_deleters on public.clients is
  'Holders of clients.delete (owner, admin, manager) delete clients of the organization.';

create policy user_clients_select_readers_or_own on public.user_clients
  for select to authenticated
  using (
    organization_id = any ((select private.organization_ids_with('clients.read'))::uuid[])
    or user_id = (select auth.uid())
  );
comment on policy user_clients_select_readers_or_own on public.user_clients is
  'Holders of clients.read see every assignment of the organization; everyone sees their own.';

create policy user_clients_insert_assigners on public.user_clients
  for insert to authenticated
  with check (organization_id = any ((select private.organization_ids_with('clients.assign'))::uuid[]));
comment on policy user_clients_insert_assigners on public.user_clients is
  'Holders of clients.assign (owner, admin, manager) assign members to clients; the foreign keys keep both in the same organization.';

create policy user_clients_delete_assigners on public.user_clients
  for delete to authenticated
  using (organization_id = any ((select private.organization_ids_with('clients.assign'))::uuid[]));
comment on policy user_clients_delete_assigners on public.user_clients is
  'Holders of clients.assign remove assignments.';

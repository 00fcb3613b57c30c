-- Roles and permissions: the catalog every organization shares.
--
-- Five roles ranked owner > admin > manager > member > viewer, and the
-- permissions each holds. A user's permissions in an organization are the
-- union over the roles they hold there. Production needs this catalog, so it
-- is data of the migration, not of the seed.

-- Fail fast rather than queue behind live traffic (and block it) on a busy database.
set local lock_timeout = '10s';
set local statement_timeout = '15min';

create table public.roles (
  id uuid primary key default gen_random_uuid(),
  key text not null unique check (key ~ '^[a-z][a-z_]{1,30}$'),
  name text not null check (char_length(name) between 1 and 100),
  description text,
  rank integer not null unique check (rank > 0)
);
comment on table public.roles is
  'Catalog of roles. rank orders them (owner highest): nobody grants a role ranked above their own highest.';
comment on column public.roles.key is 'Stable identifier used by the API: owner, admin, manager, member, viewer.';
comment on column public.roles.rank is 'Higher is more powerful. Used for the rank cap on granting, revoking and removing.';

create table public.permissions (
  key text primary key check (key ~ '^[a-z]+\.[a-z]+$'),
  description text not null
);
comment on table public.permissions is
  'Catalog of permissions. Seeing an organization, its members and their roles needs none: membership suffices.';

insert into public.permissions (key, description) values
  ('organization.update', 'Change the organization''s name and slug.'),
  ('organization.delete', 'Delete the organization with everything it owns.'),
  ('members.manage',      'Invite and remove members, grant and revoke roles (never above one''s own highest role).'),
  ('clients.read',        'Read every client of the organization.'),
  ('clients.create',      'Create clients.'),
  ('clients.update',      'Update every client of the organization.'),
  ('clients.delete',      'Delete clients.'),
  ('clients.assign',      'Assign members to clients and remove assignments.'),
  ('audit.read',          'Read the organization''s audit log.');

create table public.role_permissions (
  role_id uuid not null references public.roles (id) on delete cascade,
  permission text not null references public.permissions (key) on update cascade,
  primary key (role_id, permission)
);
comment on table public.role_permissions is
  'Which permission each role grants. A user''s permissions in an organization are the union over the roles they hold there.';
create index role_permissions_permission_idx on public.role_permissions (permission);

insert into public.roles (key, name, description, rank) values
  ('owner',   'Owner',   'Full control, including deleting the organization and managing owners.', 50),
  ('admin',   'Admin',   'Manages the organization, its members and all clients.', 40),
  ('manager', 'Manager', 'Manages all clients and their assignments.', 30),
  ('member',  'Member',  'Creates clients and works on the clients assigned to them.', 20),
  ('viewer',  'Viewer',  'Reads all clients.', 10);

insert into public.role_permissions (role_id, permission)
select r.id, p.permission
from public.roles r
join (values
  ('owner', 'organization.update'), ('owner', 'organization.delete'), ('owner', 'members.manage'),
  ('owner', 'clients.read'), ('owner', 'clients.create'), ('owner', 'clients.update'),
  ('owner', 'clients.delete'), ('owner', 'clients.assign'), ('owner', 'audit.read'),
  ('admin', 'organization.update'), ('admin', 'members.manage'),
  ('admin', 'clients.read'), ('admin', 'clients.create'), ('admin', 'clients.update'),
  ('admin', 'clients.delete'), ('admin', 'clients.assign'), ('admin', 'audit.read'),
  ('manager', 'clients.read'), ('manager', 'clients.create'), ('manager', 'clients.update'),
  ('manager', 'clients.delete'), ('manager', 'clients.assign'),
  ('member', 'clients.create'),
  ('viewer', 'clients.read')
) as p (role_key, permission) on p.role_key = r.key;

alter table public.roles enable row level security;
alter table public.permissions enable row level security;
alter table public.role_permissions enable row level security;

revoke all on table public.roles, public.permissions, public.role_permissions from anon, authenticated;
grant select on table public.roles, public.permissions, public.role_permissions to authenticated;
grant all on table public.roles, public.permissions, public.role_permissions to service_role;

create policy roles_select_signed_in on public.roles
  for select to authenticated
  using (true);
comment on policy roles_select_signed_in on public.roles is 'The role catalog is public to every signed-in user.';

create policy permissions_select_signed_in on public.permissions
  for select to authenticated
  using (true);
comment on policy permissions_select_signed_in on public.permissions is 'The permission catalog is public to every signed-in user.';

create policy role_permissions_select_signed_in on public.role_permissions
  for select to authenticated
  using (true);
comment on policy role_permissions_select_signed_in on public.role_permissions is
  'The permission matrix is public to every signed-in user.';

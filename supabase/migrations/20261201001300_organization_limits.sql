-- Organizations: no anonymous creators, and a cap per user.
--
-- * Anonymous sign-ins (the `is_anonymous` claim Supabase Auth puts in the
--   JWT, or auth.users.is_anonymous) cannot create organizations: SQLSTATE
--   OL001.
-- * Nothing limited how many organizations one user created (one request made
--   50). organizations.created_by now records the creator, and
--   create_organization refuses a user who already created
--   settings.max_organizations_per_user organizations that still exist
--   (default 100; deleting one frees its place): SQLSTATE OL002. Calls of one
--   user are serialized on their profile row, so racing calls cannot pass the
--   cap together. Organizations created before this migration have no
--   recorded creator and do not count.
-- * public.settings holds such limits: one row, readable and changeable by
--   the service role only.

-- Fail fast rather than queue behind live traffic (and block it) on a busy database.
set lock_timeout = '10s';
set statement_timeout = '15min';

create table public.settings (
  id boolean primary key default true check (id),
  max_organizations_per_user integer not null default 100 check (max_organizations_per_user >= 0),
  updated_at timestamptz not null default now()
);
comment on table public.settings is
  'Limits of this deployment: one row (id = true). Readable and changeable by the service role only.';
comment on column public.settings.id is 'Always true: the table holds one row.';
comment on column public.settings.max_organizations_per_user is
  'How many organizations (still existing) one user may have created; create_organization raises OL002 beyond it. 0 stops creation.';

create trigger settings_set_updated_at
  before update on public.settings
  for each row execute function private.set_updated_at();

insert into public.settings default values;

alter table public.settings enable row level security;
revoke all on table public.settings from anon, authenticated, service_role;
grant select on table public.settings to service_role;
grant update (max_organizations_per_user) on table public.settings to service_role;

-- The creator, for the cap. Set by create_organization; not writable through the API.
-- The column is new, so the foreign key checks nothing but nulls; its brief lock
-- on organizations and users is the price of a creator the database keeps right.
-- squawk-ignore adding-foreign-key-constraint
alter table public.organizations add column created_by uuid references public.users (id) on delete set null;
comment on column public.organizations.created_by is
  'The user who created the organization (create_organization); null when unknown (created before the cap, or by the service) or when that user is deleted. Counts toward settings.max_organizations_per_user.';
-- Behind the foreign key and the cap's count. The table is small (one row per tenant).
-- squawk-ignore require-concurrent-index-creation
create index organizations_created_by_idx on public.organizations (created_by);

create or replace function public.create_organization(name text, slug text)
returns public.organizations
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  uid uuid := private.require_user();
  most integer;
  created integer;
  org public.organizations;
begin
  if private.is_anonymous() then
    raise exception 'anonymous sign-ins cannot create organizations' using errcode = 'OL001',
      hint = 'Sign up with an email address (or add one to this account), then create the organization.';
  end if;
  -- The profile row's lock serializes the creations of one user, so racing calls cannot pass the cap together.
  perform 1 from public.users u where u.id = uid for no key update;
  if not found then
    raise exception 'no profile for the signed-in user' using errcode = 'P0002';
  end if;
  most := coalesce((select s.max_organizations_per_user from public.settings s where s.id), 100);
  created := (select count(*) from public.organizations o where o.created_by = uid);
  if created >= most then
    raise exception 'organization limit reached' using errcode = 'OL002',
      detail = pg_catalog.format('You created %s organizations; the limit is %s.', created, most),
      hint = 'Delete an organization you created, or ask for a higher limit (settings.max_organizations_per_user).';
  end if;
  insert into public.organizations (name, slug, created_by)
  values (pg_catalog.btrim(create_organization.name), create_organization.slug, uid)
  returning * into org;
  insert into public.organization_users (organization_id, user_id) values (org.id, uid);
  insert into public.user_roles (organization_id, user_id, role_id)
  select org.id, uid, r.id from public.roles r where r.key = 'owner';
  return org;
end;
$$;
comment on function public.create_organization(text, text) is
  'Creates an organization; the caller becomes its member and owner. Returns the organization row. Slug: lowercase a-z0-9-, 3 to 63 characters; 23505 when taken. Refused to anonymous sign-ins (OL001) and beyond settings.max_organizations_per_user organizations created by the caller (OL002).';

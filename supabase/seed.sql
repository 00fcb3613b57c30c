-- Demo data for local work: three organizations, twelve users covering every
-- role, about sixty clients with assignments. Ids are fixed so that tests and
-- the demo can name the personas.
--
-- Personas (user id suffix, email: roles)
--   ...0001 alice@acme.example    owner of Acme
--   ...0002 bob@acme.example      admin of Acme
--   ...0003 carol@acme.example    manager of Acme
--   ...0004 dave@acme.example     member of Acme (sees only his assigned clients)
--   ...0005 erin@acme.example     viewer of Acme
--   ...0006 frank@globex.example  owner of Globex
--   ...0007 grace@globex.example  admin + manager of Globex
--   ...0008 heidi@globex.example  member of Globex
--   ...0009 ivan@initech.example  owner of Initech
--   ...0010 judy@initech.example  manager of Initech
--   ...0011 mallory@example.com   member of Acme and viewer of Globex (two organizations)
--   ...0012 nora@example.com      signed up, no organization yet
--
-- Initech also defines a role of its own, billing (clients.read), held by nobody yet.
--
-- Sign in as one locally:
--   begin;
--   set local role authenticated;
--   select set_config('request.jwt.claims', '{"sub":"00000000-0000-4000-a000-000000000004","role":"authenticated"}', true);
--   select name from public.clients;   -- what dave sees
--   rollback;

insert into auth.users (id, aud, role, email, email_confirmed_at, raw_user_meta_data, raw_app_meta_data, created_at, updated_at)
select ('00000000-0000-4000-a000-0000000000' || lpad(n::text, 2, '0'))::uuid,
       'authenticated', 'authenticated', email, now(),
       jsonb_build_object('full_name', full_name),
       '{"provider":"email","providers":["email"]}'::jsonb,
       now() - interval '30 days', now() - interval '30 days'
from (values
  (1, 'alice@acme.example', 'Alice Anders'),
  (2, 'bob@acme.example', 'Bob Baker'),
  (3, 'carol@acme.example', 'Carol Chen'),
  (4, 'dave@acme.example', 'Dave Diaz'),
  (5, 'erin@acme.example', 'Erin Evans'),
  (6, 'frank@globex.example', 'Frank Fischer'),
  (7, 'grace@globex.example', 'Grace Green'),
  (8, 'heidi@globex.example', 'Heidi Hart'),
  (9, 'ivan@initech.example', 'Ivan Ito'),
  (10, 'judy@initech.example', 'Judy Jones'),
  (11, 'mallory@example.com', 'Mallory Moss'),
  (12, 'nora@example.com', 'Nora Nash')
) as u (n, email, full_name);

-- Organizations with their members and roles, in one statement: an
-- organization must have an owner when its transaction commits.
do $$
begin
  insert into public.organizations (id, name, slug, created_at) values
    ('10000000-0000-4000-8000-000000000001', 'Acme Corporation', 'acme', now() - interval '29 days'),
    ('10000000-0000-4000-8000-000000000002', 'Globex', 'globex', now() - interval '28 days'),
    ('10000000-0000-4000-8000-000000000003', 'Initech', 'initech', now() - interval '27 days');

  insert into public.organization_users (organization_id, user_id)
  select ('10000000-0000-4000-8000-00000000000' || org)::uuid, ('00000000-0000-4000-a000-0000000000' || lpad(usr::text, 2, '0'))::uuid
  from (values (1, 1), (1, 2), (1, 3), (1, 4), (1, 5), (1, 11),
               (2, 6), (2, 7), (2, 8), (2, 11),
               (3, 9), (3, 10)) as m (org, usr);

  insert into public.user_roles (organization_id, user_id, role_id)
  select ('10000000-0000-4000-8000-00000000000' || org)::uuid, ('00000000-0000-4000-a000-0000000000' || lpad(usr::text, 2, '0'))::uuid, r.id
  from (values (1, 1, 'owner'), (1, 2, 'admin'), (1, 3, 'manager'), (1, 4, 'member'), (1, 5, 'viewer'), (1, 11, 'member'),
               (2, 6, 'owner'), (2, 7, 'admin'), (2, 7, 'manager'), (2, 8, 'member'), (2, 11, 'viewer'),
               (3, 9, 'owner'), (3, 10, 'manager')) as g (org, usr, role_key)
  join public.roles r on r.key = g.role_key;
end
$$;

-- Clients: 25 for Acme, 20 for Globex, 15 for Initech.
insert into public.clients (id, organization_id, name, email, phone, status, created_by, created_at)
select ('20000000-0000-4000-8000-' || lpad((org * 1000 + i)::text, 12, '0'))::uuid,
       ('10000000-0000-4000-8000-00000000000' || org)::uuid,
       (array['Northwind', 'Contoso', 'Fabrikam', 'Tailspin', 'Wingtip', 'Litware', 'Proseware', 'Adventure Works',
              'Blue Yonder', 'Coho Winery', 'Fourth Coffee', 'Lucerne Publishing', 'Margie''s Travel',
              'Trey Research', 'Wide World Importers'])[1 + (i * 7 + org) % 15] || ' ' || org || '-' || lpad(i::text, 2, '0'),
       'contact' || i || '@client' || org || '.example',
       '+1 555 ' || lpad((org * 100 + i)::text, 4, '0'),
       (array['lead', 'active', 'active', 'active', 'inactive', 'archived'])[1 + i % 6]::public.client_status,
       ('00000000-0000-4000-a000-0000000000' || lpad(creator::text, 2, '0'))::uuid,
       now() - (i || ' days')::interval
from (values (1, 25, 3), (2, 20, 7), (3, 15, 10)) as o (org, n, creator),
     generate_series(1, o.n) as i;

-- Assignments: dave and mallory work on some Acme clients, heidi on Globex
-- clients, judy's team on Initech clients.
insert into public.user_clients (organization_id, user_id, client_id)
select ('10000000-0000-4000-8000-00000000000' || org)::uuid,
       ('00000000-0000-4000-a000-0000000000' || lpad(usr::text, 2, '0'))::uuid,
       ('20000000-0000-4000-8000-' || lpad((org * 1000 + i)::text, 12, '0'))::uuid
from (values (1, 4, 1), (1, 4, 2), (1, 4, 3), (1, 4, 4), (1, 4, 5),
             (1, 11, 5), (1, 11, 6), (1, 11, 7),
             (1, 3, 10), (1, 3, 11),
             (2, 8, 1), (2, 8, 2), (2, 8, 3), (2, 8, 4),
             (2, 7, 10),
             (3, 10, 1), (3, 10, 2), (3, 10, 3)) as a (org, usr, i);

-- Invitations: a pending one (token shown here because this is demo data;
-- real tokens are returned once by invite_member and never stored) and an
-- expired one. Sign up as pat@example.com and call
-- accept_invitation('demo-invitation-token-for-pat-0001') to join Acme.
insert into public.invitations (id, organization_id, email, role_id, token_hash, invited_by, expires_at, created_at)
select i.id::uuid, i.org::uuid, i.email, r.id, private.hash_token(i.token), i.inviter::uuid, i.expires_at, i.created_at
from (values
  ('30000000-0000-4000-8000-000000000001', '10000000-0000-4000-8000-000000000001', 'pat@example.com', 'member',
   'demo-invitation-token-for-pat-0001', '00000000-0000-4000-a000-000000000002', now() + interval '6 days', now() - interval '1 day'),
  ('30000000-0000-4000-8000-000000000002', '10000000-0000-4000-8000-000000000002', 'quinn@example.com', 'viewer',
   'demo-invitation-token-for-quinn-0002', '00000000-0000-4000-a000-000000000006', now() - interval '3 days', now() - interval '10 days')
) as i (id, org, email, role_key, token, inviter, expires_at, created_at)
join public.roles r on r.key = i.role_key;

-- A role Initech defined itself (create_role does this through the API):
-- billing clerks read every client. Nobody holds it yet; ivan (owner) or an
-- admin grants it with set_member_roles(..., '{billing}'). Only Initech's
-- members see it.
insert into public.roles (id, organization_id, key, name, description, rank) values
  ('40000000-0000-4000-8000-000000000001', '10000000-0000-4000-8000-000000000003', 'billing', 'Billing',
   'Reads every client, for invoicing.', 15);
insert into public.role_permissions (role_id, permission) values
  ('40000000-0000-4000-8000-000000000001', 'clients.read');

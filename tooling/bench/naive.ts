/**
 * For contrast: the policy shapes commonly seen in Supabase projects, on
 * copies of the tables in schema `bench_naive` with the same data, so the
 * same queries can be timed under them.
 */
import type postgres from "postgres";

export interface NaiveShape {
  key: string;
  title: string;
  policy: string;
}

const READERS = `select 1 from bench_naive.user_roles ur join bench_naive.role_permissions rp on rp.role_id = ur.role_id`;

export const NAIVE_SHAPES: NaiveShape[] = [
  {
    key: "uid_unwrapped",
    title: "auth.uid() unwrapped (per-row correlated check)",
    policy: `exists (${READERS} where ur.organization_id = clients.organization_id and ur.user_id = auth.uid() and rp.permission = 'clients.read')
             or exists (select 1 from bench_naive.user_clients uc where uc.client_id = clients.id and uc.user_id = auth.uid())`,
  },
  {
    key: "uid_in_select",
    title: "auth.uid() in (select ...)",
    policy: `auth.uid() in (select ur.user_id from bench_naive.user_roles ur join bench_naive.role_permissions rp on rp.role_id = ur.role_id
                            where ur.organization_id = clients.organization_id and rp.permission = 'clients.read')
             or auth.uid() in (select uc.user_id from bench_naive.user_clients uc where uc.client_id = clients.id)`,
  },
  {
    key: "function_per_row",
    title: "membership function called per row",
    policy: `bench_naive.can_read_client(organization_id, id)`,
  },
];

/** Copy the tables the policies read into bench_naive (no RLS on the helpers' copies). */
export async function setupNaive(sql: postgres.Sql): Promise<void> {
  await sql
    .unsafe(
      `
    drop schema if exists bench_naive cascade;
    create schema bench_naive;
    grant usage on schema bench_naive to authenticated, service_role;
    create table bench_naive.clients (like public.clients including defaults including indexes);
    insert into bench_naive.clients select * from public.clients;
    create table bench_naive.user_roles as select * from public.user_roles;
    create index on bench_naive.user_roles (organization_id, user_id);
    create index on bench_naive.user_roles (user_id);
    create table bench_naive.role_permissions as select * from public.role_permissions;
    create table bench_naive.user_clients as select * from public.user_clients;
    create index on bench_naive.user_clients (client_id, user_id);
    create index on bench_naive.user_clients (user_id);
    grant select on all tables in schema bench_naive to authenticated, service_role;
    alter table bench_naive.clients enable row level security;
    create function bench_naive.can_read_client(org uuid, client uuid) returns boolean
    language plpgsql stable security definer set search_path = '' as $$
    begin
      return exists (select 1 from bench_naive.user_roles ur join bench_naive.role_permissions rp on rp.role_id = ur.role_id
                     where ur.organization_id = org and ur.user_id = auth.uid() and rp.permission = 'clients.read')
          or exists (select 1 from bench_naive.user_clients uc where uc.client_id = client and uc.user_id = auth.uid());
    end;
    $$;
    grant execute on function bench_naive.can_read_client(uuid, uuid) to authenticated;
    analyze bench_naive.clients, bench_naive.user_roles, bench_naive.role_permissions, bench_naive.user_clients;
  `,
    )
    .simple();
}

export async function useShape(sql: postgres.Sql, shape: NaiveShape): Promise<void> {
  await sql
    .unsafe(
      `
    drop policy if exists naive_select on bench_naive.clients;
    create policy naive_select on bench_naive.clients for select to authenticated using (${shape.policy});
  `,
    )
    .simple();
}

export async function dropNaive(sql: postgres.Sql): Promise<void> {
  await sql.unsafe("drop schema if exists bench_naive cascade").simple();
}

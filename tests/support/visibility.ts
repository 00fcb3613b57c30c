/**
 * Which clients each user may read, computed without RLS and without the
 * policy's helpers: the read rule written out once more, independently, for
 * the suites that check many users' units against it (pooling, replicas).
 */
import type { Sql } from "../../tooling/server/sql.ts";

/** user id -> organization id -> the ids of the clients that user may read there. */
export type Visibility = Map<string, Map<string, Set<string>>>;

/**
 * Read as a role that bypasses RLS: every client of an organization where
 * the user holds clients.read, and every client assigned to them.
 */
export async function readableClients(admin: Sql): Promise<Visibility> {
  const rows = await admin<{ user_id: string; organization_id: string; ids: string[] }[]>`
    with readable as (
      select distinct ur.user_id, ur.organization_id from public.user_roles ur
      join public.role_permissions rp on rp.role_id = ur.role_id where rp.permission = 'clients.read'
    ), visible as (
      select r.user_id, c.organization_id, c.id from readable r join public.clients c on c.organization_id = r.organization_id
      union
      select uc.user_id, uc.organization_id, uc.client_id from public.user_clients uc
    )
    select user_id, organization_id, array_agg(id) as ids from visible group by user_id, organization_id`;
  const visibility: Visibility = new Map();
  for (const r of rows) {
    if (!visibility.has(r.user_id)) visibility.set(r.user_id, new Map());
    visibility.get(r.user_id)!.set(r.organization_id, new Set(r.ids));
  }
  return visibility;
}

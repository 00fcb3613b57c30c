/**
 * Browser usage: supabase-js typed with the generated Database type, under
 * row-level security. docs/usage.md quotes the regions of this file verbatim
 * (a test checks it); `npm test` type-checks it. Nothing here runs in the
 * test suite: it needs a Supabase API (PostgREST) in front of the database.
 */
// #region client
import { createClient, type SupabaseClient } from "@supabase/supabase-js";
import type { Database, Tables } from "../../src/types/database.types.ts";

export type Supabase = SupabaseClient<Database>;

export function connect(url: string, anonKey: string): Supabase {
  return createClient<Database>(url, anonKey); // the user's session supplies the JWT
}
// #endregion client

// #region read
export async function myOrganizations(supabase: Supabase) {
  // No filter needed: RLS returns only the organizations the user belongs to.
  const { data, error } = await supabase.from("organizations").select("id, name, slug").order("name");
  if (error) throw error;
  return data; // { id: string; name: string; slug: string }[]
}

export async function clientsPage(supabase: Supabase, organizationId: string, after?: { name: string; id: string }) {
  // Readers (owner, admin, manager, viewer) get every client; a `member` only
  // those assigned to them. list_clients decides per caller, so an index
  // serves both; .from("clients").order("name") would make a member of a
  // large organization walk its clients until a page of theirs has passed.
  const { data, error } = await supabase
    .rpc("list_clients", {
      organization_id: organizationId,
      after_name: after?.name,
      after_id: after?.id,
      max_results: 50,
    })
    .select("id, name, status, email");
  if (error) throw error; // 22023: half a cursor, or max_results outside 1..1000
  const last = data.at(-1);
  return { clients: data, next: data.length === 50 && last ? { name: last.name, id: last.id } : null };
}

export async function searchClients(supabase: Supabase, organizationId: string, text: string) {
  // A case-insensitive name prefix, as a range on name_lower (lower(name),
  // C collation): an index serves it under RLS, which ilike on name cannot.
  // Lower-case the text as the database does (the same for most scripts).
  const prefix = text.toLowerCase();
  const { data, error } = await supabase
    .from("clients")
    .select("id, name")
    .eq("organization_id", organizationId)
    .eq("status", "active")
    .gte("name_lower", prefix)
    .lt("name_lower", `${prefix}\u{10FFFF}`)
    .order("name");
  if (error) throw error;
  return data;
}

export async function findClients(supabase: Supabase, organizationId: string, query: string) {
  // Ranked search by name and email (prefix; from 3 characters also word by
  // word: each query word in or close to a word of the name, a typo per word;
  // and contains), only among the clients the caller may read. Indexes serve
  // it whatever the caller's role; .ilike() on the table cannot. Sent composed
  // (NFC), as names typed in a browser are stored: "é" typed as "e" and a
  // combining accent (macOS may give that) then finds "é".
  const { data, error } = await supabase
    .rpc("search_clients", { organization_id: organizationId, query: query.normalize("NFC"), max_results: 10 })
    .select("id, name, email, status");
  if (error) throw error; // 22023: empty query, or max_results outside 1..100
  return data; // best matches first: prefix matches, then word matches by similarity, then other matches; then name
}

export async function membersWithRoles(supabase: Supabase, organizationId: string) {
  const [people, roles] = await Promise.all([
    supabase.from("organization_users").select("user_id, users(email, full_name)").eq("organization_id", organizationId),
    supabase.from("user_roles").select("user_id, roles(key, rank)").eq("organization_id", organizationId),
  ]);
  if (people.error) throw people.error;
  if (roles.error) throw roles.error;
  return people.data.map((m) => ({
    userId: m.user_id,
    email: m.users.email,
    roles: roles.data.filter((r) => r.user_id === m.user_id).map((r) => r.roles.key),
  }));
}
// #endregion read

// #region create-client
export async function createClientRow(supabase: Supabase, organizationId: string, name: string) {
  // A member is assigned to the client they create; insert().select() returns
  // the new row to its creator. A viewer or a non-member gets 42501.
  const { data, error } = await supabase.from("clients").insert({ organization_id: organizationId, name }).select("*").single();
  if (error) throw error;
  return data satisfies Tables<"clients">;
}
// #endregion create-client

// #region write
export async function setStatus(supabase: Supabase, clientId: string, status: Database["public"]["Enums"]["client_status"]) {
  const { data, error } = await supabase.from("clients").update({ status }).eq("id", clientId).select("id");
  if (error) throw error;
  // RLS filters the rows an update may touch: a client hidden from the user, or
  // one they may only read (viewer), yields no row and no error.
  return data.length === 1;
}

export async function assign(supabase: Supabase, organizationId: string, clientId: string, userId: string) {
  // clients.assign (owner, admin, manager); both must belong to organizationId.
  const { error } = await supabase.from("user_clients").insert({ organization_id: organizationId, client_id: clientId, user_id: userId });
  if (error && error.code !== "23505") throw error; // 23505: already assigned
}

export async function removeClient(supabase: Supabase, clientId: string) {
  const { data, error } = await supabase.from("clients").delete().eq("id", clientId).select("id");
  if (error) throw error;
  return data.length === 1; // false: not visible, or no clients.delete
}
// #endregion write

// #region rpc
export async function createOrganization(supabase: Supabase, name: string, slug: string) {
  const { data, error } = await supabase.rpc("create_organization", { name, slug });
  if (error?.code === "23505") return { taken: true as const }; // slug already used
  if (error) throw error; // 23514: a slug the check refuses
  return { organization: data }; // the row; the caller is now its owner
}

export async function invite(supabase: Supabase, organizationId: string, email: string) {
  const { data, error } = await supabase.rpc("invite_member", {
    organization_id: organizationId,
    email,
    role: "member",
    expires_in: "3 days", // optional, default 7 days
  });
  if (error) throw error; // 42501 (no members.manage, role above yours), P0002, 23505 (already a member), 22023
  return data; // { invitation_id, token, expires_at }: the token is shown once
}

export async function accept(supabase: Supabase, token: string) {
  const { data: organizationId, error } = await supabase.rpc("accept_invitation", { token });
  if (error) {
    // P0002 unknown token, P0001 revoked / used / expired, 42501 another email, 23505 already a member
    throw error;
  }
  return organizationId;
}

export async function manageMembers(supabase: Supabase, organizationId: string, userId: string, invitationId: string) {
  const calls = [
    await supabase.rpc("set_member_roles", { organization_id: organizationId, user_id: userId, roles: ["manager", "viewer"] }),
    await supabase.rpc("revoke_invitation", { invitation_id: invitationId }),
    await supabase.rpc("transfer_ownership", { organization_id: organizationId, new_owner_id: userId }),
    await supabase.rpc("remove_member", { organization_id: organizationId, user_id: userId }),
  ];
  for (const { error } of calls) if (error) throw error;
}

export async function leaveOrganization(supabase: Supabase, organizationId: string) {
  const { data: auth } = await supabase.auth.getUser();
  if (!auth.user) throw new Error("not signed in");
  const { error } = await supabase.rpc("remove_member", { organization_id: organizationId, user_id: auth.user.id });
  if (error?.code === "P0001") return "transfer ownership first"; // the last owner cannot leave
  if (error) throw error;
  return "left";
}

export async function can(supabase: Supabase, organizationId: string, permission: string): Promise<boolean> {
  // For showing or hiding UI; the database enforces the same rule on every call.
  const { data, error } = await supabase.rpc("authorize", { organization_id: organizationId, permission });
  if (error) throw error; // 22023: unknown permission name
  return data;
}
// #endregion rpc

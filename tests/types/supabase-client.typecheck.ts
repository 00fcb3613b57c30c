/**
 * Type-level tests of the generated `Database` type with supabase-js: this
 * file is only type-checked by `tsc` (npm test's first step), never run. The
 * functions below are exported so that nothing is unused; none is called, so
 * no request is ever made.
 *
 * What it proves: the common browser calls compile with the right row types,
 * and a wrong column name, a client status outside the enum, or a wrong RPC
 * argument name do not compile (each `@ts-expect-error` fails the build if the
 * line below it ever compiles).
 */
import { createClient, type SupabaseClient } from "@supabase/supabase-js";
import type { Database, Enums, Tables, TablesInsert, TablesUpdate } from "../../src/types/database.types.ts";

/** Exact type equality, usable as `expectType<Equal<A, B>>(true)`. */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const expectType = <T extends true>(value: T): T => value;

type Client = SupabaseClient<Database>;
type ClientStatus = Enums<"client_status">;

expectType<Equal<ClientStatus, "lead" | "active" | "inactive" | "archived">>(true);
expectType<Equal<Tables<"clients">["status"], ClientStatus>>(true);
expectType<Equal<TablesInsert<"clients">["status"], ClientStatus | undefined>>(true);

export function browserClient(url: string, anonKey: string): Client {
  return createClient<Database>(url, anonKey);
}

// Selects -------------------------------------------------------------------

export async function selectWithFilters(supabase: Client, organizationId: string) {
  const { data, error } = await supabase
    .from("clients")
    .select("id, name, status")
    .eq("organization_id", organizationId)
    .order("name");
  if (error) throw error;
  expectType<Equal<typeof data, { id: string; name: string; status: ClientStatus }[]>>(true);
  return data;
}

export async function selectWithMoreFilters(supabase: Client, organizationId: string) {
  const { data } = await supabase
    .from("clients")
    .select("id, name, email, created_at")
    .eq("organization_id", organizationId)
    .eq("status", "active")
    .in("status", ["lead", "active"])
    .ilike("name", "north%")
    .gte("name_lower", "north")
    .lt("name_lower", "north\u{10FFFF}")
    .order("name", { ascending: true })
    .order("id")
    .range(0, 49);
  expectType<Equal<typeof data, { id: string; name: string; email: string | null; created_at: string }[] | null>>(true);

  const one = await supabase.from("clients").select("*").eq("id", organizationId).maybeSingle();
  expectType<Equal<typeof one.data, Tables<"clients"> | null>>(true);
  return data;
}

export async function selectWithEmbeddedRelation(supabase: Client, organizationId: string) {
  const { data } = await supabase
    .from("organization_users")
    .select("user_id, users(email, full_name)")
    .eq("organization_id", organizationId);
  return data?.map((m) => ({ id: m.user_id, email: m.users.email, name: m.users.full_name }));
}

export async function wrongColumnsDoNotCompile(supabase: Client, organizationId: string) {
  // @ts-expect-error: there is no column organisation_id (filters name real columns)
  await supabase.from("clients").select("id").eq("organisation_id", organizationId);

  // @ts-expect-error: no column nmae
  await supabase.from("clients").select("id").neq("nmae", "Northwind");

  // A misspelt column in a select string yields an error type, not rows:
  const { data } = await supabase.from("clients").select("id, nmae");
  // @ts-expect-error: SelectQueryError<"column 'nmae' does not exist on 'clients'.">[] is not a list of rows
  const rows: { id: string }[] | null = data;

  // @ts-expect-error: no table "client"
  await supabase.from("client").select("id");
  return rows;
}

export async function wrongStatusDoesNotCompile(supabase: Client, organizationId: string) {
  // @ts-expect-error: "deleted" is not a client_status
  await supabase.from("clients").select("id").eq("status", "deleted");

  // @ts-expect-error: "deleted" is not a client_status
  await supabase.from("clients").insert({ organization_id: organizationId, name: "x", status: "deleted" });

  // @ts-expect-error: "closed" is not a client_status
  await supabase.from("clients").update({ status: "closed" }).eq("organization_id", organizationId);
}

// Inserts and updates ---------------------------------------------------------

export async function insertClient(supabase: Client, organizationId: string) {
  const row: TablesInsert<"clients"> = { organization_id: organizationId, name: "Northwind", email: "buyer@northwind.example", status: "lead" };
  // A `member` inserts without .select(): the assignment that lets them read
  // the row back is written by a trigger after the insert.
  const { error } = await supabase.from("clients").insert(row);
  if (error) throw error;

  // Readers (owner, admin, manager) may insert and read back in one call.
  const { data } = await supabase.from("clients").insert({ organization_id: organizationId, name: "Contoso" }).select("id, name").single();
  expectType<Equal<typeof data, { id: string; name: string } | null>>(true);

  // @ts-expect-error: name is required
  await supabase.from("clients").insert({ organization_id: organizationId });

  // @ts-expect-error: no column nmae
  await supabase.from("clients").insert({ organization_id: organizationId, name: "x", nmae: "x" });
}

export async function updateClient(supabase: Client, clientId: string) {
  const patch: TablesUpdate<"clients"> = { status: "archived", notes: null };
  const { data, error } = await supabase.from("clients").update(patch).eq("id", clientId).select("id, status");
  if (error) throw error;
  expectType<Equal<typeof data, { id: string; status: ClientStatus }[]>>(true);

  await supabase.from("organizations").update({ name: "Acme Corp." }).eq("id", clientId);
  await supabase.from("user_clients").insert({ organization_id: clientId, client_id: clientId, user_id: clientId });
  await supabase.from("user_clients").delete().eq("client_id", clientId).eq("user_id", clientId);

  // @ts-expect-error: notes is a string or null, not a number
  await supabase.from("clients").update({ notes: 42 }).eq("id", clientId);
}

// RPCs ------------------------------------------------------------------------

export async function rpcCalls(supabase: Client, organizationId: string, userId: string) {
  const created = await supabase.rpc("create_organization", { name: "Acme", slug: "acme" });
  expectType<Equal<typeof created.data, Tables<"organizations"> | null>>(true);

  const invited = await supabase.rpc("invite_member", { organization_id: organizationId, email: "new@example.com", role: "member" });
  const withExpiry = await supabase.rpc("invite_member", {
    organization_id: organizationId,
    email: "new@example.com",
    role: "viewer",
    expires_in: "2 days",
  });

  expectType<Equal<typeof invited.data, Database["public"]["CompositeTypes"]["invitation_ticket"] | null>>(true);
  expectType<Equal<NonNullable<typeof withExpiry.data>["token"], string | null>>(true);

  const accepted = await supabase.rpc("accept_invitation", { token: "token-from-the-invitation-link" });
  expectType<Equal<typeof accepted.data, string | null>>(true);

  await supabase.rpc("revoke_invitation", { invitation_id: organizationId });
  await supabase.rpc("set_member_roles", { organization_id: organizationId, user_id: userId, roles: ["manager", "viewer"] });
  await supabase.rpc("remove_member", { organization_id: organizationId, user_id: userId });
  await supabase.rpc("transfer_ownership", { organization_id: organizationId, new_owner_id: userId });

  const allowed = await supabase.rpc("authorize", { organization_id: organizationId, permission: "clients.update" });
  expectType<Equal<typeof allowed.data, boolean | null>>(true);

  // An organization's own role: defined, renamed (rank and permissions left out keep theirs), deleted.
  const role = await supabase.rpc("create_role", {
    organization_id: organizationId,
    key: "billing",
    name: "Billing",
    rank: 10,
    permissions: ["clients.read"],
  });
  expectType<Equal<typeof role.data, string | null>>(true);
  await supabase.rpc("update_role", { role_id: role.data!, name: "Billing team" });
  await supabase.rpc("update_role", { role_id: role.data!, permissions: ["clients.read", "audit.read"] });
  await supabase.rpc("set_member_roles", { organization_id: organizationId, user_id: userId, roles: ["billing"] });
  await supabase.rpc("delete_role", { role_id: role.data!, replacement_role_id: role.data! });
  await supabase.rpc("delete_role", { role_id: role.data! });

  return { invited: invited.data, withExpiry: withExpiry.data };
}

export async function wrongRpcArgumentsDoNotCompile(supabase: Client, organizationId: string, userId: string) {
  // @ts-expect-error: the arguments are name and slug
  await supabase.rpc("create_organization", { org_name: "Acme", slug: "acme" });

  // @ts-expect-error: slug is required
  await supabase.rpc("create_organization", { name: "Acme" });

  // @ts-expect-error: the argument is organization_id, not org_id
  await supabase.rpc("invite_member", { org_id: organizationId, email: "new@example.com", role: "member" });

  // @ts-expect-error: the argument is role, not role_key
  await supabase.rpc("invite_member", { organization_id: organizationId, email: "new@example.com", role_key: "member" });

  // @ts-expect-error: roles is an array of role keys
  await supabase.rpc("set_member_roles", { organization_id: organizationId, user_id: userId, roles: "admin" });

  // @ts-expect-error: the argument is new_owner_id
  await supabase.rpc("transfer_ownership", { organization_id: organizationId, user_id: userId });

  // @ts-expect-error: the argument is token
  await supabase.rpc("accept_invitation", { invitation_token: "x" });

  // @ts-expect-error: a role's rank is a number
  await supabase.rpc("update_role", { role_id: organizationId, rank: "10" });

  // @ts-expect-error: update_role needs the role's id
  await supabase.rpc("update_role", { name: "Billing" });

  // @ts-expect-error: no such function
  await supabase.rpc("delete_everything", {});
}

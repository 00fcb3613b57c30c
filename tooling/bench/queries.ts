/**
 * The SPEC section 8 queries, each as a signed-in user under RLS and as its
 * explicit-filter equivalent: the same statement, run without RLS
 * (service_role), with the filter the policy implies written out by hand as
 * literal arrays computed beforehand.
 */
import type postgres from "postgres";
import { CONSULTANT_EMAIL, SCATTERED, WHALE } from "./dataset.ts";
import type { Actor } from "./measure.ts";

export interface Persona {
  id: string;
  /** Organization the queries look at. */
  org: string;
  /** Organizations where the persona holds clients.read. */
  readOrgs: string[];
  /** Organizations where the persona holds clients.create. */
  createOrgs: string[];
  /** Clients assigned to the persona where they hold clients.work_assigned (the read policy's assigned arm). */
  assigned: string[];
  /** Organizations the persona belongs to. */
  memberOrgs: string[];
  /** Users sharing an organization with the persona. */
  coMembers: string[];
}

export interface Personas {
  /** Admin of a small organization (its rows stored together). */
  admin: Persona;
  /** Member of a small organization, with assigned clients. */
  member: Persona;
  threeOrgs: Persona;
  manager: Persona;
  /** Admin of the whale organization (30 % of all clients, scattered). */
  whaleAdmin: Persona;
  /** Member of the whale organization, with assigned clients: the first by id (at 100,000 clients one who reads clients elsewhere). */
  whaleMember: Persona;
  /** Member of the whale organization, with assigned clients, who holds clients.read in no organization. */
  whaleMemberOnly: Persona;
  /** Admin of the organization whose few rows are scattered over the whole table. */
  scatteredAdmin: Persona;
  /** A plain member of min(50, all) organizations with 40 assigned clients in each. */
  consultant: Persona;
  /**
   * Holders of an organization's own role only, in a small organization (as the member and the admin above)
   * and in the whale: billing (clients.read), field_agent (clients.create, clients.work_assigned, with assigned clients).
   */
  customReader: Persona;
  customAssigned: Persona;
  customReaderWhale: Persona;
  customAssignedWhale: Persona;
  /** A client the admin can see. */
  clientId: string;
}

/** What the read policy lets user `id` read, written out for the explicit variants; `org` is the organization they look at. */
export async function persona(sql: postgres.Sql, id: string, org: string): Promise<Persona> {
  const withPermission = (permission: string) => sql`
    coalesce((select array_agg(distinct ur.organization_id) from public.user_roles ur
              join public.role_permissions rp on rp.role_id = ur.role_id
              where ur.user_id = ${id} and rp.permission = ${permission}), '{}')`;
  const [row] = await sql<
    { read_orgs: string[]; create_orgs: string[]; assigned: string[]; member_orgs: string[]; co_members: string[] }[]
  >`
    select
      ${withPermission("clients.read")} as read_orgs,
      ${withPermission("clients.create")} as create_orgs,
      coalesce((select array_agg(uc.client_id) from public.user_clients uc
                where uc.user_id = ${id} and uc.organization_id = any (${withPermission("clients.work_assigned")})), '{}') as assigned,
      coalesce((select array_agg(ou.organization_id) from public.organization_users ou where ou.user_id = ${id}), '{}') as member_orgs,
      coalesce((select array_agg(distinct t.user_id) from public.organization_users m
                join public.organization_users t on t.organization_id = m.organization_id where m.user_id = ${id}), '{}') as co_members`;
  return {
    id,
    org,
    readOrgs: row!.read_orgs,
    createOrgs: row!.create_orgs,
    assigned: row!.assigned,
    memberOrgs: row!.member_orgs,
    coMembers: row!.co_members,
  };
}

/** Pick the personas from the generated data set (deterministically). */
export async function pickPersonas(sql: postgres.Sql): Promise<Personas> {
  const orgId = async (n: number) =>
    (await sql<{ id: string }[]>`select id from public.organizations where slug = ${`org-${n}`}`)[0]!.id;
  const whale = await orgId(WHALE);
  const scattered = await orgId(SCATTERED);
  const [consultantRow] = await sql<{ id: string }[]>`select id from public.users where email = ${CONSULTANT_EMAIL}`;
  const consultantId = consultantRow!.id;
  const byRole = async (key: string, extra = sql``) => {
    const [row] = await sql<{ user_id: string; organization_id: string }[]>`
      select ur.user_id, ur.organization_id from public.user_roles ur join public.roles r on r.id = ur.role_id
      where r.key = ${key} and ur.user_id <> ${consultantId}
        and (select count(*) from public.user_roles x where x.user_id = ur.user_id and x.organization_id = ur.organization_id) = 1
        ${extra}
      order by ur.user_id, ur.organization_id limit 1`;
    if (!row) throw new Error(`the data set has no ${key}`);
    return persona(sql, row.user_id, row.organization_id);
  };
  const small = sql`and ur.organization_id not in (${whale}, ${scattered})`;
  const assigned = sql`and exists (select 1 from public.user_clients uc where uc.user_id = ur.user_id and uc.organization_id = ur.organization_id)`;
  const admin = await byRole("admin", small);
  const member = await byRole("member", sql`${small} ${assigned}`);
  const manager = await byRole("manager", small);
  // The data set gives the whale no admin (its members' numbers never draw the role): its owner, who reads the same, stands in.
  const whaleAdmin = await byRole("admin", sql`and ur.organization_id = ${whale}`).catch(() =>
    byRole("owner", sql`and ur.organization_id = ${whale}`),
  );
  const whaleMember = await byRole("member", sql`and ur.organization_id = ${whale} ${assigned}`);
  const readsNowhere = sql`and not exists (select from public.user_roles x join public.role_permissions rp on rp.role_id = x.role_id
                                            where x.user_id = ur.user_id and rp.permission = 'clients.read')`;
  const whaleMemberOnly = await byRole("member", sql`and ur.organization_id = ${whale} ${assigned} ${readsNowhere}`);
  const scatteredAdmin = await byRole("owner", sql`and ur.organization_id = ${scattered}`);
  const [three] = await sql<{ user_id: string; organization_id: string }[]>`
    select user_id, min(organization_id::text)::uuid as organization_id from public.organization_users
    group by user_id having count(*) = 3 order by user_id limit 1`;
  const [client] = await sql<
    { id: string }[]
  >`select id from public.clients where organization_id = ${admin.org} order by id limit 1 offset 7`;
  const customReader = await byRole("billing", small);
  const customAssigned = await byRole("field_agent", sql`${small} ${assigned}`);
  const customReaderWhale = await byRole("billing", sql`and ur.organization_id = ${whale}`);
  const customAssignedWhale = await byRole("field_agent", sql`and ur.organization_id = ${whale} ${assigned}`);
  return {
    admin,
    member,
    manager,
    whaleAdmin,
    whaleMember,
    whaleMemberOnly,
    scatteredAdmin,
    consultant: await persona(sql, consultantId, whale),
    customReader,
    customAssigned,
    customReaderWhale,
    customAssignedWhale,
    threeOrgs: await persona(sql, three!.user_id, three!.organization_id),
    clientId: client!.id,
  };
}

export const asUser = (p: Persona): Actor => ({
  role: "authenticated",
  claims: { sub: p.id, role: "authenticated", aud: "authenticated" },
});
export const asService: Actor = { role: "service_role", claims: { role: "service_role" } };

type Statement = (c: postgres.ReservedSql) => Promise<unknown>;

export interface BenchQuery {
  key: string;
  title: string;
  /** Counts toward the 1 ms single-page target. */
  singlePage: boolean;
  actor: Actor;
  rls: Statement;
  /** The explicit-filter equivalent; none for search_clients, which is judged on its own time (SPEC 11: 10 ms). */
  explicit: Statement | null;
  /** An absolute target for the median, in milliseconds (search_clients). */
  maxMs?: number;
  /** The statement as run under RLS, for EXPLAIN. */
  explain: { text: string; params: unknown[] };
  /** The explicit-filter statement's text (as prepared), or null. */
  explicitText: string | null;
}

/** A statement and its parameters. */
type Sent = [text: string, params: unknown[]];

/**
 * A named prepared statement, one per text on a connection, as PostgREST
 * prepares every statement it sends. `simple: false` keeps postgres.js from
 * sending a statement without parameters as a simple query, parsed and
 * planned anew each time.
 */
export const PREPARED: postgres.UnsafeQueryOptions = Object.freeze({ prepare: true, simple: false });

const prepared =
  ([text, params]: Sent): Statement =>
  (c) =>
    c.unsafe(text, params as never[], PREPARED);

/** A benchmark query: the RLS statement (also the one EXPLAIN shows) and its explicit-filter equivalent. */
function benchQuery(
  head: Omit<BenchQuery, "rls" | "explicit" | "explain" | "explicitText">,
  rls: Sent,
  explicit: Sent | null,
): BenchQuery {
  return {
    ...head,
    rls: prepared(rls),
    explicit: explicit && prepared(explicit),
    explain: { text: rls[0], params: rls[1] },
    explicitText: explicit && explicit[0],
  };
}

const COLUMNS = "id, organization_id, name, email, status, updated_at";

/**
 * The read policy of clients written out, from parameter $n on: the
 * organizations where the user reads clients, the clients assigned to them,
 * and those they created in this transaction where they may create.
 */
const readable = (n: number) =>
  `(organization_id = any($${n}::uuid[]) or id = any($${n + 1}::uuid[]) or (created_by = $${n + 2}::uuid and created_at = now() and organization_id = any($${n + 3}::uuid[])))`;
const readableValues = (p: Persona) => [p.readOrgs, p.assigned, p.id, p.createOrgs];

const page = `select ${COLUMNS} from public.clients where organization_id = $1 order by name, id limit 50`;
const pageExplicit = `select ${COLUMNS} from public.clients where organization_id = $1 and ${readable(2)} order by name, id limit 50`;
const listClients = `select ${COLUMNS} from public.list_clients($1, null, null, 50)`;

/**
 * A first page (50) of the persona's organization by name, as they see it:
 * through the table (one statement text for every caller, as supabase-js
 * sends it), or through list_clients.
 */
export const orgPage = (key: string, title: string, persona: Persona, through: "table" | "list_clients" = "table") =>
  benchQuery(
    { key, title, singlePage: true, actor: asUser(persona) },
    [through === "table" ? page : listClients, [persona.org]],
    [pageExplicit, [persona.org, ...readableValues(persona)]],
  );

export function queries(p: Personas): BenchQuery[] {
  const {
    admin,
    member,
    threeOrgs,
    manager,
    whaleAdmin,
    whaleMember,
    whaleMemberOnly,
    scatteredAdmin,
    consultant,
    customReader,
    customAssigned,
    customReaderWhale,
    customAssignedWhale,
  } = p;
  const byId = `select * from public.clients where id = $1`;
  const byIdExplicit = `select * from public.clients where id = $1 and ${readable(2)}`;
  const count = `select count(*) from public.clients`;
  const countExplicit = `select count(*) from public.clients where ${readable(1)}`;
  const prefix = `select ${COLUMNS} from public.clients where organization_id = $1 and name_lower >= $2 and name_lower < $2 || U&'\\+10FFFF' order by name, id limit 50`;
  const prefixExplicit = `select ${COLUMNS} from public.clients where organization_id = $1 and name_lower >= $2 and name_lower < $2 || U&'\\+10FFFF' and ${readable(3)} order by name, id limit 50`;
  const members = `
    select ou.user_id, u.email, array_agg(r.key order by r.rank desc) as roles
    from public.organization_users ou
    join public.users u on u.id = ou.user_id
    join public.user_roles ur on ur.organization_id = ou.organization_id and ur.user_id = ou.user_id
    join public.roles r on r.id = ur.role_id
    where ou.organization_id = $1
    group by ou.user_id, u.email order by u.email`;
  const membersExplicit = `
    select ou.user_id, u.email, array_agg(r.key order by r.rank desc) as roles
    from public.organization_users ou
    join public.users u on u.id = ou.user_id
    join public.user_roles ur on ur.organization_id = ou.organization_id and ur.user_id = ou.user_id
    join public.roles r on r.id = ur.role_id
    where ou.organization_id = $1
      and ou.organization_id = any($2::uuid[]) and ur.organization_id = any($2::uuid[])
      and (u.id = any($3::uuid[]) or u.id = $4)
    group by ou.user_id, u.email order by u.email`;
  const insert = `insert into public.clients (organization_id, name) values ($1, $2)`;
  // The insert policy's check written out: an organization where the user may create clients.
  const insertExplicit = `insert into public.clients (organization_id, name, created_by) select $1, $2, $3 where $1 = any($4::uuid[])`;
  const search = "nor";
  const allPage = `select ${COLUMNS} from public.clients order by name, id limit 50`;
  const allPageExplicit = `select ${COLUMNS} from public.clients where ${readable(1)} order by name, id limit 50`;
  const searchClients = `select ${COLUMNS} from public.search_clients($1, $2, 20)`;

  return [
    orgPage("admin_first_page", "admin: first page (50) of an organization's clients by name", admin),
    orgPage("admin_first_page_whale", "admin: first page (50) of the whale organization (30 % of clients)", whaleAdmin),
    orgPage(
      "admin_first_page_scattered",
      "admin: first page (50) of an organization whose rows are scattered",
      scatteredAdmin,
    ),
    orgPage("member_assigned_page", "member: assigned clients (50)", member),
    orgPage("member_assigned_page_whale", "member of the whale organization: assigned clients (50)", whaleMember),
    orgPage(
      "member_only_assigned_page_whale",
      "member of the whale organization who reads clients nowhere: assigned clients (50)",
      whaleMemberOnly,
    ),
    benchQuery(
      {
        key: "consultant_first_page",
        title: "consultant: first page (50) across all their organizations",
        singlePage: true,
        actor: asUser(consultant),
      },
      [allPage, []],
      [allPageExplicit, readableValues(consultant)],
    ),
    benchQuery(
      {
        key: "consultant_count",
        title: "consultant: count across all their organizations",
        singlePage: false,
        actor: asUser(consultant),
      },
      [count, []],
      [countExplicit, readableValues(consultant)],
    ),
    orgPage(
      "custom_reader_first_page",
      "holder of an organization's role with clients.read: first page (50)",
      customReader,
    ),
    orgPage(
      "custom_reader_first_page_whale",
      "holder of the whale's own role with clients.read: first page (50)",
      customReaderWhale,
    ),
    orgPage(
      "custom_assigned_page",
      "holder of an organization's role with clients.work_assigned: assigned clients (50)",
      customAssigned,
    ),
    orgPage(
      "custom_assigned_page_whale",
      "holder of the whale's own role with clients.work_assigned: assigned clients (50)",
      customAssignedWhale,
    ),
    orgPage(
      "list_clients_admin_whale",
      "list_clients, admin of the whale: first page (50)",
      whaleAdmin,
      "list_clients",
    ),
    orgPage("list_clients_member", "list_clients, member: assigned clients (50)", member, "list_clients"),
    orgPage(
      "list_clients_member_whale",
      "list_clients, member of the whale: assigned clients (50)",
      whaleMember,
      "list_clients",
    ),
    orgPage(
      "list_clients_custom_assigned_whale",
      "list_clients, holder of the whale's own role with clients.work_assigned (50)",
      customAssignedWhale,
      "list_clients",
    ),
    benchQuery(
      { key: "client_by_id", title: "one client by id", singlePage: true, actor: asUser(admin) },
      [byId, [p.clientId]],
      [byIdExplicit, [p.clientId, ...readableValues(admin)]],
    ),
    benchQuery(
      {
        key: "count_three_orgs",
        title: "count of all clients a user in 3 organizations can see",
        singlePage: false,
        actor: asUser(threeOrgs),
      },
      [count, []],
      [countExplicit, readableValues(threeOrgs)],
    ),
    benchQuery(
      {
        key: "name_prefix_search",
        title: "name-prefix search in one organization (50)",
        singlePage: true,
        actor: asUser(admin),
      },
      [prefix, [admin.org, search]],
      [prefixExplicit, [admin.org, search, ...readableValues(admin)]],
    ),
    benchQuery(
      {
        key: "search_clients_admin_prefix",
        title: 'search_clients, admin of the whale: prefix "nor" (20)',
        singlePage: false,
        actor: asUser(whaleAdmin),
        maxMs: 10,
      },
      [searchClients, [whaleAdmin.org, "nor"]],
      null,
    ),
    benchQuery(
      {
        key: "search_clients_admin_typo",
        title: 'search_clients, admin of the whale: typo "nortstar lab" (20)',
        singlePage: false,
        actor: asUser(whaleAdmin),
        maxMs: 10,
      },
      [searchClients, [whaleAdmin.org, "nortstar lab"]],
      null,
    ),
    benchQuery(
      {
        key: "search_clients_member",
        title: 'search_clients, member of the whale: "nor" (20)',
        singlePage: false,
        actor: asUser(whaleMember),
        maxMs: 10,
      },
      [searchClients, [whaleMember.org, "nor"]],
      null,
    ),
    benchQuery(
      {
        key: "members_with_roles",
        title: "an organization's members with their roles",
        singlePage: true,
        actor: asUser(admin),
      },
      [members, [admin.org]],
      [membersExplicit, [admin.org, admin.memberOrgs, admin.coMembers, admin.id]],
    ),
    benchQuery(
      { key: "insert_client", title: "inserting a client (manager)", singlePage: true, actor: asUser(manager) },
      [insert, [manager.org, "Bench Insert"]],
      [insertExplicit, [manager.org, "Bench Insert", manager.id, manager.createOrgs]],
    ),
  ];
}

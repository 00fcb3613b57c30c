/**
 * The guided tour behind `npm run demo`: each seeded persona signs in through
 * the typed layer (`createOrgDb(url).asUser(id, tx => ...)`, RLS applied as
 * PostgREST applies it), reads what it may see of Acme, and tries the same
 * changes there. Every unit of work runs with `{ rollback: true }`, so its
 * transaction rolls back; the row counts of every table are compared before
 * and after to prove that nothing was changed.
 */
import { count } from "drizzle-orm";
import {
  audit,
  clients,
  createOrgDb,
  DatabaseError,
  ForbiddenError,
  invitations,
  members,
  NotFoundError,
  organizations,
  schema,
  type OrgDb,
  type Permission,
  type Tx,
} from "../../src/index.ts";
import { connect, type Sql } from "../../tooling/server/sql.ts";
import { ORG, USER, client } from "../../tooling/build/seed-personas.ts";
import { fail } from "../../tooling/output.ts";
import { clip, rule, table } from "./table.ts";

const ACME = ORG.acme;
const acmeClient = (n: number) => client(1, n);

/** The personas of supabase/seed.sql the tour signs in as, in the order it shows them. */
export const PERSONAS = [
  { key: "alice", id: USER.alice, inAcme: true, about: "owner of Acme" },
  { key: "bob", id: USER.bob, inAcme: true, about: "admin of Acme" },
  { key: "carol", id: USER.carol, inAcme: true, about: "manager of Acme" },
  { key: "dave", id: USER.dave, inAcme: true, about: "member of Acme: works only on the clients assigned to him" },
  { key: "erin", id: USER.erin, inAcme: true, about: "viewer of Acme: reads everything, changes nothing" },
  { key: "mallory", id: USER.mallory, inAcme: true, about: "member of Acme and viewer of Globex (two organizations)" },
  { key: "frank", id: USER.frank, inAcme: false, about: "owner of Globex, not a member of Acme" },
  { key: "nora", id: USER.nora, inAcme: false, about: "signed in, no organization yet" },
] as const;

type Persona = (typeof PERSONAS)[number] & { email: string; fullName: string };

/** What the tour needs from the seed, read once as the superuser. */
interface Stage {
  people: Map<string, Persona>;
  acmeName: string;
  acmeClients: number;
  /** Assigned to dave only. */
  davesClient: { id: string; name: string };
  /** Assigned to nobody. */
  freeClient: { id: string; name: string };
}

interface Action {
  label: (stage: Stage) => string;
  /** What an RLS refusal of the write means. */
  permission?: Permission;
  run: (tx: Tx, me: Persona, stage: Stage) => Promise<string | void>;
}

/** A role of Acme's own, named after its key. */
const defineRole = (tx: Tx, key: string, rank: number, permissions: Permission[]) =>
  members.createRole(tx, { organizationId: ACME, key, name: key.replace("_", " "), rank, permissions });

/** The changes every persona tries, all in Acme (plus one organization of their own). */
const ACTIONS: Action[] = [
  {
    label: (s) => `update ${s.davesClient.name} (dave's)`,
    permission: "clients.update",
    run: async (tx, _me, s) => {
      await clients.updateClient(tx, { clientId: s.davesClient.id, notes: "called back (demo)" });
    },
  },
  {
    label: (s) => `update ${s.freeClient.name} (nobody's)`,
    permission: "clients.update",
    run: async (tx, _me, s) => {
      await clients.updateClient(tx, { clientId: s.freeClient.id, status: "active" });
    },
  },
  {
    label: () => "create a client",
    permission: "clients.create",
    run: async (tx, me) => {
      const created = await clients.createClient(tx, { organizationId: ACME, name: "Demo Prospect" });
      const assigned = await clients.listAssignments(tx, { clientId: created.id });
      if (assigned.some((a) => a.userId === me.id)) return "assigned to its creator";
    },
  },
  {
    label: (s) => `assign mallory to ${s.davesClient.name}`,
    permission: "clients.assign",
    run: async (tx, _me, s) => {
      await clients.assignClient(tx, { clientId: s.davesClient.id, userId: USER.mallory });
    },
  },
  {
    label: () => "rename Acme",
    permission: "organization.update",
    run: async (tx) => {
      await organizations.updateOrganization(tx, { organizationId: ACME, name: "Acme Renamed" });
    },
  },
  {
    label: () => "invite someone as member",
    permission: "members.manage",
    run: async (tx) => {
      await invitations.inviteMember(tx, { organizationId: ACME, email: "new.hire@example.com", role: "member" });
    },
  },
  {
    label: () => "make erin (viewer) manager",
    permission: "members.manage",
    run: async (tx) => {
      await members.setMemberRoles(tx, { organizationId: ACME, userId: USER.erin, roles: ["manager"] });
    },
  },
  {
    label: () => "make carol (manager) owner",
    permission: "members.manage",
    run: async (tx) => {
      await members.setMemberRoles(tx, { organizationId: ACME, userId: USER.carol, roles: ["owner"] });
    },
  },
  {
    label: () => "make yourself owner",
    permission: "members.manage",
    run: async (tx, me) => {
      await members.setMemberRoles(tx, { organizationId: ACME, userId: me.id, roles: ["owner"] });
    },
  },
  {
    label: () => "define role billing (clients.read), give it to erin",
    permission: "roles.manage",
    run: async (tx) => {
      await defineRole(tx, "billing", 10, ["clients.read"]);
      await members.setMemberRoles(tx, { organizationId: ACME, userId: USER.erin, roles: ["billing"] });
      return "Acme's own role, ranked below its giver";
    },
  },
  {
    label: () => "define a role that manages members",
    permission: "roles.manage",
    run: async (tx) => {
      await defineRole(tx, "team_lead", 25, ["members.manage"]);
    },
  },
  {
    label: () => "leave Acme",
    run: async (tx) => {
      await members.leaveOrganization(tx, { organizationId: ACME });
    },
  },
  {
    label: () => "create an organization",
    run: async (tx, me) => {
      await organizations.createOrganization(tx, { name: `${me.fullName}'s Shop`, slug: `demo-${me.key}` });
      return "they become its owner";
    },
  },
];

/** The words of docs/security.md for the rules a refusal names (the typed error's `rule`). */
const RULE_WORDS: Record<string, string> = {
  "only-owners-grant-owner": "only owners grant or revoke owner",
  "own-roles": "nobody changes their own roles",
  "member-outranks-you": "nobody manages a member who outranks them",
  "grant-above-own-rank": "nobody grants a role above their own highest",
  "invite-above-own-rank": "nobody grants a role above their own highest",
  "only-owners-invite-owners": "only owners invite owners",
  "only-owners-remove-owners": "only owners remove owners",
  "organization-keeps-an-owner": "every organization keeps an owner",
  "only-owners-give-permission": "only owners give members.manage, roles.manage, organization.delete",
  "role-rank-above-own": "a role ranks below its giver's highest",
  "give-permission-not-held": "a role carries only permissions its giver holds",
  "role-permissions-not-held": "a role carries only permissions its giver holds",
};

/** The rule behind a refusal, in the words of docs/security.md, from the typed error's `rule` (never its message). */
export function ruleOf(error: DatabaseError, action: Action, me: Persona): string {
  const rule = error.rule ?? "";
  const required = /^requires:(.+)$/.exec(rule);
  if (required) return `${required[1]} is required`;
  const words = RULE_WORDS[rule];
  if (words) return words;
  if (!me.inAcme) {
    return error instanceof NotFoundError ? "Acme is invisible to non-members" : "non-members hold no permission";
  }
  if (rule === "not-found:client") return "member sees only assigned clients";
  if (error instanceof ForbiddenError && action.permission) return `${action.permission} is required`;
  return rule || error.message;
}

/** The typed error as the layer reports it: class, SQLSTATE, message. */
const described = (error: DatabaseError) => `${error.name} ${error.code ?? "-----"}: ${error.message}`;

/**
 * Run `work` as a user in a unit that rolls back (deferred constraints, such
 * as an organization keeping an owner, are checked first, as a commit would).
 */
function rolledBack<T>(db: OrgDb, userId: string, work: (tx: Tx) => Promise<T>): Promise<T> {
  return db.asUser(userId, work, { rollback: true });
}

type Outcome = { allowed: true; note: string | undefined } | { allowed: false; error: DatabaseError };

async function attempt(db: OrgDb, me: Persona, action: Action, stage: Stage): Promise<Outcome> {
  try {
    const note = await rolledBack(db, me.id, (tx) => action.run(tx, me, stage));
    return { allowed: true, note: note ?? undefined };
  } catch (error) {
    if (error instanceof DatabaseError) return { allowed: false, error };
    throw error;
  }
}

/** What a persona reads (also run in a unit that rolls back). */
async function look(db: OrgDb, me: Persona) {
  return rolledBack(db, me.id, async (tx) => {
    const mine = await organizations.listMyOrganizations(tx);
    const page = await clients.listClients(tx, { organizationId: ACME, limit: 500 });
    const [all] = await tx.select({ n: count() }).from(schema.clients);
    const team = await members.listMembers(tx, { organizationId: ACME });
    const log = await audit.listAuditLog(tx, { organizationId: ACME, limit: 500 });
    const auditor = await members.authorize(tx, { organizationId: ACME, permission: "audit.read" });
    return { mine, page, allClients: all?.n ?? 0, team, log, auditor };
  });
}

const short = (email: string | null) => (email ?? "?").split("@")[0]!;

/** Row counts of every table of public (audit_log included), private and auth.users, as the superuser. */
export async function rowCounts(sql: Sql): Promise<Map<string, number>> {
  const tables = await sql<{ schema: string; name: string }[]>`
    select n.nspname as schema, c.relname as name
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where c.relkind in ('r', 'p') and (n.nspname in ('public', 'private') or (n.nspname = 'auth' and c.relname = 'users'))
    order by 1, 2`;
  const counts = new Map<string, number>();
  for (const t of tables) {
    const [row] = await sql<{ n: number }[]>`select count(*)::int as n from ${sql(t.schema)}.${sql(t.name)}`;
    counts.set(`${t.schema}.${t.name}`, row!.n);
  }
  return counts;
}

const START_HINT =
  "Start the local database with `npm run db:start` (DATABASE_URL=... to use another one), then run `npm run demo` again.";

/** Connect, or explain how to get a database to connect to. */
async function reach(url: string): Promise<Sql> {
  const sql = connect(url, { connect_timeout: 5 });
  try {
    await sql`select 1`;
    return sql;
  } catch (error) {
    await sql.end({ timeout: 1 }).catch(() => undefined);
    const e = error as Error & { code?: string };
    const why = e.code === "ECONNREFUSED" ? "nothing listens there" : `${e.code ? `${e.code}: ` : ""}${e.message}`;
    return fail(`Cannot reach the database at ${url} (${why}).\n  ${START_HINT}`);
  }
}

/** The seed's rows the tour relies on, or a clear failure. */
async function readStage(sql: Sql, url: string): Promise<Stage> {
  const notSeeded = (what: string) =>
    fail(
      `The database at ${url} ${what}.\n  The demo needs the schema and the demo data of supabase/seed.sql: ` +
        "`npm run db:start` creates and seeds a new local database; `npm run db:reset` rebuilds an existing one (deleting its data).",
    );
  const [schemaOk] = await sql<{ ok: boolean }[]>`
    select to_regclass('public.clients') is not null and to_regclass('public.user_roles') is not null
       and to_regclass('public.audit_log') is not null as ok`;
  if (!schemaOk?.ok) return notSeeded("has no schema (migrations not applied)");
  const ids = PERSONAS.map((p) => p.id);
  const people = await sql<{ id: string; email: string; full_name: string | null }[]>`
    select id::text, email, full_name from public.users where id = any(${ids}::uuid[])`;
  const [acme] = await sql<{ name: string; clients: number }[]>`
    select o.name, (select count(*)::int from public.clients c where c.organization_id = o.id) as clients
    from public.organizations o where o.id = ${ACME}`;
  const picked = await sql<{ id: string; name: string }[]>`
    select id::text, name from public.clients where id in (${acmeClient(1)}, ${acmeClient(20)})`;
  if (people.length < PERSONAS.length || !acme || picked.length < 2)
    return notSeeded("has no demo data (the personas of supabase/seed.sql are missing)");
  const named = new Map(people.map((p) => [p.id, p]));
  const clientName = (id: string) => picked.find((c) => c.id === id)!.name;
  return {
    people: new Map(
      PERSONAS.map((p) => {
        const row = named.get(p.id)!;
        return [p.id, { ...p, email: row.email, fullName: row.full_name ?? row.email }];
      }),
    ),
    acmeName: acme.name,
    acmeClients: acme.clients,
    davesClient: { id: acmeClient(1), name: clientName(acmeClient(1)) },
    freeClient: { id: acmeClient(20), name: clientName(acmeClient(20)) },
  };
}

/** The tour itself: prints to `out`, throws CommandError when the database is missing or changed. */
export async function runDemo(url: string, out: (line: string) => void = (line) => console.log(line)): Promise<void> {
  const sql = await reach(url);
  let db: OrgDb | undefined;
  try {
    const stage = await readStage(sql, url);
    const before = await rowCounts(sql);
    db = createOrgDb(url, { max: 4 });

    out(`Demo: who may see and change what, on ${url}`);
    out("");
    out("Each persona of supabase/seed.sql signs in through the typed layer");
    out("(createOrgDb(url).asUser(userId, tx => ...): RLS applies exactly as for supabase-js) and");
    out(
      `  sees     what the database lets them read of ${stage.acmeName} (organizations, clients, members, audit log);`,
    );
    out(`  changes  tries the same changes there: ✔ went through, ✖ refused, followed by the rule and the`);
    out("           typed error the layer throws (class, Postgres SQLSTATE: message; 〃 = as on the line above).");
    out("Every attempt runs in its own transaction, which is rolled back: the database is left as it was.");

    for (const persona of PERSONAS) {
      const me = stage.people.get(persona.id)!;
      out("");
      out(rule(`${me.key} · ${me.email} · ${me.about}`));
      const seen = await look(db, me);
      const orgs = seen.mine.length
        ? seen.mine.map((o) => `${o.name} (${o.roles.join("+") || "no role"})`).join(", ")
        : "none";
      const names = seen.page.items.slice(0, 3).map((c) => c.name);
      const visible = seen.page.items.length + (seen.page.next ? "+" : "");
      const clientsLine =
        seen.page.items.length === 0
          ? `none of ${stage.acmeClients}`
          : `${visible} of ${stage.acmeClients}: ${names.join(", ")}${seen.page.items.length > names.length ? ", …" : ""}`;
      const everywhere =
        seen.allClients === seen.page.items.length ? "" : ` (all their organizations: ${seen.allClients})`;
      const team = seen.team.length
        ? `${seen.team.length}, with roles: ${clip(seen.team.map((m) => `${short(m.email)} ${m.roles.join("+")}`).join(", "), 80)}`
        : "none visible (not a member)";
      const auditLine = seen.auditor
        ? `yes: ${seen.log.items.length}${seen.log.next ? "+" : ""} entries for Acme`
        : `no: ${seen.log.items.length} entries visible (audit.read is required)`;
      const sees = [
        ["sees", "organizations", orgs],
        ["", "Acme clients", clientsLine + everywhere],
        ["", "Acme members", team],
        ["", "audit log", auditLine],
      ];
      for (const line of table(sees, { indent: "  ", widths: [7] })) out(line);

      const rows: string[][] = [];
      let previous = "";
      for (const action of ACTIONS) {
        const outcome = await attempt(db, me, action, stage);
        const head = rows.length ? "" : "changes";
        const label = action.label(stage);
        if (outcome.allowed) {
          rows.push([head, `✔ ${label}`, outcome.note ?? ""]);
          previous = "";
          continue;
        }
        const error = described(outcome.error);
        rows.push([head, `✖ ${label}`, ruleOf(outcome.error, action, me), error === previous ? "〃" : error]);
        previous = error;
      }
      for (const line of table(rows, { indent: "  ", widths: [7] })) out(line);
    }

    const after = await rowCounts(sql);
    const changed = [...new Set([...before.keys(), ...after.keys()])].filter((t) => before.get(t) !== after.get(t));
    if (changed.length) {
      fail(
        `The demo changed the database: ${changed.map((t) => `${t} ${before.get(t) ?? 0} → ${after.get(t) ?? 0}`).join(", ")}`,
      );
    }
    const total = [...after.values()].reduce((a, b) => a + b, 0);
    out("");
    out(`Row counts before and after the tour: identical (${after.size} tables, ${total} rows). Nothing was changed.`);
    out("The rules and the threat suite: docs/security.md · Using the layer from servers and browsers: docs/usage.md");
  } finally {
    await db?.close();
    await sql.end({ timeout: 5 });
  }
}

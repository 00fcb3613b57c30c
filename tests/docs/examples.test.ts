/**
 * The server examples of docs/usage.md (docs/examples/server.ts) work as
 * written: run against the seeded database as its personas.
 */
import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as examples from "../../docs/examples/server.ts";
import {
  createOrgDb,
  ForbiddenError,
  InvariantError,
  NotFoundError,
  ValidationError,
  type OrgDb,
} from "../../src/index.ts";
import { useTestDatabase } from "../support/database.ts";
import { client, ORG, USER } from "../support/personas.ts";

const test = useTestDatabase();
const SECRET = "docs-example-jwt-secret-with-at-least-32-characters";
let db: OrgDb;

beforeAll(() => {
  db = createOrgDb(test.url, { max: 2, jwt: { secret: SECRET } });
});
afterAll(() => db.close());

const tokenFor = (sub: string) =>
  new SignJWT({ role: "authenticated" })
    .setProtectedHeader({ alg: "HS256" })
    .setSubject(sub)
    .setAudience("authenticated")
    .setExpirationTime("5m")
    .sign(new TextEncoder().encode(SECRET));

describe("docs/examples/server.ts", () => {
  it("dashboard: a member's organizations and only their assigned clients", async () => {
    const { orgs, clients } = await examples.dashboard(db, USER.dave);
    expect(orgs.map((o) => [o.slug, o.roles])).toEqual([["acme", ["member"]]]);
    expect(clients.map((c) => c.id).sort()).toEqual([1, 2, 3, 4, 5].map((n) => client(1, n)).sort());
    expect(await examples.dashboard(db, USER.nora)).toEqual({ orgs: [], clients: [] });
  });

  it("handleListClients: a verified token lists; a bad token is 403, bad input 400", async () => {
    const ok = await examples.handleListClients(
      db,
      new Request(`https://app.example/clients?org=${ORG.acme}&q=north`, {
        headers: { authorization: `Bearer ${await tokenFor(USER.erin)}` },
      }),
    );
    expect(ok.status).toBe(200);
    const body = (await ok.json()) as { items: { name: string }[] };
    expect(body.items.length).toBeGreaterThan(0);
    for (const c of body.items) expect(c.name.toLowerCase().startsWith("north")).toBe(true);
    const forged = await examples.handleListClients(
      db,
      new Request(`https://app.example/clients?org=${ORG.acme}`, { headers: { authorization: "Bearer nope" } }),
    );
    expect(forged.status).toBe(403);
    expect(await forged.json()).toMatchObject({ error: "ForbiddenError", code: "PGRST301" });
    const bad = await examples.handleListClients(
      db,
      new Request("https://app.example/clients?org=acme", {
        headers: { authorization: `Bearer ${await tokenFor(USER.erin)}` },
      }),
    );
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: "ValidationError" });
  });

  it("httpStatus maps each typed error", () => {
    expect(examples.httpStatus(new ValidationError("x"))).toBe(400);
    expect(examples.httpStatus(new ForbiddenError("x"))).toBe(403);
    expect(examples.httpStatus(new NotFoundError("x"))).toBe(404);
    expect(examples.httpStatus(new InvariantError("x"))).toBe(409);
    expect(examples.httpStatus(new Error("x"))).toBe(500);
  });

  it("createAndAssign: one unit of work creates and assigns; a failure keeps neither", async () => {
    const created = await examples.createAndAssign(db, USER.carol, ORG.acme, USER.mallory);
    const [row] = await test.sql<
      { users: string[] }[]
    >`select array_agg(user_id::text) as users from public.user_clients where client_id = ${created.id}`;
    expect(row!.users).toEqual([USER.mallory]);
    const before = await test.sql`select id from public.clients`;
    await expect(examples.createAndAssign(db, USER.carol, ORG.acme, USER.frank)).rejects.toBeInstanceOf(NotFoundError);
    expect((await test.sql`select id from public.clients`).length).toBe(before.length);
  });

  it("previewRename: resolves with the renamed organization and keeps nothing; a viewer is refused", async () => {
    const preview = await examples.previewRename(db, USER.bob, ORG.acme, "Acme Preview");
    expect(preview.name).toBe("Acme Preview");
    const [row] = await test.sql<{ name: string }[]>`select name from public.organizations where id = ${ORG.acme}`;
    expect(row!.name).not.toBe("Acme Preview");
    await expect(examples.previewRename(db, USER.erin, ORG.acme, "Acme Preview")).rejects.toBeInstanceOf(
      ForbiddenError,
    );
  });

  it("leave: the last owner is told so; a member leaves", async () => {
    expect(await examples.leave(db, USER.alice, ORG.acme)).toBe("last owner");
    expect(await examples.leave(db, USER.heidi, ORG.globex)).toBe("left");
  });

  it("promoteToManager: an admin may, a manager may not", async () => {
    const list = await examples.promoteToManager(db, USER.bob, ORG.acme, USER.erin);
    expect(list.find((m) => m.userId === USER.erin)?.roles).toEqual(["manager"]);
    await expect(examples.promoteToManager(db, USER.carol, ORG.acme, USER.dave)).rejects.toBeInstanceOf(ForbiddenError);
  });

  it("inviteColleague and join: the link's token admits the invitee", async () => {
    const { link } = await examples.inviteColleague(db, USER.bob, ORG.acme, "colleague@example.com");
    const id = crypto.randomUUID();
    await test.sql`insert into auth.users (id, email, email_confirmed_at) values (${id}, 'colleague@example.com', now())`;
    const token = new URL(link).searchParams.get("token")!;
    expect(await examples.join(db, id, token)).toBe(ORG.acme);
  });

  it("exportActiveClients: every active client the user sees, across pages", async () => {
    const all = await examples.exportActiveClients(db, USER.erin, ORG.acme);
    const [row] = await test.sql<
      { n: number }[]
    >`select count(*)::int as n from public.clients where organization_id = ${ORG.acme} and status = 'active'`;
    expect(all).toHaveLength(row!.n);
    expect(all.every((c) => c.status === "active")).toBe(true);
  });

  it("recentClientChanges: owners and admins read, others get nothing", async () => {
    expect((await examples.recentClientChanges(db, USER.alice, ORG.acme)).length).toBe(20);
    expect(await examples.recentClientChanges(db, USER.carol, ORG.acme)).toEqual([]);
  });

  it("countVisibleClients: RLS applies to plain Drizzle", async () => {
    expect(await examples.countVisibleClients(db, USER.dave)).toBe(5);
    expect(await examples.countVisibleClients(db, USER.nora)).toBe(0);
  });

  it("clientOr404: a hidden client is null", async () => {
    expect(await examples.clientOr404(db, USER.dave, client(1, 20))).toBeNull();
    expect((await examples.clientOr404(db, USER.erin, client(1, 20)))?.id).toBe(client(1, 20));
  });

  it("archiveStaleLeads: the service archives leads across organizations", async () => {
    const archived = await examples.archiveStaleLeads(db, new Date(Date.now() + 60_000).toISOString());
    const [row] = await test.sql<{ n: number }[]>`select count(*)::int as n from public.clients where status = 'lead'`;
    expect(archived.length).toBeGreaterThan(0);
    expect(row!.n).toBe(0);
  });

  it("replicas: without a replica configured, read-only units and read-your-writes run on the primary", async () => {
    const page = await examples.clientPage(db, USER.dave, ORG.acme);
    expect(page.items).toHaveLength(5);
    const shown = await examples.renameThenShow(db, USER.alice, client(1, 6), "Renamed in the docs");
    expect(shown.name).toBe("Renamed in the docs");
  });
});

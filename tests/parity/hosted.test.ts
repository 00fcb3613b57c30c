/**
 * Local = hosted where applications can tell (SPEC 10), beyond what the
 * pgTAP file 001_hosted_parity proves as `postgres`:
 * - Supabase Auth's own paths, run as `supabase_auth_admin` the way the Auth
 *   server runs them (plain INSERT, UPDATE and DELETE on auth.users): sign-up
 *   creates the profile, an email change reaches it, deleting a user keeps
 *   their organization's clients, and deleting the only owner of an
 *   organization is refused with an error naming it and the remedy;
 * - the API path: PostgREST logs in as `authenticator` (8 s statement and
 *   lock timeouts) and switches role; an UPDATE or DELETE without WHERE is
 *   refused with 21000 where safeupdate is loaded (the PostgreSQL 15 run);
 * - a restart leaves the catalog exactly as the migrations left it.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type Sql } from "../../tooling/server/sql.ts";
import { ORG, USER } from "../support/personas.ts";
import { urlAs, useTestDatabase } from "../support/database.ts";

const test = useTestDatabase();

let auth: Sql;
beforeAll(() => {
  auth = connect(urlAs(test.url, "supabase_auth_admin"), { max: 1 });
});
afterAll(() => auth?.end({ timeout: 5 }));

describe("Supabase Auth's paths, as supabase_auth_admin", () => {
  it("runs as a role that does not own the layer's tables and is no superuser", async () => {
    const [row] =
      await auth`select current_user as role, (select rolsuper from pg_roles where rolname = current_user) as superuser`;
    expect(row).toEqual({ role: "supabase_auth_admin", superuser: false });
  });

  it("sign-up (INSERT into auth.users) creates the public profile with the name from the metadata", async () => {
    const id = randomUUID();
    await auth`insert into auth.users (id, email, raw_user_meta_data) values (${id}, 'signup@parity.example', ${auth.json({ full_name: "Sign Up" })})`;
    const [profile] = await test.sql`select email, full_name from public.users where id = ${id}`;
    expect(profile).toEqual({ email: "signup@parity.example", full_name: "Sign Up" });
  });

  it("an email change (UPDATE of auth.users) reaches the profile", async () => {
    await auth`update auth.users set email = 'erin.new@acme.example' where id = ${USER.erin}`;
    const [profile] = await test.sql`select email from public.users where id = ${USER.erin}`;
    expect(profile?.email).toBe("erin.new@acme.example");
  });

  it("deleting a member removes their memberships, roles and assignments, and keeps the organization's clients", async () => {
    const [before] = await test.sql`select count(*)::int as n from public.clients where organization_id = ${ORG.acme}`;
    const [assigned] = await test.sql`select count(*)::int as n from public.user_clients where user_id = ${USER.dave}`;
    expect(assigned?.n).toBeGreaterThan(0);
    await auth`delete from auth.users where id = ${USER.dave}`;
    const [left] = await test.sql`
      select (select count(*) from public.organization_users where user_id = ${USER.dave})::int as memberships,
             (select count(*) from public.user_roles where user_id = ${USER.dave})::int as roles,
             (select count(*) from public.user_clients where user_id = ${USER.dave})::int as assignments,
             (select count(*) from public.clients where organization_id = ${ORG.acme})::int as clients`;
    expect(left).toEqual({ memberships: 0, roles: 0, assignments: 0, clients: before?.n });
  });

  it("deleting the only owner of an organization is refused, naming the organization and the remedy, and changes nothing", async () => {
    const error = await auth`delete from auth.users where id = ${USER.frank}`.catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: "P0001",
      message: expect.stringMatching(/only owner of "Globex[^"]*" \(10000000-0000-4000-8000-000000000002\)/),
      hint: expect.stringMatching(/transfer_ownership.*delete the organization/),
    });
    const [row] = await test.sql`
      select (select count(*) from auth.users where id = ${USER.frank})::int as users,
             (select count(*) from public.user_roles where user_id = ${USER.frank})::int as roles`;
    expect(row).toEqual({ users: 1, roles: 1 });
  });

  it("once another member owns the organization too, the former only owner can be deleted", async () => {
    await test.sql`insert into public.user_roles (organization_id, user_id, role_id)
                   select ${ORG.initech}, ${USER.judy}, id from public.roles where key = 'owner'`;
    await auth`delete from auth.users where id = ${USER.ivan}`;
    const [row] = await test.sql`select count(*)::int as n from public.user_roles where user_id = ${USER.ivan}`;
    expect(row?.n).toBe(0);
  });
});

describe("the API path", () => {
  it("authenticator logs in with hosted's timeouts, which stay in force after switching to an API role", async () => {
    const api = connect(urlAs(test.url, "authenticator"), { max: 1 });
    try {
      const rows = await api.begin(async (tx) => {
        await tx`set local role authenticated`;
        return tx`select current_user as role, current_setting('statement_timeout') as statement, current_setting('lock_timeout') as lock`;
      });
      expect(rows[0]).toEqual({ role: "authenticated", statement: "8s", lock: "8s" });
    } finally {
      await api.end({ timeout: 5 });
    }
  });

  it("an UPDATE without WHERE is refused before RLS: 21000 where safeupdate is loaded, else by the policies", async () => {
    const [setting] = await test.sql`select current_setting('safeupdate.enabled', true) as enabled`;
    const loaded = setting?.enabled === "on";
    // The PostgreSQL 15 run of npm test loads safeupdate into every session.
    expect(loaded).toBe(process.env.TEST_ENGINE === "system");
    const outcome = await test.sql
      .begin(async (tx) => {
        await tx`select set_config('request.jwt.claims', ${JSON.stringify({ sub: USER.carol, role: "authenticated" })}, true)`;
        await tx`set local role authenticated`;
        return tx`update public.clients set status = 'inactive'`;
      })
      .then(
        (rows) => ({ updated: rows.count }),
        (e: { code?: string }) => ({ code: e.code }),
      );
    const [acme] = await test.sql`select count(*)::int as n from public.clients where organization_id = ${ORG.acme}`;
    // Without safeupdate the statement reaches RLS, which limits a manager of Acme to Acme's clients.
    expect(outcome).toEqual(loaded ? { code: "21000" } : { updated: acme?.n });
  });
});

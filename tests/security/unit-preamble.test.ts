/**
 * What a unit of work as a user sets, besides the role and
 * `request.jwt.claims`:
 *
 * - the legacy `request.jwt.claim.*` settings, which auth.uid(), auth.role(),
 *   auth.email() and auth.jwt() read first: set from the same claims, or
 *   cleared, transaction-locally, so a stale session-level value on a pooled
 *   connection cannot name someone else;
 * - the impersonated role's own settings (ALTER ROLE ... SET, such as hosted
 *   Supabase's statement_timeout for `authenticated`), which SET ROLE does
 *   not apply but PostgREST does per request: read from the catalog, applied
 *   transaction-locally.
 */
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOrgDb, DatabaseError, type OrgDb } from "../../src/index.ts";
import { postgrestPreamble, roleSettings, USER_SETTINGS, type RoleSettings } from "../../src/postgrest.ts";
import { superuserUrl } from "../../tooling/server/config.ts";
import { withSql } from "../../tooling/server/sql.ts";
import { useTestDatabase } from "../support/database.ts";
import { USER } from "../support/personas.ts";

const test = useTestDatabase();
let db: OrgDb;

beforeAll(() => {
  // One connection: whatever the session holds, every unit sees it.
  db = createOrgDb(test.url, { max: 1 });
});
afterAll(() => db.close());

const one = async <T>(rows: Promise<unknown>) => ((await rows) as T[])[0] as T;

describe("legacy claim settings", () => {
  it("a stale session-level request.jwt.claim.sub (and .claim, .claim.role, .claim.email) cannot name someone else", async () => {
    await db.unsafeLoginSql`select set_config('request.jwt.claim.sub', ${USER.alice}, false),
                        set_config('request.jwt.claim', ${JSON.stringify({ sub: USER.alice, role: "authenticated", is_anonymous: true })}, false),
                        set_config('request.jwt.claim.role', 'service_role', false),
                        set_config('request.jwt.claim.email', 'alice@acme.example', false)`;
    const seen = await db.asUser(USER.nora, (tx) =>
      one<{ uid: string; role: string; email: string | null; jwt_sub: string; anonymous: boolean }>(
        tx.execute(sql`select auth.uid() as uid, auth.role() as role, auth.email() as email,
                              auth.jwt() ->> 'sub' as jwt_sub, (auth.jwt() -> 'is_anonymous')::boolean as anonymous`),
      ),
    );
    expect(seen).toEqual({ uid: USER.nora, role: "authenticated", email: null, jwt_sub: USER.nora, anonymous: false });
    // Nora sees her own organizations (none), not Alice's.
    const orgs = await db.asUser(USER.nora, (tx) => tx.execute(sql`select id from public.organizations`));
    expect(orgs).toHaveLength(0);
    // As the service: no user at all.
    const service = await db.asService((tx) => one<{ uid: string | null }>(tx.execute(sql`select auth.uid() as uid`)));
    expect(service.uid).toBeNull();
  });

  it("a user's email claim is what auth.email() reads", async () => {
    const seen = await db.asUser({ sub: USER.nora, role: "authenticated", email: "nora@example.com" }, (tx) =>
      one<{ email: string }>(tx.execute(sql`select auth.email() as email`)),
    );
    expect(seen.email).toBe("nora@example.com");
  });

  it("asUser(id) claims say is_anonymous: false; claims given say what they say", async () => {
    const mine = await db.asUser(USER.nora, (tx) =>
      one<{ a: unknown }>(tx.execute(sql`select auth.jwt() -> 'is_anonymous' as a`)),
    );
    expect(mine.a).toBe(false);
    const anonymous = db.asUser({ sub: USER.nora, role: "authenticated", is_anonymous: true }, (tx) =>
      tx.execute(sql`select public.create_organization('Anon Nora', 'anon-nora')`),
    );
    await expect(anonymous).rejects.toMatchObject({ code: "OL001", name: "ForbiddenError" });
  });
});

describe("the impersonated role's settings", () => {
  const database = () => decodeURIComponent(new URL(test.url).pathname.slice(1));

  // Role settings are the platform's: only the superuser (supabase_admin) changes those of the API roles.
  const asAdmin = (statement: string) => withSql(superuserUrl(test.url), (admin) => admin.unsafe(statement));
  // statement_timeout is one of USER_SETTINGS (applied without asking pg_settings), extra_float_digits is not
  // (pg_settings says any user may set it), log_min_duration_statement is for superusers only (skipped).
  const settings = ["statement_timeout = '150ms'", "extra_float_digits = 2", "log_min_duration_statement = 0"];
  // The handle read authenticated's settings on its first unit (above): like PostgREST, it applies the new
  // ones once told to read them again.
  beforeAll(async () => {
    for (const setting of settings)
      await asAdmin(`alter role authenticated in database "${database()}" set ${setting}`);
    db.reloadRoleSettings();
  });
  afterAll(async () => {
    for (const setting of settings)
      await asAdmin(`alter role authenticated in database "${database()}" reset ${setting.split(" ")[0]!}`);
    db.reloadRoleSettings();
  });

  it("the settings applied without asking pg_settings are, on this server, ones any user may set", async () => {
    const rows = await test.sql<{ name: string; context: string }[]>`
      select name, context from pg_catalog.pg_settings where name = any(${[...USER_SETTINGS]})`;
    expect(rows.map((r) => r.name).sort()).toEqual([...USER_SETTINGS].sort());
    for (const row of rows) expect(row, row.name).toMatchObject({ context: "user" });
  });

  it("a setting outside that list applies when any user may set it; a superuser's setting is left out, not an error", async () => {
    const inside = await db.asUser(USER.nora, (tx) =>
      one<{ digits: string; logged: string }>(
        tx.execute(sql`select current_setting('extra_float_digits') as digits,
                              current_setting('log_min_duration_statement') as logged`),
      ),
    );
    expect(inside.digits).toBe("2");
    expect(inside.logged).toBe("-1");
  });

  it("apply inside a unit as that role, transaction-locally", async () => {
    const inside = await db.asUser(USER.nora, (tx) =>
      one<{ statement_timeout: string }>(tx.execute(sql`show statement_timeout`)),
    );
    expect(inside.statement_timeout).toBe("150ms");
    const slow = db.asUser(USER.nora, (tx) => tx.execute(sql`select pg_sleep(1)`));
    await expect(slow).rejects.toBeInstanceOf(DatabaseError);
    await expect(slow).rejects.toMatchObject({ code: "57014" });
    // Not at session level: the login role's setting is untouched after the units.
    const [after] = await db.unsafeLoginSql<{ statement_timeout: string }[]>`show statement_timeout`;
    expect(after!.statement_timeout).toBe("0");
    // Nor for another role: service_role has no such setting.
    const service = await db.asService((tx) =>
      one<{ statement_timeout: string }>(tx.execute(sql`show statement_timeout`)),
    );
    expect(service.statement_timeout).toBe("0");
  });
  const timeoutAs = (unit: OrgDb, user: string) =>
    unit.asUser(user, (tx) => one<{ statement_timeout: string }>(tx.execute(sql`show statement_timeout`)));

  it("are read once per handle and role, and again after reloadRoleSettings(), as PostgREST reads them until 'reload config'", async () => {
    expect((await timeoutAs(db, USER.nora)).statement_timeout).toBe("150ms");
    await asAdmin(`alter role authenticated in database "${database()}" set statement_timeout = '175ms'`);
    try {
      // Kept: the handle applies what it read, another user and unit alike.
      expect((await timeoutAs(db, USER.alice)).statement_timeout).toBe("150ms");
      // A new handle reads them on its first unit.
      const fresh = createOrgDb(test.url, { max: 1 });
      try {
        expect((await timeoutAs(fresh, USER.nora)).statement_timeout).toBe("175ms");
      } finally {
        await fresh.close();
      }
      db.reloadRoleSettings();
      expect((await timeoutAs(db, USER.nora)).statement_timeout).toBe("175ms");
    } finally {
      await asAdmin(`alter role authenticated in database "${database()}" set statement_timeout = '150ms'`);
      db.reloadRoleSettings();
    }
    expect((await timeoutAs(db, USER.nora)).statement_timeout).toBe("150ms");
  });

  it("the preamble given the settings read once applies exactly what the preamble reading the catalog applies", async () => {
    const applied = async (settings?: RoleSettings) =>
      test.sql.begin(async (tx) => {
        await postgrestPreamble(tx, "authenticated", { sub: USER.nora, role: "authenticated" }, settings);
        const [row] = await tx<{ timeout: string; digits: string; logged: string }[]>`
          select current_setting('statement_timeout') as timeout, current_setting('extra_float_digits') as digits,
                 current_setting('log_min_duration_statement') as logged`;
        return row!;
      });
    const read = await roleSettings(test.sql, "authenticated");
    expect(read.map(([name]) => name)).toEqual(expect.arrayContaining(["statement_timeout", "extra_float_digits"]));
    expect(read.map(([name]) => name)).not.toContain("log_min_duration_statement");
    expect(await applied(read)).toEqual(await applied());
    expect(await applied(read)).toEqual({ timeout: "150ms", digits: "2", logged: "-1" });
  });
});

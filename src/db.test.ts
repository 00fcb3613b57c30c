/**
 * The entry point reproduces PostgREST's transaction: role and claims are
 * transaction-local parameters, RLS applies as the user, nothing survives the
 * unit of work; the service bypasses RLS only when asked; access tokens are
 * verified with jose; serialization failures are retried, then reported.
 */
import { readFile } from "node:fs/promises";
import { createServer, get } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { and, eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useTestDatabase } from "../tests/support/database.ts";
import { client, ORG, USER } from "../tests/support/personas.ts";
import { createOrgDb, type OrgDb, type Tx } from "./db.ts";
import { ConcurrencyError, DatabaseError, ForbiddenError, ReadOnlyError, ValidationError } from "./errors.ts";
import { clients, userRoles } from "./schema/index.ts";
import { sessionState } from "../tests/support/session-state.ts";

const test = useTestDatabase();
const SECRET = "super-secret-jwt-token-with-at-least-32-characters-long";
let db: OrgDb;

beforeAll(() => {
  db = createOrgDb(test.url, { max: 1, jwt: { secret: SECRET } });
});
afterAll(() => db.close());

const whoami = (tx: Parameters<Parameters<OrgDb["asUser"]>[1]>[0]) =>
  tx.execute<{ role: string; uid: string | null; claims: string | null }>(
    sql`select current_user as role, auth.uid()::text as uid, current_setting('request.jwt.claims', true) as claims`,
  );

/** The state of a connection that never ran a unit (a handle of its own). */
async function neverUsedState() {
  const fresh = createOrgDb(test.url, { max: 1 });
  try {
    return await sessionState(fresh.unsafeLoginSql);
  } finally {
    await fresh.close();
  }
}

describe("asUser", () => {
  it("runs as authenticated with the user's claims", async () => {
    const [row] = await db.asUser(USER.dave, whoami);
    expect(row?.role).toBe("authenticated");
    expect(row?.uid).toBe(USER.dave);
    expect(JSON.parse(row!.claims!)).toMatchObject({ sub: USER.dave, role: "authenticated" });
  });

  it("applies RLS: a member sees only the clients assigned to them", async () => {
    const rows = await db.asUser(USER.dave, (tx) => tx.select({ id: clients.id }).from(clients));
    expect(rows).toHaveLength(5);
  });

  it("leaves nothing on the connection after the unit of work: role, claims, auth.uid(), role settings", async () => {
    const clean = await neverUsedState();
    await db.asUser(USER.dave, whoami);
    expect(await sessionState(db.unsafeLoginSql)).toEqual(clean);
    expect(clean).toMatchObject({ current_user: "postgres", role: "none", "auth.uid()": "", "request.jwt.claims": "" });
  });

  it("leaves nothing behind when the unit of work fails", async () => {
    const clean = await neverUsedState();
    await expect(db.asUser(USER.dave, async () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    expect(await sessionState(db.unsafeLoginSql)).toEqual(clean);
  });

  it("a connection the server closes under the unit: its next query is refused with 08006 (connection-lost), the process lives on, and the handle serves the next unit", async () => {
    const lost = await db
      .asUser(USER.dave, async (tx) => {
        const [me] = await tx.execute<{ pid: number }>(sql`select pg_backend_pid() as pid`);
        await test.sql`select pg_terminate_backend(${me!.pid}, 5000)`;
        await new Promise((resolve) => setTimeout(resolve, 50));
        return tx.execute(sql`select 1`);
      })
      .catch((error: unknown) => error);
    expect(lost).toBeInstanceOf(DatabaseError);
    expect(lost).toMatchObject({ code: "08006", rule: "connection-lost" });
    const [row] = await db.asUser(USER.dave, whoami);
    expect(row?.uid).toBe(USER.dave);
  });

  it("a unit whose work throws the application's error around a connection failure of its own (fetch failed) is rolled back before its connection serves anyone else", async () => {
    const fetchFailed = new TypeError("fetch failed", {
      cause: Object.assign(new Error("connect ECONNREFUSED 10.0.0.1:443"), { code: "ECONNREFUSED" }),
    });
    const thrown = await db
      .asUser(USER.dave, async (tx) => {
        await tx.execute(sql`select set_config('app.unit_marker', 'left behind', false)`);
        throw fetchFailed;
      })
      .catch((error: unknown) => error);
    expect(thrown).toBe(fetchFailed);
    const [row] =
      await db.unsafeLoginSql`select current_user as role, coalesce(current_setting('request.jwt.claims', true), '') as claims,
                                     coalesce(current_setting('app.unit_marker', true), '') as marker`;
    // Inside the unit's transaction still, the marker would read "left behind".
    expect(row).toEqual({ role: "postgres", claims: "", marker: "" });
  });

  it("a connection closed while the unit's query runs: the unit rejects with a typed error, and the handle serves the next unit", async () => {
    const lost = await db
      .asUser(USER.dave, async (tx) => {
        const [me] = await tx.execute<{ pid: number }>(sql`select pg_backend_pid() as pid`);
        const running = tx.execute(sql`select pg_sleep(5)`);
        await new Promise((resolve) => setTimeout(resolve, 50));
        await test.sql`select pg_terminate_backend(${me!.pid}, 5000)`;
        return running;
      })
      .catch((error: unknown) => error);
    expect(lost).toBeInstanceOf(DatabaseError);
    expect((lost as DatabaseError).code).toMatch(/^(57P01|08006)$/);
    const [row] = await db.asUser(USER.dave, whoami);
    expect(row?.uid).toBe(USER.dave);
  });

  it("a unit that waits for a connection longer than acquireTimeoutMs fails with PGRST003 (pool-timeout); a late connection goes back to the pool", async () => {
    const small = createOrgDb(test.url, { max: 1, acquireTimeoutMs: 200 });
    try {
      // A unit started inside another on a one-connection pool waits for itself.
      const inner = await small
        .asUser(USER.dave, () => small.asUser(USER.dave, whoami))
        .catch((error: unknown) => error);
      expect(inner).toBeInstanceOf(DatabaseError);
      expect(inner).toMatchObject({ code: "PGRST003", rule: "pool-timeout" });
      const [row] = await small.asUser(USER.dave, whoami);
      expect(row?.uid).toBe(USER.dave);
    } finally {
      await small.close();
    }
  });

  it("passes claims as parameters: quotes in claims cannot inject SQL", async () => {
    const [row] = await db.asUser(
      { sub: USER.dave, role: "authenticated", email: "x'); drop table clients; --" },
      whoami,
    );
    expect((JSON.parse(row!.claims!) as { email: string }).email).toBe("x'); drop table clients; --");
    const [{ n }] = (await db.unsafeLoginSql`select count(*)::int as n from public.clients`) as unknown as [
      { n: number },
    ];
    expect(n).toBe(60);
  });

  it("rejects a user id that is not a uuid, and service claims", async () => {
    await expect(db.asUser("not-a-uuid", whoami)).rejects.toBeInstanceOf(ValidationError);
    await expect(db.asUser({ sub: USER.dave, role: "service_role" } as never, whoami)).rejects.toBeInstanceOf(
      ValidationError,
    );
  });
});

describe("what JavaScript may pass", () => {
  it("refuses a database URL or options it cannot use with a ValidationError, before connecting", () => {
    const refused = (build: () => unknown, message: RegExp) => {
      let thrown: unknown;
      try {
        build();
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(ValidationError);
      expect((thrown as Error).message).toMatch(message);
    };
    const anything = createOrgDb as (url: unknown, options?: unknown) => OrgDb;
    refused(() => anything("not a url at all"), /^invalid database URL: a postgres:\/\/ or postgresql:\/\/ URL$/);
    refused(() => anything("https://example.com/db"), /^invalid database URL/);
    refused(() => anything(undefined), /^invalid database URL/);
    refused(() => anything(test.url, null), /^invalid options/);
    refused(() => anything(test.url, { readReplicas: test.url }), /^invalid options: readReplicas: /);
    refused(() => anything(test.url, { readReplicas: [123] }), /^invalid options: readReplicas\.0: /);
    refused(
      () => anything(test.url, { readReplicas: ["replica.internal:5432"] }),
      /^invalid options: readReplicas\.0: /,
    );
    refused(
      () => anything(test.url, { replicas: { maxLagBytes: Number.NaN } }),
      /^invalid options: replicas\.maxLagBytes: /,
    );
    refused(() => anything(test.url, { readReplica: [test.url] }), /^invalid options: .*readReplica/);
    refused(() => anything(test.url, { max: 0 }), /^invalid options: max: /);
    refused(() => anything(test.url, { acquireTimeoutMs: 0 }), /^invalid options: acquireTimeoutMs: /);
    refused(() => anything(test.url, { jwt: { secrett: SECRET } }), /^invalid options: .*secrett/);
  });

  it("refuses unit options and work it cannot use with a ValidationError, running nothing", async () => {
    const asUser = db.asUser.bind(db) as (user: unknown, work: unknown, options?: unknown) => Promise<unknown>;
    let ran = false;
    const work = () => {
      ran = true;
      return Promise.resolve();
    };
    await expect(asUser(USER.dave, work, null)).rejects.toThrow(/^invalid unit options/);
    await expect(asUser(USER.dave, work, { readOnly: "no" })).rejects.toThrow(/^invalid unit options: readOnly: /);
    await expect(asUser(USER.dave, work, { readonly: true })).rejects.toThrow(/^invalid unit options: .*readonly/);
    await expect(asUser(USER.dave, work, { rollback: "yes" })).rejects.toBeInstanceOf(ValidationError);
    await expect(asUser(USER.dave, "select 1")).rejects.toThrow(/^invalid unit of work/);
    const asService = db.asService.bind(db) as (work: unknown, options?: unknown) => Promise<unknown>;
    await expect(asService(work, null)).rejects.toBeInstanceOf(ValidationError);
    expect(ran).toBe(false);
  });

  it("a handle without JWT settings says so for every token: the server's configuration, not a forbidden caller", async () => {
    const unconfigured = createOrgDb(test.url, { max: 1 });
    try {
      const refusal = await unconfigured.asJwt("eyJhbGciOiJIUzI1NiJ9.e30.x", whoami).catch((error: unknown) => error);
      expect(refusal).toBeInstanceOf(DatabaseError);
      expect(refusal).not.toBeInstanceOf(ForbiddenError);
      expect(refusal).toMatchObject({ rule: "jwt-not-configured" });
      expect((refusal as Error).message).toMatch(/^JWT verification is not configured: .*secret or its JWKS/);
    } finally {
      await unconfigured.close();
    }
  });

  it("a closed handle runs nothing more: units and writeToken() fail with the rule handle-closed", async () => {
    const closed = createOrgDb(test.url, { max: 1 });
    await closed.asUser(USER.dave, whoami);
    await closed.close();
    const failures = await Promise.all(
      [
        closed.writeToken(),
        closed.asUser(USER.dave, whoami),
        closed.asUser(USER.dave, whoami, { readOnly: true }),
        closed.asService(whoami),
        closed.asJwt("eyJhbGciOiJIUzI1NiJ9.e30.x", whoami),
      ].map((p: Promise<unknown>) =>
        p.then(
          () => "ran",
          (error: unknown) => error,
        ),
      ),
    );
    for (const failure of failures) {
      expect(failure).toBeInstanceOf(DatabaseError);
      expect(failure).toMatchObject({ rule: "handle-closed" });
    }
  });
});

describe("prepared statements", () => {
  // A query with a parameter (without one, postgres.js sends a simple query)
  // and a literal that makes it recognisable in pg_prepared_statements.
  const marker = sql<string>`'prepared-statement-marker'`;
  const marked = (orgDb: OrgDb) =>
    orgDb.asUser(USER.dave, (tx) =>
      tx
        .select({ id: clients.id, marker })
        .from(clients)
        .where(sql`${clients.name} <> ${"x"}`),
    );
  const preparedCount = async (orgDb: OrgDb) => {
    const [row] = await orgDb.unsafeLoginSql<{ n: number }[]>`
      select count(*)::int as n from pg_prepared_statements where statement like ${"%prepared-statement-marker%"}`;
    return row!.n;
  };

  it("with prepare (the default), Drizzle's queries are prepared once per connection and per role they run as, and reused", async () => {
    const plainly = () =>
      db.unsafeLoginDb
        .select({ id: clients.id, marker })
        .from(clients)
        .where(sql`${clients.name} <> ${"y"}`);
    for (let i = 0; i < 3; i++) expect(await marked(db)).toHaveLength(5);
    expect(await preparedCount(db)).toBe(1);
    // The same text run by the login role keeps a statement (and a plan) of its own: sharing one,
    // each switch of role would rewrite and plan it again under the other role's row-level security.
    expect((await plainly()).length).toBeGreaterThan(5);
    expect(await preparedCount(db)).toBe(2);
    for (let i = 0; i < 3; i++) {
      expect(await marked(db)).toHaveLength(5);
      expect((await plainly()).length).toBeGreaterThan(5);
    }
    expect(await preparedCount(db)).toBe(2);
    const asService = await db.asService((tx) =>
      tx
        .select({ id: clients.id, marker })
        .from(clients)
        .where(sql`${clients.name} <> ${"x"}`),
    );
    expect(asService.length).toBeGreaterThan(5);
    const statements = await db.unsafeLoginSql<{ statement: string }[]>`
      select statement from pg_prepared_statements where statement like ${"%prepared-statement-marker%"}`;
    expect(statements.map((s) => s.statement.slice(0, s.statement.indexOf("select"))).sort()).toEqual([
      "",
      "/* as authenticated */ ",
      "/* as service_role */ ",
    ]);
  });

  it("with prepare: false (transaction-mode poolers), nothing is prepared", async () => {
    const unprepared = createOrgDb(test.url, { max: 1, prepare: false });
    try {
      expect(await marked(unprepared)).toHaveLength(5);
      expect(await preparedCount(unprepared)).toBe(0);
    } finally {
      await unprepared.close();
    }
  });
});

describe("failures around the unit", () => {
  it("a preamble the login role cannot run is the unit's error, with no unhandled rejection on the way", async () => {
    await test.sql.unsafe("create role unit_outsider login password 'outsider'");
    const url = new URL(test.url);
    url.username = "unit_outsider";
    url.password = "outsider";
    const outsider = createOrgDb(url.toString(), { max: 1 });
    const unhandled: unknown[] = [];
    const record = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", record);
    try {
      await expect(
        outsider.asUser(USER.dave, (tx) => tx.select({ id: clients.id }).from(clients)),
      ).rejects.toMatchObject({ code: "42501" });
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(unhandled).toEqual([]);
    } finally {
      process.off("unhandledRejection", record);
      await outsider.close();
    }
  });

  it("a unit whose work caught a failed statement's error is reported as rolled back, and keeps nothing", async () => {
    const id = client(1, 8);
    const [original] = await test.sql<{ notes: string | null }[]>`select notes from public.clients where id = ${id}`;
    const attempt = db.asUser(USER.carol, async (tx) => {
      await tx.update(clients).set({ notes: "written before the failure" }).where(eq(clients.id, id));
      await tx
        .update(clients)
        .set({ name: " padded " })
        .where(eq(clients.id, id))
        .catch(() => "caught");
      return "done";
    });
    await expect(attempt).rejects.toMatchObject({ code: "25P02", message: expect.stringMatching(/rolled back/) });
    const [after] = await test.sql<{ notes: string | null }[]>`select notes from public.clients where id = ${id}`;
    expect(after!.notes).toBe(original!.notes);
  });

  it("an error of the application's own, thrown by the work, reaches the caller unchanged, and the unit keeps nothing", async () => {
    class PaymentRequired extends Error {
      override name = "PaymentRequired";
    }
    const id = client(1, 8);
    const [original] = await test.sql<{ notes: string | null }[]>`select notes from public.clients where id = ${id}`;
    const thrown = new PaymentRequired("upgrade your plan");
    const failure = await db
      .asUser(USER.carol, async (tx) => {
        await tx.update(clients).set({ notes: "written before the application's error" }).where(eq(clients.id, id));
        throw thrown;
      })
      .catch((error: unknown) => error);
    expect(failure).toBe(thrown);
    const [after] = await test.sql<{ notes: string | null }[]>`select notes from public.clients where id = ${id}`;
    expect(after!.notes).toBe(original!.notes);
    // The database's errors stay typed, also when the work rethrows them.
    const typed = await db
      .asUser(USER.dave, async (tx) => {
        await tx.execute(sql`select 1 / 0`);
      })
      .catch((error: unknown) => error);
    expect(typed).toBeInstanceOf(ValidationError);
    expect(typed).toMatchObject({ code: "22012" });
  });

  it("a system error of the work's own (its HTTP call refused: ECONNREFUSED; a file missing: ENOENT; EPERM, shaped like a SQLSTATE) reaches the caller unchanged, the work run once, nothing kept", async () => {
    const id = client(1, 8);
    const [original] = await test.sql<{ notes: string | null }[]>`select notes from public.clients where id = ${id}`;
    // A port nothing listens on: bound, then closed.
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const refused = () =>
      new Promise<never>((_, reject) => {
        const request = get({ host: "127.0.0.1", port, path: "/" });
        request.on("error", reject);
      });
    // A system error whose code has a SQLSTATE's shape (five upper-case letters).
    const eperm = () =>
      Promise.reject(
        Object.assign(new Error("EPERM: operation not permitted, open '/x'"), {
          code: "EPERM",
          errno: -1,
          syscall: "open",
        }),
      );
    for (const own of [refused, () => readFile("/nonexistent/org-layer-test"), eperm]) {
      let runs = 0;
      const failure = await db
        .asUser(USER.carol, async (tx) => {
          runs++;
          await tx.update(clients).set({ notes: "written before the work's own failure" }).where(eq(clients.id, id));
          await own();
        })
        .catch((error: unknown) => error);
      expect(failure).not.toBeInstanceOf(DatabaseError);
      expect((failure as { code?: string }).code).toMatch(/^(ECONNREFUSED|ENOENT|EPERM)$/);
      expect(runs).toBe(1);
      const [after] = await test.sql<{ notes: string | null }[]>`select notes from public.clients where id = ${id}`;
      expect(after!.notes).toBe(original!.notes);
    }
  });

  it("COMMIT waits for a query the work started without awaiting it", async () => {
    const id = client(1, 9);
    const [original] = await test.sql<{ notes: string | null }[]>`select notes from public.clients where id = ${id}`;
    try {
      await db.asUser(USER.carol, async (tx) => {
        void tx.update(clients).set({ notes: "not awaited" }).where(eq(clients.id, id)).execute();
      });
      const [after] = await test.sql<{ notes: string | null }[]>`select notes from public.clients where id = ${id}`;
      expect(after!.notes).toBe("not awaited");
    } finally {
      await test.sql`update public.clients set notes = ${original!.notes} where id = ${id}`;
    }
  });

  it("a query sent through a unit after it ended is refused and never runs (it would run outside the transaction)", async () => {
    let leaked: Tx | undefined;
    await db.asUser(USER.dave, async (tx) => {
      leaked = tx;
    });
    // Drizzle wraps the refusal: it is the cause of the query error.
    const ended = { cause: { code: "25000", message: expect.stringMatching(/unit of work has ended/) } };
    await expect(leaked!.execute(sql`select current_user as role where ${1} = 1`)).rejects.toMatchObject(ended);
    const name = "inserted after the unit ended";
    await expect(leaked!.insert(clients).values({ organizationId: ORG.acme, name })).rejects.toMatchObject(ended);
    const [row] = await test.sql<{ n: number }[]>`select count(*)::int as n from public.clients where name = ${name}`;
    expect(row!.n).toBe(0);
  });

  it("a unit whose prepared statement a migration made stale is run again, and succeeds", async () => {
    // select * changes its result type when a column is added: the statement prepared before fails once (0A000).
    const readAll = (orgDb: OrgDb) =>
      orgDb.asUser(USER.dave, (tx) =>
        tx.execute<Record<string, unknown>>(sql`select * from public.clients where name <> ${"-"}`),
      );
    const retrying = createOrgDb(test.url, { max: 1 });
    const once = createOrgDb(test.url, { max: 1, attempts: 1 });
    try {
      const before = await readAll(retrying);
      await readAll(once);
      await test.sql`alter table public.clients add column stale_check integer`;
      await expect(readAll(once)).rejects.toMatchObject({ code: "0A000" });
      const after = await readAll(retrying);
      expect(after).toHaveLength(before.length);
      expect(Object.keys(after[0]!)).toContain("stale_check");
    } finally {
      await test.sql`alter table public.clients drop column if exists stale_check`;
      await retrying.close();
      await once.close();
    }
  });
});

describe("a unit that returns its only query unawaited (BEGIN, claims, query and COMMIT in one round trip)", () => {
  const notesOf = async (id: string) =>
    (await test.sql<{ notes: string | null }[]>`select notes from public.clients where id = ${id}`)[0]!.notes;

  it("gets the query's rows, as the user", async () => {
    const rows = await db.asUser(USER.dave, (tx) => tx.select({ id: clients.id }).from(clients));
    expect(rows).toHaveLength(5);
  });

  it("commits its write", async () => {
    const id = client(1, 3);
    const before = await notesOf(id);
    try {
      const rows = await db.asUser(USER.carol, (tx) =>
        tx.update(clients).set({ notes: "one round trip" }).where(eq(clients.id, id)).returning({ id: clients.id }),
      );
      expect(rows).toEqual([{ id }]);
      expect(await notesOf(id)).toBe("one round trip");
    } finally {
      await test.sql`update public.clients set notes = ${before} where id = ${id}`;
    }
  });

  it("reports the query's error and writes nothing", async () => {
    const id = client(1, 4);
    const before = await notesOf(id);
    await expect(
      db.asUser(USER.carol, (tx) => tx.update(clients).set({ name: " padded " }).where(eq(clients.id, id))),
    ).rejects.toMatchObject({ code: "23514" });
    expect(await notesOf(id)).toBe(before);
  });

  it("reports a failure at COMMIT (a deferred constraint) and writes nothing", async () => {
    const owner = and(eq(userRoles.organizationId, ORG.initech), eq(userRoles.userId, USER.ivan));
    await expect(db.asService((tx) => tx.delete(userRoles).where(owner))).rejects.toThrow(
      /must keep at least one owner/,
    );
    const [row] = await test.sql<{ n: number }[]>`
      select count(*)::int as n from public.user_roles where organization_id = ${ORG.initech} and user_id = ${USER.ivan}`;
    expect(row!.n).toBeGreaterThan(0);
  });

  it("refuses a query sent through the unit once its COMMIT is on its way", async () => {
    let leaked: Tx | undefined;
    await db.asUser(USER.dave, (tx) => {
      leaked = tx;
      return tx.select({ id: clients.id }).from(clients);
    });
    const ended = { cause: { code: "25000", message: expect.stringMatching(/unit of work has ended/) } };
    await expect(leaked!.execute(sql`select current_user as role where ${1} = 1`)).rejects.toMatchObject(ended);
  });

  it("never runs a statement postgres.js re-sends after a stale prepared statement outside the transaction, as the login role", async () => {
    // dave (a member of Acme) may not update a Globex client. The update's prepared statement goes stale when a
    // column is added (returning * changes its result type): it fails in the transaction, COMMIT answers ROLLBACK,
    // and postgres.js would send the update again behind that COMMIT, where the login role (RLS bypassed) would run
    // it. Refused, it is retried whole in a fresh transaction, as dave, and changes nothing.
    const id = client(2, 3);
    const before = await notesOf(id);
    const update = (orgDb: OrgDb) =>
      orgDb.asUser(USER.dave, (tx) =>
        tx.execute<Record<string, unknown>>(
          sql`update public.clients set notes = ${"written by the login role"} where id = ${id} returning *`,
        ),
      );
    const retrying = createOrgDb(test.url, { max: 1 });
    const once = createOrgDb(test.url, { max: 1, attempts: 1 });
    try {
      expect(await update(retrying)).toEqual([]);
      expect(await update(once)).toEqual([]);
      await test.sql`alter table public.clients add column stale_check integer`;
      const outcome = await update(once).then(
        () => "resolved",
        (error: unknown) => error,
      );
      // First what matters: the login role wrote nothing.
      expect(await notesOf(id)).toBe(before);
      expect(outcome).toMatchObject({ code: "0A000" });
      expect(await update(retrying)).toEqual([]);
      // The connections are still usable, as the login role, with nothing left of the units.
      const [row] = await once.unsafeLoginSql<{ role: string }[]>`select current_user as role`;
      expect(row!.role).toBe("postgres");
      expect(await notesOf(id)).toBe(before);
    } finally {
      await test.sql`alter table public.clients drop column if exists stale_check`;
      await test.sql`update public.clients set notes = ${before} where id = ${id}`;
      await retrying.close();
      await once.close();
    }
  });
});

describe("nested transactions (savepoints)", () => {
  it("tx.transaction rolls back only its own part when it fails", async () => {
    const id = client(1, 6);
    const [original] = await test.sql<{ notes: string | null }[]>`select notes from public.clients where id = ${id}`;
    const before = original!.notes;
    try {
      const outcome = await db.asUser(USER.carol, async (tx) => {
        await tx.update(clients).set({ notes: "outer" }).where(eq(clients.id, id));
        const inner = await tx
          .transaction(async (nested) => {
            await nested.update(clients).set({ notes: "inner" }).where(eq(clients.id, id));
            throw new Error("inner part fails");
          })
          .catch((error: Error) => error.message);
        const [row] = await tx.select({ notes: clients.notes }).from(clients).where(eq(clients.id, id));
        return { inner, notes: row!.notes };
      });
      expect(outcome).toEqual({ inner: "inner part fails", notes: "outer" });
      const [after] = await test.sql<{ notes: string | null }[]>`select notes from public.clients where id = ${id}`;
      expect(after!.notes).toBe("outer");
    } finally {
      await test.sql`update public.clients set notes = ${before} where id = ${id}`;
    }
  });
});

describe("rollback mode", () => {
  const notesOf = async (id: string) =>
    (await test.sql<{ notes: string | null }[]>`select notes from public.clients where id = ${id}`)[0]!.notes;

  it("{ rollback: true } resolves with the work's result and keeps nothing", async () => {
    const id = client(1, 7);
    const before = await notesOf(id);
    const result = await db.asUser(
      USER.carol,
      async (tx) => {
        const [row] = await tx
          .update(clients)
          .set({ notes: "kept only inside the unit" })
          .where(eq(clients.id, id))
          .returning({ notes: clients.notes });
        return row!.notes;
      },
      { rollback: true },
    );
    expect(result).toBe("kept only inside the unit");
    expect(await notesOf(id)).toBe(before);
    const [row] =
      await db.unsafeLoginSql`select current_user as role, coalesce(current_setting('request.jwt.claims', true), '') as claims`;
    expect(row).toEqual({ role: "postgres", claims: "" });
  });

  it("a rollback function decides from the result: roll back a success, commit the rest", async () => {
    const id = client(1, 10);
    const before = await notesOf(id);
    const write = (notes: string) => (tx: Tx) =>
      tx.update(clients).set({ notes }).where(eq(clients.id, id)).returning({ notes: clients.notes });
    try {
      await db.asUser(USER.carol, write("rolled back"), { rollback: (rows) => rows[0]?.notes === "rolled back" });
      expect(await notesOf(id)).toBe(before);
      await db.asUser(USER.carol, write("committed"), { rollback: (rows) => rows[0]?.notes === "rolled back" });
      expect(await notesOf(id)).toBe("committed");
    } finally {
      await test.sql`update public.clients set notes = ${before} where id = ${id}`;
    }
  });

  it("checks deferred constraints as a commit would: the last owner leaving rejects, even when rolled back", async () => {
    const leave = db.asUser(USER.alice, (tx) => tx.execute(sql`select public.remove_member(${ORG.acme}, auth.uid())`), {
      rollback: true,
    });
    await expect(leave).rejects.toMatchObject({ code: "P0001" });
  });

  it("a unit whose work caught a failed statement's error rejects with 25P02, as when committing", async () => {
    const attempt = db.asUser(
      USER.carol,
      async (tx) => {
        await tx
          .update(clients)
          .set({ name: " padded " })
          .where(eq(clients.id, client(1, 8)))
          .catch(() => "caught");
        return "done";
      },
      { rollback: true },
    );
    await expect(attempt).rejects.toMatchObject({ code: "25P02", message: expect.stringMatching(/rolled back/) });
  });
});

describe("asService", () => {
  it("bypasses RLS explicitly", async () => {
    const rows = await db.asService((tx) => tx.select({ id: clients.id }).from(clients));
    expect(rows).toHaveLength(60);
    const [row] = await db.asService(whoami);
    expect(row?.role).toBe("service_role");
    expect(row?.uid).toBeNull();
  });
});

describe("asJwt", () => {
  it("verifies an HS256 token with the project's secret and runs as its user", async () => {
    const token = await new SignJWT({ role: "authenticated", email: "dave@acme.example" })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject(USER.dave)
      .setAudience("authenticated")
      .setExpirationTime("5m")
      .sign(new TextEncoder().encode(SECRET));
    const [row] = await db.asJwt(token, whoami);
    expect(row?.uid).toBe(USER.dave);
  });

  it("refuses a token signed with another secret, an expired one, and garbage", async () => {
    const sign = (secret: string, exp: string | number) =>
      new SignJWT({ role: "authenticated" })
        .setProtectedHeader({ alg: "HS256" })
        .setSubject(USER.dave)
        .setAudience("authenticated")
        .setExpirationTime(exp)
        .sign(new TextEncoder().encode(secret));
    await expect(
      db.asJwt(await sign("another-secret-another-secret-another-secret", "5m"), whoami),
    ).rejects.toBeInstanceOf(ForbiddenError);
    await expect(db.asJwt(await sign(SECRET, Math.floor(Date.now() / 1000) - 60), whoami)).rejects.toBeInstanceOf(
      ForbiddenError,
    );
    await expect(db.asJwt("garbage", whoami)).rejects.toBeInstanceOf(ForbiddenError);
  });

  it("verifies an ES256 token against a JWKS", async () => {
    const { publicKey, privateKey } = await generateKeyPair("ES256");
    const jwk = { ...(await exportJWK(publicKey)), kid: "k1", alg: "ES256", use: "sig" };
    const jwksDb = createOrgDb(test.url, { max: 1, jwt: { jwks: { keys: [jwk] } } });
    try {
      const token = await new SignJWT({ role: "authenticated" })
        .setProtectedHeader({ alg: "ES256", kid: "k1" })
        .setSubject(USER.erin)
        .setAudience("authenticated")
        .setExpirationTime("5m")
        .sign(privateKey);
      const [row] = await jwksDb.asJwt(token, whoami);
      expect(row?.uid).toBe(USER.erin);
    } finally {
      await jwksDb.close();
    }
  });
});

describe("a remote JWKS", () => {
  it("is fetched once per handle, not once per verified token", async () => {
    const { publicKey, privateKey } = await generateKeyPair("ES256");
    const jwks = JSON.stringify({
      keys: [{ ...(await exportJWK(publicKey)), kid: "remote", alg: "ES256", use: "sig" }],
    });
    let fetches = 0;
    const server = createServer((_request, response) => {
      fetches++;
      response.writeHead(200, { "content-type": "application/json" }).end(jwks);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    const remote = createOrgDb(test.url, {
      max: 1,
      jwt: { jwks: `http://127.0.0.1:${port}/auth/v1/.well-known/jwks.json` },
    });
    try {
      const sign = (sub: string) =>
        new SignJWT({ role: "authenticated" })
          .setProtectedHeader({ alg: "ES256", kid: "remote" })
          .setSubject(sub)
          .setAudience("authenticated")
          .setExpirationTime("5m")
          .sign(privateKey);
      const users = [USER.dave, USER.erin, USER.carol];
      for (let i = 0; i < 12; i++) {
        const sub = users[i % users.length]!;
        const [row] = await remote.asJwt(await sign(sub), whoami);
        expect(row?.uid).toBe(sub);
      }
      expect(fetches).toBe(1);
    } finally {
      await remote.close();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe("retries", () => {
  it("retries a serialization failure, then gives up with a ConcurrencyError that says so", async () => {
    let calls = 0;
    const flaky = createOrgDb(test.url, { max: 1, attempts: 3 });
    try {
      const fail = () => {
        calls++;
        return Promise.reject(Object.assign(new Error("could not serialize access"), { code: "40001" }));
      };
      const error = await flaky.asUser(USER.dave, fail).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConcurrencyError);
      expect((error as ConcurrencyError).message).toMatch(/gave up after 3 attempt/);
      expect(calls).toBe(3);
      let once = 0;
      const result = await flaky.asUser(USER.dave, async (tx) => {
        if (once++ === 0) throw Object.assign(new Error("deadlock detected"), { code: "40P01" });
        return (await whoami(tx))[0]?.uid;
      });
      expect(result).toBe(USER.dave);
    } finally {
      await flaky.close();
    }
  });
});

it("the seed's organizations are visible to their members only", async () => {
  const ids = await db.asUser(USER.mallory, (tx) =>
    tx.execute<{ id: string }>(sql`select id from public.organizations order by slug`),
  );
  expect(ids.map((r) => r.id)).toEqual([ORG.acme, ORG.globex]);
});

describe("read-only units without replicas (the primary stands in)", () => {
  const inTx = (tx: Tx) =>
    tx.execute<{ read_only: string; standby: boolean; role: string; uid: string }>(
      sql`select current_setting('transaction_read_only') as read_only, pg_is_in_recovery() as standby, current_user as role, auth.uid()::text as uid`,
    );

  it("run on the primary in a read only transaction, as the same user", async () => {
    const [row] = await db.asUser(USER.dave, inTx, { readOnly: true });
    expect(row).toEqual({ read_only: "on", standby: false, role: "authenticated", uid: USER.dave });
    const [service] = await db.asService(
      (tx) => tx.execute<{ read_only: string }>(sql`select current_setting('transaction_read_only') as read_only`),
      { readOnly: true },
    );
    expect(service?.read_only).toBe("on");
    const [plain] = await db.asUser(USER.dave, inTx);
    expect(plain?.read_only).toBe("off");
  });

  it("a write there fails with ReadOnlyError (25006) and changes nothing", async () => {
    const error = await db
      .asUser(
        USER.alice,
        (tx) =>
          tx
            .update(clients)
            .set({ name: "read only?" })
            .where(eq(clients.id, client(1, 3))),
        { readOnly: true },
      )
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReadOnlyError);
    expect((error as ReadOnlyError).code).toBe("25006");
    const [row] = await db.unsafeLoginSql<
      { name: string }[]
    >`select name from public.clients where id = ${client(1, 3)}`;
    expect(row?.name).not.toBe("read only?");
  });

  it("writeToken() names a WAL position; with it, a read-only unit runs at once on the primary", async () => {
    await db.asUser(USER.alice, (tx) =>
      tx
        .update(clients)
        .set({ notes: "token" })
        .where(eq(clients.id, client(1, 4))),
    );
    const token = await db.writeToken();
    expect(token).toMatch(/^[0-9A-F]{1,8}\/[0-9A-F]{1,8}$/);
    const started = Date.now();
    const [row] = await db.asUser(USER.alice, inTx, { readOnly: true, after: token });
    expect(row?.read_only).toBe("on");
    expect(Date.now() - started).toBeLessThan(1000);
    expect(await db.replicaStatus()).toEqual([]);
  });

  it("refuses a token that is not a WAL position, and `after` without readOnly, with a ValidationError", async () => {
    await expect(db.asUser(USER.dave, inTx, { readOnly: true, after: "yesterday" })).rejects.toBeInstanceOf(
      ValidationError,
    );
    await expect(db.asUser(USER.dave, inTx, { after: "0/0" })).rejects.toBeInstanceOf(ValidationError);
  });
});

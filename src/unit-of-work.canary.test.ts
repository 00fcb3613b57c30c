/**
 * Canaries for the private shapes of drizzle-orm and postgres.js that
 * src/unit-of-work.ts relies on (D1-D3, P1-P5 in its header). Each test names
 * one shape; when an upgrade changes it, that test fails here, by name,
 * before anything subtler breaks. The Drizzle ones run on a fake client that
 * records what Drizzle touches; the postgres.js ones on a real server.
 */
import { eq, sql } from "drizzle-orm";
import { PgDialect } from "drizzle-orm/pg-core";
import { PostgresJsSession, PostgresJsTransaction } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import { describe, expect, it } from "vitest";
import { useTestDatabase } from "../tests/support/database.ts";
import { ORG } from "../tests/support/personas.ts";
import { clients } from "./schema/index.ts";
import { drizzleOver, refuseResend, sessionMaker, sessionParts, type Tx } from "./unit-of-work.ts";

/** A stand-in for a postgres.js client that records every member Drizzle reads and every query it sends. */
function recordingClient() {
  const touched = new Set<string>();
  const queries: { text: string; options: unknown }[] = [];
  const result = () => Object.assign(Promise.resolve([]), { values: () => Promise.resolve([]) });
  const target: Record<string, unknown> = {
    options: { parsers: {}, serializers: {} },
    unsafe: (text: string, _params: unknown[], options?: unknown) => {
      queries.push({ text, options });
      return result();
    },
    savepoint: (fn: (client: unknown) => Promise<unknown>) => fn(client),
  };
  const client: unknown = new Proxy(target, {
    get(t, key, receiver) {
      if (typeof key === "string") touched.add(key);
      return Reflect.get(t, key, receiver) as unknown;
    },
  });
  return { client: client as postgres.Sql, touched, queries };
}

function unitOver(client: postgres.Sql, prepare: boolean): Tx {
  const parts = sessionParts(drizzleOver(recordingClient().client));
  return new PostgresJsTransaction(
    parts.dialect,
    sessionMaker(parts, prepare)(client) as never,
    parts.schema,
  ) as unknown as Tx;
}

describe("drizzle-orm private shapes", () => {
  it("D1: drizzle(client)._.session holds the dialect, the schema and the options every session shares", () => {
    const built = drizzleOver(recordingClient().client) as unknown as { _: { session: unknown } };
    expect(built._.session).toBeInstanceOf(PostgresJsSession);
    const parts = sessionParts(built as never);
    expect(parts.dialect).toBeInstanceOf(PgDialect);
    expect(parts.schema).toMatchObject({
      fullSchema: expect.any(Object),
      schema: expect.any(Object),
      tableNamesMap: expect.any(Object),
    });
    expect(typeof parts.options).toBe("object");
  });

  it("D2: PostgresJsSession(client, dialect, schema, options) prepares a query exactly when prepareQuery gets a name", async () => {
    for (const prepare of [true, false]) {
      const fake = recordingClient();
      const tx = unitOver(fake.client, prepare);
      await tx.select({ id: clients.id }).from(clients).where(eq(clients.organizationId, ORG.acme));
      await tx.execute(sql`select ${1}`);
      expect(fake.queries.length).toBe(2);
      for (const q of fake.queries) expect(q.options, `prepare: ${prepare}`).toEqual({ prepare });
    }
  });

  it("D3: a PostgresJsTransaction sends every query through client.unsafe (then .values()) and nests through client.savepoint, touching nothing else", async () => {
    const fake = recordingClient();
    const tx = unitOver(fake.client, true);
    await tx.select().from(clients);
    await tx.insert(clients).values({ organizationId: ORG.acme, name: "canary" }).returning({ id: clients.id });
    await tx.update(clients).set({ notes: "canary" }).where(eq(clients.name, "canary"));
    await tx.delete(clients).where(eq(clients.name, "canary"));
    await tx.execute(sql`select 1`);
    await tx.query.clients.findMany({ limit: 1 });
    await tx.transaction(async (nested) => {
      await nested.select().from(clients);
    });
    expect([...fake.touched].sort()).toEqual(["savepoint", "unsafe"]);
    expect(fake.queries.length).toBe(7);
  });
});

describe("postgres.js shapes", () => {
  const test = useTestDatabase();

  it("P1: COMMIT of an aborted transaction answers with the command ROLLBACK, not an error", async () => {
    const conn = await test.sql.reserve();
    try {
      await conn`begin`;
      await conn`select 1/0`.catch(() => "caught");
      const committed = await conn`commit`;
      expect(committed.command).toBe("ROLLBACK");
    } finally {
      conn.release();
    }
  });

  it("P2: in a transaction, a prepared statement whose result type changed fails with 0A000 and routine RevalidateCachedQuery", async () => {
    const conn = await test.sql.reserve();
    try {
      await conn`create temporary table canary_stale (a int)`;
      const read = () => conn.unsafe("select * from canary_stale where a <> $1", [0], { prepare: true });
      await read();
      await conn`alter table canary_stale add column b int`;
      // Outside a transaction postgres.js prepares it again by itself; inside one it cannot, and the unit is retried.
      await conn`begin`;
      await expect(read()).rejects.toMatchObject({ code: "0A000", routine: "RevalidateCachedQuery" });
      await conn`rollback`;
    } finally {
      await conn`rollback`.catch(() => undefined);
      await conn`drop table if exists canary_stale`.catch(() => undefined);
      conn.release();
    }
  });

  it("P3: a query whose prepared statement went stale is sent again through execute, which sends nothing while query.cancelled is truthy", async () => {
    const conn = await test.sql.reserve();
    try {
      await conn`create temporary table canary_resend (a int)`;
      const insert = () =>
        conn.unsafe("insert into canary_resend values ($1) returning *", [1], { prepare: true }) as PromiseLike<
          unknown[]
        >;
      const count = async () => (await conn<{ n: number }[]>`select count(*)::int as n from canary_resend`)[0]!.n;
      await insert();
      // Outside a transaction postgres.js sends the stale statement again, prepared afresh, and it runs.
      await conn`alter table canary_resend add column b int`;
      expect(await insert()).toHaveLength(1);
      expect(await count()).toBe(2);
      // refuseResend: the same failure, and the statement is not sent again.
      await conn`alter table canary_resend add column c int`;
      const refused = insert();
      refuseResend(refused);
      await expect(refused).rejects.toMatchObject({ code: "0A000", routine: "RevalidateCachedQuery" });
      expect(await count()).toBe(2);
    } finally {
      await conn`drop table if exists canary_resend`.catch(() => undefined);
      conn.release();
    }
  });

  it("P4: queries executed in turn are sent in that order", async () => {
    const conn = await test.sql.reserve();
    try {
      await conn`create temporary sequence canary_order`;
      const next = () => conn.unsafe("select nextval('canary_order')::int as n", [], { prepare: true });
      const first = next();
      const second = next();
      // Executed second first: sent first, whatever order they are awaited in.
      void second.execute();
      void first.execute();
      const [[a], [b]] = (await Promise.all([first, second])) as unknown as [[{ n: number }], [{ n: number }]];
      expect(b.n).toBeLessThan(a.n);
    } finally {
      await conn`drop sequence if exists canary_order`.catch(() => undefined);
      conn.release();
    }
  });

  it("P5: onexecute receives the connection, whose onclose the pool calls with the driver's error when the server closes it", async () => {
    const pool = postgres(test.url, { max: 1, onnotice: () => {} });
    try {
      const conn = await pool.reserve();
      let connection: { onclose?: ((error: unknown) => void) | null } | undefined;
      const closedWith: unknown[] = [];
      const onexecute = (c: typeof connection) => {
        connection = c;
        c!.onclose = (error: unknown) => closedWith.push(error);
        return true;
      };
      const [me] = await conn.unsafe<{ pid: number }[]>("select pg_backend_pid() as pid", [], {
        prepare: false,
        onexecute,
      } as never);
      expect(connection).toBeTypeOf("object");
      await test.sql`select pg_terminate_backend(${me!.pid}, 5000)`;
      for (let i = 0; i < 100 && closedWith.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(closedWith).toHaveLength(1);
      expect(closedWith[0]).toMatchObject({ code: "CONNECTION_CLOSED" });
      // The pool took the connection back: a new query gets a new session.
      const [again] = await pool<{ pid: number }[]>`select pg_backend_pid() as pid`;
      expect(again!.pid).not.toBe(me!.pid);
    } finally {
      await pool.end({ timeout: 5 });
    }
  });
});

/**
 * Read replicas, against real streaming standbys of a local primary
 * (tests/support/replicas.ts): read-only units run on a standby under the
 * same role, claims and policies as on the primary; writes there fail with a
 * typed error; replicas are used round-robin; a stopped standby, or one whose
 * replay is paused while the primary writes, is skipped; a unit whose
 * standby connection closes under it runs again on the next candidate; read-your-writes
 * waits for the write's WAL position or falls back to the primary; and no
 * role or claim survives a unit on a replica's pooled connections.
 */
import { randomUUID } from "node:crypto";
import { eq, sql } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { connect, withSql } from "../../tooling/server/sql.ts";
import * as clientsApi from "../../src/clients.ts";
import { createOrgDb, type OrgDb, type OrgDbOptions, type Tx } from "../../src/db.ts";
import { ReadOnlyError } from "../../src/errors.ts";
import * as members from "../../src/members.ts";
import * as organizations from "../../src/organizations.ts";
import { clients } from "../../src/schema/index.ts";
import { expectError } from "../support/errors.ts";
import { startPgBouncer, type Bouncer } from "../support/pgbouncer.ts";
import { client, ORG, USER } from "../support/personas.ts";
import { useReplicaSet } from "../support/replicas.ts";
import { readableClients, type Visibility } from "../support/visibility.ts";

const set = useReplicaSet();
const handles: OrgDb[] = [];

/** A typed-layer handle on the primary with the given replicas; closed after the suite. */
function handle(replicas: string[], options: OrgDbOptions = {}): OrgDb {
  const db = createOrgDb(set.url, {
    max: 4,
    readReplicas: replicas,
    ...options,
    replicas: { checkIntervalMs: 100, ...options.replicas },
  });
  handles.push(db);
  return db;
}
afterAll(async () => {
  await Promise.all(handles.map((h) => h.close()));
});

/** Where a unit ran: the server's port and whether it is a standby. */
const where = async (tx: Tx) => {
  const [row] = await tx.execute<{ port: number; standby: boolean; role: string; uid: string | null }>(
    sql`select inet_server_port() as port, pg_is_in_recovery() as standby, current_user as role, auth.uid()::text as uid`,
  );
  return row!;
};

describe("RLS on a replica is the primary's", () => {
  const personas = Object.entries(USER);
  let db: OrgDb;
  beforeAll(() => {
    db = handle([set.a.url]);
  });

  /** What a persona sees through the entity helpers: organizations, members, clients page by org, permissions. */
  const view = async (tx: Tx) => {
    const orgs = (await organizations.listMyOrganizations(tx)).map((o) => o.id).sort();
    const out: Record<string, unknown> = { at: await where(tx), orgs };
    for (const org of Object.values(ORG)) {
      const page = await clientsApi.listClients(tx, { organizationId: org, limit: 100 });
      out[`clients:${org}`] = page.items.map((c) => c.id).sort();
      out[`members:${org}`] = (await members.listMembers(tx, { organizationId: org })).map((m) => m.userId).sort();
      out[`update:${org}`] = await members.authorize(tx, { organizationId: org, permission: "clients.update" });
    }
    return out;
  };

  it.each(personas)("%s sees on the replica exactly what the primary shows", async (_name, user) => {
    const { at: onPrimary, ...primary } = await db.asUser(user, view);
    const { at: onReplica, ...replica } = await db.asUser(user, view, { readOnly: true });
    expect(onPrimary).toMatchObject({ standby: false, role: "authenticated", uid: user });
    expect(onReplica).toMatchObject({ standby: true, port: set.a.port, role: "authenticated", uid: user });
    expect(replica).toEqual(primary);
  });

  it("the persona rules hold there: dave (member) sees his 5 assigned clients, erin (viewer) all 25 of Acme, nora nothing", async () => {
    const count = (user: string) =>
      db.asUser(
        user,
        async (tx) => ({ at: await where(tx), n: (await tx.select({ id: clients.id }).from(clients)).length }),
        { readOnly: true },
      );
    expect(await count(USER.dave)).toMatchObject({ at: { standby: true }, n: 5 });
    expect(await count(USER.erin)).toMatchObject({ at: { standby: true }, n: 25 });
    expect(await count(USER.nora)).toMatchObject({ at: { standby: true }, n: 0 });
  });

  it("a hidden client is not found on the replica either (heidi, Globex member, asks for an Acme client)", async () => {
    await expect(
      db.asUser(USER.heidi, (tx) => clientsApi.getClient(tx, { clientId: client(1, 1) }), { readOnly: true }),
    ).rejects.toMatchObject({ name: "NotFoundError" });
  });
});

describe("writes in a read-only unit", () => {
  let db: OrgDb;
  beforeAll(() => {
    db = handle([set.a.url]);
  });

  it("an insert on the replica fails with ReadOnlyError (25006), an RPC too", async () => {
    await expectError(
      db.asUser(USER.alice, (tx) => clientsApi.createClient(tx, { organizationId: ORG.acme, name: "Never written" }), {
        readOnly: true,
      }),
      ReadOnlyError,
      "25006",
    );
    await expectError(
      db.asUser(
        USER.nora,
        (tx) => organizations.createOrganization(tx, { name: "Nope", slug: `nope-${randomUUID().slice(0, 8)}` }),
        { readOnly: true },
      ),
      ReadOnlyError,
      "25006",
    );
    const [row] = await withSql(
      set.url,
      (s) => s`select count(*)::int as n from public.clients where name = 'Never written'`,
    );
    expect(row).toEqual({ n: 0 });
  });

  it("the same write through the same unit without readOnly succeeds on the primary (the refusal is the mode, not the user)", async () => {
    const made = await db.asUser(USER.alice, (tx) =>
      clientsApi.createClient(tx, { organizationId: ORG.acme, name: "Written on the primary" }),
    );
    expect(made.name).toBe("Written on the primary");
  });
});

describe("routing among replicas", () => {
  afterEach(async () => {
    // Whatever a test stopped or paused comes back.
    for (const s of [set.a, set.b]) {
      await s.start();
      await s.resumeReplay().catch(() => undefined);
    }
  });

  it("round-robin: 10 read-only units alternate between two healthy standbys; write units stay on the primary", async () => {
    const db = handle([set.a.url, set.b.url]);
    const ports: number[] = [];
    for (let i = 0; i < 10; i++) ports.push((await db.asUser(USER.dave, where, { readOnly: true })).port);
    expect(ports.filter((p) => p === set.a.port)).toHaveLength(5);
    expect(ports.filter((p) => p === set.b.port)).toHaveLength(5);
    expect(new Set(ports.slice(0, 2)).size).toBe(2);
    expect((await db.asUser(USER.dave, where)).standby).toBe(false);
  });

  it("a stopped standby is skipped without an error; with both stopped the primary serves; a restarted one is used again", async () => {
    const db = handle([set.a.url, set.b.url]);
    await db.asUser(USER.dave, where, { readOnly: true }); // connections to both exist
    await db.asUser(USER.dave, where, { readOnly: true });
    await set.b.stop();
    const ports: number[] = [];
    for (let i = 0; i < 6; i++) ports.push((await db.asUser(USER.dave, where, { readOnly: true })).port);
    expect(new Set(ports)).toEqual(new Set([set.a.port]));
    expect((await db.replicaStatus()).map((r) => r.healthy)).toEqual([true, false]);

    await set.a.stop();
    const onPrimary = await db.asUser(USER.dave, where, { readOnly: true });
    expect(onPrimary.standby).toBe(false);
    // Still a read-only transaction there.
    await expectError(
      db.asUser(
        USER.alice,
        (tx) => clientsApi.createClient(tx, { organizationId: ORG.acme, name: "Not here either" }),
        { readOnly: true },
      ),
      ReadOnlyError,
      "25006",
    );

    await set.b.start();
    await set.b.catchUp();
    expect((await db.replicaStatus()).map((r) => r.healthy)).toEqual([false, true]);
    expect((await db.asUser(USER.dave, where, { readOnly: true })).port).toBe(set.b.port);
  });

  it("a standby's connection closed under a unit: the unit runs again on the next candidate and succeeds (no uncaught error, no hang)", async () => {
    const db = handle([set.a.url]);
    expect((await db.asUser(USER.dave, where, { readOnly: true })).standby).toBe(true);
    const attempts: boolean[] = [];
    const ran = await db.asUser(
      USER.dave,
      async (tx) => {
        const here = await where(tx);
        attempts.push(here.standby);
        if (here.standby) {
          const [me] = await tx.execute<{ pid: number }>(sql`select pg_backend_pid() as pid`);
          await withSql(set.a.url, (s) => s`select pg_terminate_backend(${me!.pid}, 5000)`);
          await new Promise((resolve) => setTimeout(resolve, 50));
          await tx.execute(sql`select 1`);
        }
        return here;
      },
      { readOnly: true },
    );
    expect(attempts).toEqual([true, false]);
    expect(ran).toMatchObject({ standby: false, uid: USER.dave });
  });

  it("lag rule: a standby whose replay is paused while the primary writes past maxLagBytes is skipped, and used again once it catches up", async () => {
    const db = handle([set.a.url], { replicas: { maxLagBytes: 256 * 1024 } });
    expect((await db.asUser(USER.dave, where, { readOnly: true })).port).toBe(set.a.port);
    await set.a.pauseReplay();
    // About 2 MB of WAL on the primary. The throwaway primary commits
    // asynchronously: this session flushes its commit, so that the primary's
    // WAL position has moved past the insert when the check reads it.
    const admin = connect(set.url);
    try {
      await admin`set synchronous_commit = on`;
      await admin`create table if not exists public.lag_probe (id int, filler text)`;
      await admin`insert into public.lag_probe select g, repeat('x', 200) from generate_series(1, 8000) g`;
    } finally {
      await admin.end();
    }
    // On a loaded machine the check may not read the primary's WAL position
    // within its timeout: that sample has no lag to judge (null); take another.
    let [status] = await db.replicaStatus();
    for (let i = 0; i < 10 && status?.lagBytes === null; i++) [status] = await db.replicaStatus();
    expect(status!.healthy, JSON.stringify(status)).toBe(false);
    expect(status!.lagBytes).toBeGreaterThan(256 * 1024);
    expect(status!.reason).toMatch(/lagging/);
    expect((await db.asUser(USER.dave, where, { readOnly: true })).standby).toBe(false);

    await set.a.resumeReplay();
    await set.a.catchUp();
    const [after] = await db.replicaStatus();
    expect(after).toMatchObject({ healthy: true, lagBytes: 0 });
    expect((await db.asUser(USER.dave, where, { readOnly: true })).port).toBe(set.a.port);
  });
});

describe("read-your-writes with writeToken()", () => {
  // A generous lag limit: the paused standby stays "healthy", so only the token decides.
  const options = { replicas: { maxLagBytes: 1024 ** 3, maxWaitMs: 400 } };
  afterEach(() => set.a.resumeReplay());

  const rename = (db: OrgDb, name: string) =>
    db.asUser(USER.alice, (tx) => clientsApi.updateClient(tx, { clientId: client(1, 2), name }));
  const readName = (db: OrgDb, how: { readOnly: true; after?: string }) =>
    db.asUser(
      USER.alice,
      async (tx) => ({ at: await where(tx), name: (await clientsApi.getClient(tx, { clientId: client(1, 2) })).name }),
      how,
    );

  it("paused replay: a plain read-only unit sees the old row on the replica; with the token it waits the bounded time, then reads the write on the primary", async () => {
    const db = handle([set.a.url], options);
    await set.a.catchUp();
    await set.a.pauseReplay();
    await rename(db, "Renamed while paused");
    const token = await db.writeToken();
    expect(token).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/);

    const stale = await readName(db, { readOnly: true });
    expect(stale.at.standby).toBe(true);
    expect(stale.name).not.toBe("Renamed while paused");

    const started = Date.now();
    const fresh = await readName(db, { readOnly: true, after: token });
    expect(Date.now() - started).toBeGreaterThanOrEqual(380);
    expect(fresh.at.standby).toBe(false);
    expect(fresh.name).toBe("Renamed while paused");
  });

  it("replay resumed during the wait: the unit runs on the replica as soon as it has the write", async () => {
    const db = handle([set.a.url], { replicas: { ...options.replicas, maxWaitMs: 20_000 } });
    await set.a.catchUp();
    await set.a.pauseReplay();
    await rename(db, "Renamed, then replayed");
    const token = await db.writeToken();
    const reading = readName(db, { readOnly: true, after: token });
    await new Promise((r) => setTimeout(r, 200));
    await set.a.resumeReplay();
    const fresh = await reading;
    expect(fresh.at).toMatchObject({ standby: true, port: set.a.port });
    expect(fresh.name).toBe("Renamed, then replayed");
  });

  it("a token the replica has already replayed costs no wait and stays on the replica", async () => {
    const db = handle([set.a.url], options);
    await rename(db, "Renamed and replayed");
    const token = await db.writeToken();
    await set.a.catchUp();
    const fresh = await readName(db, { readOnly: true, after: token });
    expect(fresh.at.standby).toBe(true);
    expect(fresh.name).toBe("Renamed and replayed");
  });
});

describe("no role or claim leaks across units on a replica's connections", () => {
  const UNITS = 600;
  const WORKERS = 8;
  let bouncer: Bouncer;
  /** user -> organization -> visible client ids, computed on the primary without RLS. */
  let visibility: Visibility;
  beforeAll(async () => {
    bouncer = await startPgBouncer(set.a.url, "transaction", 3);
    const admin = connect(set.url);
    try {
      visibility = await readableClients(admin);
    } finally {
      await admin.end();
    }
    await set.a.catchUp();
  });
  afterAll(() => bouncer?.stop());

  it(`${UNITS} read-only units for random personas through a transaction-mode PgBouncer in front of the standby see exactly their rows and leave the server connections clean`, async () => {
    const db = handle([bouncer.url], { prepare: false, max: WORKERS });
    // Shares PgBouncer's server connections with the units: it sees whatever they left behind.
    const probe = connect(bouncer.url, { max: WORKERS, prepare: false });
    const users = Object.values(USER);
    const orgs = Object.values(ORG);
    let seed = 20261201;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const wrong: string[] = [];
    const leaks: string[] = [];
    let next = 0;
    let rowsSeen = 0;
    const worker = async () => {
      while (next < UNITS) {
        next++;
        const user = users[Math.floor(random() * users.length)]!;
        const org = orgs[Math.floor(random() * orgs.length)]!;
        const result = await db.asUser(
          user,
          async (tx) => ({
            at: await where(tx),
            ids: (await tx.select({ id: clients.id }).from(clients).where(eq(clients.organizationId, org))).map(
              (r) => r.id,
            ),
          }),
          { readOnly: true },
        );
        if (!result.at.standby || result.at.role !== "authenticated" || result.at.uid !== user)
          wrong.push(`${user}: ran as ${JSON.stringify(result.at)}`);
        const expected = visibility.get(user)?.get(org) ?? new Set<string>();
        rowsSeen += result.ids.length;
        if (result.ids.length !== expected.size || result.ids.some((id) => !expected.has(id)))
          wrong.push(`${user} in ${org}: saw ${result.ids.length}, expected ${expected.size}`);
        const [state] = await probe<{ role: string; setting: string; claims: string; standby: boolean }[]>`
          select current_user as role, current_setting('role') as setting,
                 coalesce(current_setting('request.jwt.claims', true), '') as claims, pg_is_in_recovery() as standby`;
        if (state?.role !== "postgres" || state.setting !== "none" || state.claims !== "" || !state.standby)
          leaks.push(JSON.stringify(state));
      }
    };
    try {
      await Promise.all(Array.from({ length: WORKERS }, worker));
    } finally {
      await probe.end();
    }
    expect(wrong).toEqual([]);
    expect(leaks).toEqual([]);
    expect(rowsSeen).toBeGreaterThan(0);
  });

  it("the leak probe can fail: a claim set at session level on the standby through the pooler reaches other clients", async () => {
    const probe = connect(bouncer.url, { max: 4, prepare: false });
    try {
      await probe`select set_config('request.jwt.claims', '{"sub":"leaked"}', false)`;
      const seen = await Promise.all(
        Array.from(
          { length: 20 },
          () => probe<{ claims: string }[]>`select coalesce(current_setting('request.jwt.claims', true), '') as claims`,
        ),
      );
      expect(seen.some(([row]) => row?.claims.includes("leaked"))).toBe(true);
      // Clean up what this test left on the pooled server connections.
      await Promise.all(Array.from({ length: 6 }, () => probe`select set_config('request.jwt.claims', '', false)`));
    } finally {
      await probe.end();
    }
  });
});

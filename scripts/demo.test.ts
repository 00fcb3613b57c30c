/**
 * npm run demo, as a newcomer runs it: on a seeded database it names every
 * persona, shows for each at least one change allowed and one refused with
 * the rule and the typed error behind it, and leaves every row count as it
 * was; without a database, or without the seed, it says to run db:start.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serverUrl, useTestDatabase } from "../tests/support/database.ts";
import { freePort } from "../tooling/server/cluster.ts";
import { ROOT, withDatabase } from "../tooling/server/config.ts";
import { createDatabase, dropDatabase, withSql, type Sql } from "../tooling/server/sql.ts";
import { copyTemplate } from "../tooling/testing/throwaway.ts";

const tsx = path.join(ROOT, "node_modules", ".bin", "tsx");

/** `tsx scripts/demo.ts` with DATABASE_URL = url: exit code and output. */
function runDemo(url: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(tsx, [path.join(ROOT, "scripts", "demo.ts")], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: url },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}

/** Row counts of every table in public (audit_log among them) and of auth.users. */
async function counts(sql: Sql): Promise<Record<string, number>> {
  const tables = await sql<{ schema: string; name: string }[]>`
    select schemaname as schema, tablename as name from pg_tables
    where schemaname = 'public' or (schemaname = 'auth' and tablename = 'users') order by 1, 2`;
  const result: Record<string, number> = {};
  for (const t of tables) {
    const [row] = await sql<{ n: number }[]>`select count(*)::int as n from ${sql(t.schema)}.${sql(t.name)}`;
    result[`${t.schema}.${t.name}`] = row!.n;
  }
  return result;
}

const PERSONAS = [
  ["alice", "alice@acme.example"],
  ["bob", "bob@acme.example"],
  ["carol", "carol@acme.example"],
  ["dave", "dave@acme.example"],
  ["erin", "erin@acme.example"],
  ["mallory", "mallory@example.com"],
  ["frank", "frank@globex.example"],
  ["nora", "nora@example.com"],
] as const;

/** A refused change: label, rule, then the typed error (class, SQLSTATE: message) or 〃 for "as above". */
const REFUSED = /✖ (\S.*?) {2,}(\S.*?) {2,}(\w+Error [0-9A-Z]{5}: \S.*|〃)$/;

/** The lines of each persona's section, by persona key. */
function sections(out: string): Map<string, string[]> {
  const result = new Map<string, string[]>();
  let current: string[] | null = null;
  for (const line of out.split("\n")) {
    const head = /^── (\w+) · /.exec(line);
    if (head) result.set(head[1]!, (current = []));
    else if (line.trim() === "") current = null;
    else current?.push(line);
  }
  return result;
}

describe("npm run demo on the seeded database", () => {
  const db = useTestDatabase();
  let before: Record<string, number>;
  let run: Awaited<ReturnType<typeof runDemo>>;

  beforeAll(async () => {
    before = await counts(db.sql);
    run = await runDemo(db.url);
  }, 120_000);

  it("exits 0", () => {
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
  });

  it("names every persona, each in a section of its own", () => {
    const bySection = sections(run.stdout);
    for (const [key, email] of PERSONAS) {
      expect(run.stdout).toContain(email);
      expect(bySection.has(key), `section for ${key}`).toBe(true);
    }
  });

  it("shows for every persona at least one change allowed and one refused with its rule and typed error", () => {
    const bySection = sections(run.stdout);
    for (const [key] of PERSONAS) {
      const lines = bySection.get(key) ?? [];
      expect(
        lines.some((l) => /(^|\s)✔ \S/.test(l)),
        `${key}: a ✔`,
      ).toBe(true);
      const refused = lines.filter((l) => l.includes("✖"));
      expect(refused.length, `${key}: a ✖`).toBeGreaterThan(0);
      for (const line of refused) expect(line, `${key}: rule and error`).toMatch(REFUSED);
      // The first refusal of a section names its error in full; 〃 only repeats the line above.
      expect(refused[0]!.match(REFUSED)![3]).not.toBe("〃");
      expect(lines.some((l) => l.includes("sees"))).toBe(true);
    }
  });

  it("shows the rules of the permission model where they apply", () => {
    const line = (key: string, pattern: RegExp) =>
      (sections(run.stdout).get(key) ?? []).find((l) => pattern.test(l)) ?? "";
    expect(line("alice", /✖ make yourself owner/)).toContain("nobody changes their own roles");
    expect(line("alice", /✖ leave Acme/)).toMatch(/every organization keeps an owner +InvariantError P0001/);
    expect(line("bob", /✖ make carol \(manager\) owner/)).toMatch(
      /only owners grant or revoke owner +ForbiddenError 42501/,
    );
    expect(line("carol", /✖ rename Acme/)).toContain("organization.update is required");
    expect(line("alice", /define role billing/)).toMatch(/✔ .*Acme's own role, ranked below its giver/);
    expect(line("bob", /define role billing/)).toContain("✔");
    expect(line("alice", /define a role that manages members/)).toContain("✔");
    expect(line("bob", /✖ define a role that manages members/)).toMatch(
      /only owners give members\.manage, roles\.manage, organization\.delete +ForbiddenError 42501/,
    );
    expect(line("carol", /✖ define role billing/)).toMatch(/roles\.manage is required +ForbiddenError 42501/);
    expect(line("dave", /update .*\(dave's\)/)).toContain("✔");
    expect(line("dave", /✖ update .*\(nobody's\)/)).toMatch(/member sees only assigned clients +NotFoundError P0002/);
    expect(line("erin", /✖ update .*\(dave's\)/)).toMatch(/clients\.update is required +ForbiddenError 42501/);
    expect(line("erin", /✖ create a client/)).toContain("clients.create is required");
    expect(line("frank", /✖ rename Acme/)).toContain("Acme is invisible to non-members");
    expect(line("nora", /✔ create an organization/)).not.toBe("");
    expect(line("mallory", /organizations/)).toMatch(/Acme Corporation \(member\), Globex \(viewer\)/);
  });

  it("reads what each persona sees: clients, members, audit log", () => {
    const bySection = sections(run.stdout);
    const field = (key: string, name: string) => bySection.get(key)?.find((l) => l.includes(name)) ?? "";
    expect(field("alice", "Acme clients")).toMatch(/25 of 25: /);
    expect(field("dave", "Acme clients")).toMatch(/5 of 25: /);
    expect(field("nora", "Acme clients")).toContain("none of 25");
    expect(field("erin", "Acme members")).toMatch(/^\s+Acme members\s+6, with roles: alice owner/);
    expect(field("frank", "Acme members")).toContain("none visible");
    expect(field("bob", "audit log")).toMatch(/yes: \d+ entries/);
    expect(field("carol", "audit log")).toContain("no: 0 entries");
  });

  it("changes nothing: every row count is the same afterwards, and it says so", async () => {
    expect(await counts(db.sql)).toEqual(before);
    expect(Object.keys(before)).toContain("public.audit_log");
    expect(run.stdout).toMatch(/Row counts before and after the tour: identical/);
    expect(run.stdout).toMatch(/docs\/security\.md.*docs\/usage\.md/);
  });
});

describe("npm run demo without a usable database", () => {
  const empty = `t_${randomBytes(6).toString("hex")}`;
  const unseeded = `t_${randomBytes(6).toString("hex")}`;
  afterAll(async () => {
    await dropDatabase(serverUrl(), empty);
    await dropDatabase(serverUrl(), unseeded);
  });

  it("says to run npm run db:start when nothing listens at the URL", async () => {
    const r = await runDemo(`postgresql://postgres:postgres@127.0.0.1:${await freePort()}/postgres`);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("Cannot reach the database");
    expect(r.stderr).toContain("npm run db:start");
  });

  it("says to run npm run db:start when the database has no schema or seed", async () => {
    await createDatabase(serverUrl(), empty);
    const r = await runDemo(withDatabase(serverUrl(), empty));
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("has no schema");
    expect(r.stderr).toContain("npm run db:start");
  });

  it("says so when the schema is there but a persona of the seed is missing", async () => {
    const url = await copyTemplate(serverUrl(), unseeded);
    await withSql(url, (sql) => sql`delete from auth.users where email = 'nora@example.com'`);
    const r = await runDemo(url);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("has no demo data");
    expect(r.stderr).toContain("npm run db:start");
  });
});

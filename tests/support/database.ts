/**
 * Test databases: each suite gets its own copy of the template database that
 * `npm test` builds (baseline, migrations, seed) on a throwaway server, and
 * drops it afterwards.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll } from "vitest";
import { connect, dropDatabase, type Sql } from "../../tooling/server/sql.ts";
import { BARE_TEMPLATE_DB, TEMPLATE_DB, copyTemplate } from "../../tooling/testing/throwaway.ts";

/** The throwaway server `npm test` started (its `postgres` database, as the role `postgres`, not a superuser). */
export function serverUrl(): string {
  const url = process.env.TEST_SERVER_URL;
  if (!url)
    throw new Error(
      "TEST_SERVER_URL is not set: run the suites through `npm test`, which starts the servers they need.",
    );
  return url;
}

export interface TestDatabase {
  /** URL of the copy, as `postgres` (BYPASSRLS, owner of the schema, not a superuser). */
  url: string;
  /** Connection pool to the copy, as `postgres`. */
  sql: Sql;
}

/**
 * A fresh copy of the template for the calling suite; dropped after it.
 * `seed: false` copies the template without the demo seed (as a project that
 * installed the layer, or the benchmark's databases).
 */
export function useTestDatabase(options: { max?: number; seed?: boolean } = {}): TestDatabase {
  const db = {} as TestDatabase;
  const name = `t_${randomBytes(6).toString("hex")}`;
  beforeAll(async () => {
    db.url = await copyTemplate(serverUrl(), name, options.seed === false ? BARE_TEMPLATE_DB : TEMPLATE_DB);
    db.sql = connect(db.url, { max: options.max ?? 4 });
  });
  afterAll(async () => {
    await db.sql?.end({ timeout: 5 });
    await dropDatabase(serverUrl(), name);
  });
  return db;
}

/** The URL of the same database for another login role (the throwaway server gives its roles the server's password). */
export function urlAs(url: string, role: string): string {
  const other = new URL(url);
  other.username = role;
  return other.toString();
}

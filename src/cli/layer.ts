/**
 * What the package ships (its migrations and threat suite) and what a
 * project's migrations define, for `supabase-org-layer init`, `upgrade` and
 * `doctor`. Only Node built-ins: the bin runs from an installed package.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** The package root: two levels above this file, from src/cli (repository) or dist/cli (installed package). */
export const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
export const LAYER_MIGRATIONS_DIR = path.join(PACKAGE_ROOT, "supabase", "migrations");
export const LAYER_TESTS_DIR = path.join(PACKAGE_ROOT, "supabase", "tests", "database");
/** Where the manifest lives in a project, relative to its workdir. */
export const MANIFEST_FILE = path.join("supabase", "supabase-org-layer.json");
/**
 * Threat-suite files that test this repository's local copy of the Supabase
 * platform (roles, auth schema, hosted parity), not the layer: a project's
 * platform is Supabase's own, so they stay here.
 */
const PLATFORM_TESTS = new Set(["000_platform_baseline.test.sql", "001_hosted_parity.test.sql"]);

export interface PackageInfo {
  name: string;
  version: string;
}

export function packageInfo(): PackageInfo {
  const json = JSON.parse(readFileSync(path.join(PACKAGE_ROOT, "package.json"), "utf8")) as PackageInfo;
  return { name: json.name, version: json.version };
}

export function sha256(text: string | Buffer): string {
  return createHash("sha256").update(text).digest("hex");
}

export function fileSha256(file: string): string {
  return sha256(readFileSync(file));
}

const MIGRATION_NAME = /^(\d+)_(.+)\.sql$/;

/** Migration file names of a folder (`<version>_<name>.sql`), in version order. */
export function migrationNames(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => MIGRATION_NAME.test(f))
    .sort();
}

/** A project's migrations, in order, with their text (file names relative to the workdir: supabase/migrations/...). */
export function projectMigrations(workdir: string): { file: string; sql: string }[] {
  const folder = path.join("supabase", "migrations");
  return migrationNames(path.join(workdir, folder)).map((f) => ({
    file: path.join(folder, f),
    sql: readFileSync(path.join(workdir, folder, f), "utf8"),
  }));
}

export function versionOf(file: string): string {
  return MIGRATION_NAME.exec(path.basename(file))?.[1] ?? "";
}

/** The name part of a migration file (what the Supabase CLI records as its name). */
export function nameOf(file: string): string {
  return MIGRATION_NAME.exec(path.basename(file))?.[2] ?? "";
}

export function layerMigrations(): string[] {
  return migrationNames(LAYER_MIGRATIONS_DIR);
}

let migrationTexts: string[] | undefined;
/** The text of each of the package's migrations, read once per process. */
function layerMigrationTexts(): string[] {
  return (migrationTexts ??= layerMigrations().map((f) => readFileSync(path.join(LAYER_MIGRATIONS_DIR, f), "utf8")));
}

/** The threat suite's files: the test files and the include they share. */
export function layerTests(): string[] {
  if (!existsSync(LAYER_TESTS_DIR)) return [];
  return readdirSync(LAYER_TESTS_DIR)
    .filter((f) => (f.endsWith(".test.sql") || f.endsWith(".psql")) && !PLATFORM_TESTS.has(f))
    .sort();
}

/** SQL without comments and string bodies that could hide a `create` in prose. */
function stripComments(sql: string): string {
  return sql.replace(/--[^\n]*/g, "").replace(/\/\*[\s\S]*?\*\//g, "");
}

const IDENT = String.raw`"?([A-Za-z_][A-Za-z0-9_$]*)"?`;
const QUALIFIED = String.raw`(?:${IDENT}\s*\.\s*)?${IDENT}`;

/**
 * The objects a SQL text creates that the layer cares about: tables, views,
 * types and functions (as `kind schema.name`, unqualified names in `public`)
 * and triggers on `auth.users` (as `trigger auth.users.name`).
 */
export function definedObjects(sql: string): Set<string> {
  return new Set(createdObjects(stripComments(sql)).map((e) => e.object));
}

interface ObjectEvent {
  /** Where in the text (without comments) the statement starts. */
  at: number;
  op: "create" | "drop";
  object: string;
}

/** The create statements of a text without comments, as definedObjects names their objects. */
function createdObjects(text: string): ObjectEvent[] {
  const found: ObjectEvent[] = [];
  const patterns: [string, RegExp][] = [
    ["table", new RegExp(String.raw`\bcreate\s+(?:unlogged\s+)?table\s+(?:if\s+not\s+exists\s+)?${QUALIFIED}`, "gi")],
    [
      "view",
      new RegExp(
        String.raw`\bcreate\s+(?:or\s+replace\s+)?(?:materialized\s+)?view\s+(?:if\s+not\s+exists\s+)?${QUALIFIED}`,
        "gi",
      ),
    ],
    ["type", new RegExp(String.raw`\bcreate\s+(?:type|domain)\s+${QUALIFIED}`, "gi")],
    [
      "function",
      new RegExp(String.raw`\bcreate\s+(?:or\s+replace\s+)?(?:function|procedure)\s+${QUALIFIED}\s*\(`, "gi"),
    ],
  ];
  for (const [kind, pattern] of patterns) {
    for (const m of text.matchAll(pattern))
      found.push({ at: m.index, op: "create", object: objectName(kind, m[1], m[2]!) });
  }
  const trigger = new RegExp(
    String.raw`\bcreate\s+(?:or\s+replace\s+)?(?:constraint\s+)?trigger\s+${IDENT}[\s\S]*?\bon\s+${QUALIFIED}`,
    "gi",
  );
  for (const m of text.matchAll(trigger)) {
    const schema = (m[2] ?? "public").toLowerCase();
    const table = m[3]!.toLowerCase();
    if (schema === "auth" && table === "users")
      found.push({ at: m.index, op: "create", object: `trigger auth.users.${m[1]!.toLowerCase()}` });
  }
  return found;
}

const KIND: Record<string, string> = {
  table: "table",
  view: "view",
  "materialized view": "view",
  type: "type",
  domain: "type",
  function: "function",
  procedure: "function",
};

/** `kind schema.name` (unqualified names in public), as definedObjects names objects. */
const objectName = (kind: string, schema: string | undefined, name: string) =>
  `${KIND[kind.toLowerCase().replace(/\s+/g, " ")]} ${(schema ?? "public").toLowerCase()}.${name.toLowerCase()}`;

/**
 * What a SQL text drops or renames among the objects definedObjects names, in
 * text order: `drop` of each name of a `drop table|view|type|function ...`
 * list and of `drop trigger ... on auth.users`; a rename (`alter ... rename
 * to`) as the old name dropped and the new one created.
 */
function droppedAndRenamed(text: string): ObjectEvent[] {
  const events: ObjectEvent[] = [];
  const drop =
    /\bdrop\s+(table|view|materialized\s+view|type|domain|function|procedure)\s+(?:if\s+exists\s+)?([^;]*)/gi;
  for (const m of text.matchAll(drop)) {
    // The list: names, functions with their argument lists, then cascade/restrict.
    const list = m[2]!.replace(/\([^()]*\)/g, "");
    for (const item of list.split(",")) {
      const n = new RegExp(String.raw`^\s*${QUALIFIED}`).exec(item);
      if (n) events.push({ at: m.index, op: "drop", object: objectName(m[1]!, n[1], n[2]!) });
    }
  }
  const dropTrigger = new RegExp(String.raw`\bdrop\s+trigger\s+(?:if\s+exists\s+)?${IDENT}\s+on\s+${QUALIFIED}`, "gi");
  for (const m of text.matchAll(dropTrigger)) {
    if ((m[2] ?? "public").toLowerCase() === "auth" && m[3]!.toLowerCase() === "users")
      events.push({ at: m.index, op: "drop", object: `trigger auth.users.${m[1]!.toLowerCase()}` });
  }
  const rename = new RegExp(
    String.raw`\balter\s+(table|view|materialized\s+view|type|domain|function|procedure)\s+(?:if\s+exists\s+)?${QUALIFIED}\s*(?:\([^()]*\))?\s*rename\s+to\s+${IDENT}`,
    "gi",
  );
  for (const m of text.matchAll(rename)) {
    events.push({ at: m.index, op: "drop", object: objectName(m[1]!, m[2], m[3]!) });
    events.push({ at: m.index, op: "create", object: objectName(m[1]!, m[2], m[4]!) });
  }
  const renameTrigger = new RegExp(
    String.raw`\balter\s+trigger\s+${IDENT}\s+on\s+${QUALIFIED}\s+rename\s+to\s+${IDENT}`,
    "gi",
  );
  for (const m of text.matchAll(renameTrigger)) {
    if ((m[2] ?? "public").toLowerCase() !== "auth" || m[3]!.toLowerCase() !== "users") continue;
    events.push({ at: m.index, op: "drop", object: `trigger auth.users.${m[1]!.toLowerCase()}` });
    events.push({ at: m.index, op: "create", object: `trigger auth.users.${m[4]!.toLowerCase()}` });
  }
  return events;
}

/**
 * The objects (as definedObjects names them) that a project's migrations,
 * taken in order, leave defined, each with the file that last defined it: an
 * object created and later dropped or renamed away is gone.
 */
export function objectsLeftBy(files: { file: string; sql: string }[]): Map<string, string> {
  const left = new Map<string, string>();
  for (const { file, sql } of files) {
    const text = stripComments(sql);
    for (const e of [...createdObjects(text), ...droppedAndRenamed(text)].sort((a, b) => a.at - b.at)) {
      if (e.op === "create") left.set(e.object, file);
      else left.delete(e.object);
    }
  }
  return left;
}

/** The extensions the layer creates in schema `extensions` (search_clients' indexes use them). */
export const LAYER_EXTENSIONS = ["pg_trgm", "btree_gin"];

/**
 * The layer's extensions that a project's migrations, taken in order, leave
 * in a schema other than `extensions` (created without a schema: the first
 * of the search path, `public`), each with the schema and the file that put
 * it there. The layer's migrations refuse to run on such a database.
 */
export function layerExtensionsOutside(
  files: { file: string; sql: string }[],
): { extension: string; schema: string; file: string }[] {
  const placed = new Map<string, { schema: string; file: string }>();
  const names = LAYER_EXTENSIONS.join("|");
  const statement = new RegExp(
    String.raw`create\s+extension\s+(?:if\s+not\s+exists\s+)?"?(${names})"?\b([^;]*)|alter\s+extension\s+"?(${names})"?\s+set\s+schema\s+${IDENT}|drop\s+extension\s+(?:if\s+exists\s+)?([^;]*)`,
    "gi",
  );
  for (const { file, sql } of files) {
    for (const m of stripComments(sql).matchAll(statement)) {
      if (m[1]) {
        // `if not exists` leaves an extension that exists where it is.
        if (/^create\s+extension\s+if\s+not\s+exists\b/i.test(m[0]) && placed.has(m[1].toLowerCase())) continue;
        const schema = new RegExp(String.raw`\bschema\s+${IDENT}`, "i").exec(m[2] ?? "")?.[1] ?? "public";
        placed.set(m[1].toLowerCase(), { schema: schema.toLowerCase(), file });
      } else if (m[3]) placed.set(m[3].toLowerCase(), { schema: m[4]!.toLowerCase(), file });
      else for (const name of (m[5] ?? "").toLowerCase().match(/[a-z_]+/g) ?? []) placed.delete(name);
    }
  }
  return [...placed]
    .filter(([, where]) => where.schema !== "extensions")
    .map(([extension, where]) => ({ extension, ...where }));
}

/** Everything the layer's migrations define. */
export function layerObjects(): Set<string> {
  const all = new Set<string>();
  for (const text of layerMigrationTexts()) for (const o of definedObjects(text)) all.add(o);
  return all;
}

/** The layer's tables in schema public (each must have RLS on). */
export function layerTables(): string[] {
  return [...layerObjects()]
    .filter((o) => o.startsWith("table public."))
    .map((o) => o.slice("table public.".length))
    .sort();
}

/** The layer's functions as `schema.name`. */
export function layerFunctions(): string[] {
  return [...layerObjects()]
    .filter((o) => o.startsWith("function "))
    .map((o) => o.slice("function ".length))
    .sort();
}

/**
 * The grants the layer's migrations make on tables of schema private, as
 * `PRIVILEGE on table private.name to role` (the API roles hold nothing else
 * there; e.g. the service reads the tombstones of deleted organizations).
 */
export function layerPrivateGrants(): string[] {
  const grant = new RegExp(
    String.raw`\bgrant\s+([a-z,\s]+?)\s+on\s+(?:table\s+)?private\s*\.\s*${IDENT}\s+to\s+([a-z_,\s]+?)\s*;`,
    "gi",
  );
  const found = new Set<string>();
  for (const text of layerMigrationTexts())
    for (const m of stripComments(text).matchAll(grant))
      for (const privilege of m[1]!.split(","))
        for (const role of m[3]!.split(","))
          found.add(
            `${privilege.trim().toUpperCase()} on table private.${m[2]!.toLowerCase()} to ${role.trim().toLowerCase()}`,
          );
  return [...found].sort();
}

/**
 * What the package ships (its migrations and threat suite) and what a
 * project's migrations define, for `supabase-org-layer init`, `upgrade` and
 * `doctor`. Node built-ins and PostgreSQL's parser (./sql.ts): the bin runs
 * from an installed package.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Node } from "libpg-query";
import { names, qualified, statements, unwrap, type Statement } from "./sql.ts";

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

let migrationStatements: Statement[][] | undefined;
/** The statements of each of the package's migrations, read and parsed once per process. */
function layerMigrationStatements(): Statement[][] {
  return (migrationStatements ??= layerMigrations().map((f) =>
    statements(readFileSync(path.join(LAYER_MIGRATIONS_DIR, f), "utf8"), f),
  ));
}

/** The threat suite's files: the test files and the include they share. */
export function layerTests(): string[] {
  if (!existsSync(LAYER_TESTS_DIR)) return [];
  return readdirSync(LAYER_TESTS_DIR)
    .filter((f) => (f.endsWith(".test.sql") || f.endsWith(".psql")) && !PLATFORM_TESTS.has(f))
    .sort();
}

/**
 * The objects a SQL text creates that the layer cares about: tables, views,
 * types and functions (as `kind schema.name`, unqualified names in `public`)
 * and triggers on `auth.users` (as `trigger auth.users.name`). Read by
 * PostgreSQL's parser (./sql.ts): a `create` inside a string, a function's
 * body or a comment creates nothing.
 */
export function definedObjects(sql: string, file = "the SQL text"): Set<string> {
  return new Set(
    statements(sql, file)
      .flatMap(objectEvents)
      .filter((e) => e.op === "create")
      .map((e) => e.object),
  );
}

interface ObjectEvent {
  op: "create" | "drop";
  object: string;
}

/** ObjectType (the parser's) to the kinds definedObjects names. */
const KIND: Record<string, string> = {
  OBJECT_TABLE: "table",
  OBJECT_VIEW: "view",
  OBJECT_MATVIEW: "view",
  OBJECT_TYPE: "type",
  OBJECT_DOMAIN: "type",
  OBJECT_FUNCTION: "function",
  OBJECT_PROCEDURE: "function",
  OBJECT_ROUTINE: "function",
};

/** `kind schema.name`, as definedObjects names objects. */
const objectName = (kind: string, parts: string[]) => {
  const { schema, name } = qualified(parts);
  return `${kind} ${schema}.${name}`;
};

interface RangeVar {
  schemaname?: string;
  relname?: string;
  relpersistence?: string;
}
const relationParts = (relation: unknown): string[] => {
  const r = (relation ?? {}) as RangeVar;
  return [...(r.schemaname ? [r.schemaname] : []), r.relname ?? ""];
};

/** The name parts of the object a drop, rename or `set schema` names: a list, a type name or a function with its arguments. */
function objectParts(node: unknown): string[] {
  const { type, fields } = unwrap(node as Node);
  if (type === "List") return names(fields.items);
  if (type === "TypeName") return names(fields.names);
  if (type === "ObjectWithArgs") return names(fields.objname);
  if (type === "String") return [fields.sval as string];
  return [];
}

const AUTH_USERS = (parts: string[]) => parts.length === 2 && parts[0] === "auth" && parts[1] === "users";

/**
 * What one statement creates, drops or renames among the objects
 * definedObjects names: a rename or `set schema` is the old name dropped and
 * the new one created.
 */
function objectEvents({ type, fields: f }: Statement): ObjectEvent[] {
  const create = (kind: string, parts: string[]): ObjectEvent[] => [{ op: "create", object: objectName(kind, parts) }];
  const moved = (kind: string, from: string[], to: string[]): ObjectEvent[] => [
    { op: "drop", object: objectName(kind, from) },
    { op: "create", object: objectName(kind, to) },
  ];
  switch (type) {
    case "CreateStmt": {
      const relation = f.relation as RangeVar;
      return relation.relpersistence === "t" ? [] : create("table", relationParts(relation));
    }
    case "CreateTableAsStmt": {
      const kind = KIND[f.objtype as string];
      return kind ? create(kind, relationParts((f.into as { rel?: unknown }).rel)) : [];
    }
    case "ViewStmt":
      return create("view", relationParts(f.view));
    case "CreateEnumStmt":
    case "CreateRangeStmt":
      return create("type", names(f.typeName));
    case "CompositeTypeStmt":
      return create("type", relationParts(f.typevar));
    case "CreateDomainStmt":
      return create("type", names(f.domainname));
    case "DefineStmt":
      return f.kind === "OBJECT_TYPE" ? create("type", names(f.defnames)) : [];
    case "CreateFunctionStmt":
      return create("function", names(f.funcname));
    case "CreateTrigStmt":
      return AUTH_USERS(relationParts(f.relation))
        ? [{ op: "create", object: `trigger auth.users.${f.trigname as string}` }]
        : [];
    case "DropStmt": {
      if (f.removeType === "OBJECT_TRIGGER") {
        return ((f.objects ?? []) as unknown[])
          .map(objectParts)
          .filter((parts) => AUTH_USERS(parts.slice(-3, -1)))
          .map((parts) => ({ op: "drop", object: `trigger auth.users.${parts.at(-1)!}` }) as const);
      }
      const kind = KIND[f.removeType as string];
      if (!kind) return [];
      return ((f.objects ?? []) as unknown[]).map(
        (o) => ({ op: "drop", object: objectName(kind, objectParts(o)) }) as const,
      );
    }
    case "RenameStmt": {
      const newname = f.newname as string;
      if (f.renameType === "OBJECT_TRIGGER") {
        if (!AUTH_USERS(relationParts(f.relation))) return [];
        return [
          { op: "drop", object: `trigger auth.users.${f.subname as string}` },
          { op: "create", object: `trigger auth.users.${newname}` },
        ];
      }
      const kind = KIND[f.renameType as string];
      if (!kind) return [];
      const from = f.relation ? relationParts(f.relation) : objectParts(f.object);
      return moved(kind, from, [...from.slice(0, -1), newname]);
    }
    case "AlterObjectSchemaStmt": {
      const kind = KIND[f.objectType as string];
      if (!kind) return [];
      const from = f.relation ? relationParts(f.relation) : objectParts(f.object);
      return moved(kind, from, [f.newschema as string, from.at(-1)!]);
    }
    default:
      return [];
  }
}

/**
 * The objects (as definedObjects names them) that a project's migrations,
 * taken in order, leave defined, each with the file that last defined it: an
 * object created and later dropped, renamed or moved to another schema is gone.
 */
export function objectsLeftBy(files: { file: string; sql: string }[]): Map<string, string> {
  const left = new Map<string, string>();
  for (const { file, sql } of files) {
    for (const e of statements(sql, file).flatMap(objectEvents)) {
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
  const layers = (name: unknown): name is string => typeof name === "string" && LAYER_EXTENSIONS.includes(name);
  for (const { file, sql } of files) {
    for (const { type, fields: f } of statements(sql, file)) {
      if (type === "CreateExtensionStmt" && layers(f.extname)) {
        // `if not exists` leaves an extension that exists where it is.
        if (f.if_not_exists && placed.has(f.extname)) continue;
        const option = ((f.options ?? []) as Node[]).map(unwrap).find((o) => o.fields.defname === "schema");
        const schema = option ? names([option.fields.arg])[0] : undefined;
        placed.set(f.extname, { schema: schema ?? "public", file });
      } else if (type === "AlterObjectSchemaStmt" && f.objectType === "OBJECT_EXTENSION") {
        const [name] = objectParts(f.object);
        if (layers(name)) placed.set(name, { schema: f.newschema as string, file });
      } else if (type === "DropStmt" && f.removeType === "OBJECT_EXTENSION") {
        for (const o of (f.objects ?? []) as unknown[]) placed.delete(objectParts(o)[0] ?? "");
      }
    }
  }
  return [...placed]
    .filter(([, where]) => where.schema !== "extensions")
    .map(([extension, where]) => ({ extension, ...where }));
}

/** Everything the layer's migrations define (an object a later migration drops included). */
export function layerObjects(): Set<string> {
  const all = new Set<string>();
  for (const migration of layerMigrationStatements())
    for (const e of migration.flatMap(objectEvents)) if (e.op === "create") all.add(e.object);
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
  const found = new Set<string>();
  for (const migration of layerMigrationStatements()) {
    for (const { type, fields: f } of migration) {
      if (type !== "GrantStmt" || !f.is_grant || f.targtype !== "ACL_TARGET_OBJECT" || f.objtype !== "OBJECT_TABLE")
        continue;
      // No privileges listed: `grant all`. A column's grant is no grant on the table.
      const privileges = ((f.privileges ?? []) as Node[]).map(unwrap).map((p) => p.fields);
      if (privileges.some((p) => p.cols)) continue;
      const privilegeNames = privileges.length ? privileges.map((p) => String(p.priv_name).toUpperCase()) : ["ALL"];
      const roles = ((f.grantees ?? []) as Node[])
        .map(unwrap)
        .map(({ fields: g }) => (typeof g.rolename === "string" ? g.rolename : "public"));
      for (const table of (f.objects ?? []) as Node[]) {
        const parts = relationParts(unwrap(table).fields);
        if (parts.length !== 2 || parts[0] !== "private") continue;
        for (const privilege of privilegeNames)
          for (const role of roles) found.add(`${privilege} on table private.${parts[1]!} to ${role}`);
      }
    }
  }
  return [...found].sort();
}

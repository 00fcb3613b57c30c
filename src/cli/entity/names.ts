/** The names one entity gives its table, files, types and permissions. */
import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { objectsLeftBy, projectMigrations } from "../layer.ts";
import { camelName as camel, EntityInputError, SQL_KEYWORDS } from "./columns.ts";

export interface EntityNames {
  /** public.<name>: plural snake_case. */
  name: string;
  singular: string;
  /** Drizzle's export for the table (drizzle-kit pull, camel casing). */
  camel: string;
  /** PascalCase singular: the row type. */
  Singular: string;
  /** camelCase singular: helper and schema names. */
  singularCamel: string;
  /** PascalCase plural: list helper names. */
  Plural: string;
  /** The assignment table (assignable entities): user_<name>. */
  assignTable: string;
  assignCamel: string;
  /** The assignment table's column naming the row: <singular>_id. */
  idCol: string;
  idCamel: string;
}

const pascal = (snake: string) => camel(snake).replace(/^./, (c) => c.toUpperCase());

export function singularOf(name: string): string {
  if (/[^aeiou]ies$/.test(name)) return `${name.slice(0, -3)}y`;
  if (/(ss|x|ch|sh)es$/.test(name)) return name.slice(0, -2);
  return name.slice(0, -1);
}

/**
 * Names nobody may take: the core tables and views, and names whose files the
 * layer itself uses (src/<name>.ts).
 */
export const RESERVED_NAMES = new Set([
  "organizations",
  "organization_users",
  "users",
  "roles",
  "permissions",
  "role_permissions",
  "user_roles",
  "clients",
  "user_clients",
  "invitations",
  "audit_log",
  "audit_logs",
  "members",
  "audits",
  "errors",
  "internals",
  "indexes",
  "dbs",
  "auths",
  "postgrests",
  "schemas",
  "types",
  "tests",
  "unit_of_works",
  "supabase",
  "migrations",
  "privates",
  "publics",
  "extensions",
  "storages",
  "realtimes",
  "graphqls",
]);

/**
 * Names JavaScript refuses as the name of an import or a constant in a module (strict mode): the generated
 * modules import the table by its name.
 */
const JS_BINDINGS_REFUSED = new Set(
  (
    "arguments await break case catch class const continue debugger default delete do else enum eval export " +
    "extends false finally for function if implements import in instanceof interface let new null package private " +
    "protected public return static super switch this throw true try typeof var void while with yield"
  ).split(" "),
);

/**
 * Tables (and views) in public among the objects a project's migrations leave
 * (objectsLeftBy, the parser of `init`'s conflict check): unqualified (`create
 * table invoices`) and quoted (`create table "public"."invoices"`, as
 * `supabase db diff` writes it) names count, a table dropped or renamed later
 * does not.
 */
function publicTables(left: Map<string, string>): Set<string> {
  return new Set([...left.keys()].flatMap((object) => /^(?:table|view) public\.(.+)$/.exec(object)?.slice(1, 2) ?? []));
}

/** Validate an entity name against the workdir; throws EntityInputError with the reason. */
export function entityNames(name: string, workdir: string, assignable = true): EntityNames {
  if (!/^[a-z][a-z0-9_]*$/.test(name) || /__|_$/.test(name)) {
    throw new EntityInputError(
      `"${name}" is not a table name: use plural lowercase snake_case (letters, digits and single _), e.g. projects or time_entries`,
    );
  }
  // The longest name derived from it, user_<name>_organization_id_user_id_idx, must fit PostgreSQL's 63 bytes.
  if (name.length < 3 || name.length > 30)
    throw new EntityInputError(`"${name}" must be 3 to 30 characters long (index and constraint names derive from it)`);
  if (!name.endsWith("s"))
    throw new EntityInputError(`"${name}" is not plural: tables are named in the plural (projects, time_entries)`);
  if (
    SQL_KEYWORDS.has(name) ||
    JS_BINDINGS_REFUSED.has(name) ||
    /^(pg_|auth_|supabase_)/.test(name) ||
    RESERVED_NAMES.has(name)
  ) {
    throw new EntityInputError(
      `"${name}" is reserved (an SQL keyword, a name JavaScript refuses, a core table of the layer, or a platform prefix); choose another name`,
    );
  }
  const singular = singularOf(name);
  const names: EntityNames = {
    name,
    singular,
    camel: camel(name),
    Singular: pascal(singular),
    singularCamel: camel(singular),
    Plural: pascal(name),
    assignTable: `user_${name}`,
    assignCamel: camel(`user_${name}`),
    idCol: `${singular}_id`,
    idCamel: camel(`${singular}_id`),
  };
  // The helpers import these by name next to the row type {{Singular}} (txes: Tx).
  const imported = ["Tx", "ForbiddenError", "NotFoundError", "ValidationError"];
  if (imported.includes(names.Singular))
    throw new EntityInputError(
      `"${name}" gives the row type ${names.Singular}, a name the generated helpers import; choose another name`,
    );
  const left = objectsLeftBy(projectMigrations(workdir));
  const tables = publicTables(left);
  for (const table of [name, names.assignTable]) {
    if (tables.has(table))
      throw new EntityInputError(`a table public.${table} exists already (supabase/migrations); choose another name`);
  }
  // Assignable tables define private.assigned_<singular>_ids() and private.assign_<singular>_to_creator():
  // another assignable table with the same singular (boxes, boxs) would define them twice. Only functions the
  // migrations still leave (not a comment, not one dropped since), and only when this table defines them too.
  if (assignable) {
    for (const helper of [`assigned_${singular}_ids`, `assign_${singular}_to_creator`]) {
      const file = left.get(`function private.${helper}`);
      if (file)
        throw new EntityInputError(
          `"${name}" names its rows ${singular}, as ${file} does (private.${helper}); choose another name`,
        );
    }
  }
  if (name.startsWith("user_") && tables.has(name.slice(5)))
    throw new EntityInputError(`"${name}" is the assignment table of public.${name.slice(5)}`);
  for (const file of [
    `src/${name}.ts`,
    `src/schema/${name}.table.ts`,
    `src/${name}.test.ts`,
    `tests/plans/${name}.plan.test.ts`,
  ]) {
    if (existsSync(path.join(workdir, file))) throw new EntityInputError(`${file} exists already; choose another name`);
  }
  if (existsSync(path.join(workdir, "supabase", "tests", "database"))) {
    // name is snake_case (checked above): nothing in it needs escaping.
    const threatFile = new RegExp(`^\\d+_${name}\\.test\\.sql$`);
    const taken = readdirSync(path.join(workdir, "supabase", "tests", "database")).find((f) => threatFile.test(f));
    if (taken) throw new EntityInputError(`supabase/tests/database/${taken} exists already; choose another name`);
  }
  return names;
}

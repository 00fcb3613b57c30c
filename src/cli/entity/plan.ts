/**
 * The entity generator's core: plan the files of an organization-scoped
 * table (validate the name and the columns, render the templates of
 * ./templates), format and write them. Nothing here starts a database.
 * Two targets share it:
 *
 * - `repository` (`npm run entity:new` in this repository): the Drizzle table
 *   comes from the generated schema, the helpers sit beside the layer's own
 *   in src/, with a vitest suite and a plan guard;
 * - `project` (`supabase-org-layer entity` in a project that installed the
 *   package): the migration and the pgTAP file go to the project's supabase/
 *   folder, and one Drizzle/zod module and its helpers to `--out` (src by
 *   default), importing the layer only through the package's exports.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { pendingMigrations, readManifest } from "../install.ts";
import { MANIFEST_FILE } from "../layer.ts";
import {
  camelName as camel,
  COLUMN_TYPES,
  EntityInputError,
  parseColumns,
  TIMESTAMP_WITH_OFFSET,
  type Column,
} from "./columns.ts";
import { entityNames, type EntityNames } from "./names.ts";
import { pgTapCases, SQL_SAMPLE } from "./pgtap.ts";

export { COLUMN_TYPES, EntityInputError };

/** Beside this module: in src/cli/entity, and in dist/cli/entity where the build copies them. */
export const TEMPLATES_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), "templates");

/** Without --columns, a table gets one column. */
export const DEFAULT_COLUMNS = "title text not null";

export interface EntityOptions {
  /** The project's root (package.json, supabase/, src/). */
  workdir: string;
  name: string;
  assignable?: boolean;
  /** The --columns text; DEFAULT_COLUMNS when absent. */
  columns?: string;
  /** The migration's timestamp; by default now (UTC), after the newest existing migration. */
  now?: Date;
  /** `repository` (default): this repository's layout; `project`: a project that installed the package. */
  target?: "repository" | "project";
  /** With target `project`: the folder, relative to the workdir, for the TypeScript module (default `src`). */
  out?: string;
}

export interface EntityFile {
  /** Relative to the workdir. */
  path: string;
  content: string;
}

export interface EntityPlan {
  names: EntityNames;
  columns: Column[];
  assignable: boolean;
  files: EntityFile[];
}

/** {{var}}, {{#flag}}...{{/flag}} and {{^flag}}...{{/flag}}. Unknown variables are an error. */
export function render(template: string, vars: Record<string, string | boolean>): string {
  const section = /\{\{([#^])(\w+)\}\}([\s\S]*?)\{\{\/\2\}\}/g;
  let out = template;
  // Sections may hold other sections: expand until none is left.
  for (let before = ""; before !== out;) {
    before = out;
    out = out.replace(section, (_m, kind: string, flag: string, body: string) => {
      if (!(flag in vars)) throw new Error(`template flag ${flag} is not defined`);
      return Boolean(vars[flag]) === (kind === "#") ? body : "";
    });
  }
  out = out.replace(/\{\{(\w+)\}\}/g, (_m, key: string) => {
    const value = vars[key];
    if (value === undefined || typeof value === "boolean") throw new Error(`template variable ${key} is not defined`);
    return value;
  });
  return out;
}

const template = (file: string) => readFileSync(path.join(TEMPLATES_DIR, file), "utf8");

/** YYYYMMDDHHMMSS in UTC, after the newest migration of the workdir. */
export function migrationVersion(workdir: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:T]/g, "").slice(0, 14);
  const dir = path.join(workdir, "supabase", "migrations");
  const newest = existsSync(dir)
    ? readdirSync(dir)
        .map((f) => /^(\d{14})_/.exec(f)?.[1])
        .filter((v): v is string => Boolean(v))
        .sort()
        .at(-1)
    : undefined;
  if (!newest || stamp > newest) return stamp;
  return (BigInt(newest) + 1n).toString();
}

/** The next free pgTAP number: the highest in use, up to the next ten. */
export function pgTapNumber(workdir: string): number {
  const dir = path.join(workdir, "supabase", "tests", "database");
  const used = existsSync(dir) ? readdirSync(dir).map((f) => Number(/^(\d+)_/.exec(f)?.[1] ?? 0)) : [];
  return (Math.floor(Math.max(0, ...used) / 10) + 1) * 10;
}

/** zod for each type of the grammar (values as drizzle-kit maps them: numeric, date and timestamptz as strings). */
export const ZOD: Record<Column["type"], string> = {
  text: "text()",
  integer: "z.number().int().min(-2147483648).max(2147483647)",
  bigint: "z.number().int().min(Number.MIN_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER)",
  numeric: 'z.string().regex(/^-?\\d+(\\.\\d+)?$/, "a decimal number, e.g. 12.50")',
  boolean: "z.boolean()",
  date: "z.iso.date()",
  // What the helpers return goes back in (TIMESTAMP_WITH_OFFSET).
  timestamptz: `z.string().regex(/${TIMESTAMP_WITH_OFFSET.source}/, "a timestamp with its offset, e.g. 2026-01-31T09:00:00Z")`,
  uuid: "z.uuid()",
  jsonb: "z.json()",
};

/** A TypeScript value of each type, and another one for updates. */
const TS_SAMPLE: Record<Column["type"], [string, string]> = {
  text: ['"sample"', '"changed"'],
  integer: ["1", "2"],
  bigint: ["1", "2"],
  numeric: ['"1.5"', '"2.5"'],
  boolean: ["true", "false"],
  date: ['"2026-01-31"', '"2026-02-28"'],
  timestamptz: ['"2026-01-31T09:00:00Z"', '"2026-02-28T09:00:00Z"'],
  uuid: ['"00000000-0000-4000-8000-0000000000aa"', '"00000000-0000-4000-8000-0000000000bb"'],
  jsonb: ["{ sample: 1 }", "{ changed: 2 }"],
};

function sqlColumn(c: Column): string {
  return `  ${c.name} ${c.type}${c.notNull ? " not null" : ""}${c.default !== null ? ` default ${c.default}` : ""},\n`;
}

/** Everything `entity:new` would write, or EntityInputError; writes nothing. */
export function planEntity(options: EntityOptions): EntityPlan {
  const { workdir } = options;
  const project = options.target === "project";
  if (!existsSync(path.join(workdir, "supabase", "migrations"))) {
    throw new EntityInputError(
      `${workdir} has no supabase/migrations: run ${project ? "supabase-org-layer entity" : "entity:new"} in the project's root`,
    );
  }
  if (project) {
    const manifest = readManifest(workdir);
    if (!manifest) {
      throw new EntityInputError(
        `${workdir} has no ${MANIFEST_FILE}: install the layer first (supabase-org-layer init), its tables come from its migrations`,
      );
    }
    // The table is generated for this version of the layer: its migration calls what the newest migrations define.
    const pending = pendingMigrations(manifest);
    if (pending.length) {
      throw new EntityInputError(
        `the project lacks ${pending.length} of this version's migrations (${pending.at(-1)} the newest): run \`supabase-org-layer upgrade\` first, then this command (a table generated now relies on them)`,
      );
    }
  }
  const out = project ? outFolder(workdir, options.out ?? "src") : "";
  const names = entityNames(options.name, workdir, options.assignable === true);
  const columns = parseColumns(options.columns ?? DEFAULT_COLUMNS);
  const assignable = Boolean(options.assignable);
  if (columns.some((c) => c.name === names.idCol || c.name === "user_id")) {
    throw new EntityInputError(
      `--columns: ${names.idCol} and user_id are names the assignment table uses; choose another column name`,
    );
  }
  const version = migrationVersion(workdir, options.now);
  const number = pgTapNumber(workdir);
  const given = `${names.name}${assignable ? " --assignable" : ""}${options.columns !== undefined ? ` --columns "${options.columns.replace(/\s+/g, " ").trim()}"` : ""}`;
  // Quoted in the generated files' comments: a command that would end a comment is named by its table only.
  const command = given.includes("*/") ? names.name : given;
  const required = columns.filter((c) => c.notNull && c.default === null);
  const optional = columns.filter((c) => !(c.notNull && c.default === null));
  const first = columns[0]!;
  const firstCamel = camel(first.name);
  const tsSample = (list: Column[]) => list.map((c) => `${camel(c.name)}: ${TS_SAMPLE[c.type][0]}`).join(", ");
  const patchExpect =
    first.type === "timestamptz"
      ? `expect(new Date(updated.${firstCamel}!).getTime()).toBe(new Date(${TS_SAMPLE[first.type][1]}).getTime());`
      : first.type === "jsonb"
        ? `expect(updated.${firstCamel}).toEqual(${TS_SAMPLE[first.type][1]});`
        : `expect(updated.${firstCamel}).toBe(${TS_SAMPLE[first.type][1]});`;
  const cases = pgTapCases(names, columns, assignable, number);
  const migrationFile = `supabase/migrations/${version}_${names.name}.sql`;
  const vars: Record<string, string | boolean> = {
    ...(names as unknown as Record<string, string>),
    assignable,
    project,
    madeBy: project ? `supabase-org-layer entity ${command}` : `npm run entity:new -- ${command}`,
    migrationFile,
    tableModule: project ? `./${names.name}.table.js` : `./schema/${names.name}.table.ts`,
    membersModule: project ? "supabase-org-layer/schema/members.table" : "./schema/members.table.ts",
    ...(project ? drizzleTable(names, columns, assignable) : {}),
    command,
    slug: names.name.replaceAll("_", "-"),
    columnDefs: columns.map(sqlColumn).join(""),
    columnComments: columns
      .map(
        (c) =>
          `comment on column public.${names.name}.${c.name} is '${c.name}: ${c.type}${c.notNull ? ", not null" : ""}${c.default !== null ? `, default ${c.default.replaceAll("'", "''")}` : ""}.';\n`,
      )
      .join(""),
    insertColumns: columns.map((c) => `, ${c.name}`).join(""),
    insertValues: columns.map((c) => `, ${SQL_SAMPLE[c.type]}`).join(""),
    updateColumns: columns.map((c) => c.name).join(", "),
    readRoles: assignable ? "owner, admin, manager, viewer" : "owner, admin, manager, member, viewer",
    createRoles: assignable ? "owner, admin, manager, member" : "owner, admin, manager",
    zodRefine: columns
      .map((c) => `  ${camel(c.name)}: () => ${ZOD[c.type]}${c.notNull ? "" : ".nullable()"},\n`)
      .join(""),
    pickList: columns.map((c) => `${camel(c.name)}: true`).join(", "),
    optionalPartial: optional.length
      ? `\n  .partial({ ${optional.map((c) => `${camel(c.name)}: true`).join(", ")} })`
      : "",
    insertableMap: columns.map((c) => `  ${camel(c.name)}: ${names.camel}.${camel(c.name)},\n`).join(""),
    sampleInput: tsSample(required.length ? required : [first]),
    patchInput: `${firstCamel}: ${TS_SAMPLE[first.type][1]}`,
    patchExpect,
    planValues: columns.map((c) => `${c.name}: ${JSON.stringify(SQL_SAMPLE[c.type])}`).join(", "),
    plan: String(cases.count),
  };
  const pgtap = `${render(template("pgtap-header.sql.tmpl"), vars)}${cases.body}\n\nselect * from finish();\nrollback;\n`;
  const file = (at: string, name: string): EntityFile => ({ path: at, content: render(template(name), vars) });
  const sqlFiles: EntityFile[] = [
    file(migrationFile, "migration.sql.tmpl"),
    { path: `supabase/tests/database/${String(number).padStart(3, "0")}_${names.name}.test.sql`, content: pgtap },
  ];
  // A project gets the module and its helpers; this repository also their vitest suite and plan guard.
  const tsFiles = project
    ? [file(`${out}/${names.name}.table.ts`, "table.ts.tmpl"), file(`${out}/${names.name}.ts`, "helpers.ts.tmpl")]
    : [
        file(`src/schema/${names.name}.table.ts`, "table.ts.tmpl"),
        file(`src/${names.name}.ts`, "helpers.ts.tmpl"),
        file(`src/${names.name}.test.ts`, "helpers.test.ts.tmpl"),
        file(`tests/plans/${names.name}.plan.test.ts`, "plan.test.ts.tmpl"),
      ];
  return { names, columns, assignable, files: [...sqlFiles, ...tsFiles] };
}

/** Format the TypeScript files as this repository does (prettier, printWidth 120), where prettier is installed. */
export async function formatFiles(files: EntityFile[]): Promise<EntityFile[]> {
  // prettier is a development dependency: a project without it gets the files as rendered.
  const prettier = await import("prettier").catch(() => null);
  if (!prettier) return files;
  return Promise.all(
    files.map(async (f) =>
      f.path.endsWith(".ts")
        ? { ...f, content: await prettier.format(f.content, { parser: "typescript", printWidth: 120 }) }
        : f,
    ),
  );
}

/** Write the files; refuses to overwrite any. Returns the absolute paths written. */
export function writeFiles(workdir: string, files: EntityFile[]): string[] {
  for (const f of files)
    if (existsSync(path.join(workdir, f.path)))
      throw new EntityInputError(`${f.path} exists already; nothing was written`);
  const written: string[] = [];
  for (const f of files) {
    const file = path.join(workdir, f.path);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, f.content, { flag: "wx" });
    written.push(file);
  }
  return written;
}

/** Remove files written by writeFiles. */
export function removeFiles(written: string[]): void {
  for (const file of written) rmSync(file, { force: true });
}

/** `--out`, relative to the workdir and inside it. */
function outFolder(workdir: string, out: string): string {
  const relative = path.relative(workdir, path.resolve(workdir, out)).split(path.sep).join("/");
  if (relative === "" || relative.startsWith("..") || path.isAbsolute(relative))
    throw new EntityInputError(`--out ${out}: give a folder inside the project (e.g. src or src/db)`);
  return relative;
}

/** Drizzle's builder of each type of the grammar, with the options the zod rules above expect. */
const DRIZZLE: Record<Column["type"], { builder: string; options?: string }> = {
  text: { builder: "text" },
  integer: { builder: "integer" },
  bigint: { builder: "bigint", options: '{ mode: "number" }' },
  numeric: { builder: "numeric" },
  boolean: { builder: "boolean" },
  date: { builder: "date", options: '{ mode: "string" }' },
  timestamptz: { builder: "timestamp", options: '{ withTimezone: true, mode: "string" }' },
  uuid: { builder: "uuid" },
  jsonb: { builder: "jsonb" },
};

/**
 * The Drizzle tables of a project's entity, written from its columns as
 * drizzle-kit would pull them from the migration (repository targets take
 * them from the generated schema instead).
 */
function drizzleTable(names: EntityNames, columns: Column[], assignable: boolean): Record<string, string> {
  const column = (name: string, type: Column["type"]) => {
    const { builder, options } = DRIZZLE[type];
    const args = [camel(name) === name ? "" : JSON.stringify(name), options ?? ""].filter(Boolean).join(", ");
    return `pg.${builder}(${args})`;
  };
  const stamp = (name: string) => `${column(name, "timestamptz")}.defaultNow().notNull()`;
  const own = columns.map(
    (c) =>
      `  ${camel(c.name)}: ${column(c.name, c.type)}${c.default !== null ? `.default(sql.raw(${JSON.stringify(c.default)}))` : ""}${c.notNull ? ".notNull()" : ""},\n`,
  );
  let definition =
    `export const ${names.camel} = pg.pgTable(${JSON.stringify(names.name)}, {\n` +
    `  id: pg.uuid().defaultRandom().primaryKey().notNull(),\n` +
    `  organizationId: pg.uuid("organization_id").notNull(),\n` +
    own.join("") +
    `  createdBy: pg.uuid("created_by").default(sql\`auth.uid()\`),\n` +
    `  createdAt: ${stamp("created_at")},\n` +
    `  updatedAt: ${stamp("updated_at")},\n` +
    `});\n`;
  if (assignable)
    definition +=
      `export const ${names.assignCamel} = pg.pgTable(${JSON.stringify(names.assignTable)}, {\n` +
      `  organizationId: pg.uuid("organization_id").notNull(),\n` +
      `  userId: pg.uuid("user_id").notNull(),\n` +
      `  ${names.idCamel}: pg.uuid(${JSON.stringify(names.idCol)}).notNull(),\n` +
      `  createdAt: ${stamp("created_at")},\n` +
      `});\n`;
  return { tableDefinition: definition };
}

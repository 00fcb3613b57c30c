/**
 * `entity:new`: scaffold an organization-scoped table and everything that
 * goes with it, from the templates in ./templates. The logic takes a workdir
 * (the project's root), so that any command can call it:
 *
 *   1. validate the name and the columns (nothing is written when they are refused);
 *   2. write the new files: a migration, a numbered pgTAP threat file, the
 *      Drizzle/zod module, the helpers, their vitest suite and a plan guard;
 *   3. regenerate the Drizzle schema and the supabase-js types from a scratch
 *      database built from the migrations (on the server the caller names, or
 *      the local one, started when it is not running).
 *
 * Hand-written files are never changed; when a later step fails, the files
 * written are removed again.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as prettier from "prettier";
import { COLUMN_TYPES, EntityInputError, parseColumns, type Column } from "./columns.ts";
import { entityNames, type EntityNames } from "./names.ts";
import { pgTapCases, SQL_SAMPLE } from "./pgtap.ts";

export { EntityInputError };

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
  let out = template.replace(
    /\{\{([#^])(\w+)\}\}([\s\S]*?)\{\{\/\2\}\}/g,
    (_m, kind: string, flag: string, body: string) => {
      if (!(flag in vars)) throw new Error(`template flag ${flag} is not defined`);
      return Boolean(vars[flag]) === (kind === "#") ? body : "";
    },
  );
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

const camel = (snake: string) => snake.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());

/** zod for each type of the grammar (values as drizzle-kit maps them: numeric, date and timestamptz as strings). */
const ZOD: Record<Column["type"], string> = {
  text: "text()",
  integer: "z.number().int().min(-2147483648).max(2147483647)",
  bigint: "z.number().int().min(Number.MIN_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER)",
  numeric: 'z.string().regex(/^-?\\d+(\\.\\d+)?$/, "a decimal number, e.g. 12.50")',
  boolean: "z.boolean()",
  date: "z.iso.date()",
  timestamptz: "z.iso.datetime({ offset: true })",
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
  if (!existsSync(path.join(workdir, "supabase", "migrations"))) {
    throw new EntityInputError(`${workdir} has no supabase/migrations: run entity:new in the project's root`);
  }
  const names = entityNames(options.name, workdir);
  const columns = parseColumns(options.columns ?? DEFAULT_COLUMNS);
  const assignable = Boolean(options.assignable);
  if (columns.some((c) => c.name === names.idCol || c.name === "user_id")) {
    throw new EntityInputError(
      `--columns: ${names.idCol} and user_id are names the assignment table uses; choose another column name`,
    );
  }
  const version = migrationVersion(workdir, options.now);
  const number = pgTapNumber(workdir);
  const command = `${names.name}${assignable ? " --assignable" : ""}${options.columns !== undefined ? ` --columns "${options.columns.replace(/\s+/g, " ").trim()}"` : ""}`;
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
  const vars: Record<string, string | boolean> = {
    ...(names as unknown as Record<string, string>),
    assignable,
    command: command.includes("*/") ? names.name : command,
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
  return {
    names,
    columns,
    assignable,
    files: [
      {
        path: `supabase/migrations/${version}_${names.name}.sql`,
        content: render(template("migration.sql.tmpl"), vars),
      },
      { path: `supabase/tests/database/${number}_${names.name}.test.sql`, content: pgtap },
      { path: `src/schema/${names.name}.table.ts`, content: render(template("table.ts.tmpl"), vars) },
      { path: `src/${names.name}.ts`, content: render(template("helpers.ts.tmpl"), vars) },
      { path: `src/${names.name}.test.ts`, content: render(template("helpers.test.ts.tmpl"), vars) },
      { path: `tests/plans/${names.name}.plan.test.ts`, content: render(template("plan.test.ts.tmpl"), vars) },
    ],
  };
}

/** Format the TypeScript files as the project does (prettier, printWidth 120). */
export async function formatFiles(files: EntityFile[]): Promise<EntityFile[]> {
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

export { COLUMN_TYPES };

export interface RunOptions extends EntityOptions {
  /**
   * A server to build the scratch database on (its maintenance database's
   * URL, as `postgres`). Without it, the local database (DATABASE_URL or the
   * default) is used, and started when it is not running.
   */
  serverUrl?: string;
  log?: (message: string) => void;
}

/** The local server's maintenance URL, started when it is not running (said in the log). */
async function localServer(log: (m: string) => void): Promise<string> {
  const { local, startCluster } = await import("../../tooling/server/local.ts");
  const { adminUrlFor } = await import("../../tooling/server/sql.ts");
  const here = await local();
  const running = here.cluster.runningPort() !== null;
  if (!running)
    log(`the local database is not running: starting it on port ${here.target.port} (stop it with npm run db:stop)`);
  await startCluster(here);
  return adminUrlFor(here.target.url);
}

/** Regenerate the Drizzle schema and supabase-js types of `workdir` from a scratch database built from its migrations. */
export async function regenerate(
  workdir: string,
  serverUrl: string,
  log: (m: string) => void = () => {},
): Promise<void> {
  const { randomBytes } = await import("node:crypto");
  const { applyBaseline, applyMigrations } = await import("../../tooling/build/database.ts");
  const { createDatabase, dropDatabase } = await import("../../tooling/server/sql.ts");
  const { withDatabase } = await import("../../tooling/server/config.ts");
  const { generate, writeGenerated } = await import("../../tooling/build/codegen.ts");
  const scratch = `entity_codegen_${randomBytes(4).toString("hex")}`;
  await createDatabase(serverUrl, scratch);
  try {
    const url = withDatabase(serverUrl, scratch);
    log(`building a scratch database (${scratch}) from the migrations`);
    await applyBaseline(url);
    await applyMigrations(url, workdir);
    log("drizzle-kit pull, supabase gen types typescript");
    writeGenerated(await generate(url), workdir);
  } finally {
    await dropDatabase(serverUrl, scratch);
  }
}

/** The whole command: plan (or refuse), write, regenerate; on failure the new files are removed. */
export async function runEntityNew(options: RunOptions): Promise<EntityPlan> {
  const log = options.log ?? (() => {});
  const plan = planEntity(options);
  const files = await formatFiles(plan.files);
  const written = writeFiles(options.workdir, files);
  try {
    for (const f of files) log(`wrote ${f.path}`);
    const serverUrl = options.serverUrl ?? (await localServer(log));
    await regenerate(options.workdir, serverUrl, log);
    log("regenerated src/schema/generated/schema.ts, src/schema/generated/relations.ts, src/types/database.types.ts");
  } catch (error) {
    removeFiles(written);
    log("removed the files written: the migration did not apply, or the types could not be regenerated");
    throw error;
  }
  return { ...plan, files };
}

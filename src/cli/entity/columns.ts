/**
 * The `--columns` grammar of `entity:new`, deliberately small:
 *
 *   column  := name type [not null] [default literal]
 *   type    := text | integer | bigint | numeric | boolean | date | timestamptz | uuid | jsonb
 *   columns := column ("," column)*
 *
 * Names are lowercase snake_case identifiers that are no SQL keyword and none
 * of the columns every generated table has. A default is a literal of the
 * column's type (or now() / gen_random_uuid()); anything else is refused.
 */

export const COLUMN_TYPES = [
  "text",
  "integer",
  "bigint",
  "numeric",
  "boolean",
  "date",
  "timestamptz",
  "uuid",
  "jsonb",
] as const;
export type ColumnType = (typeof COLUMN_TYPES)[number];

export interface Column {
  name: string;
  type: ColumnType;
  notNull: boolean;
  /** The default as SQL, validated for the type. */
  default: string | null;
}

export class EntityInputError extends Error {
  override name = "EntityInputError";
}

/** Columns every generated table has. */
export const BUILT_IN_COLUMNS = ["id", "organization_id", "created_by", "created_at", "updated_at"];

/**
 * SQL keywords that cannot (or should not) name a table or column unquoted:
 * PostgreSQL's reserved words plus the type and function-like names.
 */
export const SQL_KEYWORDS = new Set(
  (
    "all analyse analyze and any array as asc asymmetric authorization between bigint binary bit boolean both case cast char character check " +
    "coalesce collate collation column concurrently constraint create cross current_catalog current_date current_role current_schema " +
    "current_time current_timestamp current_user dec decimal default deferrable desc distinct do else end except exists extract false " +
    "fetch float for foreign freeze from full grant greatest group grouping having ilike in initially inner inout int integer intersect " +
    "interval into is isnull join json lateral leading least left like limit localtime localtimestamp national natural nchar none normalize " +
    "not notnull null nullif numeric offset on only or order out outer overlaps overlay placing position precision primary real references " +
    "returning right row select session_user setof similar smallint some substring symmetric system_user table tablesample then time " +
    "timestamp to trailing treat trim true union unique user using values varchar variadic verbose when where window with xmlattributes " +
    "xmlconcat xmlelement xmlexists xmlforest xmlnamespaces xmlparse xmlpi xmlroot xmlserialize xmltable"
  ).split(" "),
);

/** snake_case: words of lowercase letters and digits joined by single underscores. */
const IDENT = /^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$/;

/** Split on commas outside single quotes and parentheses (numeric(10,2) stays one piece, to be named whole). */
function splitColumns(text: string): string[] {
  const parts: string[] = [];
  let current = "";
  let quoted = false;
  let depth = 0;
  for (const ch of text) {
    if (ch === "'") quoted = !quoted;
    if (!quoted && ch === "(") depth++;
    if (!quoted && ch === ")") depth = Math.max(0, depth - 1);
    if (ch === "," && !quoted && depth === 0) {
      parts.push(current);
      current = "";
    } else current += ch;
  }
  if (quoted) throw new EntityInputError(`--columns: a quoted default is not closed: ${text}`);
  parts.push(current);
  return parts.map((p) => p.trim());
}

const QUOTED = /^'((?:[^']|'')*)'$/;

/** A timestamp with its offset: ISO 8601, or PostgreSQL's own text (a space, `+00`), as the helpers return it. */
export const TIMESTAMP_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}(:?\d{2})?)$/;

/** YYYY-MM-DD naming a day of the calendar (Date.parse takes 2026-02-31 for March 3rd). */
function isCalendarDate(text: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!m) return false;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

/** How a column is named in TypeScript (drizzle-kit pull's camel casing). */
/**
 * A snake_case name as drizzle-kit pull spells it in TypeScript (the camelcase
 * package): each letter after an underscore or after digits is upper-cased
 * (line2name: line2Name).
 */
export const camelName = (snake: string) =>
  snake.replace(/_+([a-z0-9])/g, (_m, c: string) => c.toUpperCase()).replace(/\d+[a-z0-9_]/g, (m) => m.toUpperCase());

/** Names every object already has in JavaScript: as a row's property they would not type-check. */
const OBJECT_PROPERTIES = new Set(Object.getOwnPropertyNames(Object.prototype));

/** The default literal as SQL for its type, or an error saying what the type accepts. */
export function defaultLiteral(type: ColumnType, literal: string, column: string): string {
  const bad = (accepts: string): never => {
    throw new EntityInputError(`--columns: the default of ${column} (${type}) must be ${accepts}; got: ${literal}`);
  };
  const quoted = QUOTED.exec(literal)?.[1]?.replaceAll("''", "'");
  switch (type) {
    case "text":
      if (quoted === undefined || quoted.includes("\u0000")) bad("a quoted string, e.g. 'open'");
      return literal;
    case "integer":
    case "bigint": {
      if (!/^-?\d{1,19}$/.test(literal)) bad("a whole number, e.g. 0");
      const n = BigInt(literal);
      // bigint columns are numbers in TypeScript (mode "number"): beyond 2^53 they would come back changed.
      const [low, high] = type === "integer" ? [-(2n ** 31n), 2n ** 31n - 1n] : [-(2n ** 53n - 1n), 2n ** 53n - 1n];
      if (n < low || n > high)
        bad(
          type === "integer"
            ? "a whole number within the range of integer"
            : "a whole number JavaScript holds exactly (at most 9007199254740991 either way)",
        );
      return literal;
    }
    case "numeric":
      if (!/^-?\d{1,30}(\.\d{1,30})?$/.test(literal)) bad("a decimal number, e.g. 0 or 12.50");
      return literal;
    case "boolean":
      if (literal !== "true" && literal !== "false") bad("true or false");
      return literal;
    case "date":
      if (quoted === undefined || !isCalendarDate(quoted)) bad("a quoted date of the calendar, e.g. '2026-01-31'");
      return `${literal}::date`;
    case "timestamptz":
      if (literal === "now()") return literal;
      if (
        quoted === undefined ||
        !TIMESTAMP_WITH_OFFSET.test(quoted) ||
        !isCalendarDate(quoted.slice(0, 10)) ||
        Number.isNaN(Date.parse(quoted.replace(" ", "T")))
      )
        bad("now() or a quoted timestamp with its offset, e.g. '2026-01-31T09:00:00Z'");
      return `${literal}::timestamptz`;
    case "uuid":
      if (literal === "gen_random_uuid()") return literal;
      if (quoted === undefined || !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(quoted))
        bad("gen_random_uuid() or a quoted lowercase uuid");
      return `${literal}::uuid`;
    case "jsonb":
      try {
        if (quoted === undefined) throw new Error("not quoted");
        JSON.parse(quoted);
      } catch {
        bad(`a quoted JSON value, e.g. '{}'`);
      }
      return `${literal}::jsonb`;
  }
}

/** The columns PostgreSQL gives every table itself: a table cannot have another of that name. */
const SYSTEM_COLUMNS = new Set(["tableoid", "xmin", "cmin", "xmax", "cmax", "ctid"]);

/** Parse a --columns list; throws EntityInputError with the reason. */
export function parseColumns(text: string): Column[] {
  if (text.trim() === "")
    throw new EntityInputError('--columns is empty: give at least one column, e.g. --columns "title text not null"');
  const columns: Column[] = [];
  for (const part of splitColumns(text)) {
    if (part === "") throw new EntityInputError(`--columns: an empty column definition in: ${text}`);
    const m = /^([^\s]+)\s+([^\s]+)((?:\s+not\s+null)?)(?:\s+default\s+(.+))?$/i.exec(part);
    if (!m) throw new EntityInputError(`--columns: "${part}" is not <name> <type> [not null] [default <literal>]`);
    const [, name, rawType, notNull, literal] = m;
    if (!IDENT.test(name!) || name!.length > 40)
      throw new EntityInputError(
        `--columns: "${name}" is not a column name (snake_case: lowercase letters and digits in words joined by single _, starting with a letter, at most 40 characters)`,
      );
    if (BUILT_IN_COLUMNS.includes(name!))
      throw new EntityInputError(
        `--columns: ${name} is a column every generated table has already (${BUILT_IN_COLUMNS.join(", ")})`,
      );
    if (SQL_KEYWORDS.has(name!))
      throw new EntityInputError(`--columns: ${name} is an SQL keyword; choose another column name`);
    if (SYSTEM_COLUMNS.has(name!))
      throw new EntityInputError(
        `--columns: ${name} is a system column of every PostgreSQL table; choose another column name`,
      );
    if (columns.some((c) => c.name === name)) throw new EntityInputError(`--columns: ${name} is given twice`);
    const twin = columns.find((c) => camelName(c.name) === camelName(name!));
    if (twin)
      throw new EntityInputError(
        `--columns: ${twin.name} and ${name} are one name in TypeScript (${camelName(name!)}); choose another column name`,
      );
    if (OBJECT_PROPERTIES.has(camelName(name!)))
      throw new EntityInputError(
        `--columns: ${name} is a property every JavaScript object has (${camelName(name!)}); choose another column name`,
      );
    const type = rawType!.toLowerCase() as ColumnType;
    if (!COLUMN_TYPES.includes(type))
      throw new EntityInputError(`--columns: ${name} has type "${rawType}"; the types are ${COLUMN_TYPES.join(", ")}`);
    const value = literal?.trim();
    columns.push({
      name: name!,
      type,
      notNull: Boolean(notNull?.trim()),
      default: value === undefined ? null : defaultLiteral(type, value, name!),
    });
  }
  return columns;
}

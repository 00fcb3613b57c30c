/**
 * Migrations as PostgreSQL reads them: the server's own parser (libpg-query,
 * PostgreSQL's grammar compiled to WebAssembly) splits a migration into its
 * statements, so what `init`, `upgrade`, `doctor` and `entity` learn of a
 * migration comes from its statements, never from words inside a string, a
 * function's body or a comment. Supabase hosts PostgreSQL 15 and 17: a
 * migration is read with 17's grammar, else with 15's (17 reserves words 15
 * lets a project use as names, such as `system_user` or `json_object`).
 * The statements a `DO` block runs are read too (below).
 */
import { hasSqlDetails, loadModule, parseSync, type Node, type ParseResult } from "libpg-query";
import { loadModule as loadModule15, parseSync as parseSync15 } from "libpg-query-15";

await Promise.all([loadModule(), loadModule15()]);

/** A migration PostgreSQL would refuse to parse, or one the parser could not read (its file, line and why). */
export class SqlSyntaxError extends Error {}

/** One statement: its node type (`CreateStmt`, `DropStmt`, ...) and its fields. */
export interface Statement {
  type: string;
  fields: Record<string, unknown>;
}

/** A node's type and fields: `{ CreateStmt: {...} }` is `["CreateStmt", {...}]`. */
export function unwrap(node: Node | undefined): Statement {
  const [type, fields] = Object.entries(node ?? {})[0] ?? ["", {}];
  return { type, fields: fields as Record<string, unknown> };
}

/** The parse of a text by PostgreSQL 17's grammar, else 15's; throws 17's error when neither parses it. */
function parseEither(sql: string): ParseResult {
  try {
    return parseSync(sql) as ParseResult;
  } catch (error) {
    // Not a syntax error: the module gave up (a text too large); 15's would too.
    if (!(error instanceof Error)) throw error;
    try {
      return parseSync15(sql) as ParseResult;
    } catch {
      throw error;
    }
  }
}

/** The statements of a SQL text, in order (a `DO` block's own among them); SqlSyntaxError when it does not parse. */
export function statements(sql: string, file: string): Statement[] {
  let parsed: ParseResult;
  try {
    parsed = parseEither(sql);
  } catch (error) {
    if (!(error instanceof Error)) {
      // The WebAssembly module gave up (it aborts on a text too large for its memory).
      const why = (error as { message?: unknown } | null)?.message;
      throw new SqlSyntaxError(
        `${file}: PostgreSQL's parser could not read it (${typeof why === "string" ? why : "it gave up"}); is it very large?`,
        { cause: error },
      );
    }
    // The position counts characters (code points); slice() counts UTF-16 units.
    const at = hasSqlDetails(error) ? error.sqlDetails.cursorPosition : undefined;
    const line = at === undefined ? "" : ` (line ${[...sql].slice(0, at).join("").split("\n").length})`;
    throw new SqlSyntaxError(`${file}${line}: ${error.message}: PostgreSQL would refuse this migration`, {
      cause: error,
    });
  }
  return (parsed.stmts ?? []).flatMap((raw) => {
    const statement = unwrap(raw.stmt);
    return statement.type === "DoStmt" ? doBlockStatements(statement) : [statement];
  });
}

/**
 * A PL/pgSQL body split at its semicolons: those outside strings ('...',
 * $tag$...$tag$, so a function a block defines stays whole) and comments,
 * which are left out.
 */
function splitPlpgsql(body: string): string[] {
  const pieces: string[] = [];
  let current = "";
  let i = 0;
  while (i < body.length) {
    const rest = body.slice(i);
    if (rest.startsWith("--")) {
      i += /^--[^\n]*/.exec(rest)![0].length;
      current += " ";
      continue;
    }
    if (rest.startsWith("/*")) {
      const close = rest.indexOf("*/", 2);
      i += close < 0 ? rest.length : close + 2;
      current += " ";
      continue;
    }
    const dollar = /^\$[A-Za-z_]*\$/.exec(rest)?.[0];
    let token = rest[0]!;
    if (token === "'") token = /^'(?:[^']|'')*'?/.exec(rest)![0];
    else if (dollar) {
      const close = rest.indexOf(dollar, dollar.length);
      token = close < 0 ? rest : rest.slice(0, close + dollar.length);
    }
    if (token === ";") {
      pieces.push(current);
      current = "";
    } else current += token;
    i += token.length;
  }
  pieces.push(current);
  return pieces;
}

/**
 * The statements a `DO` block runs that the parser can read on their own:
 * its PL/pgSQL body split at its semicolons (splitPlpgsql), each piece
 * without the block's keywords before it (BEGIN, EXCEPTION WHEN ... THEN,
 * IF ... THEN, CASE, FOR ... LOOP, ...), and the text of an `EXECUTE` of a
 * string literal. drizzle-kit, for one, creates enum types in `DO $$ BEGIN
 * CREATE TYPE ...; EXCEPTION WHEN duplicate_object THEN null; END $$`. A
 * piece that does not parse (a PL/pgSQL statement) is left out; a statement
 * in a branch counts as if it ran.
 */
function doBlockStatements(block: Statement): Statement[] {
  const body = ((block.fields.args ?? []) as Node[])
    .map(unwrap)
    .filter((option) => option.fields.defname === "as")
    .map((option) => unwrap(option.fields.arg as Node).fields.sval)
    .find((text): text is string => typeof text === "string");
  if (!body) return [];
  const keywords =
    /^\s*(?:<<\w+>>|declare\b[\s\S]*?\bbegin\b|begin\b|else\b|loop\b|case\b|end\s+(?:if|loop|case)\b|end\b|(?:for|while)\b[\s\S]*?\bloop\b|(?:exception\s+)?when\b[\s\S]*?\bthen\b|(?:elsif|elseif|if)\b[\s\S]*?\bthen\b)/i;
  return splitPlpgsql(body).flatMap((piece) => {
    let text = piece;
    for (let stripped = text.replace(keywords, ""); stripped !== text; stripped = text.replace(keywords, ""))
      text = stripped;
    const quoted = /^\s*execute\s+'((?:[^']|'')*)'(?:\s+using\b[\s\S]*)?\s*$/i.exec(text);
    const dollared = /^\s*execute\s+\$([A-Za-z_]*)\$([\s\S]*)\$\1\$(?:\s+using\b[\s\S]*)?\s*$/i.exec(text);
    if (quoted) text = quoted[1]!.replace(/''/g, "'");
    else if (dollared) text = dollared[2]!;
    if (!text.trim()) return [];
    try {
      return (parseEither(text).stmts ?? []).map((raw) => unwrap(raw.stmt));
    } catch {
      return [];
    }
  });
}

/** The text of each `String` node of a list (a qualified name's parts, a function's name). */
export function names(list: unknown): string[] {
  if (!Array.isArray(list)) return [];
  return list.flatMap((item: Node) => {
    const { type, fields } = unwrap(item);
    return type === "String" && typeof fields.sval === "string" ? [fields.sval] : [];
  });
}

/** A qualified name's schema (`public` when it names none) and name, from its parts. */
export function qualified(parts: string[]): { schema: string; name: string } {
  return { schema: parts.length > 1 ? parts.at(-2)! : "public", name: parts.at(-1) ?? "" };
}

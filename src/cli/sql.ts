/**
 * Migrations as PostgreSQL reads them: the server's own parser (libpg-query,
 * PostgreSQL 17's grammar compiled to WebAssembly) splits a migration into
 * its statements, so what `init`, `upgrade`, `doctor` and `entity` learn of a
 * migration comes from its statements, never from words inside a string, a
 * function's body or a comment.
 */
import { hasSqlDetails, loadModule, parseSync, type Node, type ParseResult } from "libpg-query";

await loadModule();

/** A migration PostgreSQL would refuse to parse (its file, line and the parser's message). */
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

/** The statements of a SQL text, in order; SqlSyntaxError (naming `file` and the line) when it does not parse. */
export function statements(sql: string, file: string): Statement[] {
  let parsed: ParseResult;
  try {
    parsed = parseSync(sql) as ParseResult;
  } catch (error) {
    const at = hasSqlDetails(error) ? error.sqlDetails.cursorPosition : undefined;
    const line = at === undefined ? "" : ` (line ${sql.slice(0, at).split("\n").length})`;
    throw new SqlSyntaxError(
      `${file}${line}: ${error instanceof Error ? error.message : String(error)}: PostgreSQL would refuse this migration`,
      { cause: error },
    );
  }
  return (parsed.stmts ?? []).map((raw) => unwrap(raw.stmt));
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

/**
 * What a unit of work sets on its connection, read outside any transaction:
 * the role, the claims (`request.jwt.claims` and the legacy
 * `request.jwt.claim.*` that `auth.uid()` reads first), `auth.uid()` itself,
 * and the role settings the preamble applies (statement_timeout, ...). After
 * a unit, a connection must read exactly as one that never ran a unit.
 */
import type postgres from "postgres";
import { USER_SETTINGS } from "../../src/postgrest.ts";

export type SessionState = Record<string, string>;

const CLAIMS = ["request.jwt.claims", "request.jwt.claim.sub", "request.jwt.claim.role", "request.jwt.claim.email"];

const QUERY = `select current_user as "current_user", current_setting('role') as "role",
  coalesce(auth.uid()::text, '') as "auth.uid()",
  ${[...CLAIMS, "request.jwt.claim", ...USER_SETTINGS]
    .map((name) => `coalesce(current_setting('${name}', true), '') as "${name}"`)
    .join(",\n  ")}`;

/** The connection's state, as a unit could have left it (run on the login role's client, outside a transaction). */
export async function sessionState(login: postgres.Sql): Promise<SessionState> {
  const [row] = await login.unsafe<SessionState[]>(QUERY);
  return { ...row! };
}

/**
 * The statement PostgREST runs first in every request's transaction, in one
 * place: the typed layer's units of work, the benchmark and the plan guards
 * all run it from here, so they all measure and check what the API runs.
 */
import type postgres from "postgres";

/**
 * Set the role and the request's claims for the current transaction only
 * (set_config(..., true)), both as parameters, never spliced into SQL text.
 * Run it right after BEGIN; nothing of it survives the transaction.
 */
export function postgrestPreamble(
  sql: postgres.Sql | postgres.TransactionSql,
  role: string,
  claims: object,
): postgres.PendingQuery<postgres.Row[]> {
  return sql`select set_config('role', ${role}, true), set_config('request.jwt.claims', ${JSON.stringify(claims)}, true)`;
}

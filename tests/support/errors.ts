/** Assertions on the typed errors of the query layer. */
import { expect } from "vitest";
import type { DatabaseError } from "../../src/errors.ts";

type ErrorClass<E extends DatabaseError> = abstract new (...args: never[]) => E;

/**
 * Await a promise that must reject with an instance of `kind`; check the
 * Postgres code it carries (`undefined` for input refused before the
 * database). Returns the error for further checks.
 */
export async function expectError<E extends DatabaseError>(
  promise: Promise<unknown>,
  kind: ErrorClass<E>,
  code: string | undefined,
): Promise<E> {
  const outcome = await promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  if (outcome.ok)
    throw new Error(
      `expected ${kind.name} (${code ?? "no code"}), but it resolved with ${JSON.stringify(outcome.value)}`,
    );
  const error = outcome.error as E;
  expect(error, `${(error as Error)?.name}: ${(error as Error)?.message}`).toBeInstanceOf(kind);
  expect(error.code, `${error.name}: ${error.message}`).toBe(code);
  return error;
}

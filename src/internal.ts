/** Shared plumbing of the entity modules: input parsing and error typing. */
import { z } from "zod";
import { ForbiddenError, NotFoundError, ValidationError, toTypedError } from "./errors.ts";

/**
 * Parse input with a zod schema, or throw ValidationError with zod's issues
 * (nothing is written). `what` opens the message ("invalid input", "invalid
 * claims"); the first issue, with its path, follows it. An input that throws
 * when read (a getter, a Proxy), which zod lets through, is a ValidationError too.
 */
export function parse<S extends z.ZodType>(schema: S, input: unknown, what = "invalid input"): z.output<S> {
  let result: z.ZodSafeParseResult<z.output<S>>;
  try {
    result = schema.safeParse(input);
  } catch (error) {
    throw new ValidationError(
      `${what}: it cannot be read (${error instanceof Error ? error.message : String(error)})`,
      { cause: error },
    );
  }
  if (!result.success) {
    const first = result.error.issues[0];
    const where = first?.path.length ? `${first.path.join(".")}: ` : "";
    throw new ValidationError(`${what}: ${where}${first?.message ?? "rejected"}`, { issues: result.error.issues });
  }
  return result.data;
}

/** A function given as an argument or option (a callback), or a ValidationError naming it. */
export function functionArgument<F>(what: string) {
  return z.custom<F>((value) => typeof value === "function", { message: `${what} must be a function` });
}

/** Run a database call, turning whatever it throws into a typed error. */
export async function guard<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw toTypedError(error);
  }
}

/** The only row, or NotFoundError (a row RLS hides is not found). */
export function one<T>(rows: T[], what: string): T {
  const row = rows[0];
  if (row === undefined) throw new NotFoundError(`${what} not found`, { code: "P0002" });
  return row;
}

/**
 * An update or delete that reached no row: the row is hidden (the `find`
 * lookup throws NotFoundError) or visible but not permitted (ForbiddenError).
 */
export async function refused(find: () => Promise<unknown>, permission: string, where: string): Promise<never> {
  await find();
  throw new ForbiddenError(`permission denied: ${permission} is required ${where}`, { code: "42501" });
}

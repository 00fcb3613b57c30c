/**
 * Building blocks for modules of your own tables (`supabase-org-layer/extend`):
 * what the helpers that `supabase-org-layer entity` writes into a project
 * import, and what hand-written helpers of the same kind may use.
 *
 * - `parse(schema, input)`: zod parsing that throws ValidationError;
 * - `guard(work)`: runs a database call and turns what it throws into a typed
 *   error with a stable `rule` (see `supabase-org-layer/errors`);
 * - `one(rows, what)`: the only row, or NotFoundError;
 * - `refused(find, permission, where)`: after an update or delete that reached
 *   no row, NotFoundError (hidden) or ForbiddenError (visible, not permitted);
 * - `id`, `pageSize`: the zod rules of ids and page sizes the layer uses;
 * - `Tx`: the transaction a unit of work hands to its callback.
 */
export { guard, one, parse, refused } from "./internal.ts";
export { id, pageSize } from "./schema/rules.ts";
export type { Tx } from "./unit-of-work.ts";

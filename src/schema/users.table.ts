/** users: the profile of an auth.users row. */
import { createSelectSchema, createUpdateSchema } from "drizzle-zod";
import { users } from "./generated/schema.ts";
import { trimmedText } from "./rules.ts";

export { users };
export type User = typeof users.$inferSelect;

export const userSelectSchema = createSelectSchema(users);
export const userUpdateSchema = createUpdateSchema(users, { fullName: () => trimmedText(1, 200).nullable() }).pick({
  fullName: true,
  avatarUrl: true,
});

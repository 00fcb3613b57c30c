/** Column types drizzle-kit cannot introspect on its own. */
import { customType } from "drizzle-orm/pg-core";

/** PostgreSQL `bytea`, as a Node Buffer. */
export const bytea = customType<{ data: Buffer; driverData: Buffer }>({
  dataType: () => "bytea",
});

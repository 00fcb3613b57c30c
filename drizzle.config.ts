/**
 * drizzle-kit is used only to introspect the live schema (`drizzle-kit pull`)
 * into a typed query layer: `npm run db:types` runs it against a database
 * built from the migrations and post-processes the output (see
 * tooling/build/codegen.ts). SQL migrations under supabase/migrations are the
 * single source of truth; drizzle-kit never generates migrations here.
 */
import { defineConfig } from "drizzle-kit";

export default defineConfig({
  dialect: "postgresql",
  out: process.env.DRIZZLE_OUT ?? "./src/schema/generated",
  schemaFilter: ["public"],
  dbCredentials: {
    url: process.env.DATABASE_URL ?? "postgresql://postgres:postgres@127.0.0.1:54330/postgres",
  },
  introspect: { casing: "camel" },
});

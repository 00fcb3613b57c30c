/** The Drizzle schema: introspected tables (generated/) and their relations. */
export * from "./generated/schema.ts";
export * from "./generated/relations.ts";

/** organizations: the tenant. */
import { createInsertSchema, createSelectSchema, createUpdateSchema } from "drizzle-zod";
import { z } from "zod";
import { organizations } from "./generated/schema.ts";
import { slug, trimmedText } from "./rules.ts";

export { organizations };
export type Organization = typeof organizations.$inferSelect;

const refine = { name: () => trimmedText(1, 100), slug: () => slug };

export const organizationSelectSchema = createSelectSchema(organizations);
export const organizationInsertSchema = createInsertSchema(organizations, refine).pick({ name: true, slug: true });
export const organizationUpdateSchema = createUpdateSchema(organizations, refine)
  .pick({ name: true, slug: true })
  // A key whose value is undefined sets nothing (Drizzle skips it, then throws "No values to set").
  .refine((patch) => Object.values(patch).some((value) => value !== undefined), "nothing to update");

export type OrganizationInput = z.input<typeof organizationInsertSchema>;
export type OrganizationPatch = z.input<typeof organizationUpdateSchema>;

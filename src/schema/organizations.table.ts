/** organizations: the tenant. */
import { createInsertSchema, createSelectSchema, createUpdateSchema } from "drizzle-zod";
import { z } from "zod";
import { organizations } from "./generated/schema.ts";
import { id, slug, trimmedText } from "./rules.ts";

export { organizations };
export type Organization = typeof organizations.$inferSelect;

const refine = { name: () => trimmedText(1, 100), slug: () => slug };

export const organizationSelectSchema = createSelectSchema(organizations);
export const organizationInsertSchema = createInsertSchema(organizations, refine).pick({ name: true, slug: true });
const organizationPatch = createUpdateSchema(organizations, refine).pick({ name: true, slug: true });
// A key whose value is undefined sets nothing (Drizzle skips it, then throws "No values to set").
const somethingToUpdate = (patch: { name?: unknown; slug?: unknown }) =>
  patch.name !== undefined || patch.slug !== undefined;
export const organizationUpdateSchema = organizationPatch.refine(somethingToUpdate, "nothing to update");

/** Which organization a helper acts on. */
export const organizationRef = z.object({ organizationId: id });
/** updateOrganization's input: the organization and what changes. */
export const organizationUpdateInput = organizationPatch
  .extend(organizationRef.shape)
  .refine(somethingToUpdate, "nothing to update");

export type OrganizationInput = z.input<typeof organizationInsertSchema>;
export type OrganizationPatch = z.input<typeof organizationUpdateSchema>;
export type OrganizationRef = z.input<typeof organizationRef>;
export type OrganizationUpdateInput = z.input<typeof organizationUpdateInput>;

/** clients and user_clients: an organization's customers and who works on them. */
import { createInsertSchema, createSelectSchema, createUpdateSchema } from "drizzle-zod";
import { z } from "zod";
import { clients, clientStatus, userClients } from "./generated/schema.ts";
import { email, freeText, id, pageSize, phone, trimmedText } from "./rules.ts";

export { clients, clientStatus, userClients };
export type Client = typeof clients.$inferSelect;
export type ClientStatus = (typeof clientStatus.enumValues)[number];
export type Assignment = typeof userClients.$inferSelect;

const refine = {
  organizationId: () => id,
  name: () => trimmedText(1, 200),
  email: () => email.nullable(),
  phone: () => phone.nullable(),
  // Free text: kept as written (the SQL check only bounds its length), not trimmed.
  notes: () => freeText(10_000).nullable(),
};

export const clientSelectSchema = createSelectSchema(clients);
export const clientInsertSchema = createInsertSchema(clients, refine)
  .pick({
    organizationId: true,
    name: true,
    email: true,
    phone: true,
    status: true,
    notes: true,
  })
  // drizzle-zod makes refined nullable columns optional at run time but not in
  // its types; say it once for both.
  .partial({ email: true, phone: true, notes: true });
const clientPatch = createUpdateSchema(clients, refine).pick({
  name: true,
  email: true,
  phone: true,
  status: true,
  notes: true,
});
const patchKeys = Object.keys(clientPatch.shape) as (keyof typeof clientPatch.shape)[];
// A key whose value is undefined sets nothing (Drizzle skips it, then throws "No values to set").
const somethingToUpdate = (patch: Partial<Record<(typeof patchKeys)[number], unknown>>) =>
  patchKeys.some((key) => patch[key] !== undefined);
export const clientUpdateSchema = clientPatch.refine(somethingToUpdate, "nothing to update");

/** Which client a helper acts on. */
export const clientRef = z.object({ clientId: id });
/** updateClient's input: the client and what changes. */
export const clientUpdateInput = clientPatch.extend(clientRef.shape).refine(somethingToUpdate, "nothing to update");

export const clientListInput = z.object({
  organizationId: id,
  /** Case-insensitive name prefix. */
  search: trimmedText(1, 200).optional(),
  status: z.enum(clientStatus.enumValues).optional(),
  limit: pageSize,
  /** Keyset cursor: the last row of the previous page. */
  after: z.object({ name: z.string(), id }).optional(),
});

export const clientSearchInput = z.object({
  organizationId: id,
  /**
   * Matched against name and email, whatever the case: prefix, and from 3 characters contains and typo-tolerant.
   * Sent in Unicode's composed form (NFC), as names typed in a browser are stored: `é` typed as `e` and a
   * combining accent (NFD, as macOS may give it) finds `é`.
   */
  query: z
    .string()
    .transform((query) => query.normalize("NFC"))
    .pipe(trimmedText(1, 200)),
  /** 1 to 100, 20 by default (search_clients refuses anything else). */
  maxResults: z.number().int().min(1).max(100).default(20),
});

export const assignmentInput = z.object({ clientId: id, userId: id });

export type ClientInput = z.input<typeof clientInsertSchema>;
export type ClientPatch = z.input<typeof clientUpdateSchema>;
export type ClientRef = z.input<typeof clientRef>;
export type ClientUpdateInput = z.input<typeof clientUpdateInput>;
export type ClientListInput = z.input<typeof clientListInput>;
export type ClientSearchInput = z.input<typeof clientSearchInput>;

/** invitations: joining an organization by email. token_hash is never selected by the layer. */
import { createSelectSchema } from "drizzle-zod";
import { z } from "zod";
import { invitations } from "./generated/schema.ts";
import { email, id, roleKey } from "./rules.ts";

export { invitations };
export type Invitation = Omit<typeof invitations.$inferSelect, "tokenHash">;

export const invitationSelectSchema = createSelectSchema(invitations).omit({ tokenHash: true });

export const inviteInput = z.object({
  organizationId: id,
  email,
  role: roleKey,
  /** Validity in hours (default 7 days, at most 30 days). */
  expiresInHours: z
    .number()
    .int()
    .min(1)
    .max(24 * 30)
    .optional(),
});
/** Tokens are 43 base64url characters; anything else cannot be one. */
export const token = z
  .string()
  .min(16)
  .max(200)
  .regex(/^[A-Za-z0-9_-]+$/, "not an invitation token");

/** acceptInvitation's input. */
export const acceptInput = z.object({ token });
/** Which invitation a helper acts on. */
export const invitationRef = z.object({ invitationId: id });

export type InviteInput = z.input<typeof inviteInput>;
export type AcceptInput = z.input<typeof acceptInput>;
export type InvitationRef = z.input<typeof invitationRef>;

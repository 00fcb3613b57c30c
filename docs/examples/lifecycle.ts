/**
 * The data lifecycle from a server: deleting and exporting organizations, a
 * user's own data, and what blocks deleting an account. docs/usage.md quotes
 * parts of this file verbatim (a test checks it), and `npm test` type-checks it.
 */
import { createWriteStream } from "node:fs";
import { once } from "node:events";
import { sql } from "drizzle-orm";
import { InvariantError, lifecycle, organizations, type OrgDb } from "../../src/index.ts";

export async function closeOrganization(db: OrgDb, ownerId: string, organizationId: string) {
  try {
    // delete_organization: owners only; one summary audit entry; the id is never used again.
    await db.asUser(ownerId, (tx) => organizations.deleteOrganization(tx, { organizationId }));
  } catch (error) {
    if (!(error instanceof InvariantError && error.rule === "organization-too-large-to-delete")) throw error;
    // Too large for the API's statement timeout: batches as the service, the owner recorded as the actor.
    await lifecycle.deleteOrganizationInBatches(db, { organizationId, requestedBy: ownerId, batchSize: 5_000 });
  }
}

export async function exportToFile(db: OrgDb, organizationId: string, file: string) {
  // One JSON record per line, read through cursors: memory stays bounded whatever the size.
  const out = createWriteStream(file);
  const counts = await lifecycle.streamOrganizationExport(db, { organizationId }, async (record) => {
    if (!out.write(`${JSON.stringify(record)}\n`)) await once(out, "drain");
  });
  out.end();
  await once(out, "finish");
  return counts;
}

export async function beforeAccountDeletion(db: OrgDb, userId: string) {
  return db.asUser(userId, async (tx) => ({
    // Organizations where the user is the only owner while others remain (only_owner: transfer or delete them first),
    // or the only member of one too large to go with the account (too_large: delete it in batches first).
    blockers: await lifecycle.accountDeletionBlockers(tx),
    // Their own data (profile, memberships, assignments, audit entries as metadata), for the user to keep.
    data: await lifecycle.exportMyData(tx),
  }));
}

export async function exportMyDataFromServer(db: OrgDb, userId: string) {
  return db.asUser(userId, async (tx) => {
    // One document in one statement: for hundreds of thousands of audit entries, more than the API's 8 s.
    await tx.execute(sql`set local statement_timeout = '2min'`);
    return lifecycle.exportMyData(tx);
  });
}

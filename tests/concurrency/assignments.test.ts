/**
 * Racing assign and unassign of the same client and member end consistent:
 * every request succeeds or fails with a typed error, at most one assignment
 * row exists, and the audit log accounts for every committed change.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOrgDb, DatabaseError, type OrgDb } from "../../src/index.ts";
import * as clients from "../../src/clients.ts";
import { useTestDatabase } from "../support/database.ts";
import { client, USER } from "../support/personas.ts";

const test = useTestDatabase();
let db: OrgDb;

beforeAll(() => {
  db = createOrgDb(test.url, { max: 8 });
});
afterAll(() => db.close());

describe("racing assignments", () => {
  it("60 racing assigns and unassigns of one pair end with a state the audit log explains", async () => {
    const clientId = client(1, 20);
    const userId = USER.erin;
    const managers = [USER.carol, USER.bob, USER.alice];
    const requests = Array.from({ length: 60 }, (_, i) => {
      const actor = managers[i % managers.length]!;
      return i % 2 === 0
        ? db.asUser(actor, (tx) => clients.assignClient(tx, { clientId, userId }))
        : db.asUser(actor, (tx) => clients.unassignClient(tx, { clientId, userId }));
    });
    const results = await Promise.allSettled(requests);
    for (const r of results) if (r.status === "rejected") expect(r.reason).toBeInstanceOf(DatabaseError);
    const [state] = await test.sql<{ rows: number; inserts: number; deletes: number }[]>`
      select (select count(*)::int from public.user_clients where client_id = ${clientId} and user_id = ${userId}) as rows,
             (select count(*)::int from public.audit_log where table_name = 'user_clients' and record_id = ${clientId}
                and action = 'insert' and new ->> 'user_id' = ${userId}) as inserts,
             (select count(*)::int from public.audit_log where table_name = 'user_clients' and record_id = ${clientId}
                and action = 'delete' and old ->> 'user_id' = ${userId}) as deletes`;
    expect(state!.rows).toBeLessThanOrEqual(1);
    expect(state!.inserts - state!.deletes).toBe(state!.rows);
    expect(state!.inserts).toBeGreaterThan(0);
  });
});

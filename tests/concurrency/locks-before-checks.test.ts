/**
 * Nobody can wait on another organization's locks: a caller who is not a
 * member, or lacks the rights, is refused at once even while the organization
 * or the invitation is locked by someone else's transaction (here a service
 * connection holding the locks). Each call runs with a short lock_timeout, so
 * a call that queued behind the lock would fail with 55P03 instead.
 */
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOrgDb, ForbiddenError, NotFoundError, type OrgDb, type Tx } from "../../src/index.ts";
import { useTestDatabase } from "../support/database.ts";
import { ORG, USER } from "../support/personas.ts";

const test = useTestDatabase();
let db: OrgDb;

beforeAll(() => {
  db = createOrgDb(test.url, { max: 4 });
});
afterAll(() => db.close());

/** Run `body` while another transaction holds the locks `lock` takes. */
async function whileLocked<T>(lock: string, body: () => Promise<T>): Promise<T> {
  const holder = await test.sql.reserve();
  try {
    await holder`begin`;
    await holder.unsafe(lock);
    return await body();
  } finally {
    await holder`rollback`;
    holder.release();
  }
}

/** Call an RPC as a user with a short lock timeout; returns the error it failed with. */
async function refusal(user: string, call: ReturnType<typeof sql>) {
  const work = async (tx: Tx) => {
    await tx.execute(sql`set local lock_timeout = '300ms'`);
    await tx.execute(call);
  };
  return db.asUser(user, work).then(
    () => new Error("the call succeeded"),
    (error: unknown) => error,
  );
}

const ORG_LOCK = `select 1 from public.organizations where id = '${ORG.acme}' for update;
  insert into private.owner_guards (organization_id) values ('${ORG.acme}')
  on conflict (organization_id) do update set changed_at = now()`;

describe("refused before any lock", () => {
  it("revoke_invitation by a non-member while the invitation is locked: P0002 at once", async () => {
    const [inv] = await test.sql<{ id: string }[]>`select id from public.invitations where email = 'pat@example.com'`;
    const error = await whileLocked(`select 1 from public.invitations where id = '${inv!.id}' for update`, () =>
      refusal(USER.nora, sql`select public.revoke_invitation(${inv!.id})`),
    );
    expect(error).toBeInstanceOf(NotFoundError);
  });

  it("revoke_invitation by a member without members.manage while the invitation is locked: 42501 at once", async () => {
    const [inv] = await test.sql<{ id: string }[]>`select id from public.invitations where email = 'pat@example.com'`;
    const error = await whileLocked(`select 1 from public.invitations where id = '${inv!.id}' for update`, () =>
      refusal(USER.dave, sql`select public.revoke_invitation(${inv!.id})`),
    );
    expect(error).toBeInstanceOf(ForbiddenError);
  });

  it("transfer_ownership by a member who is not an owner while the organization is locked: 42501 at once", async () => {
    const error = await whileLocked(ORG_LOCK, () =>
      refusal(USER.bob, sql`select public.transfer_ownership(${ORG.acme}, ${USER.carol})`),
    );
    expect(error).toBeInstanceOf(ForbiddenError);
  });

  it("set_member_roles and remove_member by a non-member while the organization is locked: P0002 at once", async () => {
    await whileLocked(ORG_LOCK, async () => {
      expect(
        await refusal(USER.nora, sql`select public.set_member_roles(${ORG.acme}, ${USER.dave}, array['viewer'])`),
      ).toBeInstanceOf(NotFoundError);
      expect(await refusal(USER.nora, sql`select public.remove_member(${ORG.acme}, ${USER.dave})`)).toBeInstanceOf(
        NotFoundError,
      );
    });
  });

  it("set_member_roles without members.manage while the organization is locked: 42501 at once", async () => {
    const error = await whileLocked(ORG_LOCK, () =>
      refusal(USER.dave, sql`select public.set_member_roles(${ORG.acme}, ${USER.erin}, array['member'])`),
    );
    expect(error).toBeInstanceOf(ForbiddenError);
  });

  it("a permitted role change does wait for the organization's lock", async () => {
    const error = await whileLocked(ORG_LOCK, () =>
      refusal(USER.bob, sql`select public.set_member_roles(${ORG.acme}, ${USER.dave}, array['viewer'])`),
    );
    expect((error as { code?: string }).code).toBe("55P03");
  });
});

/**
 * Clients and assignments through the typed layer, as the seed's personas:
 * each helper returns exactly the clients RLS lets the caller see (readers
 * every client of their organization, a `member` only the clients assigned to
 * them), writes only what the caller may write, and turns every refusal into
 * the typed error carrying the Postgres code.
 */
import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { expectError } from "../tests/support/errors.ts";
import { useOrgDb } from "../tests/support/orgdb.ts";
import { client, ORG, USER } from "../tests/support/personas.ts";
import {
  assignClient,
  createClient,
  deleteClient,
  getClient,
  listAssignments,
  listClients,
  searchClients,
  unassignClient,
  updateClient,
  type Client,
  type ClientListInput,
} from "./clients.ts";
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from "./errors.ts";
import { createRole, deleteRole, setMemberRoles } from "./members.ts";

const suite = useOrgDb();
const { test, as } = suite;

/** Ids of an organization's clients as the superuser sees them, in the layer's order (name, id). */
async function allClientIds(
  organizationId: string,
  where: { search?: string; status?: string } = {},
): Promise<string[]> {
  const rows = await test.sql<{ id: string }[]>`
    select id from public.clients
    where organization_id = ${organizationId}
      and (${where.search ?? null}::text is null or starts_with(lower(name), lower(${where.search ?? null}::text)))
      and (${where.status ?? null}::text is null or status::text = ${where.status ?? null}::text)
    order by name, id`;
  return rows.map((r) => r.id);
}

/** Every page of listClients, following the keyset cursor to the end. */
async function allPages(
  user: string,
  input: ClientListInput,
): Promise<{ ids: string[]; pages: number; names: string[] }> {
  const ids: string[] = [];
  const names: string[] = [];
  let pages = 0;
  let after: ClientListInput["after"];
  for (;;) {
    const page = await as(user, (tx) => listClients(tx, { ...input, ...(after ? { after } : {}) }));
    pages++;
    ids.push(...page.items.map((c) => c.id));
    names.push(...page.items.map((c) => c.name));
    if (input.limit !== undefined) expect(page.items.length).toBeLessThanOrEqual(input.limit);
    if (!page.next) break;
    expect(page.items.length).toBe(input.limit ?? 50);
    after = page.next;
    if (pages > 100) throw new Error("pagination does not end");
  }
  return { ids, pages, names };
}

async function countClients(): Promise<number> {
  const [row] = await test.sql<{ n: number }[]>`select count(*)::int as n from public.clients`;
  return row!.n;
}

async function assignees(clientId: string): Promise<string[]> {
  const rows = await test.sql<
    { user_id: string }[]
  >`select user_id from public.user_clients where client_id = ${clientId} order by user_id`;
  return rows.map((r) => r.user_id);
}

describe("getClient", () => {
  it("a reader (owner, admin, manager, viewer) gets any client of the organization", async () => {
    for (const user of [USER.alice, USER.bob, USER.carol, USER.erin]) {
      const c = await as(user, (tx) => getClient(tx, { clientId: client(1, 20) }));
      expect(c).toMatchObject({ id: client(1, 20), organizationId: ORG.acme });
    }
  });

  it("a member gets a client assigned to them", async () => {
    const c = await as(USER.dave, (tx) => getClient(tx, { clientId: client(1, 1) }));
    expect(c.id).toBe(client(1, 1));
  });

  it("a client hidden by RLS is NotFoundError (P0002): a member's unassigned client, another organization's, a non-member's", async () => {
    await expectError(
      as(USER.dave, (tx) => getClient(tx, { clientId: client(1, 6) })),
      NotFoundError,
      "P0002",
    );
    await expectError(
      as(USER.frank, (tx) => getClient(tx, { clientId: client(1, 1) })),
      NotFoundError,
      "P0002",
    );
    await expectError(
      as(USER.erin, (tx) => getClient(tx, { clientId: client(2, 1) })),
      NotFoundError,
      "P0002",
    );
    await expectError(
      as(USER.nora, (tx) => getClient(tx, { clientId: client(1, 1) })),
      NotFoundError,
      "P0002",
    );
  });

  it("an id that does not exist is NotFoundError; an id that is not a uuid is ValidationError before the database", async () => {
    await expectError(
      as(USER.alice, (tx) => getClient(tx, { clientId: randomUUID() })),
      NotFoundError,
      "P0002",
    );
    const error = await expectError(
      as(USER.alice, (tx) => getClient(tx, { clientId: "client-1" })),
      ValidationError,
      undefined,
    );
    expect(error.issues.length).toBeGreaterThan(0);
  });
});

describe("listClients", () => {
  it("keyset pagination over all pages returns each client a reader can see exactly once, ordered by name then id", async () => {
    const expected = await allClientIds(ORG.acme);
    expect(expected).toHaveLength(25);
    for (const limit of [1, 7, 25, 50]) {
      const { ids, pages } = await allPages(USER.erin, { organizationId: ORG.acme, limit });
      expect(ids).toEqual(expected);
      expect(new Set(ids).size).toBe(ids.length);
      expect(pages).toBe(Math.max(1, Math.ceil(25 / limit)));
    }
  });

  it("a page is at most `limit` long and the last page has no cursor", async () => {
    const first = await as(USER.bob, (tx) => listClients(tx, { organizationId: ORG.acme, limit: 10 }));
    expect(first.items).toHaveLength(10);
    expect(first.next).toEqual({ name: first.items[9]!.name, id: first.items[9]!.id });
    const all = await as(USER.bob, (tx) => listClients(tx, { organizationId: ORG.acme }));
    expect(all.items).toHaveLength(25);
    expect(all.next).toBeNull();
  });

  it("a member sees only the clients assigned to them, on every page", async () => {
    const { ids } = await allPages(USER.dave, { organizationId: ORG.acme, limit: 2 });
    const expected = (await allClientIds(ORG.acme)).filter((id) =>
      [1, 2, 3, 4, 5].map((n) => client(1, n)).includes(id),
    );
    expect(ids).toEqual(expected);
    expect(ids).toHaveLength(5);
  });

  it("a user in two organizations sees each one with the role held there (member of Acme, viewer of Globex)", async () => {
    const acme = await allPages(USER.mallory, { organizationId: ORG.acme, limit: 2 });
    expect(new Set(acme.ids)).toEqual(new Set([client(1, 5), client(1, 6), client(1, 7)]));
    const globex = await allPages(USER.mallory, { organizationId: ORG.globex, limit: 6 });
    expect(globex.ids).toEqual(await allClientIds(ORG.globex));
    expect(globex.ids).toHaveLength(20);
  });

  it("another organization's clients and a non-member's list are empty pages", async () => {
    expect(await as(USER.frank, (tx) => listClients(tx, { organizationId: ORG.acme }))).toEqual({
      items: [],
      next: null,
    });
    expect(await as(USER.nora, (tx) => listClients(tx, { organizationId: ORG.acme }))).toEqual({
      items: [],
      next: null,
    });
  });

  it("search is a case-insensitive name prefix", async () => {
    const lower = await as(USER.erin, (tx) => listClients(tx, { organizationId: ORG.acme, search: "north" }));
    const upper = await as(USER.erin, (tx) => listClients(tx, { organizationId: ORG.acme, search: "NORTHWIND" }));
    const expected = await allClientIds(ORG.acme, { search: "north" });
    expect(expected.length).toBeGreaterThan(0);
    expect(lower.items.map((c) => c.id)).toEqual(expected);
    expect(upper.items.map((c) => c.id)).toEqual(expected);
    for (const c of lower.items) expect(c.name.toLowerCase().startsWith("north")).toBe(true);
    const inside = await as(USER.erin, (tx) => listClients(tx, { organizationId: ORG.acme, search: "wind" }));
    expect(inside.items).toEqual([]);
  });

  it("search takes % and _ and \\ literally", async () => {
    const names = ["100% Organic", "100 Percent", "a_b Traders", "axb Traders", "back\\slash Ltd", "backXslash Ltd"];
    const created = await as(USER.alice, async (tx) => {
      const out: Client[] = [];
      for (const name of names) out.push(await createClient(tx, { organizationId: ORG.acme, name }));
      return out;
    });
    try {
      const search = async (text: string) =>
        (await as(USER.alice, (tx) => listClients(tx, { organizationId: ORG.acme, search: text }))).items.map(
          (c) => c.name,
        );
      expect(await search("100%")).toEqual(["100% Organic"]);
      expect((await search("100")).sort()).toEqual(["100 Percent", "100% Organic"]);
      expect(await search("A_B")).toEqual(["a_b Traders"]);
      expect(await search("back\\")).toEqual(["back\\slash Ltd"]);
      expect(await search("%")).toEqual([]);
      expect(await search("_")).toEqual([]);
    } finally {
      await as(USER.alice, async (tx) => {
        for (const c of created) await deleteClient(tx, { clientId: c.id });
      });
    }
  });

  it("the status filter returns exactly the visible clients with that status, also combined with search and pages", async () => {
    for (const status of ["lead", "active", "inactive", "archived"] as const) {
      const { ids } = await allPages(USER.erin, { organizationId: ORG.acme, status, limit: 3 });
      expect(ids).toEqual(await allClientIds(ORG.acme, { status }));
    }
    const daves = await allPages(USER.dave, { organizationId: ORG.acme, status: "active", limit: 1 });
    const expected = (await allClientIds(ORG.acme, { status: "active" })).filter((id) =>
      [1, 2, 3, 4, 5].map((n) => client(1, n)).includes(id),
    );
    expect(daves.ids).toEqual(expected);
    const combined = await allPages(USER.bob, { organizationId: ORG.acme, search: "c", status: "active", limit: 1 });
    expect(combined.ids).toEqual(await allClientIds(ORG.acme, { search: "c", status: "active" }));
  });

  it("a page without a prefix (public.list_clients) carries each client exactly as getClient returns it", async () => {
    for (const user of [USER.bob, USER.dave]) {
      const page = await as(user, (tx) => listClients(tx, { organizationId: ORG.acme, limit: 500 }));
      expect(page.items.length).toBeGreaterThan(0);
      for (const item of page.items) expect(item).toEqual(await as(user, (tx) => getClient(tx, { clientId: item.id })));
    }
  });

  it("bad list input is ValidationError before the database: limit out of 1..500, unknown status, empty search, bad cursor", async () => {
    const bad: unknown[] = [
      { organizationId: ORG.acme, limit: 0 },
      { organizationId: ORG.acme, limit: 501 },
      { organizationId: ORG.acme, limit: 2.5 },
      { organizationId: ORG.acme, status: "deleted" },
      { organizationId: ORG.acme, search: "   " },
      { organizationId: ORG.acme, after: { name: "x", id: "nope" } },
      { organizationId: "acme" },
    ];
    for (const input of bad) {
      await expectError(
        as(USER.alice, (tx) => listClients(tx, input as ClientListInput)),
        ValidationError,
        undefined,
      );
    }
  });
});

describe("searchClients", () => {
  /** Ids of an organization's clients the user may read whose name or email contains `text` (the superuser's view, filtered by hand). */
  async function readableContaining(user: string, organizationId: string, text: string): Promise<string[]> {
    const rows = await test.sql<{ id: string }[]>`
      select c.id from public.clients c
      where c.organization_id = ${organizationId}
        and (strpos(lower(c.name), lower(${text})) > 0 or strpos(lower(c.email), lower(${text})) > 0)
        and (exists (select 1 from public.user_roles ur join public.role_permissions rp on rp.role_id = ur.role_id
                     where ur.user_id = ${user} and ur.organization_id = c.organization_id and rp.permission = 'clients.read')
             or exists (select 1 from public.user_clients uc where uc.user_id = ${user} and uc.client_id = c.id))`;
    return rows.map((r) => r.id).sort();
  }

  it("returns exactly the clients each persona may read, as typed rows equal to getClient's", async () => {
    for (const user of [
      USER.alice,
      USER.bob,
      USER.carol,
      USER.dave,
      USER.erin,
      USER.frank,
      USER.heidi,
      USER.mallory,
      USER.nora,
    ]) {
      for (const organizationId of [ORG.acme, ORG.globex]) {
        const found = await as(user, (tx) => searchClients(tx, { organizationId, query: "@client", maxResults: 100 }));
        expect(found.map((c) => c.id).sort(), `${user} in ${organizationId}`).toEqual(
          await readableContaining(user, organizationId, "@client"),
        );
        for (const c of found.slice(0, 3)) expect(c).toEqual(await as(user, (tx) => getClient(tx, { clientId: c.id })));
      }
    }
  });

  it("ranks prefix matches first and tolerates a typo in each word; maxResults caps, 20 by default", async () => {
    const names = (await as(USER.bob, (tx) => searchClients(tx, { organizationId: ORG.acme, query: "win" }))).map(
      (c) => c.name,
    );
    expect(names.slice(0, 2).every((n) => n.startsWith("Wingtip"))).toBe(true);
    expect(names.slice(2).some((n) => n.startsWith("Northwind"))).toBe(true);
    expect(
      (await as(USER.bob, (tx) => searchClients(tx, { organizationId: ORG.acme, query: "contso" }))).map((c) => c.name),
    ).toEqual(["Contoso 1-15"]);
    // Word by word: each query word matches a word of the name (a typo in each), in any order.
    expect(
      (await as(USER.bob, (tx) => searchClients(tx, { organizationId: ORG.acme, query: "imprters wid" }))).map(
        (c) => c.name,
      ),
    ).toEqual(["Wide World Importers 1-04", "Wide World Importers 1-19"]);
    expect(await as(USER.bob, (tx) => searchClients(tx, { organizationId: ORG.acme, query: "contoso zzzz" }))).toEqual(
      [],
    );
    expect(await as(USER.bob, (tx) => searchClients(tx, { organizationId: ORG.acme, query: "client1" }))).toHaveLength(
      20,
    );
    expect(
      await as(USER.bob, (tx) => searchClients(tx, { organizationId: ORG.acme, query: "client1", maxResults: 3 })),
    ).toHaveLength(3);
  });

  it("finds an accented name whatever the Unicode form the query is typed in (NFD, as macOS gives it, or NFC)", async () => {
    const found = await suite.db.asUser(
      USER.bob,
      async (tx) => {
        const made = await createClient(tx, { organizationId: ORG.acme, name: "Émile Café" });
        const byForm = async (form: "NFC" | "NFD") =>
          (await searchClients(tx, { organizationId: ORG.acme, query: "émile café".normalize(form) })).map((c) => c.id);
        return { made: made.id, nfc: await byForm("NFC"), nfd: await byForm("NFD") };
      },
      { rollback: true },
    );
    expect(found.nfc[0]).toBe(found.made);
    expect(found.nfd).toEqual(found.nfc);
    // Its length is counted composed: 150 accented letters, 300 code points when decomposed.
    await expect(
      as(USER.bob, (tx) => searchClients(tx, { organizationId: ORG.acme, query: "é".repeat(150).normalize("NFD") })),
    ).resolves.toEqual([]);
  });

  it("a member never finds an unassigned client, not even by its exact name", async () => {
    const [hidden] = await test.sql<{ name: string }[]>`select name from public.clients where id = ${client(1, 10)}`;
    expect(await as(USER.dave, (tx) => searchClients(tx, { organizationId: ORG.acme, query: hidden!.name }))).toEqual(
      [],
    );
  });

  it("refuses bad input with ValidationError before the database: blank query, maxResults out of 1..100, a bad organization id", async () => {
    for (const input of [
      { organizationId: ORG.acme, query: "   " },
      { organizationId: ORG.acme, query: "x".repeat(201) },
      { organizationId: ORG.acme, query: "nor", maxResults: 0 },
      { organizationId: ORG.acme, query: "nor", maxResults: 101 },
      { organizationId: ORG.acme, query: "nor", maxResults: 2.5 },
      { organizationId: "acme", query: "nor" },
      { organizationId: null, query: "nor" },
    ]) {
      await expectError(
        as(USER.bob, (tx) => searchClients(tx, input as never)),
        ValidationError,
        undefined,
      );
    }
  });

  it("whitespace around a query is dropped alike here and in the database; more than 12 words are the database's 22023", async () => {
    const search = (query: string) => as(USER.bob, (tx) => searchClients(tx, { organizationId: ORG.acme, query }));
    expect(await search("\t\u00a0contso\u3000\n")).toEqual(await search("contso"));
    const refused = await expectError(search("a b c d e f g h i j k l m"), ValidationError, "22023");
    expect(refused.rule).toBe("search-query-too-many-words");
    expect(await search("a b c d e f g h i j k l")).toEqual([]);
  });
});

describe("createClient", () => {
  it("a member creates a client, is assigned to it, and sees it afterwards", async () => {
    const before = await as(USER.dave, (tx) => listClients(tx, { organizationId: ORG.acme }));
    const created = await as(USER.dave, (tx) =>
      createClient(tx, {
        organizationId: ORG.acme,
        name: "  Dave's Prospect  ",
        email: "buyer@prospect.example",
        status: "lead",
      }),
    );
    expect(created).toMatchObject({
      organizationId: ORG.acme,
      name: "Dave's Prospect",
      email: "buyer@prospect.example",
      status: "lead",
      createdBy: USER.dave,
    });
    expect(await assignees(created.id)).toEqual([USER.dave]);
    const again = await as(USER.dave, (tx) => getClient(tx, { clientId: created.id }));
    expect(again).toEqual(created);
    const after = await as(USER.dave, (tx) => listClients(tx, { organizationId: ORG.acme }));
    expect(after.items.map((c) => c.id).sort()).toEqual([...before.items.map((c) => c.id), created.id].sort());
    await as(USER.carol, (tx) => deleteClient(tx, { clientId: created.id }));
  });

  it("a member's INSERT ... RETURNING (supabase-js insert().select()) returns the new row with the id the database chose; once unassigned, the creator no longer sees it", async () => {
    const returned = await as(USER.dave, (tx) =>
      tx.execute<{ id: string; name: string }>(
        sql`insert into public.clients (organization_id, name) values (${ORG.acme}, 'Returning') returning id, name`,
      ),
    );
    expect(returned).toHaveLength(1);
    const id = returned[0]!.id;
    expect(returned[0]!.name).toBe("Returning");
    await as(USER.carol, (tx) => unassignClient(tx, { clientId: id, userId: USER.dave }));
    await expectError(
      as(USER.dave, (tx) => getClient(tx, { clientId: id })),
      NotFoundError,
      "P0002",
    );
    await as(USER.carol, (tx) => deleteClient(tx, { clientId: id }));
  });

  it("a reader who creates a client (manager) is not assigned to it; defaults apply (status active)", async () => {
    const created = await as(USER.carol, (tx) =>
      createClient(tx, { organizationId: ORG.acme, name: "Carol's Account", phone: "+1 (555) 010-2030" }),
    );
    expect(created).toMatchObject({
      status: "active",
      createdBy: USER.carol,
      phone: "+1 (555) 010-2030",
      email: null,
      notes: null,
    });
    expect(await assignees(created.id)).toEqual([]);
    await as(USER.carol, (tx) => deleteClient(tx, { clientId: created.id }));
  });

  it("a viewer cannot create a client: ForbiddenError 42501 (RLS insert violation), nothing written", async () => {
    const n = await countClients();
    await expectError(
      as(USER.erin, (tx) => createClient(tx, { organizationId: ORG.acme, name: "Erin's" })),
      ForbiddenError,
      "42501",
    );
    expect(await countClients()).toBe(n);
  });

  it("nobody creates a client in an organization they do not belong to: ForbiddenError 42501, nothing written", async () => {
    const n = await countClients();
    await expectError(
      as(USER.dave, (tx) => createClient(tx, { organizationId: ORG.globex, name: "Elsewhere" })),
      ForbiddenError,
      "42501",
    );
    await expectError(
      as(USER.nora, (tx) => createClient(tx, { organizationId: ORG.acme, name: "Nora's" })),
      ForbiddenError,
      "42501",
    );
    expect(await countClients()).toBe(n);
  });

  it("invalid input is ValidationError before the database (name, email, phone, status, organization id), nothing written", async () => {
    const n = await countClients();
    const bad: unknown[] = [
      { organizationId: ORG.acme, name: "" },
      { organizationId: ORG.acme, name: "   " },
      { organizationId: ORG.acme, name: "x".repeat(201) },
      { organizationId: ORG.acme, name: "nul\u0000byte" },
      { organizationId: ORG.acme, name: "Ok", email: "not-an-email" },
      { organizationId: ORG.acme, name: "Ok", phone: "call me" },
      { organizationId: ORG.acme, name: "Ok", status: "deleted" },
      { organizationId: "acme", name: "Ok" },
      { name: "Ok" },
    ];
    for (const input of bad) {
      const error = await expectError(
        as(USER.alice, (tx) => createClient(tx, input as never)),
        ValidationError,
        undefined,
      );
      expect(error.issues.length).toBeGreaterThan(0);
    }
    expect(await countClients()).toBe(n);
  });
});

describe("updateClient", () => {
  it("notes are stored as written (indentation and line breaks kept); text holding a lone UTF-16 surrogate is ValidationError, nothing changes", async () => {
    const id = client(1, 2);
    const [before] = await test.sql<{ name: string; notes: string | null }[]>`
      select name, notes from public.clients where id = ${id}`;
    try {
      const notes = "    - indented list item\n    - second\n\n";
      const updated = await as(USER.carol, (tx) => updateClient(tx, { clientId: id, notes }));
      expect(updated.notes).toBe(notes);
      for (const patch of [{ name: "Acme \ud800 Ltd" }, { notes: "half \udfff a character" }]) {
        await expectError(
          as(USER.carol, (tx) => updateClient(tx, { clientId: id, ...patch })),
          ValidationError,
          undefined,
        );
      }
      const [after] = await test.sql<{ name: string; notes: string | null }[]>`
        select name, notes from public.clients where id = ${id}`;
      expect(after).toEqual({ name: before!.name, notes });
    } finally {
      await test.sql`update public.clients set notes = ${before!.notes} where id = ${id}`;
    }
  });

  it("a member updates a client assigned to them", async () => {
    const updated = await as(USER.dave, (tx) =>
      updateClient(tx, { clientId: client(1, 2), notes: "called on Monday", status: "inactive" }),
    );
    expect(updated).toMatchObject({ id: client(1, 2), notes: "called on Monday", status: "inactive" });
    const [row] = await test.sql<
      { notes: string; status: string }[]
    >`select notes, status::text from public.clients where id = ${client(1, 2)}`;
    expect(row).toEqual({ notes: "called on Monday", status: "inactive" });
  });

  it("a member updating a client not assigned to them gets NotFoundError (it is hidden), nothing changes", async () => {
    await expectError(
      as(USER.dave, (tx) => updateClient(tx, { clientId: client(1, 6), name: "Hijacked" })),
      NotFoundError,
      "P0002",
    );
    const [row] = await test.sql<{ name: string }[]>`select name from public.clients where id = ${client(1, 6)}`;
    expect(row!.name).not.toBe("Hijacked");
  });

  it("a viewer sees but cannot update: ForbiddenError 42501, nothing changes", async () => {
    await expectError(
      as(USER.erin, (tx) => updateClient(tx, { clientId: client(1, 6), name: "Viewer edit" })),
      ForbiddenError,
      "42501",
    );
    const [row] = await test.sql<{ name: string }[]>`select name from public.clients where id = ${client(1, 6)}`;
    expect(row!.name).not.toBe("Viewer edit");
  });

  it("holders of clients.update (owner, admin, manager) update any client; updated_at moves", async () => {
    const [before] = await test.sql<
      { updated_at: Date }[]
    >`select updated_at from public.clients where id = ${client(1, 15)}`;
    for (const [user, status] of [
      [USER.alice, "lead"],
      [USER.bob, "archived"],
      [USER.carol, "active"],
    ] as const) {
      const c = await as(user, (tx) => updateClient(tx, { clientId: client(1, 15), status }));
      expect(c.status).toBe(status);
    }
    const [after] = await test.sql<
      { updated_at: Date }[]
    >`select updated_at from public.clients where id = ${client(1, 15)}`;
    expect(after!.updated_at.getTime()).toBeGreaterThan(before!.updated_at.getTime());
  });

  it("another organization's client is NotFoundError for its non-members", async () => {
    await expectError(
      as(USER.frank, (tx) => updateClient(tx, { clientId: client(1, 1), name: "Globex took it" })),
      NotFoundError,
      "P0002",
    );
    await expectError(
      as(USER.nora, (tx) => updateClient(tx, { clientId: client(1, 1), name: "Nora took it" })),
      NotFoundError,
      "P0002",
    );
  });

  it("a client never moves organization: organization_id is not part of a patch", async () => {
    const c = await as(USER.alice, (tx) =>
      updateClient(tx, { clientId: client(1, 16), name: "Still Acme's", organizationId: ORG.globex } as never),
    );
    expect(c).toMatchObject({ name: "Still Acme's", organizationId: ORG.acme });
  });

  it("an empty or invalid patch is ValidationError before the database", async () => {
    for (const patch of [
      {},
      { name: "" },
      { email: "nope" },
      { phone: "??" },
      { status: "gone" },
      { createdBy: USER.alice },
    ]) {
      await expectError(
        as(USER.alice, (tx) => updateClient(tx, { clientId: client(1, 1), ...patch } as never)),
        ValidationError,
        undefined,
      );
    }
    await expectError(
      as(USER.alice, (tx) => updateClient(tx, { clientId: "x", name: "ok" })),
      ValidationError,
      undefined,
    );
  });
});

describe("deleteClient", () => {
  it("a member cannot delete even an assigned client: ForbiddenError 42501; unassigned: NotFoundError", async () => {
    await expectError(
      as(USER.dave, (tx) => deleteClient(tx, { clientId: client(1, 1) })),
      ForbiddenError,
      "42501",
    );
    await expectError(
      as(USER.dave, (tx) => deleteClient(tx, { clientId: client(1, 9) })),
      NotFoundError,
      "P0002",
    );
  });

  it("a viewer cannot delete: ForbiddenError 42501; another organization cannot: NotFoundError", async () => {
    await expectError(
      as(USER.erin, (tx) => deleteClient(tx, { clientId: client(1, 1) })),
      ForbiddenError,
      "42501",
    );
    await expectError(
      as(USER.frank, (tx) => deleteClient(tx, { clientId: client(1, 1) })),
      NotFoundError,
      "P0002",
    );
    const [row] = await test.sql<
      { n: number }[]
    >`select count(*)::int as n from public.clients where id = ${client(1, 1)}`;
    expect(row!.n).toBe(1);
  });

  it("a manager deletes a client with its assignments; it is then not found", async () => {
    const created = await as(USER.dave, (tx) => createClient(tx, { organizationId: ORG.acme, name: "Short-lived" }));
    expect(await assignees(created.id)).toEqual([USER.dave]);
    await as(USER.carol, (tx) => deleteClient(tx, { clientId: created.id }));
    expect(await assignees(created.id)).toEqual([]);
    await expectError(
      as(USER.alice, (tx) => getClient(tx, { clientId: created.id })),
      NotFoundError,
      "P0002",
    );
    await expectError(
      as(USER.carol, (tx) => deleteClient(tx, { clientId: created.id })),
      NotFoundError,
      "P0002",
    );
  });
});

describe("assignClient, unassignClient, listAssignments", () => {
  it("listAssignments: readers see every assignee, a member only themselves, outsiders nothing", async () => {
    const both = [USER.dave, USER.mallory].sort();
    expect(
      (await as(USER.carol, (tx) => listAssignments(tx, { clientId: client(1, 5) }))).map((a) => a.userId),
    ).toEqual(both);
    expect((await as(USER.erin, (tx) => listAssignments(tx, { clientId: client(1, 5) }))).map((a) => a.userId)).toEqual(
      both,
    );
    expect((await as(USER.dave, (tx) => listAssignments(tx, { clientId: client(1, 5) }))).map((a) => a.userId)).toEqual(
      [USER.dave],
    );
    expect(await as(USER.frank, (tx) => listAssignments(tx, { clientId: client(1, 5) }))).toEqual([]);
    expect(await as(USER.nora, (tx) => listAssignments(tx, { clientId: client(1, 5) }))).toEqual([]);
    await expectError(
      as(USER.carol, (tx) => listAssignments(tx, { clientId: "5" })),
      ValidationError,
      undefined,
    );
  });

  it("a manager assigns a member, who then sees the client; assigning twice is a no-op", async () => {
    await expectError(
      as(USER.mallory, (tx) => getClient(tx, { clientId: client(1, 8) })),
      NotFoundError,
      "P0002",
    );
    const first = await as(USER.carol, (tx) => assignClient(tx, { clientId: client(1, 8), userId: USER.mallory }));
    expect(first).toMatchObject({ organizationId: ORG.acme, clientId: client(1, 8), userId: USER.mallory });
    const second = await as(USER.carol, (tx) => assignClient(tx, { clientId: client(1, 8), userId: USER.mallory }));
    expect(second).toEqual(first);
    expect(await assignees(client(1, 8))).toEqual([USER.mallory]);
    const seen = await as(USER.mallory, (tx) => getClient(tx, { clientId: client(1, 8) }));
    expect(seen.id).toBe(client(1, 8));
    const updated = await as(USER.mallory, (tx) => updateClient(tx, { clientId: client(1, 8), notes: "mine now" }));
    expect(updated.notes).toBe("mine now");
  });

  it("a manager unassigns; the member no longer sees the client; unassigning again is NotFoundError", async () => {
    await as(USER.carol, (tx) => unassignClient(tx, { clientId: client(1, 8), userId: USER.mallory }));
    expect(await assignees(client(1, 8))).toEqual([]);
    await expectError(
      as(USER.mallory, (tx) => getClient(tx, { clientId: client(1, 8) })),
      NotFoundError,
      "P0002",
    );
    await expectError(
      as(USER.carol, (tx) => unassignClient(tx, { clientId: client(1, 8), userId: USER.mallory })),
      NotFoundError,
      "P0002",
    );
  });

  it("only members of the client's organization can be assigned: others are NotFoundError, nothing written", async () => {
    for (const userId of [USER.frank, USER.nora, randomUUID()]) {
      await expectError(
        as(USER.carol, (tx) => assignClient(tx, { clientId: client(1, 9), userId })),
        NotFoundError,
        "P0002",
      );
    }
    expect(await assignees(client(1, 9))).toEqual([]);
  });

  it("assigning needs clients.assign: a member or viewer who sees the client gets ForbiddenError 42501", async () => {
    await expectError(
      as(USER.dave, (tx) => assignClient(tx, { clientId: client(1, 1), userId: USER.mallory })),
      ForbiddenError,
      "42501",
    );
    await expectError(
      as(USER.erin, (tx) => assignClient(tx, { clientId: client(1, 9), userId: USER.dave })),
      ForbiddenError,
      "42501",
    );
    expect(await assignees(client(1, 9))).toEqual([]);
    expect(await assignees(client(1, 1))).toEqual([USER.dave]);
  });

  it("a holder of clients.assign who reads only their own assignments (an organization's role) is refused an assignment they could not read back: ForbiddenError 42501, nothing written", async () => {
    const roleId = await as(USER.alice, (tx) =>
      createRole(tx, {
        organizationId: ORG.acme,
        key: "assigner",
        name: "Assigner",
        rank: 15,
        permissions: ["clients.assign", "clients.work_assigned"],
      }),
    );
    try {
      await as(USER.alice, (tx) =>
        setMemberRoles(tx, { organizationId: ORG.acme, userId: USER.dave, roles: ["assigner"] }),
      );
      // dave works client(1, 1); erin's assignment to it would be hidden from him.
      await expectError(
        as(USER.dave, async (tx) => {
          await assignClient(tx, { clientId: client(1, 1), userId: USER.erin });
        }),
        ForbiddenError,
        "42501",
      );
      // An assignment that exists already but is hidden from the caller: refused alike, not "not found".
      await test.sql`insert into public.user_clients (organization_id, client_id, user_id) values (${ORG.acme}, ${client(1, 1)}, ${USER.erin})`;
      try {
        await expectError(
          as(USER.dave, async (tx) => {
            await assignClient(tx, { clientId: client(1, 1), userId: USER.erin });
          }),
          ForbiddenError,
          "42501",
        );
      } finally {
        await test.sql`delete from public.user_clients where client_id = ${client(1, 1)} and user_id = ${USER.erin}`;
      }
      // Caught inside a unit that goes on: the unit is rolled back, nothing written.
      const caught = as(USER.dave, async (tx) => {
        await assignClient(tx, { clientId: client(1, 1), userId: USER.erin }).catch(() => "caught");
        return "done";
      });
      await expect(caught).rejects.toMatchObject({ code: "25P02", message: expect.stringMatching(/rolled back/) });
      expect(await assignees(client(1, 1))).toEqual([USER.dave]);
    } finally {
      await as(USER.alice, (tx) =>
        setMemberRoles(tx, { organizationId: ORG.acme, userId: USER.dave, roles: ["member"] }),
      );
      await as(USER.alice, (tx) => deleteRole(tx, { roleId }));
    }
  });

  it("a client the caller cannot see cannot be assigned: NotFoundError (member's unassigned client, another organization)", async () => {
    await expectError(
      as(USER.dave, (tx) => assignClient(tx, { clientId: client(1, 9), userId: USER.dave })),
      NotFoundError,
      "P0002",
    );
    await expectError(
      as(USER.grace, (tx) => assignClient(tx, { clientId: client(1, 9), userId: USER.mallory })),
      NotFoundError,
      "P0002",
    );
    expect(await assignees(client(1, 9))).toEqual([]);
  });

  it("unassigning needs clients.assign: a member (their own assignment) or a viewer gets ForbiddenError 42501", async () => {
    await expectError(
      as(USER.dave, (tx) => unassignClient(tx, { clientId: client(1, 1), userId: USER.dave })),
      ForbiddenError,
      "42501",
    );
    await expectError(
      as(USER.erin, (tx) => unassignClient(tx, { clientId: client(1, 1), userId: USER.dave })),
      ForbiddenError,
      "42501",
    );
    await expectError(
      as(USER.frank, (tx) => unassignClient(tx, { clientId: client(1, 1), userId: USER.dave })),
      NotFoundError,
      "P0002",
    );
    expect(await assignees(client(1, 1))).toEqual([USER.dave]);
  });

  it("assignment input must be two uuids: ValidationError before the database", async () => {
    await expectError(
      as(USER.carol, (tx) => assignClient(tx, { clientId: "c", userId: USER.dave })),
      ValidationError,
      undefined,
    );
    await expectError(
      as(USER.carol, (tx) => unassignClient(tx, { clientId: client(1, 1), userId: "dave" })),
      ValidationError,
      undefined,
    );
  });

  it("an assignment pairing a client with a member of another organization is refused by the composite foreign key, even for the service (ConflictError 23503)", async () => {
    const error = await expectError(
      suite.db.asService((tx) =>
        tx.execute(
          // A Globex member on an Acme client, forged with Acme's id on both sides.
          sql`insert into public.user_clients (organization_id, user_id, client_id) values (${ORG.acme}, ${USER.heidi}, ${client(1, 9)})`,
        ),
      ),
      ConflictError,
      "23503",
    );
    expect(error.constraint).toBe("user_clients_organization_id_user_id_fkey");
  });
});

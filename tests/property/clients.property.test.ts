/**
 * Bad input to the client and assignment helpers (SPEC §9): for arbitrary
 * inputs, as random personas, every exported function of src/clients.ts
 * resolves or rejects with a typed error, and a rejected call writes
 * nothing. Valid inputs name the seed's clients, organizations and users
 * freely: most pair a client with another organization's member, or reach a
 * client the persona cannot see or may not change.
 */
import fc from "fast-check";
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
} from "../../src/clients.ts";
import { useOrgDb } from "../support/orgdb.ts";
import { client, USER } from "../support/personas.ts";
import {
  args,
  clientIds,
  count,
  email,
  id,
  name,
  orgIds,
  phone,
  shape,
  status,
  text,
  userIds,
  withKey,
  type Field,
} from "./arbitraries.ts";
import { propertiesOf } from "./support.ts";

const suite = useOrgDb();

const organizationId = id(orgIds);
const clientId = id(clientIds);
const userId = id(userIds);
const notes: Field = {
  valid: fc.oneof(text(0, 10_000).valid, fc.constant(null)),
  near: text(0, 10_000).near,
};
const clientFields = {
  name: name(200),
  email: { valid: fc.oneof(email.valid, fc.constant(null)), near: email.near },
  phone,
  status,
  notes,
};
const newClient = shape({ organizationId, ...clientFields }, ["email", "phone", "status", "notes"]);
/** Patches: any non-empty subset of the fields. */
const patch = shape(clientFields, Object.keys(clientFields));
const nonEmptyPatch: Field = {
  valid: patch.valid.filter((p) => Object.keys(p).length > 0),
  near: fc.oneof(
    { weight: 6, arbitrary: patch.near },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        {},
        { name: undefined },
        { email: undefined, notes: undefined },
        { status: undefined, phone: undefined },
      ),
    },
  ),
};
/** Keyset cursors: the last row of a page (any name, a client id), or garbage. */
const after: Field = {
  valid: shape({
    name: {
      valid: fc.string({ unit: "binary" }),
      near: fc.constantFrom("a\u0000", undefined),
    },
    id: clientId,
  }).valid,
  near: shape({
    name: { valid: fc.string(), near: fc.constantFrom("a\u0000", 1) },
    id: clientId,
  }).near,
};
const listInput = shape({ organizationId, search: text(1, 200), status, limit: count(1, 500), after }, [
  "search",
  "status",
  "limit",
  "after",
]);
/** The seed's assignments (supabase/seed.sql): each pairs a client and a member of one organization. */
const ASSIGNED: [org: 1 | 2 | 3, user: string, clients: number[]][] = [
  [1, USER.dave, [1, 2, 3, 4, 5]],
  [1, USER.mallory, [5, 6, 7]],
  [1, USER.carol, [10, 11]],
  [2, USER.heidi, [1, 2, 3, 4]],
  [2, USER.grace, [10]],
  [3, USER.judy, [1, 2, 3]],
];
const assignedPairs = ASSIGNED.flatMap(([org, user, ns]) =>
  ns.map((n) => ({ clientId: client(org, n), userId: user })),
);
/** Same-organization pairs that are not assigned yet. */
const MEMBERS: Record<1 | 2 | 3, string[]> = {
  1: [USER.alice, USER.bob, USER.carol, USER.dave, USER.erin, USER.mallory],
  2: [USER.frank, USER.grace, USER.heidi, USER.mallory],
  3: [USER.ivan, USER.judy],
};
const samePairs = fc
  .tuple(fc.constantFrom(1 as const, 2 as const, 3 as const), fc.integer({ min: 1, max: 15 }), fc.nat())
  .map(([org, n, i]) => ({
    clientId: client(org, n),
    userId: MEMBERS[org][i % MEMBERS[org].length]!,
  }));
const pairs = shape({ clientId, userId });
const assignment: Field = {
  valid: fc.oneof(pairs.valid, fc.constantFrom(...assignedPairs), samePairs),
  near: pairs.near,
};

propertiesOf(suite, "createClient", {
  input: newClient,
  call: (tx, value) => createClient(tx, value as never),
  expectDatabaseRefusals: true,
});

propertiesOf(suite, "getClient", {
  input: clientId,
  call: (tx, value) => getClient(tx, { clientId: value }),
  expectDatabaseRefusals: true,
});

propertiesOf(suite, "listClients", {
  input: listInput,
  call: (tx, value) => listClients(tx, value as never),
});

const searchInput = shape({ organizationId, query: text(1, 200), maxResults: count(1, 100) }, ["maxResults"]);

propertiesOf(suite, "searchClients", {
  input: searchInput,
  call: (tx, value) => searchClients(tx, value as never),
});

propertiesOf(suite, "updateClient", {
  input: args(clientId, nonEmptyPatch),
  call: (tx, [cid, values]) => updateClient(tx, withKey("clientId", cid, values) as never),
  expectDatabaseRefusals: true,
});

propertiesOf(suite, "deleteClient", {
  input: clientId,
  call: (tx, value) => deleteClient(tx, { clientId: value }),
  expectDatabaseRefusals: true,
});

propertiesOf(suite, "assignClient", {
  input: assignment,
  call: (tx, value) => assignClient(tx, value as never),
  expectDatabaseRefusals: true,
});

propertiesOf(suite, "unassignClient", {
  input: assignment,
  call: (tx, value) => unassignClient(tx, value as never),
  expectDatabaseRefusals: true,
});

propertiesOf(suite, "listAssignments", {
  input: clientId,
  call: (tx, value) => listAssignments(tx, { clientId: value }),
});

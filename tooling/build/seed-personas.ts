/**
 * The demo seed's personas, organizations and clients (supabase/seed.sql), by
 * name: the one place their ids are written in TypeScript (the vitest suites
 * through tests/support/personas.ts, the demo's tour). The pgTAP threat suite
 * makes personas of its own (supabase/tests/database/personas.psql) and needs
 * no seed.
 */
export const ORG = {
  acme: "10000000-0000-4000-8000-000000000001",
  globex: "10000000-0000-4000-8000-000000000002",
  initech: "10000000-0000-4000-8000-000000000003",
} as const;

const user = (n: number) => `00000000-0000-4000-a000-0000000000${String(n).padStart(2, "0")}`;

export const USER = {
  alice: user(1), // owner of Acme
  bob: user(2), // admin of Acme
  carol: user(3), // manager of Acme
  dave: user(4), // member of Acme
  erin: user(5), // viewer of Acme
  frank: user(6), // owner of Globex
  grace: user(7), // admin + manager of Globex
  heidi: user(8), // member of Globex
  ivan: user(9), // owner of Initech
  judy: user(10), // manager of Initech
  mallory: user(11), // member of Acme, viewer of Globex
  nora: user(12), // no organization
} as const;

/** Client ids of the seed: org 1..3, number 1..25. */
export const client = (org: 1 | 2 | 3, n: number) =>
  `20000000-0000-4000-8000-${String(org * 1000 + n).padStart(12, "0")}`;

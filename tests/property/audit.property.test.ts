/**
 * Bad input to the audit log helper (SPEC §9): for arbitrary filters and
 * cursors, as random personas, listAuditLog resolves or rejects with a typed
 * error, and a rejected call writes nothing.
 */
import fc from "fast-check";
import { listAuditLog } from "../../src/audit.ts";
import { AUDITED_TABLES } from "../../src/schema/audit.table.ts";
import { useOrgDb } from "../support/orgdb.ts";
import { clientIds, count, id, junk, orgIds, shape, userIds, type Field } from "./arbitraries.ts";
import { propertiesOf } from "./support.ts";

const suite = useOrgDb();

const tableName: Field = {
  valid: fc.constantFrom(...AUDITED_TABLES),
  near: fc.oneof(fc.constantFrom("audit_log", "users", "roles", "Clients", "public.clients", "clients;", ""), junk),
};
const action: Field = {
  valid: fc.constantFrom("insert", "update", "delete"),
  near: fc.oneof(fc.constantFrom("INSERT", "truncate", "select", " insert", ""), junk),
};
/** Timestamps as Postgres or JavaScript write them, and strings that are no timestamp at all (z.string() lets them through). */
const createdAt: Field = {
  valid: fc.oneof(
    fc
      .date({ min: new Date("1970-01-01T00:00:00Z"), max: new Date("2100-01-01T00:00:00Z"), noInvalidDate: true })
      .map((d) => d.toISOString()),
    fc.constantFrom(
      "2026-11-25 10:00:00+00",
      "infinity",
      "-infinity",
      "now",
      "epoch",
      "2026-02-30",
      "yesterday",
      "not a date",
      "",
      "\u0000",
      "99999-01-01",
    ),
    fc.string({ unit: "binary" }),
  ),
  near: fc.oneof(fc.date({ noInvalidDate: false }), junk),
};
const before = shape({ createdAt, id: id() });

propertiesOf(suite, "listAuditLog", {
  input: shape(
    {
      organizationId: id(orgIds),
      tableName,
      action,
      actorId: id(userIds),
      recordId: id([...clientIds, ...orgIds, ...userIds]),
      limit: count(1, 500),
      before,
    },
    ["tableName", "action", "actorId", "recordId", "limit", "before"],
  ),
  call: (tx, value) => listAuditLog(tx, value as never),
});

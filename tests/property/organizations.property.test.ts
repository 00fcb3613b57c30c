/**
 * Bad input to the organization helpers (SPEC §9): for arbitrary inputs, as
 * random personas, every exported function of src/organizations.ts resolves
 * or rejects with a typed error, and a rejected call writes nothing.
 */
import fc from "fast-check";
import {
  createOrganization,
  deleteOrganization,
  getOrganization,
  listMyOrganizations,
  updateOrganization,
} from "../../src/organizations.ts";
import { useOrgDb } from "../support/orgdb.ts";
import { args, id, junk, name, orgIds, shape, slug, withKey, type Field } from "./arbitraries.ts";
import { propertiesOf } from "./support.ts";

const suite = useOrgDb();

const organizationId = id(orgIds);
const newOrganization = shape({ name: name(100), slug });
const patch: Field = {
  valid: fc.oneof(shape({ name: name(100) }).valid, shape({ slug }).valid, shape({ name: name(100), slug }).valid),
  near: fc.oneof(
    shape({ name: name(100) }).near,
    shape({ slug }).near,
    shape({ name: name(100), slug }).near,
    fc.constantFrom({}, { name: undefined }, { slug: undefined }, { name: undefined, slug: undefined }),
  ),
};

propertiesOf(suite, "createOrganization", {
  input: newOrganization,
  call: (tx, value) => createOrganization(tx, value as never),
  expectDatabaseRefusals: true,
});

propertiesOf(suite, "getOrganization", {
  input: organizationId,
  call: (tx, value) => getOrganization(tx, { organizationId: value }),
  expectDatabaseRefusals: true,
});

propertiesOf(suite, "listMyOrganizations", {
  // It takes no input: extra arguments are ignored; the persona varies.
  input: { valid: junk, near: junk },
  call: (tx, value) => (listMyOrganizations as (tx: unknown, extra: unknown) => Promise<unknown>)(tx, value),
});

propertiesOf(suite, "updateOrganization", {
  input: args(organizationId, patch),
  call: (tx, [orgId, values]) => updateOrganization(tx, withKey("organizationId", orgId, values) as never),
  expectDatabaseRefusals: true,
});

propertiesOf(suite, "deleteOrganization", {
  input: organizationId,
  call: (tx, value) => deleteOrganization(tx, { organizationId: value }),
  expectDatabaseRefusals: true,
});

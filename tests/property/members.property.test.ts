/**
 * Bad input to the member and role helpers (SPEC §9): for arbitrary inputs,
 * as random personas, every exported function of src/members.ts resolves or
 * rejects with a typed error, and a rejected call writes nothing. Valid
 * inputs pair the seed's organizations and users freely, so most calls break
 * a rank rule, name a non-member or another organization's member, or touch
 * the caller's own roles.
 */
import {
  authorize,
  leaveOrganization,
  listMembers,
  removeMember,
  setMemberRoles,
  transferOwnership,
} from "../../src/members.ts";
import { useOrgDb } from "../support/orgdb.ts";
import { id, orgIds, permission, roles, shape, userIds } from "./arbitraries.ts";
import { propertiesOf } from "./support.ts";

const suite = useOrgDb();

const organizationId = id(orgIds);
const userId = id(userIds);

propertiesOf(suite, "listMembers", {
  input: organizationId,
  call: (tx, value) => listMembers(tx, { organizationId: value }),
});

propertiesOf(suite, "setMemberRoles", {
  input: shape({ organizationId, userId, roles }),
  call: (tx, value) => setMemberRoles(tx, value as never),
  expectDatabaseRefusals: true,
});

propertiesOf(suite, "removeMember", {
  input: shape({ organizationId, userId }),
  call: (tx, value) => removeMember(tx, value as never),
  expectDatabaseRefusals: true,
});

propertiesOf(suite, "leaveOrganization", {
  input: organizationId,
  call: (tx, value) => leaveOrganization(tx, { organizationId: value }),
  expectDatabaseRefusals: true,
});

propertiesOf(suite, "transferOwnership", {
  input: shape({ organizationId, newOwnerId: userId }),
  call: (tx, value) => transferOwnership(tx, value as never),
  expectDatabaseRefusals: true,
});

propertiesOf(suite, "authorize", {
  input: shape({ organizationId, permission }),
  call: (tx, value) => authorize(tx, value as never),
});

/**
 * The typed query layer: build a handle with `createOrgDb(url)`, then run
 * units of work as a user (`asUser`, `asJwt`) or as the service
 * (`asService`), calling the entity helpers with the transaction they get.
 */
export {
  createOrgDb,
  type Database,
  type OrgDb,
  type OrgDbOptions,
  type ReplicaOptions,
  type ReplicaState,
  type Tx,
  type UnitOptions,
} from "./db.ts";
export { claimsFor, jwtVerifier, verifyJwt, type JwtOptions, type JwtVerifier, type UserClaims } from "./auth.ts";
export * from "./errors.ts";
export * as organizations from "./organizations.ts";
export * as members from "./members.ts";
export * as clients from "./clients.ts";
export * as invitations from "./invitations.ts";
export * as audit from "./audit.ts";
export * as lifecycle from "./lifecycle.ts";
export * as schema from "./schema/index.ts";
export type { Database as SupabaseDatabase } from "./types/database.types.ts";
export {
  BUILT_IN_ROLE_KEYS,
  PERMISSION_KEY,
  PERMISSIONS,
  type BuiltInRoleKey,
  type CorePermission,
  type Permission,
  type RoleKey,
} from "./schema/rules.ts";

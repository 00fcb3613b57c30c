/**
 * Input rules shared by the zod schemas, mirroring the SQL checks in
 * supabase/migrations so that bad input is refused before it reaches the
 * database (the database still enforces every rule itself).
 */
import { z } from "zod";

/** organizations.slug: lowercase a-z, 0-9 and "-", 3 to 63 characters, no leading or trailing "-". */
export const SLUG = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;
/** The email check used by clients.email and invitations.email. */
export const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
/** clients.phone. */
export const PHONE = /^\+?[0-9 ().-]{3,32}$/;

/** The built-in roles, highest first. */
export const BUILT_IN_ROLE_KEYS = ["owner", "admin", "manager", "member", "viewer"] as const;
export type BuiltInRoleKey = (typeof BUILT_IN_ROLE_KEYS)[number];
/** roles.key: a-z and _, 2 to 31 characters, starting with a letter. */
export const ROLE_KEY = /^[a-z][a-z_]{1,30}$/;
/**
 * A role's key, wherever the layer takes or returns one: a built-in key
 * (completed by the editor), or the key of a role an organization defined
 * (createRole). Keys resolve within the organization, then among the built-ins.
 */
export type RoleKey = BuiltInRoleKey | (string & {});
export const isBuiltInRoleKey = (key: string): key is BuiltInRoleKey =>
  (BUILT_IN_ROLE_KEYS as readonly string[]).includes(key);

export const PERMISSIONS = [
  "organization.update",
  "organization.delete",
  "members.manage",
  "clients.read",
  "clients.create",
  "clients.update",
  "clients.delete",
  "clients.assign",
  "audit.read",
  "roles.manage",
  "clients.work_assigned",
] as const;
/** A permission of the core catalog. */
export type CorePermission = (typeof PERMISSIONS)[number];
/**
 * A permission key: one of the core catalog (completed by the editor), or one
 * a migration of the project added (`projects.read`, see docs/extending.md).
 */
export type Permission = CorePermission | (string & {});
/** permissions.key: <table>.<action>, both lowercase snake_case (the check permissions_key_format). */
export const PERMISSION_KEY = /^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$/;

/** Postgres text cannot hold NUL characters. */
const noNul = (s: string) => !s.includes("\u0000");
/** A lone UTF-16 surrogate is no character: postgres.js would send it as U+FFFD, storing other text than given. */
const wellFormed = (s: string) => !/\p{Surrogate}/u.test(s);

/** Trimmed text between min and max characters, without NUL or lone surrogates. */
export const trimmedText = (min: number, max: number) =>
  z
    .string()
    .trim()
    .min(min)
    .max(max)
    .refine(noNul, "must not contain NUL characters")
    .refine(wellFormed, "must not contain lone UTF-16 surrogates");

/** Free text stored as given (no trimming): at most max characters, without NUL or lone surrogates. */
export const freeText = (max: number) =>
  z
    .string()
    .max(max)
    .refine(noNul, "must not contain NUL characters")
    .refine(wellFormed, "must not contain lone UTF-16 surrogates");

export const id = z.uuid();
export const slug = z
  .string()
  .regex(SLUG, "lowercase letters, digits and '-', 3 to 63 characters, no leading or trailing '-'");
export const email = z
  .string()
  .trim()
  .max(320)
  .regex(EMAIL, "must be an email address")
  .refine(noNul, "must not contain NUL characters")
  .refine(wellFormed, "must not contain lone UTF-16 surrogates");
export const phone = z
  .string()
  .trim()
  .regex(PHONE, "digits, spaces, ( ) . - and an optional leading +, 3 to 32 characters");
export const roleKey: z.ZodType<RoleKey, RoleKey> = z
  .string()
  .regex(
    ROLE_KEY,
    `a role key: ${BUILT_IN_ROLE_KEYS.join(", ")}, or one of the organization's own (a-z and _, 2 to 31 characters)`,
  );
/** The key of a role an organization defines: never a built-in key. */
export const customRoleKey = z
  .string()
  .regex(ROLE_KEY, "a-z and _, 2 to 31 characters, starting with a letter")
  .refine((key) => !isBuiltInRoleKey(key), "reserved for a built-in role");
/** An organization's role ranks from 1 to below owner (50). */
export const customRoleRank = z.number().int().min(1).max(49);
/** A well-formed permission key; whether the catalog has it is the database's answer (22023 when it does not). */
export const permission: z.ZodType<Permission, Permission> = z
  .string()
  .regex(PERMISSION_KEY, "a permission key: <table>.<action>, lowercase snake_case");
export const pageSize = z.number().int().min(1).max(500).default(50);

/**
 * Who a unit of work runs as: claims like those PostgREST reads from a
 * Supabase JWT. Build them from a user id, or verify a JWT with jose against
 * the project's JWT secret (HS256) or its JWKS (asymmetric signing keys).
 */
import { createLocalJWKSet, createRemoteJWKSet, jwtVerify, type JSONWebKeySet, type JWTPayload } from "jose";
import { z } from "zod";
import { DatabaseError, ForbiddenError, ValidationError } from "./errors.ts";
import { parse } from "./internal.ts";

/** Claims of a signed-in (or anonymous) request, as PostgREST sets them in request.jwt.claims. */
export interface UserClaims extends JWTPayload {
  sub: string;
  role: "authenticated" | "anon";
  email?: string;
  aud?: string | string[];
  /** Supabase Auth's anonymous sign-ins carry true: they may not create organizations or accept invitations. */
  is_anonymous?: boolean;
}

const userId = z.uuid({ error: "user id must be a uuid" });

/** Claims for a user id, as Supabase Auth would issue them for a user who signed up (is_anonymous false unless `extra` says otherwise). */
export function claimsFor(id: string, extra: Partial<Omit<UserClaims, "sub">> = {}): UserClaims {
  const sub = parse(userId, id, "invalid user id");
  try {
    const role: UserClaims["role"] = extra?.role === "anon" ? "anon" : "authenticated";
    return { aud: "authenticated", is_anonymous: false, ...extra, sub, role };
  } catch (error) {
    throw new ValidationError("invalid claims: they cannot be read", { cause: error });
  }
}

const claimsSchema = z.looseObject({
  sub: z.uuid({ error: "the token's sub must be a user id" }),
  role: z.enum(["authenticated", "anon"], {
    error: "the token's role must be authenticated or anon; use asService for trusted jobs",
  }),
});

/** Check claims given directly (they must name a user and a non-service role). */
export function checkClaims(claims: unknown): UserClaims {
  return parse(claimsSchema, claims, "invalid claims");
}

export interface JwtOptions {
  /** The project's JWT secret (HS256), as in Supabase's API settings. */
  secret?: string;
  /** The project's JWKS: its URL (https://<project>.supabase.co/auth/v1/.well-known/jwks.json) or the key set. */
  jwks?: string | URL | JSONWebKeySet;
  /** Expected issuer (https://<project>.supabase.co/auth/v1); not checked when absent. */
  issuer?: string;
  /** Expected audience; `authenticated` by default. */
  audience?: string;
}

type KeyInput = Parameters<typeof jwtVerify>[1];

function keyFor(options: JwtOptions): KeyInput {
  if (options.secret) {
    if (typeof options.secret !== "string") throw new ValidationError("the JWT secret must be a string");
    return new TextEncoder().encode(options.secret);
  }
  if (options.jwks) {
    if (typeof options.jwks === "string" || options.jwks instanceof URL)
      return createRemoteJWKSet(new URL(options.jwks));
    return createLocalJWKSet(options.jwks);
  }
  throw new ValidationError("JWT verification needs the project's secret or its JWKS");
}

/** Verifies Supabase access tokens: resolves with their claims, or rejects with ForbiddenError. */
export type JwtVerifier = (token: string) => Promise<UserClaims>;

/**
 * A verifier for many tokens. Its key is built once, on first use: a remote
 * JWKS is fetched then and cached by jose (refetched only for a key id it
 * does not know, at most every 30 seconds, or after 10 minutes), not fetched
 * for every token. `createOrgDb` builds one per handle for `asJwt`.
 */
export function jwtVerifier(options: JwtOptions): JwtVerifier {
  if (typeof options !== "object" || options === null)
    throw new ValidationError("invalid JWT options: an object with `secret` or `jwks`");
  let key: KeyInput | undefined;
  /** The key, built on first use; a missing or unusable one is the server's configuration, not the caller's token. */
  const keyOf = (): KeyInput => {
    try {
      return (key ??= keyFor(options));
    } catch (error) {
      throw new DatabaseError(
        `JWT verification is not configured: ${error instanceof Error ? error.message : String(error)}`,
        { rule: "jwt-not-configured", cause: error },
      );
    }
  };
  return async (token) => {
    if (typeof token !== "string" || token.length === 0)
      throw new ForbiddenError("missing access token", { code: "PGRST301" });
    const verifyWith = keyOf();
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, verifyWith, {
        audience: options.audience ?? "authenticated",
        ...(options.issuer ? { issuer: options.issuer } : {}),
      }));
    } catch (error) {
      throw new ForbiddenError(`invalid access token: ${error instanceof Error ? error.message : String(error)}`, {
        code: "PGRST301",
        cause: error,
      });
    }
    try {
      return checkClaims(payload);
    } catch (error) {
      throw new ForbiddenError(
        `access token not usable as a user: ${error instanceof Error ? error.message : String(error)}`,
        {
          code: "PGRST301",
          cause: error,
        },
      );
    }
  };
}

/**
 * Verify one Supabase access token; resolves to its claims or rejects with
 * ForbiddenError (with a ValidationError for options that are no object: a
 * rejection too, never a synchronous throw). It builds the key for this call
 * alone (a remote JWKS is fetched every time): to verify many tokens, build a
 * `jwtVerifier` once.
 */
export async function verifyJwt(token: string, options: JwtOptions): Promise<UserClaims> {
  return jwtVerifier(options)(token);
}

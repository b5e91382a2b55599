import { createMiddleware } from "hono/factory";
import type { Env } from "../env";
import { ApiError } from "./errors";

type Scope = "read" | "write";

const encoder = new TextEncoder();

/** Compares two secrets in constant time by comparing their SHA-256 digests. */
async function secretEquals(given: string, expected: string): Promise<boolean> {
  const [a, b] = await Promise.all([
    crypto.subtle.digest("SHA-256", encoder.encode(given)),
    crypto.subtle.digest("SHA-256", encoder.encode(expected)),
  ]);
  return crypto.subtle.timingSafeEqual(a, b);
}

/** POSTs that only read: running a query and inferring a schema. */
const READING_POSTS = new Set(["/query", "/schema"]);

function requiredScope(method: string, path: string): Scope {
  if (method === "POST" && READING_POSTS.has(path)) return "read";
  return method === "GET" || method === "HEAD" ? "read" : "write";
}

/** The scope a bearer token grants, or null when it matches no configured token. */
async function grantedScope(token: string, env: Env): Promise<Scope | null> {
  const admin = env.AMP_ADMIN_TOKEN ? await secretEquals(token, env.AMP_ADMIN_TOKEN) : false;
  if (admin) return "write";
  const read = env.AMP_READ_TOKEN ? await secretEquals(token, env.AMP_READ_TOKEN) : false;
  return read ? "read" : null;
}

/**
 * Who made a request that passed `requireAuth`, for records that say who asked (partition invalidations): the
 * role of its token (`admin` for the write token, `read` for the read token), or `auth_disabled` when the API
 * runs without tokens.
 */
export async function requestRole(env: Env, authorization: string | undefined): Promise<"admin" | "read" | "auth_disabled"> {
  if (!env.AMP_ADMIN_TOKEN && !env.AMP_READ_TOKEN) return "auth_disabled";
  const token = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? "")?.[1];
  return token !== undefined && (await grantedScope(token, env)) === "write" ? "admin" : "read";
}

/**
 * Bearer-token auth: the admin token may read and write, the read token may
 * only read. With no token configured, the API is closed unless
 * `AMP_AUTH=disabled` says explicitly that it runs without auth.
 */
export const requireAuth = createMiddleware<{ Bindings: Env }>(async (c, next) => {
  const env = c.env;
  if (!env.AMP_ADMIN_TOKEN && !env.AMP_READ_TOKEN) {
    if (env.AMP_AUTH === "disabled") return next();
    throw new ApiError(
      "AUTH_NOT_CONFIGURED",
      "no API token is configured: set AMP_ADMIN_TOKEN (and optionally AMP_READ_TOKEN), or AMP_AUTH=disabled for local development",
    );
  }
  const header = c.req.header("authorization") ?? "";
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match?.[1]) throw new ApiError("UNAUTHORIZED", "missing bearer token: send 'Authorization: Bearer <token>'");
  const scope = await grantedScope(match[1], env);
  if (scope === null) throw new ApiError("UNAUTHORIZED", "invalid bearer token");
  if (requiredScope(c.req.method, c.req.path) === "write" && scope !== "write") {
    throw new ApiError("FORBIDDEN", "this token may only read; writes need the admin token");
  }
  return next();
});

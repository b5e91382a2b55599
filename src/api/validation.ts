import type { Hook, z } from "@hono/zod-openapi";
import type { HonoRequest, Env as HonoEnv } from "hono";
import { createMiddleware } from "hono/factory";
import type { ZodError } from "zod";
import { ApiError, type ErrorCode } from "./errors";

/** Bodies larger than this are refused (the original's axum default). */
const MAX_BODY_BYTES = 2 * 1024 * 1024;

type Target = "param" | "query" | "json";

/** Which error code a failed validation of each part of a request answers with. */
type ValidationCodes = Partial<Record<Target, ErrorCode>>;

function describeZodError(error: ZodError): string {
  return error.issues
    .map((issue) => {
      const path = issue.path.length > 0 ? `${issue.path.join(".")}: ` : "";
      return `${path}${issue.message}`;
    })
    .join("; ");
}

/** Turns a zod validation failure into the route's own error code. Generic so each route keeps its own input types. */
export function validationHook<I, E extends HonoEnv, P extends string>(codes: ValidationCodes): Hook<I, E, P, undefined> {
  return (result) => {
    if (result.success) return undefined;
    const target = result.target as Target;
    const code = codes[target] ?? (target === "query" ? "INVALID_QUERY_PARAMETERS" : "INVALID_PATH");
    throw new ApiError(code, `invalid ${target === "json" ? "body" : target}: ${describeZodError(result.error)}`);
  };
}

/**
 * `validationHook`, except that a bad path parameter wins over a bad query
 * (zod-openapi validates the query first; the original checks the path
 * first), so a request with both answers the path's code.
 */
export function pathFirstHook<I, E extends HonoEnv, P extends string>(
  codes: ValidationCodes & { param: ErrorCode },
  params: z.ZodType,
): Hook<I, E, P, undefined> {
  const hook = validationHook<I, E, P>(codes);
  return (result, c) => {
    if (!result.success && result.target === "query") {
      const path = params.safeParse(c.req.param());
      if (!path.success) throw new ApiError(codes.param, `invalid param: ${describeZodError(path.error)}`);
    }
    return hook(result, c);
  };
}

class BodyTooLarge extends Error {}

/** The body's bytes, refused as soon as it is known to exceed the cap, so a huge body is never buffered. */
async function readCapped(request: Request): Promise<Uint8Array> {
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > MAX_BODY_BYTES) throw new BodyTooLarge();
  if (!request.body) return new Uint8Array();
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > MAX_BODY_BYTES) {
      await reader.cancel();
      throw new BodyTooLarge();
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

/** A request that says it has no body: no body stream, or a zero Content-Length. */
function isEmptyBody(request: Request): boolean {
  return request.body === null || request.headers.get("content-length") === "0";
}

/** Leaves the body's text where `c.req.json()` reads it, since the stream itself has been read. */
function cacheBodyText(req: HonoRequest, text: string): void {
  // Hono's type says the cache holds the text, but HonoRequest#cachedBody stores and expects its promise.
  req.bodyCache.text = Promise.resolve(text) as unknown as string;
}

/** A body's text, UTF-8, at most 2 MiB; `code` answers anything else. */
export async function readTextBody(request: Request, code: ErrorCode): Promise<string> {
  let bytes: Uint8Array;
  try {
    bytes = await readCapped(request);
  } catch (error) {
    if (error instanceof BodyTooLarge) throw new ApiError(code, `request body exceeds ${MAX_BODY_BYTES} bytes`);
    throw new ApiError(code, "request body could not be read");
  }
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new ApiError(code, "request body is not valid UTF-8");
  }
}

const JSON_CONTENT_TYPE = /^application\/([a-z0-9.+-]+\+)?json\s*(;.*)?$/i;

/**
 * Reads a JSON body before validation: refuses a wrong content type, a body
 * over 2 MiB and malformed JSON with the route's code, then leaves the text
 * where the zod validator reads it. An optional body may be left out
 * entirely (no content type, no bytes): it reads as `{}`.
 *
 * The text is cached, not the parsed value: Hono re-serializes a cached
 * value before parsing it again, which would turn `1e400` (Infinity) into
 * null and `-0` into 0, so a value that must be refused would pass as
 * another that is valid.
 */
export function jsonBody(code: ErrorCode, options: { optional?: boolean } = {}) {
  return createMiddleware(async (c, next) => {
    const contentType = c.req.header("content-type") ?? "";
    if (options.optional && contentType === "" && isEmptyBody(c.req.raw)) {
      cacheBodyText(c.req, "{}");
      return next();
    }
    if (!JSON_CONTENT_TYPE.test(contentType)) {
      throw new ApiError(code, "request body must be JSON with 'content-type: application/json'");
    }
    let bytes: Uint8Array;
    try {
      bytes = await readCapped(c.req.raw);
    } catch (error) {
      if (error instanceof BodyTooLarge) throw new ApiError(code, `request body exceeds ${MAX_BODY_BYTES} bytes`);
      throw new ApiError(code, "request body could not be read");
    }
    let text: string;
    try {
      text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
      JSON.parse(text);
    } catch (error) {
      throw new ApiError(code, `request body is not valid JSON: ${error instanceof Error ? error.message : "parse error"}`);
    }
    cacheBodyText(c.req, text);
    await next();
  });
}

/** How the API tests call the Worker: as the admin unless told otherwise, and how they check an error answer. */
import { expect } from "vitest";
import type { ErrorBody, ErrorCode } from "../../src/api/errors";
import { fetchWorker } from "../support/workerd/fetch-worker";

/** The tokens the worker test project binds (vitest.worker.config.ts). */
export const ADMIN = { authorization: "Bearer test-admin-token" };
export const READ = { authorization: "Bearer test-read-token" };
const JSON_TYPE = { "content-type": "application/json" };

/** A request with the admin token; `init.headers` are added on top, so `{ headers: READ }` swaps the token. */
export function api(path: string, init: RequestInit = {}): Promise<Response> {
  return fetchWorker(path, { ...init, headers: { ...ADMIN, ...(init.headers as Record<string, string> | undefined) } });
}

/** A request with no Authorization header at all. */
export function withoutToken(path: string, init: RequestInit = {}): Promise<Response> {
  return fetchWorker(path, init);
}

export function postJson(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return api(path, { method: "POST", headers: { ...JSON_TYPE, ...headers }, body: JSON.stringify(body) });
}

export function del(path: string, headers: Record<string, string> = {}): Promise<Response> {
  return api(path, { method: "DELETE", headers });
}

/** Asserts an ErrorResponse with this status and code, and returns it. */
export async function expectError(res: Response, status: number, code: ErrorCode): Promise<ErrorBody> {
  const body = (await res.json()) as ErrorBody;
  expect({ status: res.status, code: body.error_code }, body.error_message).toEqual({ status, code });
  expect(res.headers.get("content-type")).toContain("application/json");
  expect(typeof body.error_message).toBe("string");
  return body;
}

/**
 * How worker tests send HTTP requests: straight to the Worker's fetch handler,
 * inside workerd with the project's real bindings, waiting for its waitUntil
 * work as a real request would.
 *
 * Not `SELF.fetch`: under @cloudflare/vitest-pool-workers each SELF.fetch gets
 * slower as the runtime's request count grows (workers-sdk issue #15446), and
 * with `singleWorker` every test file shares one runtime, so a suite of a few
 * thousand requests took minutes and timed out on CI.
 */
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import worker from "../../../src/index";
import type { Env } from "../../../src/env";

export async function fetchWorker(path: string, init: RequestInit = {}, vars: Partial<Env> = {}): Promise<Response> {
  const ctx = createExecutionContext();
  // The app reads no `cf` properties, so a plain Request stands in for an incoming one.
  const request = new Request(`https://amp.test${path}`, init) as Request<unknown, IncomingRequestCfProperties>;
  const response = await worker.fetch(request, { ...env, ...vars }, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

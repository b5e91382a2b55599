/**
 * The CLI's HTTP client against a loopback server that plays wrangler dev's proxy losing a request
 * (cloudflare/workers-sdk#14641): that one 503 is sent again, body and method unchanged, at most three times in
 * all; any other failure is not.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { AdminClient, ApiFailure } from "../../src/cli/api-client";

const LOST = "Your worker restarted mid-request. Please try sending the request again. Only GET or HEAD requests are retried automatically.";

interface Answer {
  status: number;
  body: string;
}
interface Seen {
  method: string;
  body: string;
}

let server: Server | undefined;

/** A server giving `answers` in turn (the last one again once they run out); the client and what it received. */
async function serving(answers: Answer[]): Promise<{ client: AdminClient; seen: Seen[] }> {
  const seen: Seen[] = [];
  server = createServer(async (request: IncomingMessage, response) => {
    let body = "";
    for await (const chunk of request) body += chunk;
    seen.push({ method: request.method ?? "", body });
    const answer = answers[Math.min(seen.length, answers.length) - 1]!;
    response.writeHead(answer.status, { "content-type": answer.body.startsWith("{") ? "application/json" : "text/plain" });
    response.end(answer.body);
  });
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { client: new AdminClient({ url: `http://127.0.0.1:${port}`, token: undefined }), seen };
}

afterEach(async () => {
  await new Promise((resolve) => server?.close(resolve));
  server = undefined;
});

describe("AdminClient and wrangler dev's lost requests", () => {
  it("sends a POST again after the dev proxy's 503 and gives the answer that follows", async () => {
    const { client, seen } = await serving([
      { status: 503, body: LOST },
      { status: 201, body: "" },
    ]);
    expect(await client.json("POST", "/datasets", { body: { name: "x" } })).toBeNull();
    expect(seen).toEqual([
      { method: "POST", body: '{"name":"x"}' },
      { method: "POST", body: '{"name":"x"}' },
    ]);
  });

  it("gives up after three attempts with the proxy's answer", async () => {
    const { client, seen } = await serving([{ status: 503, body: LOST }]);
    const failure = await client.json("POST", "/providers", { body: {} }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ApiFailure);
    expect(failure).toMatchObject({ code: "INVALID_RESPONSE", status: 503 });
    expect(seen).toHaveLength(3);
  });

  it("does not repeat any other failure, a 503 of the API's own included", async () => {
    const unavailable = { status: 503, body: JSON.stringify({ error_code: "SERVICE_UNAVAILABLE", error_message: "try later" }) };
    const { client, seen } = await serving([unavailable, { status: 201, body: "" }]);
    await expect(client.json("POST", "/datasets", { body: {} })).rejects.toMatchObject({ code: "SERVICE_UNAVAILABLE", status: 503 });
    expect(seen).toHaveLength(1);
  });

  it("does not repeat a 500 whose body merely mentions a restart", async () => {
    const { client, seen } = await serving([{ status: 500, body: LOST }, { status: 201, body: "" }]);
    await expect(client.json("POST", "/datasets", { body: {} })).rejects.toMatchObject({ code: "INVALID_RESPONSE", status: 500 });
    expect(seen).toHaveLength(1);
  });
});

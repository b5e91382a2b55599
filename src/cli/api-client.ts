/**
 * The CLI's only way to the system: HTTP requests to the admin API, with the
 * bearer token when one is given. An answer that is not 2xx becomes an
 * ApiFailure carrying the API's `error_code`.
 */

export interface Connection {
  /** The API's base URL, without a trailing slash. */
  url: string;
  token: string | undefined;
}

/** The API answered with an error, or could not be reached. */
export class ApiFailure extends Error {
  constructor(
    /** The API's `error_code`, or CONNECTION_FAILED / INVALID_RESPONSE when there was no ErrorResponse. */
    readonly code: string,
    message: string,
    /** The HTTP status; null when no answer came. */
    readonly status: number | null,
  ) {
    super(message);
    this.name = "ApiFailure";
  }
}

export interface RequestOptions {
  /** Sent as JSON. */
  body?: unknown;
  /** Sent as `text/plain` instead of a JSON body. */
  text?: string;
  query?: Record<string, string | number | undefined>;
  headers?: Record<string, string>;
}

/**
 * wrangler dev's proxy answers this 503 when its pooled connection to the Worker's runtime was closed by both
 * ends' 5 s idle timers at once (cloudflare/workers-sdk#14641, seen in test/docs): the request was written to a
 * connection the runtime had closed and never reached the Worker, so it is sent again whatever its method. (The
 * proxy says the same when a reload cuts a request off; every API write is one D1 batch, so a repeat then meets
 * its own result, e.g. a 409.) Only the dev server answers this; a deployed Worker never does.
 */
const DEV_PROXY_LOST_REQUEST = "Your worker restarted mid-request.";
const DEV_PROXY_ATTEMPTS = 3;

export class AdminClient {
  constructor(readonly connection: Connection) {}

  /** The absolute URL of an API path with its query. */
  url(path: string, query: RequestOptions["query"] = {}): string {
    const url = new URL(`${this.connection.url}${path}`);
    for (const [key, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(key, String(value));
    return url.toString();
  }

  /** The raw answer of a request that succeeded (2xx or 304); an error answer throws ApiFailure. */
  async fetch(method: string, path: string, options: RequestOptions = {}): Promise<Response> {
    const headers: Record<string, string> = { ...options.headers };
    if (this.connection.token) headers.authorization = `Bearer ${this.connection.token}`;
    let body: string | undefined;
    if (options.text !== undefined) {
      headers["content-type"] = "text/plain; charset=utf-8";
      body = options.text;
    } else if (options.body !== undefined) {
      headers["content-type"] = "application/json";
      body = JSON.stringify(options.body);
    }
    const init = { method, headers, body };
    for (let attempt = 1; ; attempt++) {
      const response = await this.send(this.url(path, options.query), init);
      if (response.ok || response.status === 304) return response;
      const text = await response.text();
      if (attempt < DEV_PROXY_ATTEMPTS && response.status === 503 && text.startsWith(DEV_PROXY_LOST_REQUEST)) continue;
      throw failureOf(`${method} ${path}`, response.status, text);
    }
  }

  private async send(url: string, init: RequestInit): Promise<Response> {
    try {
      return await fetch(url, init);
    } catch (error) {
      const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : "";
      throw new ApiFailure("CONNECTION_FAILED", `cannot reach ${this.connection.url}${cause}`, null);
    }
  }

  /** A request whose answer is JSON, or nothing (201/204 with an empty body: null). */
  async json<T = unknown>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const response = await this.fetch(method, path, options);
    const text = await response.text();
    if (text === "") return null as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new ApiFailure("INVALID_RESPONSE", `${method} ${path} answered ${response.status} with a body that is not JSON`, response.status);
    }
  }

  get<T = unknown>(path: string, query?: RequestOptions["query"]): Promise<T> {
    return this.json<T>("GET", path, query ? { query } : {});
  }
}

/** The API's ErrorResponse as an ApiFailure, or INVALID_RESPONSE for any other body. */
function failureOf(request: string, status: number, text: string): ApiFailure {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = null;
  }
  if (isErrorBody(parsed)) return new ApiFailure(parsed.error_code, parsed.error_message, status);
  return new ApiFailure("INVALID_RESPONSE", `${request} answered ${status}: ${text.slice(0, 200)}`, status);
}

function isErrorBody(value: unknown): value is { error_code: string; error_message: string } {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as { error_code?: unknown }).error_code === "string" &&
    typeof (value as { error_message?: unknown }).error_message === "string"
  );
}

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
    let response: Response;
    try {
      response = await fetch(this.url(path, options.query), { method, headers, body });
    } catch (error) {
      const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : "";
      throw new ApiFailure("CONNECTION_FAILED", `cannot reach ${this.connection.url}${cause}`, null);
    }
    if (response.ok || response.status === 304) return response;
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = null;
    }
    if (isErrorBody(parsed)) throw new ApiFailure(parsed.error_code, parsed.error_message, response.status);
    throw new ApiFailure("INVALID_RESPONSE", `${method} ${path} answered ${response.status}: ${text.slice(0, 200)}`, response.status);
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

function isErrorBody(value: unknown): value is { error_code: string; error_message: string } {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as { error_code?: unknown }).error_code === "string" &&
    typeof (value as { error_message?: unknown }).error_message === "string"
  );
}

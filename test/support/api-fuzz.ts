/**
 * Requests generated from the API's own /openapi.json with a seeded PRNG, for
 * the fuzzing campaign (test/chaos/api-fuzz.test.ts). Each request starts from
 * a plausible one (documented path, parameters from the schema's examples or
 * from ids that exist, a body built from the request schema) and then gets
 * one kind of damage, so every kind is met on every route. Pure: no I/O, the
 * same seed gives the same requests.
 */
import type { Prng } from "./prng";

export const FUZZ_KINDS = [
  "plausible",
  "wrong-type",
  "missing-field",
  "extra-field",
  "odd-number",
  "odd-string",
  "path-traversal",
  "duplicate-query",
  "content-type",
  "truncated-body",
  "oversized-body",
  "auth",
] as const;
export type FuzzKind = (typeof FUZZ_KINDS)[number];

export interface FuzzRequest {
  kind: FuzzKind;
  /** The documented route it was made from, `METHOD /path/{param}`. */
  route: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}

interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  enum?: unknown[];
  example?: unknown;
  minimum?: number;
  pattern?: string;
  $ref?: string;
}

interface Operation {
  parameters?: { name: string; in: "path" | "query"; schema: JsonSchema }[];
  requestBody?: { content?: Record<string, { schema?: JsonSchema }> };
}

export interface OpenApiDocument {
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, JsonSchema> };
}

/** Values that exist in the fuzzed storage, so plausible requests reach rows and objects, not only 404s. */
export interface FuzzWorld {
  params: Record<string, string[]>;
  /** Bodies known to be valid for some routes (a manifest, a provider), damaged like the generated ones. */
  bodies: Record<string, unknown[]>;
  adminToken: string;
  readToken: string;
}

const ODD_NUMBERS: unknown[] = [-1, 0, -0, 1e308, -1e308, 2 ** 53 + 1, 99999999999999999999, 1.5, "1e400", "NaN", "Infinity", "0x10", "-9223372036854775809", "18446744073709551616", " 1", "1 ", "+1", "01"];
const ODD_STRINGS = [
  "",
  " ",
  "\u0000",
  "a\u0000b",
  "\uFEFFx",
  "\u202Eevil",
  "e\u0301\u0301\u0301",
  "🦀".repeat(50),
  "\uD800",
  "x".repeat(10_000),
  "é".repeat(3000),
  "\\",
  "'; DROP TABLE jobs; --",
  "${AMP_ADMIN_TOKEN}",
  "%s%s%n",
  "<script>alert(1)</script>",
  "__proto__",
  "constructor",
  "null",
  "\n\r\t",
];
const TRAVERSALS = ["..", "%2e%2e", "..%2F..%2Fetc%2Fpasswd", "%2F", "%2e%2e%2f%2e%2e%2f", "....//", "..%5c..%5c", "%252e%252e", ".", "%00", "a%2F..%2F..%2Fb", "%C0%AE%C0%AE"];
const CONTENT_TYPES = ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/json; charset=utf-16", "application/xml", "APPLICATION/JSON", "application/jsonx", ""];
const OVERSIZED_BYTES = 2 * 1024 * 1024 + 17;

export class ApiFuzzer {
  private readonly routes: { route: string; method: string; template: string; operation: Operation }[];

  constructor(
    private readonly doc: OpenApiDocument,
    private readonly world: FuzzWorld,
    private readonly random: Prng,
  ) {
    this.routes = Object.entries(doc.paths).flatMap(([template, item]) =>
      Object.entries(item).map(([method, operation]) => ({ route: `${method.toUpperCase()} ${template}`, method: method.toUpperCase(), template, operation })),
    );
  }

  /** The `index`th request: kinds in turn, so a run of n requests has about n/12 of each. */
  request(index: number): FuzzRequest {
    const kind = FUZZ_KINDS[index % FUZZ_KINDS.length]!;
    const { route, method, template, operation } = this.random.pick(this.routesFor(kind));
    const pathParams = (operation.parameters ?? []).filter((p) => p.in === "path");
    const queryParams = (operation.parameters ?? []).filter((p) => p.in === "query");
    const params: Record<string, string> = {};
    for (const param of pathParams) params[param.name] = encodeURIComponent(this.plausibleString(param.name, param.schema));
    const query: [string, string][] = queryParams.filter(() => this.random.chance(0.5)).map((p) => [p.name, this.plausibleString(p.name, p.schema)]);
    const bodySchema = this.resolve(operation.requestBody?.content?.["application/json"]?.schema);
    let body: unknown = bodySchema === undefined ? undefined : this.plausibleBody(route, bodySchema);
    let rawBody: string | undefined;
    const headers: Record<string, string> = { authorization: `Bearer ${this.world.adminToken}` };
    if (body !== undefined) headers["content-type"] = "application/json";

    const someParam = (): string | undefined => (pathParams.length > 0 ? this.random.pick(pathParams).name : undefined);
    switch (kind) {
      case "plausible":
        break;
      case "wrong-type": {
        const param = someParam();
        if (param !== undefined && this.random.chance(0.5)) params[param] = encodeURIComponent(String(this.random.pick<unknown>([true, "abc", "[]", "{}", "null", -5])));
        else if (queryParams.length > 0 && this.random.chance(0.5)) query.push([this.random.pick(queryParams).name, this.random.pick(["abc", "true", "[1]", "{}", "-", ""])]);
        else body = this.wrongType(body);
        break;
      }
      case "missing-field":
        body = this.withoutField(body);
        if (body === undefined && this.random.chance(0.5)) query.length = 0;
        break;
      case "extra-field":
        body = this.withExtraField(body);
        query.push([this.random.pick(["extra", "__proto__", "constructor", "limit2"]), this.random.pick(ODD_STRINGS).slice(0, 200)]);
        break;
      case "odd-number": {
        const number = this.random.pick(ODD_NUMBERS);
        const param = someParam();
        if (param !== undefined && this.random.chance(0.4)) params[param] = encodeURIComponent(String(number));
        else if (queryParams.length > 0 && this.random.chance(0.5)) query.push([this.random.pick(queryParams).name, String(number)]);
        else body = this.replaceSomeValue(body, number);
        break;
      }
      case "odd-string": {
        const text = this.random.pick(ODD_STRINGS);
        const param = someParam();
        if (param !== undefined && this.random.chance(0.5)) params[param] = this.encodeOdd(text);
        else if (queryParams.length > 0 && this.random.chance(0.3)) query.push([this.random.pick(queryParams).name, text]);
        else body = this.replaceSomeValue(body, text);
        break;
      }
      case "path-traversal": {
        const param = someParam();
        const traversal = this.random.pick(TRAVERSALS);
        if (param !== undefined) params[param] = this.random.chance(0.5) ? traversal : `${params[param]}/${traversal}`;
        else return this.finish(kind, route, method, `${template}/${traversal}`, query, headers, body, rawBody);
        break;
      }
      case "duplicate-query": {
        const names = queryParams.length > 0 ? queryParams.map((p) => p.name) : ["limit", "status", "force"];
        const name = this.random.pick(names);
        query.push([name, this.random.pick(["1", "2", "1000", "0", "true", "false", "terminal", "x"])], [name, this.random.pick(["1", "1001", "false", "completed", ""])]);
        break;
      }
      case "content-type": {
        const type = this.random.pick(CONTENT_TYPES);
        if (type === "") delete headers["content-type"];
        else headers["content-type"] = type;
        if (body === undefined) body = { any: "body" };
        if (type.startsWith("application/x-www")) rawBody = "namespace=_&name=x";
        break;
      }
      case "truncated-body": {
        const text = JSON.stringify(body ?? { end_block: 10, parallelism: 2 });
        rawBody = text.slice(0, this.random.int(0, Math.max(0, text.length - 1)));
        headers["content-type"] = "application/json";
        break;
      }
      case "oversized-body": {
        const filler = "x".repeat(OVERSIZED_BYTES);
        rawBody = this.random.chance(0.5) ? JSON.stringify({ ...(isObject(body) ? body : {}), filler }) : filler;
        headers["content-type"] = "application/json";
        break;
      }
      case "auth":
        this.damageAuth(headers, method);
        break;
    }
    const path = template.replace(/\{(\w+)\}/g, (_, name: string) => params[name] ?? "x");
    return this.finish(kind, route, method, path, query, headers, body, rawBody);
  }

  /** The routes a kind of damage means something on: body damage on routes with a body, and so on. */
  private routesFor(kind: FuzzKind): typeof this.routes {
    const has = (where: "path" | "query") => this.routes.filter((r) => r.operation.parameters?.some((p) => p.in === where));
    const withBody = this.routes.filter((r) => r.operation.requestBody !== undefined);
    switch (kind) {
      case "content-type":
      case "truncated-body":
      case "oversized-body":
        return withBody;
      case "path-traversal":
        return this.random.chance(0.9) ? has("path") : this.routes;
      case "duplicate-query":
        return this.random.chance(0.8) ? has("query") : this.routes;
      case "missing-field":
      case "extra-field":
        return this.random.chance(0.6) ? withBody : this.routes;
      default:
        return this.routes;
    }
  }

  private finish(
    kind: FuzzKind,
    route: string,
    method: string,
    path: string,
    query: [string, string][],
    headers: Record<string, string>,
    body: unknown,
    rawBody: string | undefined,
  ): FuzzRequest {
    const search = query.map(([name, value]) => `${encodeURIComponent(name)}=${this.encodeOdd(value)}`).join("&");
    const text = rawBody ?? (body === undefined ? undefined : JSON.stringify(body));
    const withBody = method === "GET" || method === "HEAD" ? undefined : text;
    return { kind, route, method, path: search === "" ? path : `${path}?${search}`, headers, ...(withBody === undefined ? {} : { body: withBody }) };
  }

  /** Percent-encodes, except that now and then a raw `%` or a lone surrogate's bytes go in as they are. */
  private encodeOdd(text: string): string {
    try {
      const encoded = encodeURIComponent(text);
      return this.random.chance(0.1) ? encoded.replace(/%25/g, "%") : encoded;
    } catch {
      return "%ED%A0%80";
    }
  }

  private resolve(schema: JsonSchema | undefined): JsonSchema | undefined {
    if (schema?.$ref === undefined) return schema;
    return this.doc.components?.schemas?.[schema.$ref.replace("#/components/schemas/", "")];
  }

  private plausibleString(name: string, schema: JsonSchema): string {
    const known = this.world.params[name];
    if (known && known.length > 0 && this.random.chance(0.7)) return this.random.pick(known);
    if (schema.enum && schema.enum.length > 0) return String(this.random.pick(schema.enum));
    if (schema.example !== undefined) return String(schema.example);
    if (schema.type === "integer" || schema.type === "number") return String(this.random.int(schema.minimum ?? 0, 1000));
    if (schema.type === "boolean") return this.random.pick(["true", "false"]);
    return "x";
  }

  private plausibleBody(route: string, schema: JsonSchema): unknown {
    const known = this.world.bodies[route];
    if (known && known.length > 0 && this.random.chance(0.6)) return structuredClone(this.random.pick(known));
    return this.valueOf(schema, 0);
  }

  private valueOf(schema: JsonSchema | undefined, depth: number): unknown {
    const resolved = this.resolve(schema);
    if (resolved === undefined || depth > 4) return "x";
    if (resolved.enum && resolved.enum.length > 0) return this.random.pick(resolved.enum);
    if (resolved.example !== undefined) return structuredClone(resolved.example);
    const type = Array.isArray(resolved.type) ? resolved.type[0] : resolved.type;
    switch (type) {
      case "object": {
        const object: Record<string, unknown> = {};
        for (const [key, property] of Object.entries(resolved.properties ?? {})) {
          if (resolved.required?.includes(key) || this.random.chance(0.5)) object[key] = this.valueOf(property, depth + 1);
        }
        return object;
      }
      case "array":
        return [this.valueOf(resolved.items, depth + 1)];
      case "integer":
      case "number":
        return this.random.int(resolved.minimum ?? 0, 100);
      case "boolean":
        return this.random.chance(0.5);
      case "string":
        return "x";
      default:
        return this.random.pick<unknown>([{}, "x", 1, null]);
    }
  }

  private wrongType(body: unknown): unknown {
    if (!isObject(body)) return this.random.pick<unknown>([[], "text", 42, null, true, [body]]);
    const keys = Object.keys(body);
    if (keys.length === 0) return [body];
    const key = this.random.pick(keys);
    const value = body[key];
    const wrong = typeof value === "string" ? this.random.pick<unknown>([1, true, null, [], {}]) : this.random.pick<unknown>(["1", [value], { value }, false]);
    return { ...body, [key]: wrong };
  }

  private withoutField(body: unknown): unknown {
    if (!isObject(body)) return body === undefined ? undefined : {};
    const keys = Object.keys(body);
    if (keys.length === 0) return body;
    const { [this.random.pick(keys)]: _dropped, ...rest } = body;
    return rest;
  }

  private withExtraField(body: unknown): unknown {
    const extra = this.random.pick<[string, unknown]>([
      ["extra", 1],
      ["__proto__", { admin: true }],
      ["constructor", "x"],
      ["unknown_field", this.random.pick(ODD_STRINGS)],
    ]);
    if (!isObject(body)) return body === undefined ? undefined : { value: body, [extra[0]]: extra[1] };
    return JSON.parse(JSON.stringify(body).replace(/^\{/, `{${JSON.stringify(extra[0])}:${JSON.stringify(extra[1])},`).replace(/,\}$/, "}"));
  }

  /** `body` with one value somewhere (at any depth) replaced by `value`. */
  private replaceSomeValue(body: unknown, value: unknown): unknown {
    if (body === undefined) return undefined;
    if (!isObject(body) && !Array.isArray(body)) return value;
    const copy = structuredClone(body) as Record<string, unknown> | unknown[];
    let target: Record<string, unknown> | unknown[] = copy;
    for (let depth = 0; depth < 4; depth++) {
      const keys = Array.isArray(target) ? target.map((_, i) => String(i)) : Object.keys(target);
      if (keys.length === 0) break;
      const key = this.random.pick(keys);
      const child = (target as Record<string, unknown>)[key];
      if ((isObject(child) || Array.isArray(child)) && this.random.chance(0.6)) {
        target = child as Record<string, unknown>;
        continue;
      }
      (target as Record<string, unknown>)[key] = value;
      return copy;
    }
    return copy;
  }

  private damageAuth(headers: Record<string, string>, method: string): void {
    const { adminToken, readToken } = this.world;
    const forms: (string | null)[] = [
      null,
      "",
      "Bearer",
      "Bearer ",
      `bearer ${adminToken}x`,
      `BEARER ${adminToken.toUpperCase()}`,
      `Basic ${btoa(`admin:${adminToken}`)}`,
      `Bearer ${adminToken} ${adminToken}`,
      `Bearer ${adminToken},Bearer ${readToken}`,
      `Token ${adminToken}`,
      `Bearer ${adminToken.slice(0, -1)}`,
      `Bearer\t${adminToken}`,
      `Bearer ${"a".repeat(10_000)}`,
      `Bearer ${adminToken.slice(0, 4)}\u00e9${adminToken.slice(5)}`,
      method === "GET" ? `bEaReR ${readToken}x` : `Bearer ${readToken}`,
    ];
    const form = this.random.pick(forms);
    if (form === null) delete headers.authorization;
    else headers.authorization = form;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

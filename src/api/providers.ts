import { createRoute, z } from "@hono/zod-openapi";
import { createMiddleware } from "hono/factory";
import {
  type ConfigValue,
  checkProviderConfig,
  MAX_PROVIDER_NAME_LENGTH,
  PROVIDER_KINDS,
  type Provider,
  providerEnvelopeSchema,
  redactProvider,
} from "../domain/provider";
import { openDb } from "../store/db";
import { deleteProvider, getProvider, insertProvider, listProviders } from "../store/providers";
import type { App } from "./app";
import { ApiError } from "./errors";
import { errorContent, jsonContent, readRouteErrors, writeRouteErrors } from "./responses";
import { jsonBody, validationHook } from "./validation";

const ConfigValueSchema: z.ZodType<ConfigValue> = z
  .lazy(() => z.union([z.string(), z.number(), z.boolean(), z.array(ConfigValueSchema), z.record(z.string(), ConfigValueSchema)]))
  .openapi("ProviderConfigValue", { description: "A provider-specific configuration value: any JSON value but null" });

const KIND_FIELDS =
  "Kind-specific fields, validated at creation: " +
  "evm-rpc: `url` (http:// or https://, required), `concurrent_request_limit` (1..65535, a hard limit; absent: found by the client), " +
  "`rpc_batch_size` (integer >= 0; <= 1 means unbatched; absent: found by the client), `rate_limit_per_minute` (integer >= 1), " +
  "`fetch_receipts_per_tx` (boolean, default false); firehose: `url` (required), `token`; " +
  "eth-beacon: `url` (http:// or https://, required), `concurrent_request_limit`, `rate_limit_per_minute`. " +
  "String values may hold `${VAR}` placeholders, resolved from the Worker's environment when a job uses the provider. " +
  "Other fields are kept as given; null values are refused (DATA_CONVERSION_ERROR).";

// `.meta`, not `.openapi`: the domain schema may be built before @hono/zod-openapi extends zod.
const ProviderCreateSchema = providerEnvelopeSchema.meta({
  description: `A new provider: name, kind and network, plus the kind-specific fields flattened in. ${KIND_FIELDS}`,
  example: { name: "rpc_eth_mainnet", kind: "evm-rpc", network: "mainnet", url: "${RPC_ETH_MAINNET_URL}", rpc_batch_size: 100 },
});

const ProviderInfoSchema = z
  .object({
    name: z.string(),
    kind: z.enum(PROVIDER_KINDS),
    network: z.string(),
  })
  .catchall(ConfigValueSchema)
  .openapi("ProviderInfo", {
    description:
      "A provider with its kind-specific fields flattened in. Secrets are redacted as `***` (see the README); " +
      "`${VAR}` placeholders are shown as given.",
    example: { name: "rpc_eth_mainnet", kind: "evm-rpc", network: "mainnet", url: "https://mainnet.infura.io/v3/***" },
  });

const ProvidersResponseSchema = z
  .object({ providers: z.array(ProviderInfoSchema).openapi({ description: "Every provider, sorted by name, secrets redacted" }) })
  .openapi("ProvidersResponse");

const NameParamSchema = z.object({
  name: z
    .string()
    .min(1)
    .max(MAX_PROVIDER_NAME_LENGTH)
    .openapi({ param: { name: "name", in: "path" }, description: "Provider name (URL-encoded)", example: "rpc_eth_mainnet" }),
});

type ProviderInfo = z.output<typeof ProviderInfoSchema>;

/** The response form of a provider: the configuration flattened in, secrets redacted. */
function providerInfo(provider: Provider): ProviderInfo {
  const { name, kind, network, config } = redactProvider(provider);
  return { name, kind, network, ...config };
}

const NAME_PATH_PREFIX = "/providers/";

/**
 * Hono passes a name with broken percent-encoding (`%E0%A4%A`) through
 * undecoded, which would alias the provider literally named so; refuse it
 * instead, as the original did.
 */
const wellEncodedName = createMiddleware(async (c, next) => {
  const raw = new URL(c.req.url).pathname.slice(NAME_PATH_PREFIX.length);
  try {
    decodeURIComponent(raw);
  } catch {
    throw new ApiError("INVALID_PROVIDER_NAME", "provider name in the path is not valid percent-encoded UTF-8");
  }
  await next();
});

const listRoute = createRoute({
  method: "get",
  path: "/providers",
  tags: ["providers"],
  operationId: "providers_list",
  summary: "List every provider, secrets redacted",
  responses: {
    200: jsonContent(ProvidersResponseSchema, "Every provider, sorted by name"),
    ...readRouteErrors,
  },
});

const createProviderRoute = createRoute({
  method: "post",
  path: "/providers",
  tags: ["providers"],
  operationId: "providers_create",
  summary: "Register a provider; kind-specific fields are validated now",
  middleware: [jsonBody("INVALID_REQUEST_BODY")] as const,
  request: { body: { required: true, content: { "application/json": { schema: ProviderCreateSchema } } } },
  responses: {
    201: { description: "Provider created (empty body)" },
    400: errorContent("Invalid body or provider fields (INVALID_REQUEST_BODY), or a null value (DATA_CONVERSION_ERROR)"),
    409: errorContent("A provider of that name exists (PROVIDER_CONFLICT)"),
    ...writeRouteErrors,
  },
});

const getRoute = createRoute({
  method: "get",
  path: "/providers/{name}",
  tags: ["providers"],
  operationId: "providers_get",
  summary: "One provider, secrets redacted",
  middleware: [wellEncodedName] as const,
  request: { params: NameParamSchema },
  responses: {
    200: jsonContent(ProviderInfoSchema, "The provider"),
    400: errorContent("Invalid provider name (INVALID_PROVIDER_NAME)"),
    404: errorContent("No provider of that name (PROVIDER_NOT_FOUND)"),
    ...readRouteErrors,
  },
});

const deleteRoute = createRoute({
  method: "delete",
  path: "/providers/{name}",
  tags: ["providers"],
  operationId: "providers_delete",
  summary: "Delete a provider; idempotent",
  middleware: [wellEncodedName] as const,
  request: { params: NameParamSchema },
  responses: {
    204: { description: "Deleted, or did not exist" },
    400: errorContent("Invalid provider name (INVALID_PROVIDER_NAME)"),
    ...writeRouteErrors,
  },
});

export function registerProviderRoutes(app: App): void {
  app.openapi(listRoute, async (c) => {
    const providers = await listProviders(openDb(c.env.DB));
    return c.json({ providers: providers.map(providerInfo) }, 200);
  });

  app.openapi(
    createProviderRoute,
    async (c) => {
      const checked = checkProviderConfig(c.req.valid("json"));
      if (!checked.ok) {
        const code = checked.problem.kind === "null_value" ? "DATA_CONVERSION_ERROR" : "INVALID_REQUEST_BODY";
        throw new ApiError(code, checked.problem.message);
      }
      const { name } = checked.provider;
      if (!(await insertProvider(openDb(c.env.DB), checked.provider))) {
        throw new ApiError("PROVIDER_CONFLICT", `provider '${name}' already exists; delete it first to replace it`);
      }
      return c.body(null, 201);
    },
    validationHook({ json: "INVALID_REQUEST_BODY" }),
  );

  app.openapi(
    getRoute,
    async (c) => {
      const { name } = c.req.valid("param");
      const provider = await getProvider(openDb(c.env.DB), name);
      if (!provider) throw new ApiError("PROVIDER_NOT_FOUND", `provider '${name}' not found`);
      return c.json(providerInfo(provider), 200);
    },
    validationHook({ param: "INVALID_PROVIDER_NAME" }),
  );

  app.openapi(
    deleteRoute,
    async (c) => {
      await deleteProvider(openDb(c.env.DB), c.req.valid("param").name);
      return c.body(null, 204);
    },
    validationHook({ param: "INVALID_PROVIDER_NAME" }),
  );
}

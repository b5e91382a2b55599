/**
 * Validation of a `POST /providers` body: `{name, kind, network, ...rest}`
 * where `rest` is the kind-specific configuration. Unlike the original, which
 * checked `rest` only when a job used the provider, everything that can be
 * known at creation is checked at creation.
 */

import { z } from "zod";
import { expected, kindSchemas } from "./kinds";
import { describePlaceholderError, parseTemplate } from "./placeholders";
import { type ConfigValue, PROVIDER_KINDS, type Provider, type ProviderConfig } from "./types";

/** Longest provider name, in UTF-16 code units, in a body and in a path. */
export const MAX_PROVIDER_NAME_LENGTH = 256;
/** Deepest nesting of objects and arrays in a configuration. */
export const MAX_CONFIG_DEPTH = 32;
/** Largest configuration, as stored JSON. Real ones are a few hundred bytes; D1 rows are limited. */
export const MAX_CONFIG_BYTES = 64 * 1024;

const notBlank = () =>
  z.string({ error: expected("a string") }).refine((value) => value.trim().length > 0, { error: "must not be empty or only whitespace" });

/** The fields every provider has; the others are kept as its configuration. */
export const providerEnvelopeSchema = z.looseObject(
  {
    name: notBlank()
      .refine((value) => value.length <= MAX_PROVIDER_NAME_LENGTH, { error: `must be at most ${MAX_PROVIDER_NAME_LENGTH} characters` })
      // URL parsers resolve `.` and `..` (even percent-encoded) as path steps, so such a provider could never be fetched or deleted.
      .refine((value) => value !== "." && value !== "..", { error: "must not be '.' or '..'" }),
    kind: z.enum(PROVIDER_KINDS, { error: expected(`one of ${PROVIDER_KINDS.join(", ")}`) }),
    network: notBlank(),
  },
  { error: "must be a JSON object" },
);

export type ProviderEnvelope = z.output<typeof providerEnvelopeSchema>;

/**
 * `invalid_body`: the request is wrong (400 INVALID_REQUEST_BODY).
 * `null_value`: a null, which the original could not convert to TOML (400 DATA_CONVERSION_ERROR).
 */
export type ProviderProblem = { kind: "invalid_body" | "null_value"; message: string };

export type ProviderCheck = { ok: true; provider: Provider } | { ok: false; problem: ProviderProblem };

function fieldPath(parent: string, key: string | number): string {
  if (typeof key === "number") return `${parent}[${key}]`;
  return parent ? `${parent}.${key}` : key;
}

/** Narrows parsed JSON to a configuration value, or names the first place it cannot be one. */
function toConfigValue(value: unknown, path: string, depth: number): { value: ConfigValue } | { problem: ProviderProblem } {
  if (value === null) {
    return { problem: { kind: "null_value", message: `${path} is null; null is not a valid configuration value, leave the field out instead` } };
  }
  switch (typeof value) {
    case "string":
    case "boolean":
      return { value };
    case "number":
      // JSON.parse turns 1e400 into Infinity, which JSON cannot store.
      return Number.isFinite(value) ? { value } : { problem: { kind: "invalid_body", message: `${path} is not a finite number` } };
    case "object":
      break;
    default:
      return { problem: { kind: "invalid_body", message: `${path} is not a JSON value` } };
  }
  if (depth >= MAX_CONFIG_DEPTH) {
    return { problem: { kind: "invalid_body", message: `${path} is nested deeper than ${MAX_CONFIG_DEPTH} levels` } };
  }
  if (Array.isArray(value)) {
    const items: ConfigValue[] = [];
    for (const [index, item] of value.entries()) {
      const converted = toConfigValue(item, fieldPath(path, index), depth + 1);
      if ("problem" in converted) return converted;
      items.push(converted.value);
    }
    return { value: items };
  }
  const entries: [string, ConfigValue][] = [];
  for (const [key, item] of Object.entries(value)) {
    const converted = toConfigValue(item, fieldPath(path, key), depth + 1);
    if ("problem" in converted) return converted;
    entries.push([key, converted.value]);
  }
  return { value: Object.fromEntries(entries) };
}

/** The first string whose `${VAR}` placeholders are malformed or name a reserved variable. */
function placeholderProblem(value: ConfigValue, path: string): string | undefined {
  if (typeof value === "string") {
    const parsed = parseTemplate(value);
    return parsed.ok ? undefined : `${path}: ${describePlaceholderError(parsed.error)}`;
  }
  if (typeof value !== "object") return undefined;
  const entries: [string | number, ConfigValue][] = Array.isArray(value) ? [...value.entries()] : Object.entries(value);
  for (const [key, item] of entries) {
    const problem = placeholderProblem(item, fieldPath(path, key));
    if (problem) return problem;
  }
  return undefined;
}

function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.map(String).join(".") || "body"}: ${issue.message}`).join("; ");
}

/** Checks the configuration of an envelope that passed `providerEnvelopeSchema`. */
export function checkProviderConfig(envelope: ProviderEnvelope): ProviderCheck {
  const { name, kind, network, ...rest } = envelope;
  const converted = toConfigValue(rest, "", 0);
  if ("problem" in converted) return { ok: false, problem: converted.problem };
  const config = converted.value as ProviderConfig;

  if (new TextEncoder().encode(JSON.stringify(config)).byteLength > MAX_CONFIG_BYTES) {
    return { ok: false, problem: { kind: "invalid_body", message: `provider configuration exceeds ${MAX_CONFIG_BYTES} bytes` } };
  }
  const badPlaceholder = placeholderProblem(config, "");
  if (badPlaceholder) return { ok: false, problem: { kind: "invalid_body", message: badPlaceholder } };

  const fields = kindSchemas("stored")[kind].safeParse(config);
  if (!fields.success) {
    return { ok: false, problem: { kind: "invalid_body", message: `invalid ${kind} provider: ${describeIssues(fields.error)}` } };
  }
  return { ok: true, provider: { name, kind, network, config } };
}

/** Validates a whole body, as parsed from JSON. */
export function parseProviderBody(body: unknown): ProviderCheck {
  const envelope = providerEnvelopeSchema.safeParse(body);
  if (!envelope.success) return { ok: false, problem: { kind: "invalid_body", message: describeIssues(envelope.error) } };
  return checkProviderConfig(envelope.data);
}

/**
 * `${VAR}` placeholders in provider configuration, with the syntax of the
 * original (reference-behaviour §5.8): `${` opens a placeholder, everything up
 * to the next `}` is the variable name (non-empty), there is no escape, and a
 * substituted value is not scanned again. Placeholders are stored raw and
 * substituted only when a job uses the provider.
 */

import type { ConfigValue } from "./types";

/** Variables the API itself is configured with (tokens and switches); a provider may not read them. */
const RESERVED_VARIABLE_PREFIX = "AMP_";

export type TemplatePart = { literal: string } | { variable: string };

export type PlaceholderError =
  | { kind: "syntax"; position: number; message: string }
  | { kind: "reserved"; variable: string }
  | { kind: "missing"; variable: string };

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: PlaceholderError };

/** Splits a string into literal text and placeholders. */
export function parseTemplate(template: string): Parsed<TemplatePart[]> {
  const parts: TemplatePart[] = [];
  let literal = "";
  let index = 0;
  while (index < template.length) {
    const open = template.indexOf("${", index);
    if (open < 0) {
      literal += template.slice(index);
      break;
    }
    literal += template.slice(index, open);
    const close = template.indexOf("}", open + 2);
    if (close < 0) return { ok: false, error: { kind: "syntax", position: open, message: "unclosed placeholder: missing '}'" } };
    const variable = template.slice(open + 2, close);
    if (variable.length === 0) return { ok: false, error: { kind: "syntax", position: open, message: "empty placeholder '${}'" } };
    if (variable.startsWith(RESERVED_VARIABLE_PREFIX)) return { ok: false, error: { kind: "reserved", variable } };
    if (literal) parts.push({ literal });
    literal = "";
    parts.push({ variable });
    index = close + 1;
  }
  if (literal) parts.push({ literal });
  return { ok: true, value: parts };
}

/** True for a non-empty string made only of placeholders, such as `${RPC_URL}`: it names variables and holds no value. */
export function isPlaceholderOnly(value: string): boolean {
  const parsed = parseTemplate(value);
  return parsed.ok && parsed.value.length > 0 && parsed.value.every((part) => "variable" in part);
}

/**
 * Replaces every placeholder with `filler`. Used to check the shape of a value
 * whose variables are not known yet (a URL with `${KEY}` in its path).
 */
export function fillPlaceholders(template: string, filler: string): Parsed<string> {
  const parsed = parseTemplate(template);
  if (!parsed.ok) return parsed;
  return { ok: true, value: parsed.value.map((part) => ("literal" in part ? part.literal : filler)).join("") };
}

/** The value of a variable, or undefined when it is not set. Only string entries of an env record count. */
export type VariableLookup = (name: string) => string | undefined;

export function lookupIn(env: Readonly<Record<string, unknown>>): VariableLookup {
  return (name) => {
    const value = Object.hasOwn(env, name) ? env[name] : undefined;
    return typeof value === "string" ? value : undefined;
  };
}

function substituteString(template: string, lookup: VariableLookup): Parsed<string> {
  const parsed = parseTemplate(template);
  if (!parsed.ok) return parsed;
  let out = "";
  for (const part of parsed.value) {
    if ("literal" in part) {
      out += part.literal;
      continue;
    }
    const value = lookup(part.variable);
    if (value === undefined) return { ok: false, error: { kind: "missing", variable: part.variable } };
    out += value;
  }
  return { ok: true, value: out };
}

/**
 * Substitutes placeholders in every string of `value`, through objects and
 * arrays (object keys are left alone). Fails on the first missing variable,
 * reserved variable or syntax error.
 */
export function substitutePlaceholders(value: ConfigValue, lookup: VariableLookup): Parsed<ConfigValue> {
  if (typeof value === "string") return substituteString(value, lookup);
  if (Array.isArray(value)) {
    const out: ConfigValue[] = [];
    for (const item of value) {
      const substituted = substitutePlaceholders(item, lookup);
      if (!substituted.ok) return substituted;
      out.push(substituted.value);
    }
    return { ok: true, value: out };
  }
  if (typeof value === "object") {
    const entries: [string, ConfigValue][] = [];
    for (const [key, item] of Object.entries(value)) {
      const substituted = substitutePlaceholders(item, lookup);
      if (!substituted.ok) return substituted;
      entries.push([key, substituted.value]);
    }
    return { ok: true, value: Object.fromEntries(entries) };
  }
  return { ok: true, value };
}

export function describePlaceholderError(error: PlaceholderError): string {
  switch (error.kind) {
    case "syntax":
      return `${error.message} at position ${error.position}`;
    case "reserved":
      return `placeholder \${${error.variable}} names the API's own configuration (${RESERVED_VARIABLE_PREFIX}*), which providers may not read`;
    case "missing":
      return `variable ${error.variable} is not set`;
  }
}

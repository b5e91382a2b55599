/**
 * Redaction of provider secrets for every response that shows a provider
 * (DESIGN.md difference 10). The rules, applied to the configuration (the
 * fields besides name, kind and network), at any depth:
 *
 * 1. A field whose name contains key, secret, passw, pwd, token, credential,
 *    auth, bearer, jwt or cookie (any case) is a secret field: every
 *    non-empty string and every number in its value, however nested, becomes
 *    `***`. Booleans stay (one bit is not a secret).
 * 2. In every other string, each URL (`scheme://...`, anywhere in the string)
 *    is redacted piecewise: user and password of the userinfo, every query
 *    value (a query item without `=` as a whole), the fragment, and each path
 *    segment that may be an API key become `***`: one of 8 or more characters
 *    with a digit, one of 20 or more characters, and one of 16 or more of
 *    `A-Z a-z 0-9 _ -` with both upper- and lower-case letters (Infura's
 *    `/v3/<hex>`, Alchemy's `/v2/<key>`, a short `/SECRETKEY123`). Scheme,
 *    host, port and the other path segments (`v3`, `eth`, `mainnet`,
 *    `archive`) stay, so the endpoint remains recognisable.
 * 3. A value made only of `${VAR}` placeholders stays as it is, in secret
 *    fields and URLs alike: it names an environment variable and holds no
 *    secret. The value is substituted only when a job uses the provider and is
 *    never shown.
 */

import { isPlaceholderOnly } from "./placeholders";
import type { ConfigValue, Provider, ProviderConfig } from "./types";

export const REDACTED = "***";

const SECRET_FIELD = /key|secret|passw|pwd|token|credential|auth|bearer|jwt|cookie/i;
const URL_IN_TEXT = /[A-Za-z][A-Za-z0-9+.-]*:\/\/[^\s"'<>]*/g;
const URL_PARTS = /^([A-Za-z][A-Za-z0-9+.-]*:\/\/)([^/?#]*)([^?#]*)(?:\?([^#]*))?(?:#(.*))?$/s;
const KEY_ALPHABET = /^[A-Za-z0-9_-]{16,}$/;
/** Route names are short words; a key is long or mixes digits in (a short key with a digit leaked before). */
const KEY_WITH_DIGIT_MIN = 8;
const KEY_ANY_MIN = 20;

function isSecretFieldName(name: string): boolean {
  return SECRET_FIELD.test(name);
}

/** A path segment that may be an API key rather than a route name. */
export function looksLikeApiKey(segment: string): boolean {
  if (isPlaceholderOnly(segment)) return false;
  if (segment.length >= KEY_ANY_MIN) return true;
  if (segment.length >= KEY_WITH_DIGIT_MIN && /\d/.test(segment)) return true;
  return KEY_ALPHABET.test(segment) && /[a-z]/.test(segment) && /[A-Z]/.test(segment);
}

function redactPart(part: string): string {
  return part === "" || isPlaceholderOnly(part) ? part : REDACTED;
}

function redactUserinfo(userinfo: string): string {
  const colon = userinfo.indexOf(":");
  if (colon < 0) return redactPart(userinfo);
  return `${redactPart(userinfo.slice(0, colon))}:${redactPart(userinfo.slice(colon + 1))}`;
}

function redactQuery(query: string): string {
  return query
    .split("&")
    .map((item) => {
      const equals = item.indexOf("=");
      return equals < 0 ? redactPart(item) : `${item.slice(0, equals + 1)}${redactPart(item.slice(equals + 1))}`;
    })
    .join("&");
}

/** One URL, redacted piecewise (rule 2). */
export function redactUrl(url: string): string {
  const parts = URL_PARTS.exec(url);
  if (!parts) return url;
  const [, scheme = "", authority = "", path = "", query, fragment] = parts;
  const at = authority.lastIndexOf("@");
  const host = at < 0 ? authority : `${redactUserinfo(authority.slice(0, at))}@${authority.slice(at + 1)}`;
  const redactedPath = path
    .split("/")
    .map((segment) => (looksLikeApiKey(segment) ? REDACTED : segment))
    .join("/");
  const redactedQuery = query === undefined ? "" : `?${redactQuery(query)}`;
  const redactedFragment = fragment === undefined ? "" : `#${redactPart(fragment)}`;
  return `${scheme}${host}${redactedPath}${redactedQuery}${redactedFragment}`;
}

function redactValue(value: ConfigValue, secret: boolean): ConfigValue {
  if (typeof value === "string") {
    if (isPlaceholderOnly(value)) return value;
    if (secret) return value === "" ? value : REDACTED;
    return value.replace(URL_IN_TEXT, redactUrl);
  }
  if (typeof value === "number") return secret ? REDACTED : value;
  if (typeof value === "boolean") return value;
  if (Array.isArray(value)) return value.map((item) => redactValue(item, secret));
  return redactObject(value, secret);
}

function redactObject(object: ProviderConfig, secret: boolean): ProviderConfig {
  return Object.fromEntries(Object.entries(object).map(([key, item]) => [key, redactValue(item, secret || isSecretFieldName(key))]));
}

export function redactConfig(config: ProviderConfig): ProviderConfig {
  return redactObject(config, false);
}

/** The provider as any response may show it. */
export function redactProvider(provider: Provider): Provider {
  return { ...provider, config: redactConfig(provider.config) };
}

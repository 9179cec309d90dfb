/**
 * The two ways to reach Quo (product.md, "Environment"; api-notes.md, "Hosts" and "Auth"):
 * a Quo API key sent raw, or a Maton key through Maton's gateway (quo-maton-skill.txt).
 */
import { ConfigError } from "../errors.js";
import { VERSION } from "../version.js";

/** Quo's own API origin (api-notes.md, "Hosts"). */
export const QUO_DEFAULT_BASE_URL = "https://api.openphone.com";
/** Maton's gateway serves Quo's paths under `/quo` (quo-maton-skill.txt, "Base URL"). */
export const MATON_DEFAULT_BASE_URL = "https://gateway.maton.ai/quo";
/** The gateway's path prefix for Quo. */
export const MATON_QUO_PREFIX = "/quo";
/** Sent on every request; Maton requires a `User-Agent` (quo-maton-skill.txt, "Authentication"). */
export const USER_AGENT = `quo-sync/${VERSION}`;

/** How requests are authenticated; the key itself never leaves this object except as a header. */
export type QuoAuthMode = "quo-api-key" | "maton";

/** The connection settings read from the environment. */
export interface QuoConnection {
  mode: QuoAuthMode;
  baseUrl: string;
  apiKey?: string;
  matonApiKey?: string;
}

/**
 * Reads `QUO_API_KEY`, `MATON_API_KEY` and `QUO_BASE_URL` (product.md, "Environment").
 * `QUO_API_KEY` wins when both keys are set. With Maton, `QUO_BASE_URL` names the gateway's origin
 * and `/quo` is appended unless the URL already ends with it.
 * Throws `ConfigError` when neither key is set, or `QUO_BASE_URL` is not a plain http(s) URL.
 * No message quotes a key.
 */
export function quoConnectionFromEnv(env: NodeJS.ProcessEnv): QuoConnection {
  const apiKey = nonBlank(env.QUO_API_KEY);
  const matonApiKey = nonBlank(env.MATON_API_KEY);
  const baseUrlVar = nonBlank(env.QUO_BASE_URL);
  if (apiKey !== undefined) {
    return { mode: "quo-api-key", apiKey, baseUrl: baseUrlVar === undefined ? QUO_DEFAULT_BASE_URL : checkBaseUrl(baseUrlVar) };
  }
  if (matonApiKey !== undefined) {
    const baseUrl = baseUrlVar === undefined ? MATON_DEFAULT_BASE_URL : withMatonPrefix(checkBaseUrl(baseUrlVar));
    return { mode: "maton", matonApiKey, baseUrl };
  }
  throw new ConfigError(
    "no Quo credentials: set QUO_API_KEY (a Quo API key) or MATON_API_KEY (to go through the Maton gateway)",
  );
}

/**
 * Checks that `raw` is an absolute http(s) URL without credentials, query or fragment, and returns it
 * without trailing slashes. Throws `ConfigError` naming `QUO_BASE_URL` but never echoing the value,
 * which could be a mistyped secret.
 */
export function checkBaseUrl(raw: string, variable = "QUO_BASE_URL"): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`${variable} is not a URL; expected e.g. https://api.openphone.com`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ConfigError(`${variable} must be an http:// or https:// URL, not ${url.protocol}`);
  }
  if (url.username !== "" || url.password !== "") {
    throw new ConfigError(`${variable} must not contain a user name or password`);
  }
  if (url.search !== "" || url.hash !== "") {
    throw new ConfigError(`${variable} must not contain a query string or fragment`);
  }
  return `${url.origin}${url.pathname}`.replace(/\/+$/, "");
}

/** Appends the gateway's `/quo` prefix unless the URL already ends with it. */
export function withMatonPrefix(baseUrl: string): string {
  const trimmed = baseUrl.replace(/\/+$/, "");
  return trimmed.endsWith(MATON_QUO_PREFIX) ? trimmed : `${trimmed}${MATON_QUO_PREFIX}`;
}

/**
 * The headers that authenticate a request: Quo wants the raw key (`Bearer` gets 401,
 * api-notes.md "Auth"); Maton wants `Bearer` and a `User-Agent` (quo-maton-skill.txt).
 */
export function authHeaders(auth: { mode: QuoAuthMode; key: string }): Record<string, string> {
  return {
    Authorization: auth.mode === "maton" ? `Bearer ${auth.key}` : auth.key,
    "User-Agent": USER_AGENT,
  };
}

function nonBlank(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed === "" ? undefined : trimmed;
}

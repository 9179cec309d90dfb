/**
 * The two ways to reach Quo (README.md, "Environment"; docs/quo-api.md, "Connecting"):
 * a Quo API key sent raw, or a Maton key through Maton's gateway.
 */
import { ConfigError } from "../errors.js";
import { checkBaseUrl } from "../net/base-url.js";
import { VERSION } from "../version.js";

/** Quo's own API origin (docs/quo-api.md, "Connecting": hosts). */
export const QUO_DEFAULT_BASE_URL = "https://api.openphone.com";
/** Maton's gateway serves Quo's paths under `/quo` (docs/quo-api.md, "Connecting": hosts). */
export const MATON_DEFAULT_BASE_URL = "https://gateway.maton.ai/quo";
/** The gateway's path prefix for Quo. */
export const MATON_QUO_PREFIX = "/quo";
/** Sent on every request; Maton requires a `User-Agent` (docs/quo-api.md, "Connecting": auth). */
export const USER_AGENT = `quo-sync/${VERSION}`;

/** How `QUO_BASE_URL` is checked (`checkBaseUrl`): any http(s) URL, a path allowed (a proxy, the gateway). */
const QUO_BASE_URL_RULE = { variable: "QUO_BASE_URL", example: QUO_DEFAULT_BASE_URL };

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
 * Reads `QUO_API_KEY`, `MATON_API_KEY` and `QUO_BASE_URL` (README.md, "Environment").
 * `QUO_API_KEY` wins when both keys are set. With Maton, `QUO_BASE_URL` names the gateway's origin
 * and `/quo` is appended unless the URL already ends with it.
 * Throws `ConfigError` when neither key is set, the key starts with `Bearer ` (`checkNoScheme`), or
 * `QUO_BASE_URL` is not a plain http(s) URL.
 * No message quotes a key.
 */
export function quoConnectionFromEnv(env: NodeJS.ProcessEnv): QuoConnection {
  const apiKey = nonBlank(env.QUO_API_KEY);
  const matonApiKey = nonBlank(env.MATON_API_KEY);
  const baseUrlVar = nonBlank(env.QUO_BASE_URL);
  if (apiKey !== undefined) {
    checkNoScheme("QUO_API_KEY", apiKey, "Quo takes the raw key");
    return { mode: "quo-api-key", apiKey, baseUrl: baseUrlVar === undefined ? QUO_DEFAULT_BASE_URL : checkBaseUrl(baseUrlVar, QUO_BASE_URL_RULE) };
  }
  if (matonApiKey !== undefined) {
    checkNoScheme("MATON_API_KEY", matonApiKey, 'the variable holds the key alone (quo-sync adds "Bearer " to the header)');
    const baseUrl = baseUrlVar === undefined ? MATON_DEFAULT_BASE_URL : withMatonPrefix(checkBaseUrl(baseUrlVar, QUO_BASE_URL_RULE));
    return { mode: "maton", matonApiKey, baseUrl };
  }
  throw new ConfigError(
    "no Quo credentials: set QUO_API_KEY (a Quo API key) or MATON_API_KEY (to go through the Maton gateway)",
  );
}

/**
 * Throws `ConfigError` when a key variable holds an `Authorization` value rather than a key
 * (`Bearer …`, as copied from an HTTP example): Quo refuses a Bearer-prefixed key with 401, and the
 * gateway would get `Bearer Bearer …` (docs/quo-api.md, "Connecting": auth). Found before any
 * request; the message never quotes the key.
 */
export function checkNoScheme(variable: string, key: string, why: string): void {
  if (/^bearer\s/i.test(key)) throw new ConfigError(`${variable} starts with "Bearer ": ${why}; remove the prefix`);
}

/** Appends the gateway's `/quo` prefix unless the URL already ends with it. */
export function withMatonPrefix(baseUrl: string): string {
  const trimmed = baseUrl.replace(/\/+$/, "");
  return trimmed.endsWith(MATON_QUO_PREFIX) ? trimmed : `${trimmed}${MATON_QUO_PREFIX}`;
}

/**
 * The headers that authenticate a request: Quo wants the raw key (`Bearer` gets 401); Maton wants
 * `Bearer` and a `User-Agent` (docs/quo-api.md, "Connecting": auth).
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

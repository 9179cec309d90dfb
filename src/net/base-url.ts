/**
 * The one check of an API base URL taken from the environment or the config (`QUO_BASE_URL`,
 * `HUBSPOT_API_URL`, `GOOGLE_SHEETS_API_URL`), so that every client accepts and refuses the same
 * values with the same messages.
 */
import { ConfigError } from "../errors.js";

/** How one base URL is checked. */
export interface BaseUrlRule {
  /** What the value is called in messages: the variable (`QUO_BASE_URL`) or a phrase. */
  variable: string;
  /** A good value, quoted in the "not a URL" message. */
  example: string;
  /**
   * Whether a path is allowed (`https://proxy.example/quo`); default true. Google's client keeps
   * only the origin of its `rootUrl`, so a path there would be silently dropped: refuse it instead.
   */
  allowPath?: boolean;
}

/**
 * Checks that `raw` is an absolute http(s) URL without user name, password, query or fragment (and
 * without a path when `rule.allowPath` is false), and returns it normalised: origin plus path,
 * trailing slashes removed (`https://api.quo.com/` → `https://api.quo.com`).
 *
 * Throws `ConfigError` naming `rule.variable`. No message quotes the value: a mistyped URL is often
 * a pasted secret, and a URL with credentials holds one.
 */
export function checkBaseUrl(raw: string, rule: BaseUrlRule): string {
  const name = rule.variable;
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new ConfigError(`${name} is not a URL; expected e.g. ${rule.example}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ConfigError(`${name} must be an http:// or https:// URL, not ${url.protocol}`);
  }
  if (url.username !== "" || url.password !== "") {
    throw new ConfigError(`${name} must not contain a user name or password`);
  }
  if (url.search !== "" || url.hash !== "") {
    throw new ConfigError(`${name} must not contain a query string or fragment`);
  }
  if (rule.allowPath === false && url.pathname !== "/" && url.pathname !== "") {
    throw new ConfigError(`${name} must be an http(s) origin without a path (the client ignores paths); expected e.g. ${rule.example}`);
  }
  return `${url.origin}${url.pathname}`.replace(/\/+$/, "");
}

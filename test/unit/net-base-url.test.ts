/** The one base-URL check (src/net/base-url.ts), as QUO_BASE_URL, HUBSPOT_API_URL and GOOGLE_SHEETS_API_URL use it. */
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/errors.js";
import { checkBaseUrl, type BaseUrlRule } from "../../src/net/base-url.js";

const SECRET = "sk_live_SECRET_4f1c";
const WITH_PATH: BaseUrlRule = { variable: "SOME_API_URL", example: "https://api.example.com" };
const ORIGIN_ONLY: BaseUrlRule = { ...WITH_PATH, allowPath: false };

describe("checkBaseUrl accepts", () => {
  it.each([
    { raw: "https://api.openphone.com", want: "https://api.openphone.com" },
    { raw: "https://api.quo.com/", want: "https://api.quo.com" },
    { raw: "  https://api.quo.com  ", want: "https://api.quo.com" },
    { raw: "http://127.0.0.1:9", want: "http://127.0.0.1:9" },
    { raw: "http://127.0.0.1:9///", want: "http://127.0.0.1:9" },
    { raw: "HTTPS://API.HUBAPI.COM", want: "https://api.hubapi.com" },
    { raw: "https://api.example.com:443", want: "https://api.example.com" },
    { raw: "http://[::1]:8080/", want: "http://[::1]:8080" },
    { raw: "https://gateway.maton.ai/quo", want: "https://gateway.maton.ai/quo" },
    { raw: "https://proxy.example/gw/quo/", want: "https://proxy.example/gw/quo" },
  ])("$raw → $want", ({ raw, want }) => {
    expect(checkBaseUrl(raw, WITH_PATH)).toBe(want);
  });

  it.each([
    { raw: "https://sheets.googleapis.com", want: "https://sheets.googleapis.com" },
    { raw: "https://sheets.googleapis.com/", want: "https://sheets.googleapis.com" },
    { raw: "http://127.0.0.1:8085", want: "http://127.0.0.1:8085" },
  ])("an origin where only an origin is allowed: $raw", ({ raw, want }) => {
    expect(checkBaseUrl(raw, ORIGIN_ONLY)).toBe(want);
  });
});

describe("checkBaseUrl refuses, naming the variable and never quoting the value", () => {
  it.each([
    { raw: "api.openphone.com", rule: WITH_PATH, message: "SOME_API_URL is not a URL; expected e.g. https://api.example.com" },
    { raw: "", rule: WITH_PATH, message: "SOME_API_URL is not a URL" },
    { raw: SECRET, rule: WITH_PATH, message: "SOME_API_URL is not a URL" },
    { raw: "ftp://api.example.com", rule: WITH_PATH, message: "SOME_API_URL must be an http:// or https:// URL, not ftp:" },
    { raw: `file:///etc/${SECRET}`, rule: WITH_PATH, message: "must be an http:// or https:// URL, not file:" },
    { raw: `https://user:${SECRET}@api.example.com`, rule: WITH_PATH, message: "SOME_API_URL must not contain a user name or password" },
    { raw: `https://${SECRET}@api.example.com`, rule: WITH_PATH, message: "must not contain a user name or password" },
    { raw: `https://api.example.com/?key=${SECRET}`, rule: WITH_PATH, message: "SOME_API_URL must not contain a query string or fragment" },
    { raw: `https://api.example.com/#${SECRET}`, rule: WITH_PATH, message: "must not contain a query string or fragment" },
    { raw: "http://127.0.0.1:1/v4/", rule: ORIGIN_ONLY, message: "SOME_API_URL must be an http(s) origin without a path" },
    { raw: `https://api.example.com/${SECRET}`, rule: ORIGIN_ONLY, message: "must be an http(s) origin without a path" },
  ])("$raw", ({ raw, rule, message }) => {
    let thrown: unknown;
    try {
      checkBaseUrl(raw, rule);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as ConfigError).kind).toBe("config");
    expect((thrown as ConfigError).message).toContain(message);
    expect(String(thrown)).not.toContain(SECRET);
  });
});

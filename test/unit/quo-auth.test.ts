import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/errors.js";
import { MATON_DEFAULT_BASE_URL, QUO_DEFAULT_BASE_URL, authHeaders, quoConnectionFromEnv } from "../../src/quo/auth.js";

const KEY = "qk_live_SECRET_4f7d2c9a1b";

function errorOf(env: NodeJS.ProcessEnv): string {
  try {
    quoConnectionFromEnv(env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error("expected a ConfigError");
}

describe("the Quo connection from the environment", () => {
  it("takes a raw Quo key, or a Maton key through the gateway", () => {
    expect(quoConnectionFromEnv({ QUO_API_KEY: KEY })).toEqual({ mode: "quo-api-key", apiKey: KEY, baseUrl: QUO_DEFAULT_BASE_URL });
    expect(quoConnectionFromEnv({ MATON_API_KEY: KEY })).toEqual({ mode: "maton", matonApiKey: KEY, baseUrl: MATON_DEFAULT_BASE_URL });
    expect(authHeaders({ mode: "maton", key: KEY }).Authorization).toBe(`Bearer ${KEY}`);
  });

  it.each([
    [{ QUO_API_KEY: `Bearer ${KEY}` }, 'QUO_API_KEY starts with "Bearer ": Quo takes the raw key; remove the prefix'],
    [{ QUO_API_KEY: ` bearer  ${KEY}` }, 'QUO_API_KEY starts with "Bearer ": Quo takes the raw key; remove the prefix'],
    // quo-sync sends "Bearer KEY" to the gateway itself; the variable holds the key alone.
    [{ MATON_API_KEY: `Bearer ${KEY}` }, 'MATON_API_KEY starts with "Bearer ": the variable holds the key alone (quo-sync adds "Bearer " to the header); remove the prefix'],
  ])("refuses a key variable holding a Bearer header value, before any request, never quoting the key (%#)", (env, expected) => {
    const message = errorOf(env);
    expect(message).toBe(expected);
    expect(message).not.toContain(KEY);
  });

  it("does not judge a key it does not use: QUO_API_KEY wins over MATON_API_KEY", () => {
    expect(quoConnectionFromEnv({ QUO_API_KEY: KEY, MATON_API_KEY: `Bearer ${KEY}` }).mode).toBe("quo-api-key");
  });
});

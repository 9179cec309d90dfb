/**
 * The registry of Quo clients (one per workspace, one throttle per API key) against the Quo
 * emulator on 127.0.0.1.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { describeError } from "../../src/commands/common.js";
import { parseConfig } from "../../src/config.js";
import { ConfigError } from "../../src/errors.js";
import { QuoClients } from "../../src/quo/clients.js";
import { QuoApiError } from "../../src/quo/errors.js";
import { startQuoEmulator, type QuoEmulator } from "../emulators/quo-emulator.js";

const WEST_KEY = "qk_west_SECRET_1a2b3c";
const EAST_KEY = "qk_east_SECRET_4d5e6f";
const MATON_KEY = "maton_north_SECRET_7a8b";

let emulator: QuoEmulator;
beforeAll(async () => {
  emulator = await startQuoEmulator({ apiKeys: [WEST_KEY, EAST_KEY], matonKeys: [MATON_KEY], requestsPerSecond: 0 });
});
afterAll(() => emulator.close());

const sync = (name: string, workspace?: string) => ({ name, source: { type: "csv", path: "c.csv" }, key: "id", fields: { firstName: "First" }, ...(workspace ? { workspace } : {}) });

function registry(workspaces: Record<string, unknown>, env: NodeJS.ProcessEnv, top: Record<string, unknown> = {}) {
  const config = parseConfig({ ...top, workspaces, syncs: [sync("a", "west"), sync("b", "west"), sync("c", "east"), sync("d")] });
  return { config, clients: new QuoClients({ config, env, tuning: { maxRetries: 0 } }) };
}

function thrown(f: () => unknown): Error {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected an error");
}

describe("QuoClients", () => {
  it("hands every sync of one workspace the same client, and each workspace its own", () => {
    const { config, clients } = registry(
      { west: { apiKeyEnv: "WEST_KEY", baseUrl: emulator.url }, east: { apiKeyEnv: "EAST_KEY", baseUrl: emulator.url } },
      { WEST_KEY, EAST_KEY, QUO_API_KEY: WEST_KEY, QUO_BASE_URL: emulator.url },
    );
    const [a, b, c, d] = config.syncs.map((s) => clients.forSync(s));
    expect(a).toBe(b);
    expect(a).not.toBe(c);
    expect(d).not.toBe(a);
    expect(clients.forWorkspace("default")).toBe(d);
    expect([a!.workspace, c!.workspace, d!.workspace]).toEqual(["west", "east", "default"]);
  });

  it("refuses a workspace whose variable is not set, naming the variable and its path, never a key; the other workspaces still work", async () => {
    const { config, clients } = registry(
      { west: { apiKeyEnv: "WEST_KEY", baseUrl: emulator.url }, east: { apiKeyEnv: "EAST_KEY", baseUrl: emulator.url } },
      { WEST_KEY, EAST_KEY: "  ", QUO_API_KEY: WEST_KEY, QUO_BASE_URL: emulator.url },
    );
    const e = thrown(() => clients.forSync(config.syncs[2]!));
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.message).toBe("workspaces.east.apiKeyEnv: EAST_KEY is not set; it holds the Quo API key of workspace 'east'");
    expect(describeError(e)).not.toContain(WEST_KEY);
    await expect(clients.forSync(config.syncs[0]!).listContacts({ maxResults: 1 })).resolves.toMatchObject({ data: [] });
    // The default workspace without QUO_API_KEY or MATON_API_KEY says which to set.
    const none = registry({ west: { apiKeyEnv: "WEST_KEY" }, east: { apiKeyEnv: "EAST_KEY" } }, { WEST_KEY, EAST_KEY });
    expect(thrown(() => none.clients.forWorkspace("default")).message).toMatch(/set QUO_API_KEY .* or MATON_API_KEY/);
  });

  it("refuses a workspace key written with its Bearer prefix, naming the variable, never the key", () => {
    const { config, clients } = registry(
      { west: { apiKeyEnv: "WEST_KEY", baseUrl: emulator.url }, east: { apiKeyEnv: "EAST_KEY", auth: "maton" } },
      { WEST_KEY: `Bearer ${WEST_KEY}`, EAST_KEY: `bearer ${MATON_KEY}`, QUO_API_KEY: WEST_KEY, QUO_BASE_URL: emulator.url },
    );
    const west = thrown(() => clients.forSync(config.syncs[0]!));
    expect(west.message).toBe('WEST_KEY starts with "Bearer ": Quo takes the raw key; remove the prefix');
    const east = thrown(() => clients.forSync(config.syncs[2]!));
    expect(east.message).toContain('EAST_KEY starts with "Bearer ": the variable holds the key alone');
    for (const e of [west, east]) expect(e.message).not.toMatch(/SECRET/);
  });

  it("reaches a Maton workspace through the gateway: Bearer, paths under /quo", async () => {
    const { clients } = registry({ west: { apiKeyEnv: "WEST_KEY" }, east: { apiKeyEnv: "NORTH_MATON_KEY", auth: "maton", baseUrl: emulator.url } }, { WEST_KEY, NORTH_MATON_KEY: MATON_KEY });
    expect(clients.connection("east")).toEqual({ workspace: "east", auth: "maton", baseUrl: `${emulator.url}/quo`, keyVariable: "NORTH_MATON_KEY", requestsPerSecond: 10 });
    expect(clients.connection("west")).toMatchObject({ auth: "quo-api-key", baseUrl: "https://api.openphone.com" });
    emulator.resetStats();
    await clients.forWorkspace("east").listContacts({ maxResults: 1 });
    expect(emulator.stats().byKey).toEqual({ [MATON_KEY]: { requests: 1, rateLimited: 0 } });
    expect(JSON.stringify(clients.connection("east"))).not.toContain(MATON_KEY);
  });

  it("names the workspace and its variable in every Quo error, never the key; a config without workspaces reads as before", async () => {
    const { clients } = registry({ west: { apiKeyEnv: "WEST_KEY", baseUrl: emulator.url }, east: { apiKeyEnv: "EAST_KEY", baseUrl: emulator.url } }, { WEST_KEY: "qk_wrong_SECRET_0000", EAST_KEY });
    const e = await clients.forWorkspace("west").listContacts({ maxResults: 1 }).then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(QuoApiError);
    const q = e as QuoApiError;
    expect(q).toMatchObject({ status: 401, workspace: "west", keyVariable: "WEST_KEY" });
    expect(q.message).toMatch(/^workspace 'west': GET \/v1\/contacts → 401 /);
    expect(describeError(q)).toMatch(/^Quo API error \(workspace 'west'\): GET \/v1\/contacts → 401 .*\(check that WEST_KEY holds a valid key for workspace 'west'\)$/);
    for (const text of [q.message, describeError(q), JSON.stringify(q), String(q.stack)]) expect(text).not.toContain("qk_wrong_SECRET_0000");

    const plain = parseConfig({ syncs: [sync("a")] });
    const single = new QuoClients({ config: plain, env: { QUO_API_KEY: "qk_wrong_SECRET_0000", QUO_BASE_URL: emulator.url }, tuning: { maxRetries: 0 } });
    const p = (await single.forSync(plain.syncs[0]!).listContacts({ maxResults: 1 }).catch((x: unknown) => x)) as QuoApiError;
    expect(p.workspace).toBeUndefined();
    expect(p.message).toMatch(/^GET \/v1\/contacts → 401 /);
    expect(describeError(p)).toMatch(/^Quo API error: GET \/v1\/contacts → 401 .*\(check that QUO_API_KEY, or MATON_API_KEY, holds a valid key for this workspace\)$/);
  });

  it("counts each workspace's requests on its own, zero before its client exists", async () => {
    const { clients } = registry({ west: { apiKeyEnv: "WEST_KEY", baseUrl: emulator.url }, east: { apiKeyEnv: "EAST_KEY", baseUrl: emulator.url } }, { WEST_KEY, EAST_KEY });
    expect(clients.stats(["west", "east"])).toEqual({ west: expect.objectContaining({ requests: 0 }), east: expect.objectContaining({ requests: 0 }) });
    await clients.forWorkspace("west").listContacts({ maxResults: 1 });
    await clients.forWorkspace("west").listCustomFields();
    await clients.forWorkspace("east").listContacts({ maxResults: 1 });
    const s = clients.stats(["west", "east"]);
    expect([s.west!.requests, s.east!.requests]).toEqual([2, 1]);
  });
});

describe("one throttle per API key", () => {
  let limited: QuoEmulator;
  const SHARED = "qk_shared_SECRET_5566";
  beforeAll(async () => {
    limited = await startQuoEmulator({ apiKeys: [SHARED], requestsPerSecond: 3 });
  });
  afterAll(() => limited.close());

  it("is shared by the default workspace and two named ones on the same key, at the lowest rate any of them sets", async () => {
    // Quo's limit here is 3/s per key; the config asks 10/s by default and 3/s for one workspace.
    // Three clients each at their own rate would send up to 23 in a second and meet 429s.
    const config = parseConfig({
      workspaces: { west: { apiKeyEnv: "WEST_KEY", baseUrl: limited.url }, east: { apiKeyEnv: "EAST_KEY", baseUrl: limited.url, requestsPerSecond: 3 } },
      syncs: [sync("a", "west"), sync("b", "east"), sync("c")],
    });
    const clients = new QuoClients({ config, env: { WEST_KEY: SHARED, EAST_KEY: SHARED, QUO_API_KEY: SHARED, QUO_BASE_URL: limited.url }, tuning: { maxRetries: 0 } });
    limited.resetStats();
    const started = Date.now();
    await Promise.all(config.syncs.flatMap((s) => Array.from({ length: 3 }, () => clients.forSync(s).listContacts({ maxResults: 1 }))));
    const elapsed = Date.now() - started;
    expect(limited.stats().byKey[SHARED]).toEqual({ requests: 9, rateLimited: 0 });
    // Nine starts at 3 per second: the third group cannot start before two windows have passed.
    expect(elapsed).toBeGreaterThanOrEqual(2000);
  });
});

/**
 * Several workspaces end to end through the built CLI: two Quo emulators on 127.0.0.1 stand for two
 * client workspaces, each with its own key, and one config syncs a source into each.
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startQuoEmulator, type QuoEmulator } from "../emulators/quo-emulator.js";
import { HEADER, Workspace, compareWithSource, personRow, reports, runCli, toCsv, writes } from "./harness.js";

const WEST_KEY = "qk_west_SECRET_3f9a1c";
const EAST_KEY = "qk_east_SECRET_7b2e4d";
const WRONG_KEY = "qk_wrong_SECRET_0e0e0e";

let west: QuoEmulator;
let east: QuoEmulator;
let ws: Workspace;
beforeAll(async () => {
  west = await startQuoEmulator({ apiKeys: [WEST_KEY], requestsPerSecond: 0 });
  east = await startQuoEmulator({ apiKeys: [EAST_KEY], requestsPerSecond: 0 });
});
afterAll(async () => {
  await west.close();
  await east.close();
});
beforeEach(() => {
  ws = new Workspace();
  for (const e of [west, east]) {
    for (const c of e.contacts()) e.appDelete(c.id);
    e.resetStats();
  }
});
afterEach(() => ws.cleanup());

const westRows = Array.from({ length: 6 }, (_, i) => personRow(i + 1));
const eastRows = Array.from({ length: 4 }, (_, i) => personRow(i + 101));

/** Two CSV syncs, `west-leads` into workspace 'west' and `east-leads` into 'east'. */
function setup(): void {
  writeFileSync(path.join(ws.dir, "west.csv"), toCsv([HEADER, ...westRows]));
  writeFileSync(path.join(ws.dir, "east.csv"), toCsv([HEADER, ...eastRows]));
  const fields = { firstName: "First Name", lastName: "Last Name", company: "Company", phoneNumbers: { mobile: "Phone", work: "Work Phone" }, emails: { work: "Email" } };
  const config = {
    state: ws.state,
    quo: { requestsPerSecond: 50 },
    workspaces: {
      west: { apiKeyEnv: "WEST_QUO_API_KEY", baseUrl: west.url },
      east: { apiKeyEnv: "EAST_QUO_API_KEY", baseUrl: east.url },
    },
    syncs: [
      { name: "west-leads", workspace: "west", source: { type: "csv", path: "west.csv" }, key: "id", fields, deletes: "mirror" },
      { name: "east-leads", workspace: "east", source: { type: "csv", path: "east.csv" }, key: "id", fields, deletes: "mirror" },
    ],
  };
  writeFileSync(ws.config, JSON.stringify(config, null, 2));
}

function env(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: process.env.HOME, WEST_QUO_API_KEY: WEST_KEY, EAST_QUO_API_KEY: EAST_KEY, LOG_LEVEL: "warn", ...extra };
}

const cli = (args: string[], e = env()) => runCli([...args, "--config", ws.config], e, ws.dir);

describe("several workspaces", () => {
  it("syncs each source into its own workspace, and status, check and fields name each one", async () => {
    setup();
    const r = await cli(["sync", "--format", "json"]);
    expect(r.status, r.stderr).toBe(0);
    expect(reports(r.stdout).map((x) => [x.sync, x.workspace, x.counts.create])).toEqual([["west-leads", "west", 6], ["east-leads", "east", 4]]);
    expect(Object.keys(reports(r.stdout)[0]).slice(0, 2)).toEqual(["sync", "workspace"]);
    expect(compareWithSource(west.contacts(), westRows, "west-leads")).toEqual([]);
    expect(compareWithSource(east.contacts(), eastRows, "east-leads")).toEqual([]);
    // Nothing crossed over: each workspace holds its own sync's contacts only, sent with its own key.
    expect(west.contacts().every((c) => c.externalId?.startsWith("west-leads:"))).toBe(true);
    expect(east.contacts().every((c) => c.externalId?.startsWith("east-leads:"))).toBe(true);
    expect(Object.keys(west.stats().byKey)).toEqual([WEST_KEY]);
    expect(Object.keys(east.stats().byKey)).toEqual([EAST_KEY]);

    // The table names the workspace in each sync's headline.
    const table = await cli(["plan"]);
    expect(table.stdout).toContain("west-leads (workspace west): would create 0");
    expect(table.stdout).toContain("east-leads (workspace east): would create 0");

    const again = await cli(["sync", "--format", "json"]);
    expect(again.status).toBe(0);
    expect(writes(west) + writes(east)).toBe(10);

    const status = JSON.parse((await cli(["status", "--format", "json"])).stdout);
    expect(status.map((s: any) => [s.sync, s.workspace, s.contacts])).toEqual([["west-leads", "west", 6], ["east-leads", "east", 4]]);
    expect((await cli(["status"])).stdout).toMatch(/^west-leads \(workspace 'west'\): 6 contacts in Quo from this sync/m);

    const check = await cli(["check", "--format", "json"]);
    expect(check.status, check.stdout).toBe(0);
    expect(JSON.parse(check.stdout).checks.map((c: any) => [c.ok, c.what])).toEqual([
      [true, `sync 'west-leads' (workspace 'west'): source ${path.join(ws.dir, "west.csv")}`],
      [true, `sync 'east-leads' (workspace 'east'): source ${path.join(ws.dir, "east.csv")}`],
      [true, `Quo workspace 'west' (API key, ${west.url})`],
      [true, `Quo workspace 'east' (API key, ${east.url})`],
      [true, `state file ${ws.state}`],
    ]);

    east.setCustomFields([{ name: "Seats", key: "seats", type: "number" }]);
    try {
      const fields = await cli(["fields", "--format", "json"]);
      expect(fields.status, fields.stderr).toBe(0);
      const data = JSON.parse(fields.stdout);
      expect(data.workspaces).toEqual([
        { workspace: "west", fields: [] },
        { workspace: "east", fields: [{ name: "Seats", key: "seats", type: "number" }] },
      ]);
      expect(data.fields).toBeUndefined();
      expect(data.syncs.map((s: any) => [s.sync, s.workspace])).toEqual([["west-leads", "west"], ["east-leads", "east"]]);
      const table = (await cli(["fields"])).stdout;
      expect(table).toContain("Quo custom fields in workspace 'east':\n  name   key    type\n  Seats  seats  number");
      expect(table).toContain("sync 'east-leads' (workspace 'east'):");
    } finally {
      east.setCustomFields([]);
    }
  });

  it("a 401 on one workspace's key fails that sync, naming the workspace and its variable, never the key; the other sync succeeds", async () => {
    setup();
    const r = await cli(["sync", "--format", "json"], env({ EAST_QUO_API_KEY: WRONG_KEY, LOG_LEVEL: "debug" }));
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/quo-sync: sync 'east-leads': Quo API error \(workspace 'east'\): GET \/v1\/contacts\S* → 401 .*\(check that EAST_QUO_API_KEY holds a valid key for workspace 'east'\)/);
    expect(reports(r.stdout).map((x) => x.sync)).toEqual(["west-leads"]);
    expect(compareWithSource(west.contacts(), westRows, "west-leads")).toEqual([]);
    expect(east.contacts()).toEqual([]);
    for (const out of [r.stdout, r.stderr]) for (const key of [WEST_KEY, EAST_KEY, WRONG_KEY]) expect(out).not.toContain(key);

    const [, eastStatus] = JSON.parse((await cli(["status", "--format", "json"])).stdout);
    expect(eastStatus.runs[0]).toMatchObject({ outcome: "failed", error: expect.stringMatching(/^workspace 'east': GET \/v1\/contacts\S* → 401 /) });

    const check = await cli(["check"], env({ EAST_QUO_API_KEY: WRONG_KEY }));
    expect(check.status).toBe(1);
    expect(check.stdout).toContain(`ok    Quo workspace 'west' (API key, ${west.url})`);
    expect(check.stdout).toMatch(/FAIL {2}Quo workspace 'east'\n.*\(workspace 'east'\).*401.*EAST_QUO_API_KEY/);
    expect(check.stdout + check.stderr).not.toContain(WRONG_KEY);
  });

  it("a workspace whose key variable is not set fails its syncs only, naming the variable", async () => {
    setup();
    const r = await cli(["sync", "--format", "json"], env({ EAST_QUO_API_KEY: undefined }));
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("quo-sync: sync 'east-leads': config error: workspaces.east.apiKeyEnv: EAST_QUO_API_KEY is not set; it holds the Quo API key of workspace 'east'");
    expect(compareWithSource(west.contacts(), westRows, "west-leads")).toEqual([]);
    expect(east.stats().requests).toBe(0);
  });
});

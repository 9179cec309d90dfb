/**
 * A new user's first hour, through the built CLI against the Quo emulator: config mistakes named by
 * the resolved file, the line and column, the key that was meant.
 */
import { writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { QuoEmulator } from "../emulators/quo-emulator.js";
import { Workspace, cliEnv, personRow, runCli, useQuoEmulator } from "./harness.js";

let emulator: QuoEmulator;
let ws: Workspace;
useQuoEmulator((e, w) => {
  emulator = e;
  ws = w;
});

/** Default logging (info), as a person gets it: every log line the run writes is on stderr. */
function env(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { ...cliEnv(emulator), ...extra };
  delete e.LOG_LEVEL;
  for (const [k, v] of Object.entries(extra)) if (v === undefined) delete e[k];
  return e;
}

describe("config mistakes", () => {
  it("wrong JSON is named by file, line and column; an unknown key by the key meant", async () => {
    ws.writeCsv([personRow(1)]);
    writeFileSync(ws.config, '{\n  "state": "./state.db",\n  "syncs": [\n    { "name": "leads", },\n  ]\n}\n');
    const json = await runCli(["plan", "--config", ws.config], env(), ws.dir);
    expect(json.status).toBe(1);
    expect(json.stderr).toBe(`quo-sync: config error: ${ws.config}:4:24: Expected double-quoted property name (the config file must be JSON: no comments, no trailing commas)\n`);

    ws.writeConfig({ feilds: { firstName: "First Name" }, sheduel: "0 * * * *" });
    const keys = await runCli(["plan", "--config", ws.config], env(), ws.dir);
    expect(keys.status).toBe(1);
    expect(keys.stderr).toContain(`quo-sync: config error: ${ws.config} is not valid:\n`);
    expect(keys.stderr).toContain("  syncs[0].feilds: unknown key; did you mean 'fields'?\n");
    expect(keys.stderr).toContain("  syncs[0].sheduel: unknown key; did you mean 'schedule'?\n");
    expect(emulator.stats().requests).toBe(0);
  });
});

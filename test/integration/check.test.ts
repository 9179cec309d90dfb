/**
 * `quo-sync check`: each source read and Quo's credentials tried, nothing written anywhere.
 */
import { existsSync, rmSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { QuoEmulator } from "../emulators/quo-emulator.js";
import { redactDatabaseUrl } from "../../src/state/store.js";
import { postgresEngine, postgresServer } from "./engines.js";
import { API_KEY, Workspace, cliEnv, personRow, runCli, useQuoEmulator } from "./harness.js";
import { queryDatabase } from "./postgres.js";

let emulator: QuoEmulator;
let ws: Workspace;
useQuoEmulator((e, w) => {
  emulator = e;
  ws = w;
});

const check = (env = cliEnv(emulator), ...extra: string[]) => runCli(["check", "--config", ws.config, ...extra], env, ws.dir);

describe("quo-sync check", () => {
  it("reports every check ok with one read of Quo and writes nothing, not even the state file", async () => {
    ws.writeCsv([personRow(1)]);
    ws.writeConfig();
    const r = await check(cliEnv(emulator), "--format", "json");
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.ok).toBe(true);
    expect(out.checks.map((c: any) => [c.ok, c.what])).toEqual([
      [true, `sync 'leads': source ${ws.csv}`],
      [true, `Quo (API key, ${emulator.url})`],
      [true, `state file ${ws.state} (created by the first sync)`],
    ]);
    expect(emulator.stats().byRoute).toEqual({ "GET /v1/contacts": 1 });
    expect(existsSync(ws.state)).toBe(false);
  });

  it("names a source that cannot be read and a key Quo refuses, never the key itself, and exits 1", async () => {
    ws.writeCsv([personRow(1)]);
    ws.writeConfig();
    rmSync(ws.csv);
    const wrongKey = "qk_live_WRONG_7c1e";
    const r = await check({ ...cliEnv(emulator), QUO_API_KEY: wrongKey });
    expect(r.status).toBe(1);
    expect(r.stdout).toContain(`FAIL  sync 'leads': source ${ws.csv}\n      cannot read ${ws.csv}: no such file\n`);
    expect(r.stdout).toMatch(/FAIL {2}Quo\n.*401.*check that QUO_API_KEY/);
    expect(r.stdout + r.stderr).not.toContain(wrongKey);
    expect(r.stdout + r.stderr).not.toContain(API_KEY);
    expect(emulator.stats().writesApplied).toEqual({ create: 0, update: 0, delete: 0 });
  });

  it("with a PostgreSQL state, connects to it read-only: ok for a reachable database (creating nothing), FAIL naming it without its password", async () => {
    ws.writeCsv([personRow(1)]);
    ws.writeConfig();
    const url = await postgresEngine.fresh();
    const password = (await postgresServer()).password;
    const ok = await check({ ...cliEnv(emulator), QUO_SYNC_DATABASE_URL: url }, "--format", "json");
    expect(ok.status, ok.stderr).toBe(0);
    const last = JSON.parse(ok.stdout).checks.at(-1);
    expect(last).toEqual({ what: `state database ${redactDatabaseUrl(url)}`, ok: true });
    expect(await queryDatabase(url, "select table_name from information_schema.tables where table_schema = 'public'")).toEqual([]);

    const bad = await check({ ...cliEnv(emulator), QUO_SYNC_DATABASE_URL: url.replace(`:${password}@`, ":not-the-password@") });
    expect(bad.status).toBe(1);
    expect(bad.stdout).toMatch(/FAIL {2}state database postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/\w+\n.*password authentication failed/);
    expect(bad.stdout + bad.stderr).not.toContain("not-the-password");
    expect(bad.stdout + bad.stderr).not.toContain(password);
  });
});

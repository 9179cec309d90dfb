/**
 * A key's request rate shared by processes through the PostgreSQL state: two registries, each with
 * its own store (as two daemons on two hosts have), call one key as fast as they can against a Quo
 * that allows 5 requests per second per key.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config.js";
import { QuoClients, rateName, startSpacingMs } from "../../src/quo/clients.js";
import { sharedRateOf } from "../../src/run.js";
import { openStore, type StateStore } from "../../src/state/store.js";
import { startQuoEmulator, type QuoEmulator } from "../emulators/quo-emulator.js";
import { postgresEngine, postgresServer } from "./engines.js";
import { queryDatabase } from "./postgres.js";
import { Workspace, cliEnv, compareWithSource, personRow, runCli } from "./harness.js";

const KEY = "qk_shared_rate_SECRET_7788";
const PER_SECOND = 5;
let quo: QuoEmulator;
beforeAll(async () => {
  quo = await startQuoEmulator({ apiKeys: [KEY], requestsPerSecond: PER_SECOND });
});
afterAll(() => quo.close());

function registry(store: StateStore | undefined): QuoClients {
  const config = parseConfig({ quo: { requestsPerSecond: PER_SECOND }, syncs: [{ name: "a", source: { type: "csv", path: "a.csv" }, key: "id", fields: { firstName: "First" } }] });
  const sharedRate = store && sharedRateOf(store);
  // No retries: a 429 is counted, not hidden.
  return new QuoClients({ config, env: { QUO_API_KEY: KEY, QUO_BASE_URL: quo.url }, tuning: { maxRetries: 0 }, ...(sharedRate ? { sharedRate } : {}) });
}

/** Two processes' worth of requests at once; resolves with the key's requests and 429s. */
async function burst(a: QuoClients, b: QuoClients, each: number): Promise<{ requests: number; rateLimited: number }> {
  quo.resetStats();
  const call = (c: QuoClients) => c.forWorkspace("default").listCustomFields().then(() => "ok", () => "failed");
  await Promise.all([...Array.from({ length: each }, () => call(a)), ...Array.from({ length: each }, () => call(b))]);
  return quo.stats().byKey[KEY] as { requests: number; rateLimited: number };
}

describe("a key's rate shared through the PostgreSQL state", () => {
  it("two processes together stay within the key's limit: no 429 (each alone at the limit meets 429s)", async () => {
    const url = await postgresEngine.fresh();
    const [s1, s2] = await Promise.all([openStore(url), openStore(url)]);
    try {
      const shared = await burst(registry(s1), registry(s2), 12);
      expect(shared).toEqual({ requests: 24, rateLimited: 0 });

      // Quo counts per wall-clock second: the next burst starts in a second of its own.
      await new Promise((r) => setTimeout(r, 1100));
      // Each process alone holds 5/s; together they ask for 10/s and Quo refuses some.
      const alone = await burst(registry(undefined), registry(undefined), 12);
      expect(alone.requests).toBe(24);
      expect(alone.rateLimited).toBeGreaterThan(0);
      // The database holds the key's rate under a digest, never the key.
      const rows = await queryDatabase(url, "select name from rate_slots");
      expect(rows).toEqual([{ name: rateName(KEY) }]);
      expect(JSON.stringify(rows)).not.toContain(KEY);
      expect(startSpacingMs(PER_SECOND)).toBe(210);
    } finally {
      await Promise.all([s1.close(), s2.close()]);
    }
  });

  it("a one-shot sync on a PostgreSQL state reserves its requests there; a dry run does not", async () => {
    const url = await postgresEngine.fresh();
    const ws = new Workspace();
    try {
      const rows = [personRow(1), personRow(2), personRow(3)];
      ws.writeCsv(rows);
      ws.writeConfig({}, { quo: { requestsPerSecond: PER_SECOND } });
      const env = { ...cliEnv(quo), QUO_API_KEY: KEY, QUO_SYNC_DATABASE_URL: url };
      const dry = await runCli(["plan", "--config", ws.config], env, ws.dir);
      expect(dry.status, dry.stderr).toBe(0);
      // A database no quo-sync used reads as empty, and the dry run created nothing in it.
      expect(await queryDatabase(url, "select table_name from information_schema.tables where table_schema = 'public'")).toEqual([]);
      const before = quo.stats().byKey[KEY]?.requests ?? 0;
      const r = await runCli(["sync", "--config", ws.config], env, ws.dir);
      expect(r.status, r.stderr).toBe(0);
      expect(compareWithSource(quo.contacts(), rows)).toEqual([]);
      expect((quo.stats().byKey[KEY]?.requests ?? 0) - before).toBeGreaterThanOrEqual(3);
      expect(await queryDatabase(url, "select name from rate_slots")).toEqual([{ name: rateName(KEY) }]);
    } finally {
      ws.cleanup();
    }
  });

  it("neither the API key nor the database password appears in output, logs, errors or the database, even with a wrong password", async () => {
    const url = await postgresEngine.fresh();
    const password = (await postgresServer()).password;
    const wrong = url.replace(`:${password}@`, ":db-WRONG-secret-77@");
    expect(wrong).not.toBe(url);
    const ws = new Workspace();
    try {
      ws.writeCsv([personRow(1), personRow(2)]);
      ws.writeConfig({}, { quo: { requestsPerSecond: PER_SECOND } });
      const env = (db: string) => ({ ...cliEnv(quo), QUO_API_KEY: KEY, QUO_SYNC_DATABASE_URL: db, LOG_LEVEL: "trace" });
      const outputs: string[] = [];
      for (const args of [["sync"], ["plan"], ["status"]]) {
        const r = await runCli([...args, "--config", ws.config], env(wrong), ws.dir);
        expect(r.status, `${args[0]}: ${r.stderr}`).toBe(1);
        expect(r.stderr).toContain("cannot open the state database postgres://postgres:***@127.0.0.1:");
        outputs.push(r.stdout, r.stderr);
      }
      const daemon = await runCli(["daemon", "--config", ws.config], env(wrong), ws.dir);
      expect(daemon.status).toBe(1);
      outputs.push(daemon.stdout, daemon.stderr);
      for (const args of [["sync", "--format", "json"], ["plan"], ["status", "--format", "json"]]) {
        const r = await runCli([...args, "--config", ws.config], env(url), ws.dir);
        expect(r.status, r.stderr).toBe(0);
        outputs.push(r.stdout, r.stderr);
      }
      const stored: unknown[] = [];
      for (const table of ["contacts", "runs", "rejections", "journal", "locks", "custom_field_bindings", "rate_slots"]) stored.push(await queryDatabase(url, `select * from ${table}`));
      for (const secret of [KEY, password, "db-WRONG-secret-77"]) {
        for (const out of outputs) expect(out).not.toContain(secret);
        expect(JSON.stringify(stored)).not.toContain(secret);
      }
    } finally {
      ws.cleanup();
    }
  });

  it("a read-only store shares nothing, and a SQLite state has no shared rate", async () => {
    const url = await postgresEngine.fresh();
    await (await openStore(url)).close();
    const ro = await openStore(url, { readonly: true });
    expect(sharedRateOf(ro)).toBeUndefined();
    await ro.close();
  });
});

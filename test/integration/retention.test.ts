/**
 * Retention through real runs, on both engines: after a run that ends ok, refused or failed, the
 * sync's history beyond the config's `retention` is deleted with its rejections (which hold raw
 * source values), the newest finished and newest successful runs always kept; and a pruning failure
 * is logged without failing the run.
 */
import pino from "pino";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { QuoClient } from "../../src/quo/client.js";
import { runSync } from "../../src/run.js";
import { openStore, type StateStore } from "../../src/state/store.js";
import type { QuoEmulator } from "../emulators/quo-emulator.js";
import { ENGINES } from "./engines.js";
import { queryDatabase } from "./postgres.js";
import { API_KEY, Workspace, cliEnv, personRow, runCli, useQuoEmulator } from "./harness.js";

let emulator: QuoEmulator;
let ws: Workspace;
useQuoEmulator((e, w) => {
  emulator = e;
  ws = w;
});

const DAY = 86_400_000;
const BAD_ROW = ["B1", "Bad", "Phone", "", "555-12", "", ""];

describe.each(ENGINES)("retention (%s state)", (_name, fx) => {
  const stateOf = async () => (fx.engine === "postgres" ? await fx.fresh() : ws.state);
  const envOf = (location: string): Record<string, string> => (fx.engine === "postgres" ? { QUO_SYNC_DATABASE_URL: location } : {});

  /** A run recorded as an earlier process did, with one rejected row carrying a raw value. */
  async function seedRun(store: StateStore, startedAt: number, outcome: "ok" | "failed" | "refused"): Promise<number> {
    const id = await store.startRun("leads", startedAt);
    await store.finishRun(id, outcome, startedAt + 1000);
    await store.addRejections(id, [{ row: 9, key: `S${id}`, field: "emails.work", value: `person${id}@@example.com`, reason: "not a valid email" }]);
    return id;
  }

  /** Every rejection's run id and raw value in the state, read without the store. */
  async function rejections(location: string): Promise<{ runId: number; value: string | null }[]> {
    if (fx.engine === "postgres") return (await queryDatabase<{ run_id: number; value: string | null }>(location, "select run_id, value from rejections order by id")).map((r) => ({ runId: r.run_id, value: r.value }));
    const { default: Database } = await import("better-sqlite3");
    const db = new Database(location, { readonly: true });
    try {
      return (db.prepare("SELECT run_id AS runId, value FROM rejections ORDER BY id").all() as { runId: number; value: string | null }[]);
    } finally {
      db.close();
    }
  }

  it("a run that ends ok, failed or refused prunes the sync's history beyond the policy, rejections with it", async () => {
    const rows = Array.from({ length: 10 }, (_, i) => personRow(i + 1));
    ws.writeCsv([...rows, BAD_ROW]);
    ws.writeConfig({}, { retention: { runs: 1, days: 30 } });
    const location = await stateOf();
    const env = cliEnv(emulator, envOf(location));
    const sync = (extra: Record<string, string> = {}) => runCli(["sync", "--config", ws.config], { ...env, ...extra }, ws.dir);
    const runIds = async () => {
      const s = await openStore(location, { readonly: true });
      try {
        return (await s.recentRuns({ sync: "leads", limit: 100 })).map((r) => [r.id, r.outcome]);
      } finally {
        await s.close();
      }
    };

    // Runs of an earlier process, from yesterday: beyond the count of 1 once a run is recorded.
    const store = await openStore(location);
    const seeded = [await seedRun(store, Date.now() - DAY, "ok"), await seedRun(store, Date.now() - DAY + 1, "failed"), await seedRun(store, Date.now() - DAY + 2, "refused")];
    expect(await rejections(location)).toHaveLength(3);

    // ok: only this run is left, with its own rejected row.
    const ok = await sync();
    expect(ok.status, ok.stderr).toBe(0);
    const [[okId]] = (await runIds()) as [[number, string]];
    expect(await runIds()).toEqual([[okId, "ok"]]);
    expect(await rejections(location)).toEqual([{ runId: okId, value: "555-12" }]);
    for (const id of seeded) expect(okId).toBeGreaterThan(id);

    // failed: a run from 40 days ago goes; the newest success stays beside the failed run.
    const old = await seedRun(store, Date.now() - 40 * DAY, "failed");
    ws.writeCsv([personRow(1, 1), ...rows.slice(1), BAD_ROW]); // an update to send, refused by Quo
    const failed = await sync({ QUO_API_KEY: "wrong-key" });
    expect(failed.status).toBe(1);
    const afterFailed = await runIds();
    expect(afterFailed).toHaveLength(2);
    expect(afterFailed[0]![1]).toBe("failed");
    expect(afterFailed[1]).toEqual([okId, "ok"]);
    expect((await rejections(location)).map((r) => r.runId)).not.toContain(old);

    // refused (more than 20 % of the contacts would go): the failed run goes, its successor is the refused one.
    const another = await seedRun(store, Date.now() - 2 * DAY, "ok");
    ws.writeCsv([...rows.slice(0, 5), BAD_ROW]);
    const refused = await sync();
    expect(refused.status, refused.stderr).toBe(3);
    const afterRefused = await runIds();
    expect(afterRefused.map(([, o]) => o)).toEqual(["refused", "ok"]);
    // The newest successful run is the seeded one (it has the higher id), so the real ok run went too.
    expect(afterRefused[1]).toEqual([another, "ok"]);
    const left = await rejections(location);
    expect(left.map((r) => r.runId).sort()).toEqual([afterRefused[0]![0], another].sort());
    expect(left.map((r) => r.value)).not.toContain("person1@@example.com");
    await store.close();
  });

  it("a pruning failure is logged and never fails the run", async () => {
    ws.writeCsv([personRow(1)]);
    ws.writeConfig({}, { retention: { runs: 1, days: 30 } });
    const location = await stateOf();
    const store = await openStore(location);
    store.pruneRuns = () => Promise.reject(new Error("disk on fire"));
    const lines: string[] = [];
    const logger = pino({ level: "warn", base: undefined }, { write: (l: string) => void lines.push(l) });
    const client = new QuoClient({ baseUrl: emulator.url, apiKey: API_KEY, requestsPerSecond: 1000 });
    const report = await runSync({ loaded: loadConfig(ws.config), env: envOf(location), logger, client, store }, 0, { dryRun: false, allowDeletes: false });
    expect(report.outcome).toBe("ok");
    const warned = lines.map((l) => JSON.parse(l) as { msg: string; error?: string }).find((l) => l.msg === "could not prune old runs from the state database");
    expect(warned).toMatchObject({ error: "disk on fire" });
    expect((await store.recentRuns({ sync: "leads", limit: 5 })).map((r) => r.outcome)).toEqual(["ok"]);
    await store.close();
  });
});

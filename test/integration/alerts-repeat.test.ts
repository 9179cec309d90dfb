/**
 * The `Alerter` over a real SQLite state and real HTTP receivers, with its clock in the test's
 * hands: a lasting failure is sent again on each channel after that channel's own `repeatAfter`,
 * `on` picks a channel's events, and two alerters judging the same recorded run send it once.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Alerter } from "../../src/alerts/alerter.js";
import { parseConfig, type LoadedConfig } from "../../src/config.js";
import { createLogger } from "../../src/log.js";
import { openStore, type RunOutcome, type StateStore } from "../../src/state/store.js";
import { startHttpReceiver, type HttpReceiver } from "./alerts-receivers.js";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const T0 = Date.parse("2026-12-01T00:00:00Z");

let dir: string;
let store: StateStore;
let receivers: HttpReceiver[];
beforeEach(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), "quo-sync-alerts-"));
  store = await openStore(path.join(dir, "state.db"));
  receivers = await Promise.all([startHttpReceiver(), startHttpReceiver(), startHttpReceiver()]);
});
afterEach(async () => {
  await store.close();
  for (const r of receivers) await r.close();
  rmSync(dir, { recursive: true, force: true });
});

function loaded(): LoadedConfig {
  const config = parseConfig({
    state: path.join(dir, "state.db"),
    alerts: [
      { type: "webhook", urlEnv: "HOURLY_URL", repeatAfter: "1h" },
      { type: "webhook", urlEnv: "DAILY_URL" },
      { type: "webhook", urlEnv: "RECOVERIES_URL", on: ["recovered"] },
    ],
    syncs: [{ name: "leads", source: { type: "csv", path: "x.csv" }, key: "id", fields: { firstName: "F" } }],
  });
  return { config, file: path.join(dir, "quo-sync.config.json"), baseDir: dir };
}

const env = () => ({ HOURLY_URL: `${receivers[0]!.origin}/h`, DAILY_URL: `${receivers[1]!.origin}/d`, RECOVERIES_URL: `${receivers[2]!.origin}/r` });
const silent = createLogger({ LOG_LEVEL: "silent" }, { pretty: false });
const counts = () => receivers.map((r) => r.requests.map((q) => q.body.event as string).join(","));

async function record(outcome: RunOutcome, at: number): Promise<void> {
  const id = await store.startRun("leads", at - 1000);
  await store.finishRun(id, outcome, at, undefined, outcome === "failed" ? "source error: x.csv does not exist" : undefined);
}

describe("Alerter", () => {
  it("repeats a lasting failure on each channel after its own repeatAfter; `on` picks the events; recovered goes to all that want it", async () => {
    let now = T0;
    const alerter = new Alerter({ loaded: loaded(), env: env(), logger: silent, now: () => now });
    const step = async (outcome: RunOutcome, at: number) => {
      now = at;
      await record(outcome, at);
      alerter.afterRun("leads", store);
      expect(await alerter.drain(10_000)).toBe(true);
    };
    await step("failed", T0);
    expect(counts()).toEqual(["failed", "failed", ""]);
    await step("failed", T0 + 30 * MINUTE);
    await step("failed", T0 + 59 * MINUTE);
    expect(counts()).toEqual(["failed", "failed", ""]);
    await step("failed", T0 + HOUR);
    expect(counts()).toEqual(["failed,failed", "failed", ""]);
    await step("failed", T0 + 90 * MINUTE);
    await step("failed", T0 + 2 * HOUR);
    expect(counts()).toEqual(["failed,failed,failed", "failed", ""]);
    await step("failed", T0 + 24 * HOUR);
    expect(counts()).toEqual(["failed,failed,failed,failed", "failed,failed", ""]);
    await step("ok", T0 + 24 * HOUR + MINUTE);
    await step("ok", T0 + 24 * HOUR + 2 * MINUTE);
    expect(counts()).toEqual(["failed,failed,failed,failed,recovered", "failed,failed,recovered", "recovered"]);
    const state = await store.alertState("leads");
    expect(state).toMatchObject({ state: "ok", lastEvent: "recovered" });
  });

  it("two alerters judging the same recorded run (two processes) send it once", async () => {
    const a = new Alerter({ loaded: loaded(), env: env(), logger: silent });
    const b = new Alerter({ loaded: loaded(), env: env(), logger: silent });
    const other = await openStore(path.join(dir, "state.db"));
    try {
      await record("failed", Date.now());
      a.afterRun("leads", store);
      b.afterRun("leads", other);
      await Promise.all([a.drain(10_000), b.drain(10_000)]);
      expect(counts()).toEqual(["failed", "failed", ""]);
      await record("ok", Date.now());
      b.afterRun("leads", other);
      a.afterRun("leads", store);
      await Promise.all([a.drain(10_000), b.drain(10_000)]);
      expect(counts()).toEqual(["failed,recovered", "failed,recovered", "recovered"]);
    } finally {
      await other.close();
    }
  });
});

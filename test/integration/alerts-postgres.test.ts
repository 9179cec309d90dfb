/**
 * Alerts from two daemons on one PostgreSQL state, as two replicas with the same config: each event
 * is sent once in total — the decision is committed by compare-and-swap and only the daemon whose
 * swap succeeds sends. Failures at every tick, a recovery, a stall both daemons see (the sync's lock
 * held by a stopped process), and the recovery after it.
 */
import type { ChildProcess } from "node:child_process";
import { afterEach, describe, expect, it } from "vitest";
import type { QuoEmulator } from "../emulators/quo-emulator.js";
import { startHttpReceiver, type HttpReceiver } from "./alerts-receivers.js";
import { holdLock, metric, spawnDaemon, stop, until, type Daemon } from "./daemons.js";
import { postgresEngine } from "./engines.js";
import { API_KEY, Workspace, cliEnv, personRow, useQuoEmulator } from "./harness.js";

let emulator: QuoEmulator;
let ws: Workspace;
useQuoEmulator((e, w) => {
  emulator = e;
  ws = w;
});

const EVERY_SECOND = "*/1 * * * * *";
const OPS_TOKEN = "tok_OPS_SECRET_pg_5a6b7c";

let receiver: HttpReceiver | undefined;
let holder: ChildProcess | undefined;
afterEach(async () => {
  if (holder && holder.exitCode === null && holder.signalCode === null) holder.kill("SIGKILL");
  await receiver?.close();
  receiver = undefined;
});

/** Ticks of `outcome` summed over the daemons. */
async function ticks(bases: readonly string[], outcome: string): Promise<number> {
  let n = 0;
  for (const b of bases) n += await metric(b, `quo_sync_runs_total{sync="leads",outcome="${outcome}"}`);
  return n;
}

describe("alerts from two daemons on one PostgreSQL state", () => {
  it("send each event once in total: failed, recovered, stalled, recovered", async () => {
    const url = await postgresEngine.fresh();
    receiver = await startHttpReceiver();
    const ops = receiver;
    const events = () => ops.requests.map((q) => q.body?.event as string);
    ws.writeConfig({ schedule: EVERY_SECOND }, { state: url, alerts: [{ type: "webhook", urlEnv: "OPS_WEBHOOK_URL" }] });
    const env = cliEnv(emulator, { OPS_WEBHOOK_URL: `${ops.origin}/hooks/${OPS_TOKEN}`, LOG_LEVEL: "info" });
    const daemons: Daemon[] = [spawnDaemon(ws.config, ws.dir, env), spawnDaemon(ws.config, ws.dir, env)];
    const bases = await Promise.all(daemons.map((d) => d.url()));

    // No CSV: every run fails, on whichever daemon holds the lock at that tick.
    await until(async () => (await ticks(bases, "failed")) >= 8, 60_000, "eight failed ticks over both daemons");
    await until(() => ops.requests.length >= 1, 20_000, "the failed alert");
    await new Promise((r) => setTimeout(r, 1500));
    expect(events()).toEqual(["failed"]);

    ws.writeCsv([personRow(1), personRow(2)]);
    await until(async () => (await ticks(bases, "ok")) >= 6, 60_000, "six ok ticks over both daemons");
    await until(() => ops.requests.length >= 2, 20_000, "the recovered alert");
    expect(events()).toEqual(["failed", "recovered"]);

    // A process takes the lock and stops: both daemons' stall checks see the sync stalled.
    holder = await holdLock(url, 30_000);
    holder.kill("SIGSTOP");
    await until(() => ops.requests.length >= 3, 30_000, "the stalled alert");
    await until(async () => (await metric(bases[0]!, 'quo_sync_ticks_skipped_total{sync="leads",reason="locked"}')) >= 8, 30_000, "locked ticks");
    expect(events()).toEqual(["failed", "recovered", "stalled"]);
    holder.kill("SIGKILL");
    await until(() => ops.requests.length >= 4, 30_000, "the recovered alert after the stall");
    await new Promise((r) => setTimeout(r, 2000));
    expect(events()).toEqual(["failed", "recovered", "stalled", "recovered"]);

    // Counted where each was sent: four in total over the two daemons.
    let sent = 0;
    for (const b of bases) {
      const text = await (await fetch(`${b}/metrics`)).text();
      for (const m of text.matchAll(/^quo_sync_alerts_total\{[^}]*result="sent"[^}]*\} (\d+)$/gm)) sent += Number(m[1]);
    }
    expect(sent).toBe(4);
    const results = await Promise.all(daemons.map((d) => stop(d)));
    for (const r of results) {
      expect(r.status).toBe(0);
      expect(r.stderr).not.toContain(OPS_TOKEN);
      expect(r.stderr).not.toContain(API_KEY);
    }
    for (const q of ops.requests) expect(q.raw).not.toContain(OPS_TOKEN);
  }, 180_000);
});


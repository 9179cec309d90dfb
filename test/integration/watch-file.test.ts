/**
 * Watched CSV files end to end: a real daemon process (the built CLI) with `source.watch: true`,
 * real files written, replaced by rename and written slowly, the Quo emulator on 127.0.0.1. Runs
 * are counted in the state database (trigger `watch`), writes in the emulator.
 */
import { appendFileSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { QuoEmulator } from "../emulators/quo-emulator.js";
import { openStore } from "../../src/state/store.js";
import type { RunRecord } from "../../src/state/store.js";
import { spawnDaemon, stop, until, type Daemon } from "./daemons.js";
import { HEADER, Workspace, cliEnv, compareWithSource, personRow, runCli, toCsv, useQuoEmulator, writes } from "./harness.js";

let emulator: QuoEmulator;
let ws: Workspace;
useQuoEmulator((e, w) => {
  emulator = e;
  ws = w;
});

const rows = (n: number, edit = 0) => Array.from({ length: n }, (_, i) => personRow(i + 1, edit));

async function runs(): Promise<RunRecord[]> {
  const store = await openStore(ws.state, { readonly: true });
  try {
    return (await store.recentRuns({ sync: "leads", limit: 1000 })).reverse();
  } finally {
    await store.close();
  }
}

async function startWatching(schedule?: string): Promise<Daemon> {
  ws.writeConfig({ source: { type: "csv", path: "contacts.csv", watch: true }, ...(schedule ? { schedule } : {}) });
  const d = spawnDaemon(ws.config, ws.dir, cliEnv(emulator, { LOG_LEVEL: "info" }));
  await d.waitForLog((l) => l.msg === "watching the source file");
  return d;
}

/** Waits until every run has ended and no new one starts for `quietMs`. */
async function settled(quietMs = 2500): Promise<RunRecord[]> {
  let last = "";
  let since = Date.now();
  for (;;) {
    const r = await runs();
    const sig = JSON.stringify(r.map((x) => [x.id, x.outcome]));
    if (sig !== last) {
      last = sig;
      since = Date.now();
    } else if (Date.now() - since >= quietMs && r.every((x) => x.outcome !== "running")) return r;
    await new Promise((res) => setTimeout(res, 100));
  }
}

describe("watched CSV files", () => {
  it("an edit is synced within seconds, without a schedule", async () => {
    ws.writeCsv(rows(5));
    const d = await startWatching();
    const t0 = Date.now();
    ws.writeCsv(rows(5));
    await until(() => emulator.contacts().length === 5, 10_000, "the 5 contacts created");
    ws.writeCsv(rows(5, 1));
    await until(() => compareWithSource(emulator.contacts(), rows(5, 1)).length === 0, 10_000, "the edit synced");
    const elapsed = Date.now() - t0;
    const r = await settled();
    expect(r.map((x) => [x.trigger, x.outcome])).toEqual([
      ["watch", "ok"],
      ["watch", "ok"],
    ]);
    expect(elapsed).toBeLessThan(10_000);
    expect((await stop(d)).status).toBe(0);
  });

  it("a file written slowly in chunks over ~2 s gives one run, which sees the complete file", async () => {
    ws.writeCsv(rows(1));
    const d = await startWatching();
    const all = rows(40);
    const text = toCsv([HEADER, ...all]);
    writeFileSync(ws.csv, "");
    const chunks = 10;
    const size = Math.ceil(text.length / chunks);
    for (let i = 0; i < chunks; i++) {
      appendFileSync(ws.csv, text.slice(i * size, (i + 1) * size));
      await new Promise((res) => setTimeout(res, 200));
    }
    const r = await settled();
    expect(r.length).toBe(1);
    expect(r[0]!.trigger).toBe("watch");
    expect(r[0]!.counts?.create).toBe(40);
    expect(compareWithSource(emulator.contacts(), all)).toEqual([]);
    expect(writes(emulator)).toBe(40);
    expect((await stop(d)).status).toBe(0);
  });

  it("a file replaced by rename is followed, and still after a second replace", async () => {
    ws.writeCsv(rows(3));
    const d = await startWatching("0 0 1 1 *");
    const replace = (content: string[][], n: number) => {
      const tmp = path.join(ws.dir, `.contacts.csv.tmp${n}`);
      writeFileSync(tmp, toCsv([HEADER, ...content]));
      renameSync(tmp, ws.csv);
    };
    replace(rows(3), 1);
    await until(() => compareWithSource(emulator.contacts(), rows(3)).length === 0, 10_000, "first replace synced");
    replace(rows(3, 1), 2);
    await until(() => compareWithSource(emulator.contacts(), rows(3, 1)).length === 0, 10_000, "second replace synced");
    replace(rows(3, 2), 3);
    await until(() => compareWithSource(emulator.contacts(), rows(3, 2)).length === 0, 10_000, "third replace synced");
    const r = await settled();
    expect(r.map((x) => x.trigger)).toEqual(["watch", "watch", "watch"]);
    expect((await stop(d)).status).toBe(0);
  });

  it("20 rapid edits give at most 2 runs, and the final content wins", async () => {
    ws.writeCsv(rows(10));
    const d = await startWatching();
    for (let i = 1; i <= 20; i++) {
      ws.writeCsv(rows(10, i));
      await new Promise((res) => setTimeout(res, 30));
    }
    const r = await settled();
    expect(r.length).toBeGreaterThanOrEqual(1);
    expect(r.length).toBeLessThanOrEqual(2);
    expect(r.every((x) => x.trigger === "watch" && x.outcome === "ok")).toBe(true);
    expect(compareWithSource(emulator.contacts(), rows(10, 20))).toEqual([]);
    expect((await stop(d)).status).toBe(0);
  });

  it("a change during a run makes exactly one more run after it", async () => {
    ws.writeCsv(rows(5));
    const d = await startWatching();
    // Slow writes keep the first run busy while the file changes twice more.
    emulator.setLatency(2500);
    ws.writeCsv(rows(5));
    await until(async () => (await runs()).some((x) => x.outcome === "running"), 10_000, "the first run started");
    ws.writeCsv(rows(5, 1));
    await new Promise((res) => setTimeout(res, 1500));
    ws.writeCsv(rows(5, 2));
    const r = await settled(3000);
    // Both edits settled while the first run was busy: they owe one run, not two.
    expect(r.length).toBe(2);
    expect(compareWithSource(emulator.contacts(), rows(5, 2))).toEqual([]);
    expect((await stop(d)).status).toBe(0);
  });

  it("a change while another process holds the sync's lock is applied once that process is done", async () => {
    ws.writeCsv(rows(3));
    const d = await startWatching();
    // A one-shot sync, slowed by Quo's latency, holds the lock while the file changes.
    emulator.setLatency(1500);
    const oneShot = runCli(["sync", "--config", ws.config], cliEnv(emulator), ws.dir);
    await until(async () => (await runs()).some((x) => x.outcome === "running" && x.trigger === "manual"), 10_000, "the one-shot run holding the lock");
    ws.writeCsv(rows(3, 1));
    await d.waitForLog((l) => typeof l.msg === "string" && l.msg.startsWith("tick skipped: another process holds the lock"), 15_000);
    expect((await oneShot).status).toBe(0);
    emulator.setLatency(0);
    await until(() => compareWithSource(emulator.contacts(), rows(3, 1)).length === 0, 15_000, "the edit applied after the lock was released");
    const r = await settled();
    expect(r.map((x) => x.trigger)).toEqual(["manual", "watch"]);
    expect((await stop(d)).status).toBe(0);
  });

  it("watch on a source that is not CSV is refused, naming the setting", async () => {
    ws.writeConfig({ source: { type: "hubspot", watch: true }, key: "hs_object_id" });
    const d = spawnDaemon(ws.config, ws.dir, cliEnv(emulator));
    const res = await d.done;
    expect(res.status).toBe(1);
    expect(res.stderr).toMatch(/source\.watch.*only a CSV source can be watched/);
  });
});

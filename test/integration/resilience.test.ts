/**
 * Crash and fault tolerance through the built CLI: kill -9 at random instants, and a Quo that
 * answers 500 or loses responses to writes it applied. Quo must end exactly equal to the source,
 * with no duplicate contact and no duplicate phone or email item.
 */
import { describe, expect, it } from "vitest";
import { mulberry32, type QuoEmulator } from "../emulators/quo-emulator.js";
import { Workspace, cliEnv, compareWithSource, personRow, reports, runCli, startCli, writes, useQuoEmulator } from "./harness.js";

let emulator: QuoEmulator;
let ws: Workspace;
useQuoEmulator((e, w) => {
  emulator = e;
  ws = w;
});

function noDuplicateItems(): string[] {
  const out: string[] = [];
  for (const c of emulator.contacts()) {
    for (const list of [c.defaultFields.phoneNumbers, c.defaultFields.emails]) {
      const names = list.map((i) => i.name);
      if (new Set(names).size !== names.length) out.push(`${c.externalId}: duplicate items ${names.join(",")}`);
    }
  }
  return out;
}

const args = () => ["sync", "--config", ws.config, "--format", "json", "--allow-deletes"];

/** Runs sync repeatedly, killing it with SIGKILL after a random delay, `kills` times; then lets it finish. */
async function crashLoop(kills: number, random: () => number): Promise<number> {
  let killed = 0;
  for (let i = 0; i < kills; i++) {
    const { child, done } = startCli(args(), cliEnv(emulator), ws.dir);
    const delay = 150 + Math.floor(random() * 900);
    const timer = setTimeout(() => child.kill("SIGKILL"), delay);
    const r = await done;
    clearTimeout(timer);
    if (r.signal === "SIGKILL") killed++;
    else expect(r.status).toBe(0);
  }
  const final = await runCli(args(), cliEnv(emulator), ws.dir);
  expect(final.stderr).not.toMatch(/error/i);
  expect(final.status).toBe(0);
  return killed;
}

describe("kill -9 at any instant", () => {
  it("converges with no duplicate after repeated crashes during creates, updates and deletes", async () => {
    const random = mulberry32(42);
    emulator.setLatency(8);
    ws.writeConfig({ maxDeletePercent: 100 }, { quo: { requestsPerSecond: 100 } });

    let rows = Array.from({ length: 150 }, (_, i) => personRow(i + 1));
    ws.writeCsv(rows);
    const killedCreates = await crashLoop(6, random);
    expect(compareWithSource(emulator.contacts(), rows)).toEqual([]);

    // Updates that add and change list items (the non-idempotent kind), then deletes.
    rows = rows.map((r, i) => (i % 2 === 0 ? personRow(i + 1, 1).map((v, j) => (j === 5 && !v ? `646-555-${String(1000 + i).slice(-4)}` : v)) : r));
    rows = rows.map((r) => r.map((v, j) => (j === 5 && v.startsWith("646-555") ? v.replace("646-555", "646-700") : v)));
    ws.writeCsv(rows);
    const killedUpdates = await crashLoop(5, random);
    expect(compareWithSource(emulator.contacts(), rows)).toEqual([]);
    expect(noDuplicateItems()).toEqual([]);

    rows = rows.filter((_, i) => i % 3 !== 0);
    ws.writeCsv(rows);
    const killedDeletes = await crashLoop(3, random);
    expect(compareWithSource(emulator.contacts(), rows)).toEqual([]);

    // The crashes really happened mid-run, and a last rerun has nothing left to do.
    expect(killedCreates + killedUpdates + killedDeletes).toBeGreaterThanOrEqual(8);
    emulator.resetStats();
    const last = await runCli(args(), cliEnv(emulator), ws.dir);
    expect(reports(last.stdout)[0].counts).toMatchObject({ create: 0, update: 0, delete: 0, failed: 0 });
    expect(writes(emulator)).toBe(0);
  });
});

describe("a faulty Quo", () => {
  it("5% 500s and 3% lost responses: converges with no duplicate", async () => {
    emulator.setFaults({ serverErrorRate: 0.05, lostResponseRate: 0.03, seed: 7 });
    ws.writeConfig({ maxDeletePercent: 100 }, { quo: { requestsPerSecond: 100 } });
    let rows = Array.from({ length: 300 }, (_, i) => personRow(i + 1));
    ws.writeCsv(rows);

    const converge = async (): Promise<number> => {
      for (let attempt = 1; attempt <= 6; attempt++) {
        const r = await runCli(args(), cliEnv(emulator), ws.dir);
        if (r.status === 0 && reports(r.stdout)[0].counts.failed === 0) return attempt;
      }
      return -1;
    };
    const runs1 = await converge();
    expect(runs1).toBeGreaterThan(0);
    expect(compareWithSource(emulator.contacts(), rows)).toEqual([]);
    const s = emulator.stats();
    expect(s.byStatus["500"] ?? 0).toBeGreaterThan(5);
    expect(s.byStatus["lost"] ?? 0).toBeGreaterThan(3);

    rows = rows.map((r, i) => (i % 4 === 0 ? [r[0]!, r[1]!, "Edited", r[3]!, r[4]!, r[5] || `646-300-${String(i).padStart(4, "0")}`, r[6] || `added${i}@example.com`] : r));
    rows = rows.filter((_, i) => i % 10 !== 5);
    ws.writeCsv(rows);
    expect(await converge()).toBeGreaterThan(0);
    emulator.setFaults(undefined);
    expect(compareWithSource(emulator.contacts(), rows)).toEqual([]);
    expect(noDuplicateItems()).toEqual([]);
  });
});

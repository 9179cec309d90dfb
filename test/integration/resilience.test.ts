/**
 * Crash and fault tolerance through the built CLI: kill -9 at random instants, and a Quo that
 * answers 500 or loses responses to writes it applied. Quo must end exactly equal to the source,
 * with no duplicate contact and no duplicate phone or email item.
 */
import { describe, expect, it } from "vitest";
import { openStore } from "../../src/state/store.js";
import { ENGINES, type EngineFixture } from "./engines.js";
import { mulberry32, type EmulatedContact, type QuoEmulator } from "../emulators/quo-emulator.js";
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

const writesApplied = (): number => {
  const w = emulator.stats().writesApplied;
  return w.create + w.update + w.delete;
};

/**
 * Runs sync repeatedly, killing it with SIGKILL, then lets it finish. The first `writeKills` runs
 * are killed after a random number (1 to `maxWrites`) of writes Quo applied in that run, so they
 * hit the write phase however slowly the machine starts a process; a last run is killed after a
 * random delay instead, which may land anywhere from start-up (migrations, reading, planning) to
 * the end. Each write kill uses at most `maxWrites` plus the writes in flight (WRITE_CONCURRENCY,
 * 10), so callers keep `writeKills × (maxWrites + 10)` below the writes the phase needs: then every
 * write kill lands mid-run. Returns how many of them did.
 */
async function crashLoop(writeKills: number, maxWrites: number, random: () => number, env: NodeJS.ProcessEnv): Promise<number> {
  let landed = 0;
  for (let i = 0; i <= writeKills; i++) {
    const { child, done } = startCli(args(), env, ws.dir);
    const byWrites = i < writeKills;
    const target = writesApplied() + 1 + Math.floor(random() * maxWrites);
    const timer = byWrites
      ? setInterval(() => {
          if (writesApplied() >= target) child.kill("SIGKILL");
        }, 2)
      : setTimeout(() => child.kill("SIGKILL"), 100 + Math.floor(random() * 900));
    const r = await done;
    clearInterval(timer);
    if (r.signal === "SIGKILL") {
      if (byWrites) landed++;
    } else expect(r.status).toBe(0);
  }
  const final = await runCli(args(), env, ws.dir);
  expect(final.stderr).not.toMatch(/error/i);
  expect(final.status).toBe(0);
  return landed;
}

/** The CLI's environment with the state on `fx`'s engine: PostgreSQL through QUO_SYNC_DATABASE_URL, else the config's file. */
async function stateEnv(fx: EngineFixture): Promise<{ env: NodeJS.ProcessEnv; state: string }> {
  if (fx.engine === "sqlite") return { env: cliEnv(emulator), state: ws.state };
  const url = await fx.fresh();
  return { env: cliEnv(emulator, { QUO_SYNC_DATABASE_URL: url }), state: url };
}

describe.each(ENGINES)("kill -9 at any instant (%s state)", (_name, fx) => {
  it("converges with no duplicate after repeated crashes during creates, updates and deletes", { timeout: 150_000 }, async () => {
    const { env } = await stateEnv(fx);
    const random = mulberry32(42);
    emulator.setLatency(8);
    ws.writeConfig({ maxDeletePercent: 100 }, { quo: { requestsPerSecond: 100 } });

    let rows = Array.from({ length: 150 }, (_, i) => personRow(i + 1));
    ws.writeCsv(rows);
    const killedCreates = await crashLoop(5, 10, random, env); // 150 creates > 5 × 20
    expect(compareWithSource(emulator.contacts(), rows)).toEqual([]);

    // A person adds a number, an email and a role in the Quo app to every fifth contact: each
    // must survive the crashes of the whole-contact updates below.
    const byKey = new Map(emulator.contacts().map((c) => [c.externalId, c]));
    const personal = new Map<string, EmulatedContact>();
    rows.forEach((r, i) => {
      if (i % 5 !== 0) return;
      const c = byKey.get(`leads:${r[0]}`)!;
      personal.set(c.id, emulator.appEdit(c.id, { role: "Buyer", addPhoneNumbers: [{ name: "home", value: `+1646900${String(1000 + i).slice(-4)}` }], addEmails: [{ name: "personal", value: `p${i}@home.example` }] }));
    });
    const survivors = (): string[] => {
      const out: string[] = [];
      const now = new Map(emulator.contacts().map((c) => [c.id, c]));
      for (const [id, p] of personal) {
        const c = now.get(id);
        if (!c) continue; // deleted with its row
        const keep = (list: EmulatedContact["defaultFields"]["phoneNumbers"]) => list.filter((x) => x.name === "home" || x.name === "personal");
        if (c.defaultFields.role !== "Buyer") out.push(`${c.externalId}: role ${c.defaultFields.role}`);
        if (JSON.stringify(keep(c.defaultFields.phoneNumbers)) !== JSON.stringify(keep(p.defaultFields.phoneNumbers))) out.push(`${c.externalId}: home phone lost`);
        if (JSON.stringify(keep(c.defaultFields.emails)) !== JSON.stringify(keep(p.defaultFields.emails))) out.push(`${c.externalId}: personal email lost`);
      }
      return out;
    };
    const PERSONAL_LABELS = new Set(["home", "personal"]);

    // Updates that add and change list items (the non-idempotent kind), then deletes.
    rows = rows.map((r, i) => (i % 2 === 0 ? personRow(i + 1, 1).map((v, j) => (j === 5 && !v ? `646-555-${String(1000 + i).slice(-4)}` : v)) : r));
    rows = rows.map((r) => r.map((v, j) => (j === 5 && v.startsWith("646-555") ? v.replace("646-555", "646-700") : v)));
    ws.writeCsv(rows);
    const killedUpdates = await crashLoop(4, 6, random, env); // 75 updates > 4 × 16
    expect(compareWithSource(emulator.contacts(), rows, "leads", PERSONAL_LABELS)).toEqual([]);
    expect(noDuplicateItems()).toEqual([]);
    expect(survivors()).toEqual([]);

    rows = rows.filter((_, i) => i % 3 !== 0);
    ws.writeCsv(rows);
    const killedDeletes = await crashLoop(2, 8, random, env); // 50 deletes > 2 × 18
    expect(compareWithSource(emulator.contacts(), rows, "leads", PERSONAL_LABELS)).toEqual([]);
    expect(survivors()).toEqual([]);

    // The crashes really happened mid-run (each phase has more writes left than a kill waits for),
    // and a last rerun has nothing left to do.
    expect([killedCreates, killedUpdates, killedDeletes]).toEqual([5, 4, 2]);
    emulator.resetStats();
    const last = await runCli(args(), env, ws.dir);
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

describe.each(ENGINES)("a fatal error mid-run (%s state)", (_name, fx) => {
  it("waits for the writes in flight and records them before the state database is closed", async () => {
    const { env, state } = await stateEnv(fx);
    const rows = Array.from({ length: 60 }, (_, i) => personRow(i + 1));
    ws.writeCsv(rows);
    ws.writeConfig({}, { quo: { requestsPerSecond: 100 } });
    emulator.setLatency(40);
    let posts = 0;
    // The key is revoked mid-run: the 15th create is refused with 401, with 9 others in flight.
    emulator.setRefusal(({ method }) => (method === "POST" && ++posts === 15 ? { status: 401, code: "0800401", title: "Unauthorized", message: "You are unauthorized to access the contact" } : undefined));
    const r = await runCli(args(), env, ws.dir);
    emulator.setRefusal(undefined);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("Quo API error");
    // Every contact Quo created is in the state, and no write was left unrecorded in the journal.
    const created = emulator.contacts().map((c) => c.externalId).sort();
    expect(created.length).toBeGreaterThan(14);
    const store = await openStore(state, { readonly: true });
    try {
      expect(await store.pendingJournal("leads")).toEqual([]);
      expect((await store.loadSyncRows("leads")).map((row) => `leads:${row.key}`).sort()).toEqual(created);
      expect((await store.recentRuns({ sync: "leads", limit: 1 }))[0]).toMatchObject({ outcome: "failed" });
    } finally {
      await store.close();
    }
  });
});

import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { readStatus, renderStatusTable } from "../../src/commands/status.js";
import { openStore, type StateStore } from "../../src/state/store.js";

let dir: string;
let store: StateStore;
const T0 = Date.UTC(2025, 0, 2, 3, 4, 5);

beforeEach(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), "quo-sync-status-"));
  store = await openStore(path.join(dir, "state.db"));
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

async function seed(): Promise<void> {
  const a = await store.startRun("leads", T0);
  await store.finishRun(a, "ok", T0 + 2_500, { create: 5, update: 0, delete: 0, unchanged: 0, rejected: 4, failed: 0 });
  await store.addRejections(a, [1, 2, 3, 4].map((i) => ({ row: i + 1, key: `B${i}`, reason: `phoneNumbers.mobile: bad ${i}` })));
  const b = await store.startRun("leads", T0 + 60_000, "webhook");
  await store.finishRun(b, "failed", T0 + 61_000, undefined, "cannot read contacts.csv: ENOENT\nmore detail");
  await store.startRun("leads", T0 + 120_000, "watch");
}

describe("readStatus", () => {
  it("lists the newest run first with duration, counts, the first rejections and the error", async () => {
    await seed();
    const [s] = await readStatus(store, ["leads"], 10);
    expect(s!.lastSuccessAt).toBe(new Date(T0 + 2_500).toISOString());
    expect(s!.runs.map((r) => [r.outcome, r.durationMs])).toEqual([
      ["running", null],
      ["failed", 1_000],
      ["ok", 2_500],
    ]);
    expect(s!.runs[2]!.rejections).toHaveLength(3);
    expect(s!.runs[1]!.error).toContain("ENOENT");
    expect((await readStatus(store, ["leads"], 1))[0]!.runs).toHaveLength(1);
    // The last success is found even when it is older than the runs listed.
    expect((await readStatus(store, ["leads"], 1))[0]!.lastSuccessAt).toBe(new Date(T0 + 2_500).toISOString());
  });

  it("gives every run every count, in the report's order: 0 for link, unlink, skipped and filtered of runs stored before they existed", async () => {
    await seed();
    const c = await store.startRun("leads", T0 + 180_000);
    await store.finishRun(c, "ok", T0 + 181_000, { create: 0, update: 1, delete: 0, link: 2, unlink: 1, unchanged: 10, rejected: 0, failed: 0 });
    const runs = (await readStatus(store, ["leads"], 10))[0]!.runs;
    expect(runs[0]!.counts).toEqual({ create: 0, update: 1, delete: 0, link: 2, unlink: 1, unchanged: 10, rejected: 0, failed: 0, skipped: 0, filtered: 0 });
    expect(Object.keys(runs[3]!.counts!)).toEqual(["create", "update", "delete", "link", "unlink", "unchanged", "rejected", "failed", "skipped", "filtered"]);
    expect(runs[3]!.counts).toEqual({ create: 5, update: 0, delete: 0, link: 0, unlink: 0, unchanged: 0, rejected: 4, failed: 0, skipped: 0, filtered: 0 });
    // A run that ended without a report has no counts at all.
    expect(runs[2]!.counts).toBeNull();
  });

  it("shows who holds the lock while the holder lives, and a lock left by one that is gone as such", async () => {
    // Another machine's holder, judged by its heartbeat.
    const now = Date.now();
    await store.tryLock("leads", { owner: "elsewhere|box:77:1", host: "box", pid: 77 }, now, () => false);
    const lock = { host: "box", pid: 77, since: new Date(now).toISOString(), heartbeatAt: new Date(now).toISOString() };
    const [live] = await readStatus(store, ["leads"], 10);
    expect(live!.runningNow).toEqual(lock);
    expect(live).not.toHaveProperty("lockLeft");
    expect(renderStatusTable([live!])).toContain(`running now (pid 77 on box, since ${lock.since})`);

    await store.tryLock("leads", { owner: "elsewhere|box:77:1", host: "box", pid: 77 }, T0, () => true);
    const [gone] = await readStatus(store, ["leads"], 10);
    expect(gone!.runningNow).toBeNull();
    expect(gone!.lockLeft).toEqual({ host: "box", pid: 77, since: new Date(T0).toISOString(), heartbeatAt: new Date(T0).toISOString() });
    const text = renderStatusTable([gone!]);
    expect(text).not.toContain("running now");
    expect(text.split("\n")[0]).toBe(`leads: 0 contacts in Quo from this sync; last success never; lock left by a process that is gone (pid 77 on box, last heartbeat ${new Date(T0).toISOString()}); the next run takes it over`);
  });
});

describe("skipped and filtered rows", () => {
  it("are counted in JSON always, and named in the table only for a run that had some", async () => {
    const a = await store.startRun("leads", T0);
    await store.finishRun(a, "ok", T0 + 1_000, { create: 1, update: 0, delete: 0, link: 0, unlink: 0, unchanged: 3, rejected: 0, failed: 0, skipped: 2, filtered: 7 });
    const b = await store.startRun("leads", T0 + 60_000);
    await store.finishRun(b, "ok", T0 + 61_000, { create: 0, update: 0, delete: 0, link: 0, unlink: 0, unchanged: 4, rejected: 0, failed: 0, skipped: 0, filtered: 0 });
    const [s] = await readStatus(store, ["leads"], 10);
    expect(s!.runs.map((r) => [r.counts!.skipped, r.counts!.filtered])).toEqual([
      [0, 0],
      [2, 7],
    ]);
    const text = renderStatusTable([s!]);
    expect(text).toMatch(/#1 +- +2025-01-02T03:04:05.000Z +1.0s +ok +\+1 ~0 -0 =3 rejected 0 failed 0 skipped 2 filtered 7\n/);
    expect(text).toMatch(/#2 +- +2025-01-02T03:05:05.000Z +1.0s +ok +\+0 ~0 -0 =4 rejected 0 failed 0\n/);
  });
});

describe("rejected rows with several fields at fault", () => {
  it("are read, shown and counted as rows: each row's reasons on its line", async () => {
    const a = await store.startRun("leads", T0);
    await store.finishRun(a, "ok", T0 + 1_000, { create: 0, update: 0, delete: 0, unchanged: 0, rejected: 5, failed: 0 });
    const reasons = (row: number, n: number) => Array.from({ length: n }, (_, i) => ({ row, key: `B${row}`, field: `f${i}`, reason: `f${i}: bad ${row}.${i}` }));
    await store.addRejections(a, [...reasons(2, 3), ...reasons(3, 2), ...reasons(4, 1), ...reasons(5, 2), ...reasons(6, 1)]);
    const [s] = await readStatus(store, ["leads"], 10);
    expect(s!.runs[0]!.rejections.map((j) => j.row)).toEqual([2, 2, 2, 3, 3, 4]);
    const text = renderStatusTable([s!]);
    expect(text).toContain("      rejected row 2 (key B2): f0: bad 2.0; f1: bad 2.1; f2: bad 2.2\n");
    expect(text).toContain("      rejected row 3 (key B3): f0: bad 3.0; f1: bad 3.1\n");
    expect(text).toContain("      rejected row 4 (key B4): f0: bad 4.0\n");
    expect(text).toContain("      … and 2 more rejected rows (see the run's report)");
    expect(text).not.toContain("rejected row 5");
  });
});

describe("renderStatusTable", () => {
  it("a block per sync: aligned runs, the error's first line, rejections of the latest run that has some", async () => {
    await seed();
    const text = renderStatusTable(await readStatus(store, ["leads", "crm"], 10));
    const lines = text.split("\n");
    // The success kept no report (recorded before reports were): the time of its source is not known.
    expect(lines[0]).toBe("leads: 0 contacts in Quo from this sync; last success 2025-01-02T03:04:07.500Z; newest source change applied: not known");
    expect(text).toMatch(/run +trigger +started +duration +outcome/);
    expect(text).toMatch(/#3 +watch +2025-01-02T03:06:05.000Z +running +running/);
    expect(text).toMatch(/#2 +webhook +2025-01-02T03:05:05.000Z +1.0s +failed/);
    expect(text).toContain("      error: cannot read contacts.csv: ENOENT\n");
    expect(text).not.toContain("more detail");
    // Recorded before triggers were kept: "-".
    expect(text).toMatch(/#1 +- +2025-01-02T03:04:05.000Z +2.5s +ok +\+5 ~0 -0 =0 rejected 4 failed 0/);
    expect(text).toContain("      rejected row 2 (key B1): phoneNumbers.mobile: bad 1");
    expect(text).toContain("      … and 1 more rejected rows (see the run's report)");
    expect(text).toContain("crm: 0 contacts in Quo from this sync; last success never\n  no runs yet");
  });

  it("names each sync's workspace when it is given, and only then", async () => {
    await seed();
    const data = await readStatus(store, ["leads", "crm"], 10, { leads: "west", crm: "default" });
    expect(data.map((s) => [s.sync, s.workspace])).toEqual([["leads", "west"], ["crm", "default"]]);
    const text = renderStatusTable(data);
    expect(text.split("\n")[0]).toBe("leads (workspace 'west'): 0 contacts in Quo from this sync; last success 2025-01-02T03:04:07.500Z; newest source change applied: not known");
    expect(text).toContain("crm (workspace 'default'): 0 contacts in Quo from this sync; last success never");
    expect((await readStatus(store, ["leads"], 10))[0]).not.toHaveProperty("workspace");
  });

  it("names link and unlink in a run's counts only when it did some, as the report's headline does", async () => {
    await seed();
    const c = await store.startRun("leads", T0 + 180_000, "schedule");
    await store.finishRun(c, "ok", T0 + 181_000, { create: 0, update: 1, delete: 0, link: 2, unlink: 0, unchanged: 10, rejected: 0, failed: 0 });
    const text = renderStatusTable(await readStatus(store, ["leads"], 10));
    expect(text).toMatch(/#4 +schedule +2025-01-02T03:07:05.000Z +1.0s +ok +\+0 ~1 -0 link 2 =10 rejected 0 failed 0\n/);
    expect(text).toMatch(/#1 +- +2025-01-02T03:04:05.000Z +2.5s +ok +\+5 ~0 -0 =0 rejected 4 failed 0\n/);
  });

  it("how fresh: checked at the last completed run's end, the newest change applied and its age, carried past runs that kept none", async () => {
    await seed();
    const changed = T0 - 3_600_000;
    const ok = await store.startRun("leads", T0 + 200_000, "schedule");
    await store.finishRun(ok, "ok", T0 + 201_000, { create: 0, update: 0, delete: 0, unchanged: 5, rejected: 0, failed: 0 }, undefined, { sync: "leads", sourceChangedAt: new Date(changed).toISOString() });
    // A later failed run changes neither: it applied nothing.
    const failed = await store.startRun("leads", T0 + 300_000, "webhook");
    await store.finishRun(failed, "failed", T0 + 301_000, undefined, "boom");
    const now = T0 + 400_000;
    const [s] = await readStatus(store, ["leads"], 10, {}, now);
    expect(s).toMatchObject({ checkedAt: new Date(T0 + 201_000).toISOString(), sourceChangedAt: new Date(changed).toISOString(), sourceChangeAgeMs: now - changed });
    expect(s!.runs.map((r) => r.trigger)).toEqual(["webhook", "schedule", "watch", "webhook", null]);
    const text = renderStatusTable([s!]);
    expect(text.split("\n")[0]).toBe(`leads: 0 contacts in Quo from this sync; last success ${new Date(T0 + 201_000).toISOString()}; newest source change applied ${new Date(changed).toISOString()} (1h6m old)`);
  });

  it("never checked: no freshness fields filled", async () => {
    const [s] = await readStatus(store, ["crm"], 10);
    expect(s).toMatchObject({ checkedAt: null, sourceChangedAt: null, sourceChangeAgeMs: null, runs: [] });
  });
});

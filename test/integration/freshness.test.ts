/**
 * How fresh a sync is, end to end through the built CLI (`npm run build` first): after real runs,
 * `status` shows the newest source change applied (a CSV file's mtime, HubSpot's newest
 * `lastmodifieddate`), when the source was last checked, and what started each run; a real daemon's
 * `/metrics` serves the same times as gauges and counts runs by trigger.
 */
import { readFileSync, renameSync, utimesSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { STANDARD_CONTACT_PROPERTIES, startHubspotEmulator, type HubspotEmulator } from "../emulators/hubspot-emulator.js";
import type { QuoEmulator } from "../emulators/quo-emulator.js";
import { metric, spawnDaemon, stop, until } from "./daemons.js";
import { HEADER, Workspace, cliEnv, personRow, reports, runCli, toCsv, useQuoEmulator } from "./harness.js";

const TOKEN = "pat-na1-SECRET-fresh-int-31c4";

let emulator: QuoEmulator;
let ws: Workspace;
useQuoEmulator((e, w) => {
  emulator = e;
  ws = w;
});

let hubspot: HubspotEmulator;
beforeAll(async () => {
  hubspot = await startHubspotEmulator({ tokens: [TOKEN], requestsPerWindow: 0 });
  hubspot.setProperties(STANDARD_CONTACT_PROPERTIES);
});
afterAll(() => hubspot.close());

const hubspotEnv = () => cliEnv(emulator, { HUBSPOT_ACCESS_TOKEN: TOKEN, HUBSPOT_API_URL: hubspot.url });

async function status(env = cliEnv(emulator)): Promise<any> {
  const r = await runCli(["status", "--config", ws.config, "--format", "json"], env, ws.dir);
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout)[0];
}

/** Writes the CSV with `rows` and sets its mtime to `at`, in one rename so a watcher sees one change. */
function writeCsvAt(rows: readonly string[][], at: Date): void {
  const next = path.join(ws.dir, "contacts.next.csv");
  writeFileSync(next, toCsv([HEADER, ...rows]));
  utimesSync(next, at, at);
  renameSync(next, ws.csv);
}

describe("freshness in status", () => {
  it("CSV: the file's mtime once applied, kept by an idle rerun while `checked` moves on; each run's trigger", async () => {
    const first = new Date("2026-05-06T07:08:09.000Z");
    writeCsvAt([personRow(1), personRow(2)], first);
    ws.writeConfig();
    const before = await status();
    expect(before).toMatchObject({ checkedAt: null, sourceChangedAt: null, sourceChangeAgeMs: null });

    const run1 = await runCli(["sync", "--config", ws.config, "--format", "json"], cliEnv(emulator), ws.dir);
    expect(run1.status, run1.stderr).toBe(0);
    expect(reports(run1.stdout)[0].sourceChangedAt).toBe(first.toISOString());
    let s = await status();
    expect(s.sourceChangedAt).toBe(first.toISOString());
    expect(s.checkedAt).toBe(s.runs[0].endedAt);
    expect(s.checkedAt).toBe(s.lastSuccessAt);
    expect(s.sourceChangeAgeMs).toBeGreaterThanOrEqual(Date.now() - first.getTime() - 60_000);
    expect(s.sourceChangeAgeMs).toBeLessThanOrEqual(Date.now() - first.getTime());
    expect(s.runs.map((r: any) => r.trigger)).toEqual(["manual"]);
    const checked1 = s.checkedAt;

    // Nothing new: the newest change applied stays; the check is newer.
    expect((await runCli(["sync", "--config", ws.config], cliEnv(emulator), ws.dir)).status).toBe(0);
    s = await status();
    expect(s.sourceChangedAt).toBe(first.toISOString());
    expect(Date.parse(s.checkedAt)).toBeGreaterThan(Date.parse(checked1));

    // A failed run (Quo refuses the key) applies nothing: neither time moves.
    const second = new Date("2026-07-01T00:00:00.000Z");
    writeCsvAt([personRow(1, 1), personRow(2)], second);
    expect((await runCli(["sync", "--config", ws.config], cliEnv(emulator, { QUO_API_KEY: "wrong-key" }), ws.dir)).status).toBe(1);
    const afterFail = await status();
    expect(afterFail.sourceChangedAt).toBe(first.toISOString());
    expect(afterFail.checkedAt).toBe(s.checkedAt);
    expect(afterFail.runs.map((r: any) => [r.outcome, r.trigger])).toEqual([["failed", "manual"], ["ok", "manual"], ["ok", "manual"]]);

    expect((await runCli(["sync", "--config", ws.config], cliEnv(emulator), ws.dir)).status).toBe(0);
    expect((await status()).sourceChangedAt).toBe(second.toISOString());
    const table = await runCli(["status", "--config", ws.config], cliEnv(emulator), ws.dir);
    expect(table.stdout).toContain(`newest source change applied ${second.toISOString()} (`);
    expect(table.stdout).toMatch(/run +trigger +started/);
    expect(table.stdout).toMatch(/#4 +manual +\d{4}-/);
  });

  it("HubSpot: the newest lastmodifieddate read; an idle incremental run carries it, a later edit moves it", async () => {
    hubspot.purge(hubspot.contacts().map((c) => c.id));
    const ids = hubspot.addContacts([
      { firstname: "Ann", lastname: "Lee", phone: "+1 415 555 0101" },
      { firstname: "Bob", lastname: "Ray", phone: "+1 415 555 0102" },
    ]);
    hubspot.setModified([ids[0]!], new Date("2026-04-01T12:00:00.000Z"));
    hubspot.setModified([ids[1]!], new Date("2026-04-02T12:34:56.789Z"));
    ws.writeConfig({
      name: "crm",
      source: { type: "hubspot", requestsPer10Seconds: 1000, incremental: { fullEvery: "24h" } },
      key: undefined,
      fields: { firstName: "firstname", lastName: "lastname", phoneNumbers: { work: "phone" } },
    });
    const sync = () => runCli(["sync", "--config", ws.config, "--format", "json"], hubspotEnv(), ws.dir);

    const full = await sync();
    expect(full.status, full.stderr).toBe(0);
    expect(reports(full.stdout)[0].read).toBe("full");
    expect((await status(hubspotEnv())).sourceChangedAt).toBe("2026-04-02T12:34:56.789Z");

    const idle = await sync();
    expect(reports(idle.stdout)[0].read).toBe("incremental");
    expect((await status(hubspotEnv())).sourceChangedAt).toBe("2026-04-02T12:34:56.789Z");

    hubspot.update(ids[0]!, { lastname: "Lee-Smith" });
    const edited = hubspot.contacts().find((c) => c.id === ids[0])!;
    const edit = await sync();
    expect(reports(edit.stdout)[0]).toMatchObject({ read: "incremental", counts: expect.objectContaining({ update: 1 }) });
    const s = await status(hubspotEnv());
    expect(s.sourceChangedAt).toBe(new Date(String(edited.properties.lastmodifieddate)).toISOString());
    expect(s.runs.map((r: any) => r.trigger)).toEqual(["manual", "manual", "manual"]);
  });
});

describe("freshness in /metrics", () => {
  it("a real daemon: both gauges and the runs by trigger, for scheduled and watched runs", async () => {
    const first = new Date("2026-08-09T10:11:12.000Z");
    writeCsvAt([personRow(1)], first);
    ws.writeConfig({ schedule: "*/1 * * * * *" });
    // A second sync, run only when its watched file changes.
    const watched = path.join(ws.dir, "watched.csv");
    writeFileSync(watched, toCsv([HEADER, personRow(50)]));
    const config = JSON.parse(readFileSync(ws.config, "utf8"));
    config.syncs.push({ ...config.syncs[0], name: "watched", schedule: undefined, source: { type: "csv", path: "watched.csv", watch: true } });
    writeFileSync(ws.config, JSON.stringify(config));

    const d = spawnDaemon(ws.config, ws.dir, cliEnv(emulator, { LOG_LEVEL: "info" }));
    try {
      const base = await d.url();
      await until(async () => (await metric(base, 'quo_sync_source_change_applied_timestamp_seconds{sync="leads"}')) === first.getTime() / 1000, 20_000, "the applied time of leads");
      const checked = await metric(base, 'quo_sync_last_completed_run_timestamp_seconds{sync="leads"}');
      expect(checked).toBeGreaterThan(Date.now() / 1000 - 30);
      expect(checked).toBeLessThanOrEqual(Date.now() / 1000);
      expect(await metric(base, 'quo_sync_runs_by_trigger_total{sync="leads",trigger="schedule",outcome="ok"}')).toBeGreaterThanOrEqual(1);
      expect(await metric(base, 'quo_sync_runs_by_trigger_total{sync="leads",trigger="webhook",outcome="ok"}')).toBe(0);

      await d.waitForLog((l) => l.msg === "watching the source file");
      const watchedAt = new Date("2026-09-01T00:00:00.000Z");
      const next = path.join(ws.dir, "watched.next.csv");
      writeFileSync(next, toCsv([HEADER, personRow(50, 1)]));
      utimesSync(next, watchedAt, watchedAt);
      renameSync(next, watched);
      await until(async () => (await metric(base, 'quo_sync_runs_by_trigger_total{sync="watched",trigger="watch",outcome="ok"}')) >= 1, 20_000, "a watched run");
      expect(await metric(base, 'quo_sync_source_change_applied_timestamp_seconds{sync="watched"}')).toBe(watchedAt.getTime() / 1000);
      // The existing series are still there, unchanged in name and labels.
      expect(await metric(base, 'quo_sync_runs_total{sync="leads",outcome="ok"}')).toBeGreaterThanOrEqual(1);
    } finally {
      const r = await stop(d);
      expect(r.status).toBe(0);
    }
    const s = await status();
    expect(s.sourceChangedAt).toBe(first.toISOString());
    expect(s.runs.every((r: any) => r.trigger === "schedule")).toBe(true);
  });
});

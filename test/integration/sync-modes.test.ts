/**
 * `mode` through the built CLI (`npm run build` first) against the Quo emulator: create-only creates
 * and then leaves contacts to the people who own them; update-only writes only rows bound to a
 * contact or linked by `match`, and never creates one, not even for a contact deleted in the app.
 */
import { describe, expect, it } from "vitest";
import type { QuoEmulator } from "../emulators/quo-emulator.js";
import { Workspace, byExternalId, cliEnv, personRow, reports, runCli, useQuoEmulator } from "./harness.js";

let emulator: QuoEmulator;
let ws: Workspace;
useQuoEmulator((e, w) => {
  emulator = e;
  ws = w;
});

const cli = async (...args: string[]) => {
  const r = await runCli([...args, "--config", ws.config, "--format", "json"], cliEnv(emulator), ws.dir);
  expect(r.status, r.stderr).toBe(0);
  return reports(r.stdout)[0];
};
const contactOf = (key: string) => byExternalId(emulator.contacts()).get(`leads:${key}`)?.[0];
const writesApplied = () => {
  const w = emulator.stats().writesApplied;
  return { create: w.create, update: w.update, delete: w.delete };
};

describe("mode: create-only", () => {
  it("creates new rows, then never updates them: source edits and app edits are both left alone, and reported", async () => {
    const rows = [1, 2, 3].map((i) => personRow(i));
    ws.writeCsv(rows);
    ws.writeConfig({ mode: "create-only", verify: true });
    expect((await cli("sync")).counts).toMatchObject({ create: 3 });

    // A person fixes the company in the app; the source changes row 1's last name and adds row 4.
    const edited = emulator.appEdit(contactOf("K2")!.id, { company: "Set in the app" });
    rows[0] = personRow(1, 1);
    rows.push(personRow(4));
    ws.writeCsv(rows);
    emulator.resetStats();

    const planned = await cli("plan");
    expect(planned.counts).toMatchObject({ create: 1, update: 0, skipped: 1 });
    expect(planned.skipped).toEqual([{ key: "K1", row: 2, reason: expect.stringMatching(/^the contact exists \(\S+\): create-only never updates it \(lastName, phoneNumbers\.mobile would change\)$/) }]);

    const done = await cli("sync");
    expect(done.counts).toMatchObject({ create: 1, update: 0, delete: 0, skipped: 1 });
    expect(writesApplied()).toEqual({ create: 1, update: 0, delete: 0 });
    expect(contactOf("K1")!.defaultFields.lastName).toBe("Last1");
    expect(contactOf("K2")!.defaultFields.company).toBe(edited.defaultFields.company);
    expect(contactOf("K4")!.defaultFields.firstName).toBe("First4");

    // A contact deleted in the app stays deleted.
    emulator.appDelete(contactOf("K3")!.id);
    emulator.resetStats();
    const after = await cli("sync");
    expect(after.counts).toMatchObject({ create: 0, update: 0 });
    expect(after.drift.map((d: any) => [d.key, d.kind, d.resolution])).toEqual([
      ["K2", "edited", "skip"],
      ["K3", "deleted", "skip"],
    ]);
    expect(writesApplied()).toEqual({ create: 0, update: 0, delete: 0 });
    expect(contactOf("K3")).toBeUndefined();
  });
});

describe("mode: update-only", () => {
  it("links rows to contacts already in Quo by phone, skips the rest, updates the linked ones and never creates", async () => {
    const rows = [1, 2, 3].map((i) => personRow(i));
    // Rows 1 and 2 are in Quo already (typed in the app); row 3 is not.
    for (const r of rows.slice(0, 2)) emulator.seedContact({ source: null, defaultFields: { firstName: "Someone", phoneNumbers: [{ id: "", name: "main", value: `+1${r[4]!.replace(/\D/g, "")}` }] } });
    const before = emulator.contacts().length;
    ws.writeCsv(rows);
    ws.writeConfig({ mode: "update-only", match: { by: ["phone"] } });

    const planned = await cli("plan");
    expect(planned.counts).toMatchObject({ create: 0, link: 2, skipped: 1 });
    expect(planned.skipped).toEqual([{ key: "K3", row: 4, reason: "no Quo contact is bound to this row or matches it by phone: update-only never creates one" }]);

    const done = await cli("sync");
    expect(done.counts).toMatchObject({ create: 0, link: 2, skipped: 1 });
    expect(emulator.contacts()).toHaveLength(before);
    expect(contactOf("K1")!.defaultFields.firstName).toBe("First1");
    expect(contactOf("K3")).toBeUndefined();

    // An edit of a linked row is an update; the unbound row is still skipped, and nothing is created.
    rows[1] = personRow(2, 1);
    ws.writeCsv(rows);
    emulator.resetStats();
    const edited = await cli("sync");
    expect(edited.counts).toMatchObject({ create: 0, update: 1, skipped: 1 });
    expect(writesApplied()).toEqual({ create: 0, update: 1, delete: 0 });
    expect(contactOf("K2")!.defaultFields.lastName).toBe("Last2e1");
  });

  it("a bound contact deleted in the app is not re-created: the update is reported, the key forgotten, and later runs skip the row", async () => {
    const rows = [1, 2].map((i) => personRow(i));
    ws.writeCsv(rows);
    ws.writeConfig({ mode: "upsert" });
    expect((await cli("sync")).counts).toMatchObject({ create: 2 });

    ws.writeConfig({ mode: "update-only" });
    emulator.appDelete(contactOf("K1")!.id);
    rows[0] = personRow(1, 1);
    ws.writeCsv(rows);
    emulator.resetStats();
    const r = await runCli(["sync", "--config", ws.config, "--format", "json"], cliEnv(emulator), ws.dir);
    const report = reports(r.stdout)[0];
    expect(report.counts).toMatchObject({ create: 0, update: 0, failed: 1 });
    expect(report.changes.find((c: any) => c.key === "K1").error.message).toContain("update-only never creates one");
    expect(writesApplied()).toEqual({ create: 0, update: 0, delete: 0 });
    expect(contactOf("K1")).toBeUndefined();

    const next = await cli("sync");
    expect(next.counts).toMatchObject({ create: 0, update: 0, failed: 0, skipped: 1, unchanged: 1 });
    expect(next.skipped.map((s: any) => s.key)).toEqual(["K1"]);
    expect(contactOf("K1")).toBeUndefined();
  });
});

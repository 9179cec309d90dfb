/**
 * Drift: contacts edited or deleted in the Quo app, found by reading back (`--verify`) and resolved
 * per `onDrift` by the planner, so the dry run shows what the real run does.
 */
import { describe, expect, it } from "vitest";
import type { QuoEmulator } from "../emulators/quo-emulator.js";
import { statedByHtml, statedByJson, statedByMarkdown, statedByTable } from "../fixtures/reports/parse-reports.js";
import { Workspace, byExternalId, cliEnv, compareWithSource, personRow, reports, runCli, useQuoEmulator } from "./harness.js";

let emulator: QuoEmulator;
let ws: Workspace;
useQuoEmulator((e, w) => {
  emulator = e;
  ws = w;
});

const cli = (...args: string[]) => runCli([...args, "--config", ws.config, "--format", "json"], cliEnv(emulator), ws.dir);
const idOf = (key: string) => byExternalId(emulator.contacts()).get(`leads:${key}`)![0]!.id;

describe("drift", () => {
  it("--verify shows app-side edits and deletes; onDrift overwrite puts the source back, and plan agrees with sync", async () => {
    const rows = Array.from({ length: 5 }, (_, i) => personRow(i + 1));
    ws.writeCsv(rows);
    ws.writeConfig();
    expect((await cli("sync")).status).toBe(0);
    emulator.appEdit(idOf("K1"), { lastName: "EditedInApp" });
    emulator.appDelete(idOf("K2"));

    const plain = reports((await cli("plan")).stdout)[0];
    expect(plain.drift).toBeUndefined();
    expect(plain.counts).toMatchObject({ create: 0, update: 0, unchanged: 5 });

    emulator.resetStats();
    const p = reports((await cli("plan", "--verify")).stdout)[0];
    expect(emulator.stats().byRoute["GET /v1/contacts"]).toBe(1); // 5 contacts: one read-back page
    expect(p.drift).toEqual([
      { key: "K1", quoId: expect.any(String), kind: "edited", fields: { lastName: { from: "Last1", to: "EditedInApp" } }, resolution: "overwrite" },
      expect.objectContaining({ key: "K2", kind: "deleted", resolution: "overwrite" }),
    ]);
    expect(p.counts).toMatchObject({ create: 1, update: 1, unchanged: 3 });
    expect(p.changes.find((c: any) => c.key === "K1").fields).toEqual({ lastName: { from: "EditedInApp", to: "Last1" } });

    const s = reports((await cli("sync", "--verify")).stdout)[0];
    expect(s.counts).toEqual({ ...p.counts, failed: 0 });
    expect(s.changes.map((c: any) => [c.action, c.key, c.status])).toEqual(p.changes.map((c: any) => [c.action, c.key, "done"]));
    expect(compareWithSource(emulator.contacts(), rows)).toEqual([]);

    const after = reports((await cli("plan", "--verify")).stdout)[0];
    expect(after.drift).toEqual([]);
    expect(after.counts).toMatchObject({ create: 0, update: 0, delete: 0 });
  });

  it("with creates, updates, deletes, rejections and app-side edits, the four formats agree with each other and with the next real run", async () => {
    const rows = Array.from({ length: 12 }, (_, i) => personRow(i + 1));
    ws.writeCsv(rows);
    ws.writeConfig({ maxDeletePercent: 50 });
    expect((await cli("sync")).status).toBe(0);
    emulator.appEdit(idOf("K2"), { company: "Changed In App" });
    emulator.appDelete(idOf("K3"));
    const edited = rows.filter((r) => r[0] !== "K12").map((r) => [...r]);
    edited[0]![2] = "SourceEdit";
    edited.push(personRow(13), ["B1", "", "NoFirst", "", "(415) 222-1111", "", ""]);
    ws.writeCsv(edited);

    const plan = (format: string) => runCli(["plan", "--verify", "--config", ws.config, "--format", format], cliEnv(emulator), ws.dir);
    const [json, table, markdown, html] = await Promise.all(["json", "table", "markdown", "html"].map(plan));
    const stated = statedByJson(json!.stdout);
    const leads = stated.get("leads")!;
    expect(leads.counts).toMatchObject({ create: 2, update: 2, delete: 1, rejected: 1, drift: 2 });
    expect(leads.drift).toEqual(["K2", "K3"]);
    expect(statedByTable(table!.stdout)).toEqual(stated);
    expect(statedByMarkdown(markdown!.stdout)).toEqual(stated);
    expect(statedByHtml(html!.stdout)).toEqual(stated);

    const run = await cli("sync", "--verify");
    expect(statedByJson(run.stdout)).toEqual(stated);
    expect(compareWithSource(emulator.contacts(), edited.filter((r) => r[0] !== "B1"))).toEqual([]);
  });

  it("onDrift skip leaves edited contacts alone, even when the source changed, and reports them", async () => {
    const rows = Array.from({ length: 4 }, (_, i) => personRow(i + 1));
    ws.writeCsv(rows);
    ws.writeConfig({ onDrift: "skip", verify: true });
    expect((await cli("sync")).status).toBe(0);
    emulator.appEdit(idOf("K3"), { company: "Set In App" });
    const edited = rows.map((r) => [...r]);
    edited[2]![2] = "SourceEdit3";
    edited[3]![2] = "SourceEdit4";
    ws.writeCsv(edited);

    const s = reports((await cli("sync")).stdout)[0];
    expect(s.drift).toEqual([expect.objectContaining({ key: "K3", kind: "edited", resolution: "skip", fields: { company: { from: "Company 3", to: "Set In App" } } })]);
    expect(s.changes.map((c: any) => c.key)).toEqual(["K4"]);
    const k3 = byExternalId(emulator.contacts()).get("leads:K3")![0]!;
    expect(k3.defaultFields.company).toBe("Set In App");
    expect(k3.defaultFields.lastName).toBe("Last3");
  });
});

/**
 * A column of whole names split into first and last name, through the built CLI (`npm run build`
 * first) against the Quo emulator: `sync` writes the parts, `plan` shows them, an edited cell or a
 * changed split setting is mapped afresh, a blank cell is rejected, a misnamed column is named by
 * its config path, and `fields` says what the computed fields read.
 */
import { describe, expect, it } from "vitest";
import type { QuoEmulator } from "../emulators/quo-emulator.js";
import { Workspace, byExternalId, cliEnv, reports, runCli, useQuoEmulator } from "./harness.js";

let emulator: QuoEmulator;
let ws: Workspace;
useQuoEmulator((e, w) => {
  emulator = e;
  ws = w;
});

const HEADER = ["id", "Full Name", "Phone"];
/** id, cell, and the first and last name Quo should get. */
const PEOPLE: [string, string, string, string | null][] = [
  ["1", "Anne-Marie van der Berg", "Anne-Marie", "van der Berg"],
  ["2", "García Márquez, Gabriel", "Gabriel", "García Márquez"],
  ["3", "Dr. Jane Smith", "Jane", "Smith"],
  ["4", "Madonna", "Madonna", null],
  ["5", "John Smith Jr.", "John", "Smith Jr."],
  ["6", "Mary Ann  Smith", "Mary Ann", "Smith"],
  ["7", "山田 太郎", "山田", "太郎"],
];
const rows = (people = PEOPLE) => people.map(([id, cell], i) => [id, cell, `(415) 555-01${String(i).padStart(2, "0")}`]);

const SPLIT = { firstName: { split: "Full Name", part: "first" }, lastName: { split: "Full Name", part: "last" } };
const config = (fields: Record<string, unknown> = SPLIT) => ws.writeConfig({ fields: { ...fields, phoneNumbers: { mobile: "Phone" } } });

const cli = (...args: string[]) => runCli([...args, "--config", ws.config], cliEnv(emulator), ws.dir);
const names = () => new Map([...byExternalId(emulator.contacts())].map(([ext, [c]]) => [ext.replace("leads:", ""), [c!.defaultFields.firstName, c!.defaultFields.lastName ?? null]]));

describe("a full-name column split into first and last name", () => {
  it("plan shows the parts, sync writes them, a rerun sends nothing", async () => {
    ws.writeCsv(rows(), HEADER);
    config();
    const plan = await cli("plan", "--format", "json");
    expect(plan.status, plan.stderr).toBe(0);
    const planned = reports(plan.stdout)[0];
    expect(planned.counts).toMatchObject({ create: PEOPLE.length, rejected: 0 });
    const first = planned.changes.find((c: any) => c.key === "1");
    expect(first.fields).toMatchObject({ firstName: { to: "Anne-Marie" }, lastName: { to: "van der Berg" } });

    const synced = await cli("sync", "--format", "json");
    expect(synced.status, synced.stderr).toBe(0);
    expect(names()).toEqual(new Map(PEOPLE.map(([id, , f, l]) => [id, [f, l]])));

    emulator.resetStats();
    const again = await cli("sync", "--format", "json");
    expect(reports(again.stdout)[0].counts).toMatchObject({ create: 0, update: 0, unchanged: PEOPLE.length });
    expect(emulator.stats().requests).toBe(0);
  });

  it("an edited cell updates both names; a changed split setting maps every row afresh", async () => {
    ws.writeCsv(rows(), HEADER);
    config();
    expect((await cli("sync")).status).toBe(0);

    ws.writeCsv(rows(PEOPLE.map((p) => (p[0] === "3" ? ["3", "Smith, Janet", "Janet", "Smith"] : p))), HEADER);
    const edited = reports((await cli("sync", "--format", "json")).stdout)[0];
    expect(edited.counts).toMatchObject({ update: 1, unchanged: PEOPLE.length - 1 });
    expect(names().get("3")).toEqual(["Janet", "Smith"]);

    // The whole name as the first name: every row is mapped again, and all but the one-word name change.
    config({ firstName: "Full Name", lastName: SPLIT.lastName });
    const whole = reports((await cli("sync", "--format", "json")).stdout)[0];
    expect(whole.counts).toMatchObject({ update: PEOPLE.length - 1, unchanged: 1 });
    expect(names().get("1")).toEqual(["Anne-Marie van der Berg", "van der Berg"]);
    expect(names().get("4")).toEqual(["Madonna", null]);
  });

  it("a blank cell rejects its row, naming the split column; the rest are synced", async () => {
    ws.writeCsv([...rows(), ["8", "  ", "(415) 555-0199"]], HEADER);
    config();
    const r = await cli("sync", "--format", "json");
    expect(r.status, r.stderr).toBe(0);
    const report = reports(r.stdout)[0];
    expect(report.counts).toMatchObject({ create: PEOPLE.length, rejected: 1 });
    expect(report.rejected).toEqual([
      expect.objectContaining({ key: "8", field: "firstName", reason: "firstName: first name is empty (the first part of the split column 'Full Name'); Quo requires one" }),
    ]);
  });

  it("a split column the source lacks stops the run before any write, naming its path", async () => {
    ws.writeCsv(rows(), HEADER);
    config({ firstName: { split: "Full Nme", part: "first" }, lastName: { split: "Full Nme", part: "last" } });
    const r = await cli("sync");
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("syncs[0].fields.firstName.split: column 'Full Nme' is not in");
    expect(emulator.contacts()).toEqual([]);
  });

  it("a split setting the schema refuses is named by its path", async () => {
    ws.writeCsv(rows(), HEADER);
    config({ firstName: { split: "Full Name", part: "middle" } });
    const r = await cli("plan");
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('syncs[0].fields.firstName.part: which part of the name this field gets: "first" or "last"');
  });

  it("`fields` shows the computed fields and the column they read, which is not unmapped", async () => {
    ws.writeCsv(rows(), [...HEADER.slice(0, 2), "Phone"]);
    config();
    const t = await cli("fields");
    expect(t.status, t.stderr).toBe(0);
    expect(t.stdout).toContain("  computed fields:\n    firstName ← split('Full Name', first)\n    lastName  ← split('Full Name', last)\n");
    const j = await cli("fields", "--format", "json");
    const entry = JSON.parse(j.stdout).syncs[0];
    expect(entry.computed).toEqual([
      { field: "firstName", reads: ["Full Name"], rule: "split('Full Name', first)" },
      { field: "lastName", reads: ["Full Name"], rule: "split('Full Name', last)" },
    ]);
    expect(entry.unmappedColumns).toEqual([]);
  });
});

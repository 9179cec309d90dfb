/**
 * `where` and `blanks` through the built CLI (`npm run build` first) against the Quo emulator: a
 * filter change deletes through the usual guards, a row leaving the filter is deleted and reported
 * with the condition, a filter that keeps nothing deletes nothing, a filter on a missing column is
 * refused before any write; a blank cell under `blanks: "keep"` neither clears nor sets Quo's value,
 * for the whole sync or one field, and `plan --explain` says what each row becomes and why.
 */
import { describe, expect, it } from "vitest";
import type { QuoEmulator } from "../emulators/quo-emulator.js";
import { Workspace, byExternalId, cliEnv, reports, runCli, useQuoEmulator, writes } from "./harness.js";

let emulator: QuoEmulator;
let ws: Workspace;
useQuoEmulator((e, w) => {
  emulator = e;
  ws = w;
});

const HEADER = ["id", "First Name", "Last Name", "Company", "Phone", "Status"];
const FIELDS = { firstName: "First Name", lastName: "Last Name", company: "Company", phoneNumbers: { mobile: "Phone" } };
const person = (i: number, status: string, company = `Company ${i}`, last = `Last${i}`) => [`K${i}`, `First${i}`, last, company, `(415) 555-01${String(i).padStart(2, "0")}`, status];
const run = (...args: string[]) => runCli([...args, "--config", ws.config, "--format", "json"], cliEnv(emulator), ws.dir);
const ok = async (...args: string[]) => {
  const r = await run(...args);
  expect(r.status, r.stderr).toBe(0);
  return reports(r.stdout)[0];
};
const contactOf = (key: string) => byExternalId(emulator.contacts()).get(`leads:${key}`)?.[0];
const keys = () => [...byExternalId(emulator.contacts()).keys()].map((k) => k.replace("leads:", "")).sort();

describe("where", () => {
  const rows = Array.from({ length: 10 }, (_, i) => person(i + 1, i < 4 ? "Customer" : "Lead"));

  it("a filter change that would delete most contacts is refused by maxDeletePercent; --allow-deletes applies it", async () => {
    ws.writeCsv(rows, HEADER);
    ws.writeConfig({ fields: FIELDS, where: [{ column: "Status", in: ["customer", "lead"] }] });
    expect((await ok("sync")).counts).toMatchObject({ create: 10, filtered: 0 });

    ws.writeConfig({ fields: FIELDS, where: [{ column: "Status", equals: "Customer" }] });
    emulator.resetStats();
    const planned = await run("plan");
    expect(planned.status).not.toBe(0);
    // A refused plan counts nothing as done; its guard says what it would have deleted.
    expect(reports(planned.stdout)[0].counts).toMatchObject({ delete: 0, filtered: 6, unchanged: 4 });
    expect(reports(planned.stdout)[0].guards[0]).toMatchObject({ guard: "max-delete-percent", refused: true });
    const refused = await run("sync");
    expect(refused.status).not.toBe(0);
    const report = reports(refused.stdout)[0];
    expect(report.counts).toMatchObject({ delete: 0, filtered: 6 });
    expect(report.guards[0].message).toContain("would delete 6 of the sync's 10 contacts");
    expect(report.filtered[0]).toEqual({ key: "K5", row: 6, condition: "where[0]: 'Status' = \"Customer\"", column: "Status", value: "Lead" });
    expect(writes(emulator)).toBe(0);
    expect(keys()).toHaveLength(10);

    const allowed = await ok("sync", "--allow-deletes");
    expect(allowed.counts).toMatchObject({ delete: 6, filtered: 6, unchanged: 4 });
    expect(keys()).toEqual(["K1", "K2", "K3", "K4"]);
  });

  it("a row whose status leaves the filter is deleted, and reported with the condition and the cell", async () => {
    ws.writeCsv(rows, HEADER);
    ws.writeConfig({ fields: FIELDS, where: [{ column: "Status", notIn: ["Churned"] }] });
    await ok("sync");
    const churned = rows.map((r) => (r[0] === "K3" ? person(3, "churned") : r));
    ws.writeCsv(churned, HEADER);
    const planned = await ok("plan");
    expect(planned.counts).toMatchObject({ delete: 1, filtered: 1, unchanged: 9 });
    expect(planned.filtered).toEqual([{ key: "K3", row: 4, condition: expect.stringContaining("Churned"), column: "Status", value: "churned" }]);
    expect((await ok("sync")).counts).toMatchObject({ delete: 1, filtered: 1 });
    expect(contactOf("K3")).toBeUndefined();
    expect(keys()).toHaveLength(9);

    // Back in the filter: created again.
    ws.writeCsv(rows, HEADER);
    expect((await ok("sync")).counts).toMatchObject({ create: 1, filtered: 0 });
    expect(contactOf("K3")?.defaultFields.firstName).toBe("First3");
  });

  it("a filter that keeps no row deletes nothing, and says so", async () => {
    ws.writeCsv(rows, HEADER);
    ws.writeConfig({ fields: FIELDS, maxDeletePercent: 100 });
    await ok("sync");
    ws.writeConfig({ fields: FIELDS, maxDeletePercent: 100, where: [{ column: "Status", equals: "Customers" }] });
    emulator.resetStats();
    const r = await ok("sync");
    expect(r.counts).toMatchObject({ delete: 0, filtered: 10 });
    expect(r.guards.map((g: any) => g.message).join(" ")).toContain("where leaves none of the 10 rows");
    expect(writes(emulator)).toBe(0);
    expect(keys()).toHaveLength(10);
  });

  it("a filter on a column the source lacks stops the run before any write, naming its path", async () => {
    ws.writeCsv(rows, HEADER);
    ws.writeConfig({ fields: FIELDS, where: [{ column: "Stage", equals: "Won" }] });
    const r = await run("sync");
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("syncs[0].where[0].column: column 'Stage' is not in");
    expect(emulator.stats().requests).toBe(0);
  });
});

describe("blanks", () => {
  it("keep: a blank cell leaves Quo's value (the last one sent, or one a person set), and no request is sent for it", async () => {
    const rows = [person(1, "Lead", "Acme"), person(2, "Lead", "Globex")];
    ws.writeCsv(rows, HEADER);
    ws.writeConfig({ fields: FIELDS, blanks: "keep" });
    await ok("sync");
    emulator.appEdit(contactOf("K2")!.id, { company: "Globex (set in the app)" });

    ws.writeCsv([person(1, "Lead", ""), person(2, "Lead", "")], HEADER);
    emulator.resetStats();
    const kept = await ok("sync");
    expect(kept.counts).toMatchObject({ update: 0, unchanged: 2 });
    expect(writes(emulator)).toBe(0);
    expect(contactOf("K1")!.defaultFields.company).toBe("Acme");
    expect(contactOf("K2")!.defaultFields.company).toBe("Globex (set in the app)");

    // Another field changes: the whole-contact PATCH still carries the company Quo holds.
    ws.writeCsv([person(1, "Lead", ""), person(2, "Lead", "", "Renamed")], HEADER);
    const renamed = await ok("sync");
    expect(renamed.counts).toMatchObject({ update: 1 });
    expect(renamed.changes[0].fields).toEqual({ lastName: { from: "Last2", to: "Renamed" } });
    expect(contactOf("K2")!.defaultFields).toMatchObject({ lastName: "Renamed", company: "Globex (set in the app)" });

    // A value again: set, as with clear.
    ws.writeCsv([person(1, "Lead", "Acme Two"), person(2, "Lead", "", "Renamed")], HEADER);
    await ok("sync");
    expect(contactOf("K1")!.defaultFields.company).toBe("Acme Two");
    emulator.resetStats();
    expect((await ok("sync")).counts).toMatchObject({ update: 0, create: 0 });
    expect(writes(emulator)).toBe(0);
  });

  it("clear (the default) clears; a field's own blanks: keep wins over the sync's clear", async () => {
    ws.writeCsv([person(1, "Lead", "Acme", "Lee")], HEADER);
    ws.writeConfig({ fields: { ...FIELDS, lastName: { column: "Last Name", blanks: "keep" } } });
    await ok("sync");
    ws.writeCsv([person(1, "Lead", "", "")], HEADER);
    const r = await ok("sync");
    expect(r.changes[0].fields).toEqual({ company: { from: "Acme", to: null } });
    expect(contactOf("K1")!.defaultFields).toMatchObject({ company: null, lastName: "Lee" });
  });

  it("with --verify, a person's edit of a kept blank field is not drift", async () => {
    ws.writeCsv([person(1, "Lead", "")], HEADER);
    ws.writeConfig({ fields: FIELDS, blanks: "keep", verify: true });
    await ok("sync");
    emulator.appEdit(contactOf("K1")!.id, { company: "Typed in the app" });
    emulator.resetStats();
    const r = await ok("sync");
    expect(r.drift).toEqual([]);
    expect(writes(emulator)).toBe(0);
    expect(contactOf("K1")!.defaultFields.company).toBe("Typed in the app");
  });
});

describe("plan --explain", () => {
  it("lists every row with its outcome, its reason and the value each field gets", async () => {
    ws.writeCsv([person(1, "Customer"), person(2, "Lead", ""), ["K3", "", "X", "", "(415) 555-0103", "Customer"], person(4, "Churned")], HEADER);
    ws.writeConfig({ fields: { ...FIELDS, company: { column: "Company", default: "Independent" } }, where: [{ column: "Status", notIn: ["Churned"] }] });
    await ok("sync");
    ws.writeCsv([person(1, "Customer", "Acme"), person(2, "Lead", ""), ["K3", "", "X", "", "(415) 555-0103", "Customer"], person(4, "Churned")], HEADER);
    const p = await ok("plan", "--explain");
    expect(p.rows.map((r: any) => [r.key, r.row, r.outcome])).toEqual([
      ["K1", 2, "update"],
      ["K2", 3, "unchanged"],
      ["K3", 4, "rejected"],
      ["K4", 5, "filtered"],
    ]);
    expect(p.rows[0].mapping.company).toEqual({ value: "Acme", via: expect.stringContaining("Company") });
    expect(p.rows[1].mapping.company).toEqual({ value: "Independent", via: expect.stringContaining("default") });
    expect(p.rows[2].reason).toContain("firstName");
    expect(p.rows[3].reason).toContain("Churned");
    const bad = await run("sync", "--explain");
    expect(bad.status).toBe(64);
  });
});

/**
 * Computed fields through the built CLI (`npm run build` first) against the Quo emulator: a CSV
 * with whole names, status codes, blank companies and title plus department syncs with config
 * alone (a split, a strict map to a custom field, a default, a template, a constant); `plan`
 * shows the computed values, a rerun sends nothing, and a template placeholder the CSV lacks stops
 * the run before any write, named by its path.
 */
import { describe, expect, it } from "vitest";
import type { CustomFieldDef, QuoEmulator } from "../emulators/quo-emulator.js";
import { Workspace, byExternalId, cliEnv, reports, runCli, useQuoEmulator, writes } from "./harness.js";

const DEFS: CustomFieldDef[] = [
  { name: "Stage", key: "stage", type: "string" },
  { name: "Lead Source", key: "lead-source", type: "string" },
];

let emulator: QuoEmulator;
let ws: Workspace;
useQuoEmulator((e, w) => {
  emulator = e;
  ws = w;
}, DEFS);

const HEADER = ["id", "Full Name", "Status", "Company", "Title", "Department", "Phone"];
const ROWS = [
  ["1", "Anne-Marie van der Berg", "C", "Acme", "Engineer", "Sales", "(415) 555-0100"],
  ["2", "Dr. Jane Smith", "l", "", "Engineer", "", "(415) 555-0101"],
  ["3", "García Márquez, Gabriel", " o ", "  ", "", "Support", "(415) 555-0102"],
  ["4", "Madonna", "C", "Initech", "", "", "(415) 555-0103"],
];

const FIELDS = {
  firstName: { split: "Full Name", part: "first" },
  lastName: { split: "Full Name", part: "last" },
  company: { column: "Company", default: "Independent" },
  role: { template: "{{Title}} ({{Department}})" },
  phoneNumbers: { mobile: "Phone" },
  customFields: {
    Stage: { column: "Status", map: { c: "Customer", l: "Lead", o: "Open deal" }, strict: true },
    "Lead Source": { value: "Website form" },
  },
};

const config = (fields: Record<string, unknown> = FIELDS) => ws.writeConfig({ fields });
const cli = (...args: string[]) => runCli([...args, "--config", ws.config], cliEnv(emulator), ws.dir);

/** Each contact's computed fields, by the row's id. */
function contacts(): Map<string, Record<string, unknown>> {
  return new Map(
    [...byExternalId(emulator.contacts())].map(([ext, [c]]) => [
      ext.replace("leads:", ""),
      {
        firstName: c!.defaultFields.firstName,
        lastName: c!.defaultFields.lastName ?? null,
        company: c!.defaultFields.company ?? null,
        role: c!.defaultFields.role ?? null,
        custom: Object.fromEntries(c!.customFields.map((f) => [f.key, f.value])),
      },
    ]),
  );
}

describe("computed fields from config alone", () => {
  it("plan shows the computed values, sync writes them, a rerun sends nothing", async () => {
    ws.writeCsv(ROWS, HEADER);
    config();
    const plan = await cli("plan", "--format", "json");
    expect(plan.status, plan.stderr).toBe(0);
    const planned = reports(plan.stdout)[0];
    expect(planned.counts).toMatchObject({ create: 4, rejected: 0 });
    const byKey = new Map(planned.changes.map((c: any) => [c.key, c.fields]));
    expect(byKey.get("1")).toMatchObject({
      firstName: { to: "Anne-Marie" },
      lastName: { to: "van der Berg" },
      company: { to: "Acme" },
      role: { to: "Engineer (Sales)" },
      "customFields.stage": { to: "Customer" },
      "customFields.lead-source": { to: "Website form" },
    });
    expect(byKey.get("2")).toMatchObject({ company: { to: "Independent" }, role: { to: "Engineer" }, "customFields.stage": { to: "Lead" } });
    expect(byKey.get("3")).toMatchObject({ company: { to: "Independent" }, role: { to: "(Support)" }, "customFields.stage": { to: "Open deal" } });
    expect(byKey.get("4")).not.toHaveProperty("role");

    const synced = await cli("sync", "--format", "json");
    expect(synced.status, synced.stderr).toBe(0);
    expect(contacts()).toEqual(
      new Map([
        ["1", { firstName: "Anne-Marie", lastName: "van der Berg", company: "Acme", role: "Engineer (Sales)", custom: { stage: "Customer", "lead-source": "Website form" } }],
        ["2", { firstName: "Jane", lastName: "Smith", company: "Independent", role: "Engineer", custom: { stage: "Lead", "lead-source": "Website form" } }],
        ["3", { firstName: "Gabriel", lastName: "García Márquez", company: "Independent", role: "(Support)", custom: { stage: "Open deal", "lead-source": "Website form" } }],
        ["4", { firstName: "Madonna", lastName: null, company: "Initech", role: null, custom: { stage: "Customer", "lead-source": "Website form" } }],
      ]),
    );

    emulator.resetStats();
    const again = await cli("sync", "--format", "json");
    expect(again.status, again.stderr).toBe(0);
    expect(reports(again.stdout)[0].counts).toMatchObject({ create: 0, update: 0, unchanged: 4 });
    // The one request is the read of the workspace's custom-field definitions every run resolves against.
    expect(emulator.stats().requests).toBe(1);
    expect(writes(emulator)).toBe(0);
  });

  it("a status the strict map lacks rejects its row, naming field, column, value and the mapped values", async () => {
    ws.writeCsv([...ROWS, ["5", "Ada Lovelace", "X", "", "", "", "(415) 555-0104"]], HEADER);
    config();
    const r = await cli("sync", "--format", "json");
    expect(r.status, r.stderr).toBe(0);
    const report = reports(r.stdout)[0];
    expect(report.counts).toMatchObject({ create: 4, rejected: 1 });
    expect(report.rejected).toEqual([
      expect.objectContaining({
        key: "5",
        field: "customFields.Stage",
        value: "X",
        reason: "customFields.Stage: 'X' is not in the map (column 'Status'); the values it maps are 'c', 'l', 'o'",
      }),
    ]);
  });

  it("a template placeholder the CSV lacks stops the run before any write, naming its path", async () => {
    ws.writeCsv(ROWS, HEADER);
    config({ ...FIELDS, role: { template: "{{Title}} ({{Team}})" } });
    const r = await cli("sync");
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("syncs[0].fields.role.template: column 'Team' is not in");
    expect(emulator.contacts()).toEqual([]);
  });

  it("`fields` shows each computed field and what it reads; a column a template reads is not unmapped", async () => {
    ws.writeCsv(ROWS, HEADER);
    config();
    const j = await cli("fields", "--format", "json");
    expect(j.status, j.stderr).toBe(0);
    const entry = JSON.parse(j.stdout).syncs[0];
    expect(entry.computed).toEqual([
      { field: "firstName", reads: ["Full Name"], rule: "split('Full Name', first)" },
      { field: "lastName", reads: ["Full Name"], rule: "split('Full Name', last)" },
      { field: "company", reads: ["Company"], rule: "column 'Company', default 'Independent'" },
      { field: "role", reads: ["Title", "Department"], rule: "template '{{Title}} ({{Department}})'" },
      { field: "customFields.Stage", reads: ["Status"], rule: "column 'Status', map 'c' → 'Customer', 'l' → 'Lead', 'o' → 'Open deal', strict" },
      { field: "customFields.Lead Source", reads: [], rule: "value 'Website form'" },
    ]);
    expect(entry.unmappedColumns).toEqual([]);
    const t = await cli("fields");
    expect(t.stdout).toContain("    role                     ← template '{{Title}} ({{Department}})'\n");
    expect(t.stdout).toContain("  value 'Website form' → 'Lead Source' (lead-source, string)\n");
  });
});

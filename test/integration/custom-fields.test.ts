/**
 * Custom fields end to end: the Quo emulator defines one field of every type; the built CLI maps CSV
 * columns onto them by name or key and sends values of the right JSON type.
 */
import { writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { CustomFieldDef, QuoEmulator } from "../emulators/quo-emulator.js";
import { Workspace, byExternalId, cliEnv, reports, runCli, toCsv, writes, useQuoEmulator } from "./harness.js";

const DEFS: CustomFieldDef[] = [
  { name: "Lead Source", key: "lead-source", type: "string" },
  { name: "VIP", key: "vip", type: "boolean" },
  { name: "Renewal Date", key: "renewal-date", type: "date" },
  { name: "Tags", key: "tags", type: "multi-select" },
  { name: "Seats", key: "seats", type: "number" },
  { name: "Website", key: "website", type: "url" },
  { name: "Office", key: "office", type: "address" },
];

const HEADER = ["id", "First Name", "Source", "VIP", "Renewal", "Tags", "Seats", "Website", "Office", "Web Site Alt"];
const MAPPING = {
  "Lead Source": "Source", // by name
  vip: "VIP", // by key
  "renewal date": "Renewal", // by name, case-insensitive
  Tags: "Tags",
  Seats: "Seats",
  website: "Website",
  Office: "Office",
};

let emulator: QuoEmulator;
let ws: Workspace;
useQuoEmulator((e, w) => {
  emulator = e;
  ws = w;
}, DEFS);

function write(rows: string[][]): void {
  writeFileSync(ws.csv, toCsv([HEADER, ...rows]));
}
function config(custom: Record<string, string> = MAPPING): void {
  ws.writeConfig({ fields: { firstName: "First Name", customFields: custom }, maxDeletePercent: 100 });
}
const sync = (...extra: string[]) => runCli(["sync", "--config", ws.config, "--format", "json", ...extra], cliEnv(emulator), ws.dir);
function custom(key: string): Record<string, unknown> {
  const c = byExternalId(emulator.contacts()).get(`leads:${key}`)![0]!;
  return Object.fromEntries(c.customFields.map((f) => [f.key, f.value]));
}

const ROW1 = ["1", "Ann", "Web form", "yes", "03/05/2024", "gold; beta; gold", "1,234.50", "https://acme.example/ann", "1 Main St, Springfield", "x"];
const ROW2 = ["2", "Bob", "Referral", "0", "2024-12-31T15:30:00Z", "a, b", "-3", "http://b.example", "", ""];
const ROW3 = ["3", "Cy", "", "", "", "", "", "", "", ""];

describe("custom fields", () => {
  it("syncs every type with the right JSON type; a rerun sends nothing; one edited cell is one PATCH", async () => {
    write([ROW1, ROW2, ROW3]);
    config();
    const r1 = await sync();
    expect(r1.stderr).toBe("");
    expect(reports(r1.stdout)[0].counts).toMatchObject({ create: 3, rejected: 0, failed: 0 });
    expect(custom("1")).toEqual({
      "lead-source": "Web form",
      vip: true,
      "renewal-date": "2024-03-05T00:00:00.000Z",
      tags: ["gold", "beta"],
      seats: 1234.5,
      website: "https://acme.example/ann",
      office: "1 Main St, Springfield",
    });
    expect(custom("2")).toEqual({ "lead-source": "Referral", vip: false, "renewal-date": "2024-12-31T15:30:00.000Z", tags: ["a", "b"], seats: -3, website: "http://b.example" });
    expect(custom("3")).toEqual({});

    emulator.resetStats();
    const r2 = await sync();
    expect(reports(r2.stdout)[0].counts).toMatchObject({ create: 0, update: 0, unchanged: 3 });
    expect(writes(emulator)).toBe(0);
    // The only request of an unchanged rerun is the one read of the field definitions.
    expect(emulator.stats().requests).toBe(1);
    expect(emulator.stats().byRoute["GET /v1/contact-custom-fields"]).toBe(1);

    emulator.resetStats();
    write([[...ROW1.slice(0, 6), "40", ...ROW1.slice(7)], ROW2, ROW3]);
    const r3 = await sync();
    const rep = reports(r3.stdout)[0];
    expect(rep.counts).toMatchObject({ update: 1, unchanged: 2 });
    expect(rep.changes[0].fields).toEqual({ "customFields.seats": { from: 1234.5, to: 40 } });
    expect(emulator.stats().byRoute["PATCH /v1/contacts/:id"]).toBe(1);
    expect(writes(emulator)).toBe(1);
    expect(custom("1").seats).toBe(40);
  });

  it("an emptied cell clears the field this sync had set; a cell never set sends nothing", async () => {
    write([ROW1, ROW3]);
    config();
    await sync();
    emulator.resetStats();
    write([[ROW1[0]!, ROW1[1]!, ROW1[2]!, "", ...ROW1.slice(4)], ROW3]);
    const r = await sync();
    const rep = reports(r.stdout)[0];
    expect(rep.counts).toMatchObject({ update: 1, unchanged: 1 });
    expect(rep.changes[0].fields).toEqual({ "customFields.vip": { from: true, to: null } });
    expect(custom("1").vip ?? null).toBeNull();
    expect(writes(emulator)).toBe(1);
  });

  it("rejects values that do not convert, naming field, value and expected type", async () => {
    write([
      ["10", "Bad", "", "maybe", "", "", "", "", "", ""],
      ["11", "Bad", "", "", "13/45/2024", "", "", "", "", ""],
      ["12", "Bad", "", "", "", "", "12abc", "", "", ""],
      ["13", "Bad", "", "", "", "", "", "ftp://files.example", "", ""],
      ["14", "Good", "", "n", "", "", "1e3", "", "", ""],
    ]);
    config();
    const r = await sync();
    expect(r.status).toBe(0);
    const rep = reports(r.stdout)[0];
    expect(rep.counts).toMatchObject({ create: 1, rejected: 4 });
    const byKey = Object.fromEntries(rep.rejected.map((j: any) => [j.key, j]));
    expect(byKey["10"]).toMatchObject({ row: 2, field: "customFields.vip", value: "maybe" });
    expect(byKey["10"].reason).toMatch(/'maybe' is not a boolean/);
    expect(byKey["11"]).toMatchObject({ field: "customFields.renewal date", value: "13/45/2024" });
    expect(byKey["11"].reason).toMatch(/is not a date/);
    expect(byKey["12"].reason).toMatch(/'12abc' is not a number/);
    expect(byKey["13"].reason).toMatch(/'ftp:\/\/files.example' is not a url/);
    expect(custom("14")).toEqual({ vip: false, seats: 1000 });
  });

  it("a name that matches no field stops the run before any write, listing the fields and the closest", async () => {
    write([ROW1]);
    config({ "Lead Sorce": "Source" });
    const r = await sync();
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`syncs[0].fields.customFields["Lead Sorce"]: no custom field named 'Lead Sorce' in the workspace; did you mean 'Lead Source'?`);
    expect(r.stderr).toContain("'Renewal Date' (key renewal-date, date)");
    expect(writes(emulator)).toBe(0);
  });

  it("a name that matches several fields stops the run", async () => {
    emulator.setCustomFields([...DEFS, { name: "vip", key: "vip-2", type: "string" }]);
    write([ROW1]);
    config({ VIP: "VIP" });
    const r = await sync();
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/'VIP' matches 2 custom fields/);
    expect(writes(emulator)).toBe(0);
  });

  it("a field that changed type or disappeared since the last run is caught before any write", async () => {
    write([ROW1]);
    config();
    expect((await sync()).status).toBe(0);
    emulator.setCustomFields(DEFS.map((d) => (d.key === "seats" ? { ...d, type: "string" } : d)));
    emulator.resetStats();
    const changed = await sync();
    expect(changed.status).toBe(1);
    expect(changed.stderr).toContain("the Quo field 'Seats' changed type from number to string since the last run");
    expect(writes(emulator)).toBe(0);

    const accepted = await sync("--accept-field-changes");
    expect(accepted.status).toBe(0);
    expect(reports(accepted.stdout)[0].changes[0].fields).toEqual({ "customFields.seats": { from: 1234.5, to: "1,234.50" } });
    expect(custom("1").seats).toBe("1,234.50");

    emulator.setCustomFields(DEFS.filter((d) => d.key !== "office"));
    const gone = await sync();
    expect(gone.status).toBe(1);
    expect(gone.stderr).toContain(`no custom field named 'Office'`);
  });

  it("`fields` lists the workspace's fields, the mapping and unmapped columns with suggestions", async () => {
    write([ROW1]);
    const { website: _unmapped, ...rest } = MAPPING;
    config(rest);
    const t = await runCli(["fields", "--config", ws.config], cliEnv(emulator), ws.dir);
    expect(t.status).toBe(0);
    expect(t.stdout).toMatch(/Renewal Date\s+renewal-date\s+date/);
    expect(t.stdout).toContain("column 'Seats' → 'Seats' (seats, number)");
    const j = await runCli(["fields", "--config", ws.config, "--format", "json"], cliEnv(emulator), ws.dir);
    const data = JSON.parse(j.stdout);
    expect(data.fields).toHaveLength(7);
    expect(data.syncs[0].mappings).toHaveLength(6);
    expect(data.syncs[0].unmappedColumns).toContainEqual({ column: "Website", suggestion: { name: "Website", key: "website", type: "url" }, configName: "Website" });
    expect(data.syncs[0].unmappedColumns.map((c: any) => c.column)).toEqual(["Website", "Web Site Alt"]);
  });

  it("what `fields` suggests is what a run accepts: a name two fields share is suggested by key, and each field for one column", async () => {
    emulator.setCustomFields([
      { name: "Stage", key: "stage-a", type: "string" },
      { name: "stage", key: "stage-b", type: "string" },
      { name: "Website", key: "website", type: "url" },
    ]);
    writeFileSync(ws.csv, toCsv([["id", "First Name", "Stage", "Website", "Web Site"], ["1", "Ann", "open", "https://a.example", "https://b.example"]]));
    config({});
    const j = await runCli(["fields", "--config", ws.config, "--format", "json"], cliEnv(emulator), ws.dir);
    expect(j.status, j.stderr).toBe(0);
    const unmapped = JSON.parse(j.stdout).syncs[0].unmappedColumns;
    expect(unmapped).toEqual([
      { column: "Stage", suggestion: { name: "Stage", key: "stage-a", type: "string" }, configName: "stage-a" },
      { column: "Website", suggestion: { name: "Website", key: "website", type: "url" }, configName: "Website" },
      { column: "Web Site" },
    ]);
    const t = await runCli(["fields", "--config", ws.config], cliEnv(emulator), ws.dir);
    expect(t.stdout).toContain(`'Stage' — maybe "customFields": { "stage-a": "Stage" } ('Stage', string; by key: its name would match another field too)`);
    expect(t.stdout).toContain(`'Website' — maybe "customFields": { "Website": "Website" } (url)`);

    // Taking every suggestion as written gives a config the run accepts.
    config(Object.fromEntries(unmapped.filter((c: any) => c.suggestion).map((c: any) => [c.configName, c.column])));
    const plan = await runCli(["plan", "--config", ws.config, "--format", "json"], cliEnv(emulator), ws.dir);
    expect(plan.status, plan.stderr).toBe(0);
    expect(reports(plan.stdout)[0].changes[0].fields).toMatchObject({ "customFields.stage-a": { to: "open" }, "customFields.website": { to: "https://a.example" } });
  });
});

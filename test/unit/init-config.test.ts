/**
 * The config `init` writes and what it prints around it: `--source`, the sync's name, paths
 * relative to the config file, the name fields in both forms, the summary and the next steps.
 */
import path from "node:path";
import { describe, expect, it } from "vitest";
import { fieldsSchema, mappedColumns, parseConfig } from "../../src/config.js";
import {
  configRelativePath,
  describeMapping,
  fullNameNote,
  initConfig,
  mappedColumnsOf,
  nextSteps,
  parseSourceSpec,
  renderNameFields,
  scheduleFor,
  schemaReference,
  shellArgument,
  syncNameFor,
  type Mapping,
} from "../../src/init/init-config.js";

const MAPPING: Mapping = {
  key: "id",
  name: { form: "parts", first: "First Name", last: "Last Name" },
  company: "Company",
  phoneNumbers: [
    { label: "mobile", column: "Phone" },
    { label: "work 2", column: "Office" },
  ],
  emails: [{ label: "work", column: "Email" }],
  customFields: [
    { configName: "Lead Source", field: { name: "Lead Source", key: "lead-source", type: "string" }, column: "Source" },
    { configName: "VIP", field: { name: "VIP", key: "vip", type: "boolean" } },
  ],
};

describe("parseSourceSpec", () => {
  it.each([
    ["csv:./contacts.csv", { type: "csv", path: "./contacts.csv" }],
    ["csv:C:\\exports\\contacts.csv", { type: "csv", path: "C:\\exports\\contacts.csv" }],
    ["CSV: my file.csv", { type: "csv", path: "my file.csv" }],
    ["contacts.csv", { type: "csv", path: "contacts.csv" }],
    ["export.TSV", { type: "csv", path: "export.TSV" }],
    ["google-sheets:1AbC_x-9", { type: "google-sheets", spreadsheetId: "1AbC_x-9" }],
    ["google-sheets:1AbC!Leads 2024", { type: "google-sheets", spreadsheetId: "1AbC", range: "Leads 2024" }],
    ["google-sheets:1AbC!'My Leads'!A1:Z", { type: "google-sheets", spreadsheetId: "1AbC", range: "'My Leads'!A1:Z" }],
    ["google-sheets:https://docs.google.com/spreadsheets/d/1AbC_x-9/edit#gid=0", { type: "google-sheets", spreadsheetId: "1AbC_x-9" }],
    ["hubspot", { type: "hubspot" }],
    ["HubSpot", { type: "hubspot" }],
  ])("%s", (text, spec) => {
    expect(parseSourceSpec(text)).toEqual(spec);
  });

  it.each([
    ["csv:", "name the file"],
    ["google-sheets:", "name the spreadsheet"],
    ["google-sheets:!Leads", "name the spreadsheet"],
    ["hubspot:portal", "use csv:PATH, google-sheets:SPREADSHEET_ID[!RANGE] or hubspot"],
    ["sheets:1AbC", "use csv:PATH"],
    ["contacts", "use csv:PATH"],
  ])("%s is refused: %s", (text, message) => {
    expect(() => parseSourceSpec(text)).toThrow(message);
  });
});

describe("names, schedules and paths", () => {
  it.each([
    [{ type: "csv" as const, path: "./exports/Leads 2024.csv" }, "leads-2024"],
    [{ type: "csv" as const, path: "C:\\exports\\Überweisungen.CSV" }, "uberweisungen"],
    [{ type: "csv" as const, path: "---.csv" }, "contacts"],
    [{ type: "csv" as const, path: `${"x".repeat(60)}.csv` }, "x".repeat(40)],
    [{ type: "google-sheets" as const, spreadsheetId: "1AbC" }, "sheet"],
    [{ type: "hubspot" as const }, "hubspot"],
  ])("sync name of %j is %s", (spec, name) => {
    expect(syncNameFor(spec)).toBe(name);
  });

  it("schedules a file hourly and live data every 15 minutes", () => {
    expect(scheduleFor({ type: "csv", path: "a.csv" })).toBe("0 * * * *");
    expect(scheduleFor({ type: "hubspot" })).toBe("*/15 * * * *");
  });

  it("a CSV path is relative to the config file's folder", () => {
    const dir = path.resolve("/srv/sync");
    expect(configRelativePath(dir, path.join(dir, "contacts.csv"))).toBe("./contacts.csv");
    expect(configRelativePath(dir, path.join(dir, "in", "contacts.csv"))).toBe("./in/contacts.csv");
    expect(configRelativePath(dir, path.resolve("/srv/exports/contacts.csv"))).toBe("../exports/contacts.csv");
  });

  it("$schema is the shipped schema relative to the config, or nothing when none was found", () => {
    const dir = path.resolve("/home/me/sync");
    expect(schemaReference(dir, path.resolve("/usr/lib/node_modules/quo-sync/quo-sync.schema.json"))).toBe("../../../usr/lib/node_modules/quo-sync/quo-sync.schema.json");
    expect(schemaReference(dir, path.join(dir, "quo-sync.schema.json"))).toBe("quo-sync.schema.json");
    expect(schemaReference(dir, undefined)).toBeUndefined();
  });
});

describe("name fields", () => {
  it("first and last name columns as they are", () => {
    expect(renderNameFields({ form: "parts", first: "F", last: "L" })).toEqual({ firstName: "F", lastName: "L" });
    expect(renderNameFields({ form: "parts", first: "F" })).toEqual({ firstName: "F" });
    expect(fullNameNote({ form: "parts", first: "F" })).toBeUndefined();
  });

  it("a full-name column split into first and last name, in a form the config schema accepts", () => {
    const fields = renderNameFields({ form: "full", column: "Name" });
    expect(fields).toEqual({ firstName: { split: "Name", part: "first" }, lastName: { split: "Name", part: "last" } });
    expect(fieldsSchema.parse({ ...fields }).firstName).toEqual({ split: "Name", part: "first" });
    expect(fullNameNote({ form: "full", column: "Name" })).toMatch(/^'Name' holds whole names: firstName and lastName are split from it /);
    expect(fullNameNote({ form: "full", column: "Name" })).not.toMatch(/not yet|for now/);
  });

  it("the summary says what the split reads", () => {
    const mapping = { ...MAPPING, name: { form: "full" as const, column: "Full Name" } };
    expect(describeMapping(mapping, ["id", "Full Name"].map((name) => ({ name }))).slice(0, 3)).toEqual([
      "  key                          ← id",
      "  firstName                    ← split('Full Name', first)",
      "  lastName                     ← split('Full Name', last)",
    ]);
    expect(mappedColumnsOf(mapping)).toContain("Full Name");
  });
});

describe("initConfig", () => {
  const choices = {
    syncName: "contacts",
    source: { type: "csv", path: "./contacts.csv" },
    mapping: MAPPING,
    defaultCountry: "US",
    schedule: "0 * * * *",
    schema: "../quo-sync.schema.json",
  };

  it("writes one sync that never deletes, without match, and that the config schema accepts", () => {
    const config = initConfig(choices);
    expect(config).toEqual({
      $schema: "../quo-sync.schema.json",
      state: "./quo-sync.db",
      syncs: [
        {
          name: "contacts",
          source: { type: "csv", path: "./contacts.csv" },
          key: "id",
          fields: {
            firstName: "First Name",
            lastName: "Last Name",
            company: "Company",
            phoneNumbers: { mobile: "Phone", "work 2": "Office" },
            emails: { work: "Email" },
            customFields: { "Lead Source": "Source" },
          },
          defaultCountry: "US",
          deletes: "never",
          schedule: "0 * * * *",
        },
      ],
    });
    expect(parseConfig(config).syncs[0]).toMatchObject({ deletes: "never", key: "id" });
  });

  it("splits a full-name column into both name fields, in a config that loads and reads the column", () => {
    const config = initConfig({ ...choices, mapping: { ...MAPPING, name: { form: "full", column: "Full Name" } } });
    const sync = parseConfig(config).syncs[0]!;
    expect(sync.fields).toMatchObject({ firstName: { split: "Full Name", part: "first" }, lastName: { split: "Full Name", part: "last" } });
    expect(mappedColumns(sync, 0)).toContainEqual({ path: "syncs[0].fields.firstName.split", column: "Full Name" });
  });

  it("leaves out $schema and schedule when there is none", () => {
    const { schema: _s, schedule: _c, ...bare } = choices;
    const config = initConfig(bare);
    expect(config).not.toHaveProperty("$schema");
    expect((config.syncs as Record<string, unknown>[])[0]).not.toHaveProperty("schedule");
    expect(() => parseConfig(config)).not.toThrow();
  });
});

describe("what init prints", () => {
  it("the mapping, one line a field, and the columns left out", () => {
    expect(describeMapping(MAPPING, ["id", "First Name", "Last Name", "Company", "Phone", "Office", "Email", "Source", "Notes"].map((name) => ({ name })))).toEqual([
      "  key                          ← id",
      "  firstName                    ← First Name",
      "  lastName                     ← Last Name",
      "  company                      ← Company",
      "  phoneNumbers.mobile          ← Phone",
      "  phoneNumbers.work 2          ← Office",
      "  emails.work                  ← Email",
      '  customFields["Lead Source"]  ← Source',
      "  not mapped: Notes",
    ]);
    expect(mappedColumnsOf(MAPPING)).toEqual(["id", "First Name", "Last Name", "Company", "Phone", "Office", "Email", "Source"]);
  });

  it("next: check, plan, sync with --config, and the key first when none is set", () => {
    const lines = nextSteps("configs/my sync.json", { quoKeySet: false });
    expect(lines[1]).toContain("set QUO_API_KEY");
    expect(lines.slice(2).map((l) => l.trim().split("#")[0]!.trim())).toEqual([
      "quo-sync check --config 'configs/my sync.json'",
      "quo-sync plan --config 'configs/my sync.json'",
      "quo-sync sync --config 'configs/my sync.json'",
    ]);
    expect(nextSteps("quo-sync.config.json", { quoKeySet: true })).toHaveLength(4);
  });

  it.each([
    ["quo-sync.config.json", "quo-sync.config.json"],
    ["/tmp/a b.json", "'/tmp/a b.json'"],
    ["it's.json", "'it'\\''s.json'"],
  ])("shell argument %s → %s", (text, quoted) => {
    expect(shellArgument(text)).toBe(quoted);
  });
});

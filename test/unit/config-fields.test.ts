/**
 * The config of computed fields and `blanks`: every form accepted, every mistake refused with its
 * path (and the key probably meant), and the columns each form reads as `mappedColumns` lists them.
 */
import { describe, expect, it } from "vitest";
import { checkColumns, mappedColumns, parseConfig, syncSchema } from "../../src/config.js";
import { ConfigError } from "../../src/errors.js";

const config = (fields: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  syncs: [{ name: "leads", key: "Id", source: { type: "csv", path: "c.csv" }, fields: { firstName: "First", ...fields }, ...extra }],
});

/** The lines of the ConfigError `parseConfig` throws, without the heading. */
function problems(data: unknown): string[] {
  try {
    parseConfig(data, "quo-sync.config.json");
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return e.message.split("\n").slice(1).map((l) => l.trim());
  }
  throw new Error("expected the config to be refused");
}

const FORMS = 'a column name, { "column": COLUMN, "default"?, "map"?, "strict"?, "blanks"? }, { "value": TEXT }, { "template": "{{Column}} …" }';

describe("computed fields in the config", () => {
  it("accepts every form where it belongs, and blanks at sync level (default clear)", () => {
    const c = parseConfig(
      config(
        {
          firstName: { split: "Full Name", part: "first" },
          lastName: { template: "{{Last}} {{Suffix}}", blanks: "keep" },
          company: { column: "Company", default: "Independent", blanks: "clear" },
          role: { value: "Customer" },
          phoneNumbers: { mobile: { column: "Phone", default: "+1 212 555 0100" } },
          emails: { work: { template: "{{User}}@{{Domain}}" } },
          customFields: { Stage: { column: "Lifecycle", map: { customer: "Customer", lost: "" }, strict: true }, Surname: { split: "Full Name", part: "last" } },
        },
        { blanks: "keep" },
      ),
    );
    expect(c.syncs[0]?.blanks).toBe("keep");
    expect(parseConfig(config({})).syncs[0]?.blanks).toBe("clear");
  });

  it.each<[string, Record<string, unknown>, Record<string, unknown>, string[]]>([
    ["a misspelt column", { role: { colum: "Title" } }, {}, ["syncs[0].fields.role.column: Invalid input: expected string, received undefined", "syncs[0].fields.role.colum: unknown key; did you mean 'column'?"]],
    ["a misspelt template", { role: { templte: "{{Title}}" } }, {}, ["syncs[0].fields.role.template: Invalid input: expected string, received undefined", "syncs[0].fields.role.templte: unknown key; did you mean 'template'?"]],
    ["a misspelt default", { company: { column: "Company", defualt: "x" } }, {}, ["syncs[0].fields.company.defualt: unknown key; did you mean 'default'?"]],
    ["a misspelt key in a custom field", { customFields: { Stage: { column: "L", mapp: { a: "A" } } } }, {}, ['syncs[0].fields.customFields.Stage.mapp: unknown key; did you mean \'map\'?']],
    ["strict without a map", { company: { column: "Company", strict: true } }, {}, ['syncs[0].fields.company.strict: strict rejects values the map does not list: give a "map" too, or remove strict']],
    [
      "map keys differing only in case",
      { customFields: { Stage: { column: "Lifecycle", map: { Customer: "A", " customer": "B" } } } },
      {},
      ["syncs[0].fields.customFields.Stage.map[\" customer\"]: the same value as 'Customer' (the map compares values case-insensitively, spaces at either end ignored): keep one of them"],
    ],
    ["a section in a template", { role: { template: "{{#Vip}}VIP{{/Vip}} {{Title}}" } }, {}, ["syncs[0].fields.role.template: a section {{#…}} ('Vip') is not supported: a template holds only text and {{Column}} placeholders"]],
    ["an unescaped tag in a template", { role: { template: "{{{Title}}}" } }, {}, ["syncs[0].fields.role.template: an unescaped tag ({{{…}}} or {{&…}}) ('Title') is not supported: a template holds only text and {{Column}} placeholders"]],
    ["a partial in a template", { emails: { work: { template: "{{> x}}{{User}}" } } }, {}, ["syncs[0].fields.emails.work.template: a partial {{>…}} ('x') is not supported: a template holds only text and {{Column}} placeholders"]],
    ["a comment in a template", { role: { template: "{{! hi }}{{Title}}" } }, {}, ["syncs[0].fields.role.template: a comment {{!…}} ('hi') is not supported: a template holds only text and {{Column}} placeholders"]],
    ["a template without a placeholder", { role: { template: "Customer" } }, {}, ['syncs[0].fields.role.template: no {{Column}} placeholder: for a constant use { "value": … }']],
    ["an unclosed tag", { role: { template: "{{Title" } }, {}, ["syncs[0].fields.role.template: not a template: Unclosed tag at 7"]],
    ["a split for company", { company: { split: "Full Name", part: "last" } }, {}, [`syncs[0].fields.company: ${FORMS}`]],
    ["a split for a phone", { phoneNumbers: { mobile: { split: "Full Name", part: "last" } } }, {}, [`syncs[0].fields.phoneNumbers.mobile: ${FORMS}`]],
    ["a number", { role: 7 }, {}, [`syncs[0].fields.role: ${FORMS}`]],
    ["an object no form fits", { role: { foo: "x" } }, {}, [`syncs[0].fields.role: ${FORMS}`]],
    ["two forms at once", { role: { value: "x", template: "{{A}}" } }, {}, ["syncs[0].fields.role.template: unknown key (the keys here are: value)"]],
    ["a value that is not text", { role: { value: 3 } }, {}, ["syncs[0].fields.role.value: Invalid input: expected string, received number"]],
    ["a field's blanks misspelt", { company: { column: "Company", blanks: "kep" } }, {}, ['syncs[0].fields.company.blanks: what a blank value does: "clear" (clear the Quo field) or "keep" (leave Quo\'s value as it is)']],
    ["blanks on a value", { role: { value: "x", blanks: "keep" } }, {}, ["syncs[0].fields.role.blanks: unknown key (the keys here are: value)"]],
    ["the sync's blanks misspelt", {}, { blanks: "nope" }, ['syncs[0].blanks: what a blank value does: "clear" (clear the Quo field) or "keep" (leave Quo\'s value as it is)']],
    ["a misspelt sync-level blanks key", {}, { blank: "keep" }, ["syncs[0].blank: unknown key; did you mean 'blanks'?"]],
  ])("refuses %s, naming its path", (_name, fields, extra, expected) => {
    expect(problems(config(fields, extra))).toEqual(expected);
  });
});

describe("mappedColumns", () => {
  const sync = syncSchema.parse(
    config({
      firstName: { split: "Full Name", part: "first" },
      lastName: "Last",
      company: { column: "Company", default: "Independent" },
      role: { template: "{{Title}} ({{Department}}) {{Title}}" },
      phoneNumbers: { mobile: "Phone" },
      emails: { work: { value: "team@example.com" } },
      customFields: { "Lead Source": { value: "Web" }, Stage: { column: "Lifecycle", map: { a: "A" } }, "Sur name": { split: "Full Name", part: "last" } },
    }).syncs[0],
  );

  it("lists every column each field reads, by the path that names it; a value reads none", () => {
    expect(mappedColumns(sync, 2)).toEqual([
      { path: "syncs[2].key", column: "Id" },
      { path: "syncs[2].fields.firstName.split", column: "Full Name" },
      { path: "syncs[2].fields.lastName", column: "Last" },
      { path: "syncs[2].fields.company.column", column: "Company" },
      { path: "syncs[2].fields.role.template", column: "Title" },
      { path: "syncs[2].fields.role.template", column: "Department" },
      { path: "syncs[2].fields.phoneNumbers.mobile", column: "Phone" },
      { path: "syncs[2].fields.customFields.Stage.column", column: "Lifecycle" },
      { path: 'syncs[2].fields.customFields["Sur name"].split', column: "Full Name" },
    ]);
  });

  it("checkColumns refuses a template placeholder the source lacks, naming the template's path", () => {
    const columns = ["Id", "Full Name", "Last", "Company", "Title", "Phone", "Lifecycle"];
    expect(() => checkColumns(sync, 0, columns, "c.csv")).toThrow("syncs[0].fields.role.template: column 'Department' is not in c.csv");
    expect(() => checkColumns(sync, 0, [...columns, "Department"], "c.csv")).not.toThrow();
  });
});

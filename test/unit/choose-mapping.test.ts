/**
 * The questions `init` asks on a terminal, driven by scripted answers: what each answer means, the
 * re-asks after answers it cannot use, and the mapping that results.
 */
import { describe, expect, it } from "vitest";
import { chooseMapping, numberedColumns, parseColumnAnswer, parseCountry, parseLabel, parseSchedule, parseYesNo, type Dialogue } from "../../src/init/choose-mapping.js";
import { proposeMapping, type SourceColumn } from "../../src/init/propose-mapping.js";

const COLUMNS: SourceColumn[] = ["id", "First Name", "Last Name", "Company", "Title", "Phone", "Work Phone", "Email", "Source", "none", "Fax"].map((name) => ({ name }));

/** A dialogue answering from a list; fails the test when it runs out. */
function scripted(answers: readonly string[]): Dialogue & { prompts: string[]; said: string[] } {
  const queue = [...answers];
  const prompts: string[] = [];
  const said: string[] = [];
  return {
    prompts,
    said,
    ask: (prompt) => {
      prompts.push(prompt);
      const a = queue.shift();
      return a === undefined ? Promise.reject(new Error(`no answer left for '${prompt}'`)) : Promise.resolve(a);
    },
    say: (line) => void said.push(line),
  };
}

describe("parseColumnAnswer", () => {
  it.each([
    ["", { kind: "keep" }],
    ["  ", { kind: "keep" }],
    ["-", { kind: "none" }],
    ["NONE", { kind: "none" }],
    ["none", { kind: "column", column: "none" }],
    ["4", { kind: "column", column: "Company" }],
    ["Work Phone", { kind: "column", column: "Work Phone" }],
    ["work phone", { kind: "column", column: "Work Phone" }],
  ])("%j → %j", (answer, parsed) => {
    expect(parseColumnAnswer(answer, COLUMNS)).toEqual(parsed);
  });

  it.each([
    ["12", "there is no column 12: the columns are numbered 1 to 11"],
    ["0", "there is no column 0"],
    ["Compny", "no column 'Compny' (did you mean 'Company'?)"],
    ["Postcode", "no column 'Postcode'; type a column's name or number, Enter for the proposal, or - for none"],
  ])("%j is not an answer: %s", (answer, message) => {
    const a = parseColumnAnswer(answer, COLUMNS);
    expect(a.kind).toBe("invalid");
    expect((a as { message: string }).message).toContain(message);
  });

  it("a HubSpot property by its label, and a label two properties share is refused", () => {
    const props = [
      { name: "phone", label: "Phone Number" },
      { name: "mobilephone", label: "Mobile Phone Number" },
      { name: "custom_a", label: "Region" },
      { name: "custom_b", label: "region" },
    ];
    expect(parseColumnAnswer("mobile phone number", props)).toEqual({ kind: "column", column: "mobilephone" });
    expect(parseColumnAnswer("Region", props)).toMatchObject({ kind: "invalid", message: expect.stringContaining("names 2 columns") });
  });
});

describe("the other answers", () => {
  it.each([
    ["", true, true],
    ["", false, false],
    ["Y", false, true],
    ["no", true, false],
    ["maybe", true, undefined],
  ])("yes/no %j (default %s) → %s", (answer, byDefault, value) => {
    expect(parseYesNo(answer, byDefault)).toBe(value);
  });

  it("a country code in any case; an unknown one is refused", () => {
    expect(parseCountry("", "US")).toEqual({ value: "US" });
    expect(parseCountry(" gb ", "US")).toEqual({ value: "GB" });
    expect(parseCountry("UK", "US")).toMatchObject({ invalid: expect.stringContaining("not an ISO 3166-1 alpha-2 country code") });
  });

  it("a cron expression as the daemon reads it; - for none", () => {
    expect(parseSchedule("", "0 * * * *")).toEqual({ value: "0 * * * *" });
    expect(parseSchedule("*/5 * * * *", undefined)).toEqual({ value: "*/5 * * * *" });
    expect(parseSchedule("-", "0 * * * *")).toEqual({ value: undefined });
    expect(parseSchedule("every hour", "0 * * * *")).toMatchObject({ invalid: expect.stringContaining("not a cron expression") });
  });

  it("a label not in use", () => {
    expect(parseLabel("", "other", [])).toEqual({ value: "other" });
    expect(parseLabel("fax", "other", [])).toEqual({ value: "fax" });
    expect(parseLabel("work", "other", ["work"])).toEqual({ invalid: "the label 'work' is already used; choose another" });
    expect(parseLabel("-", "other", [])).toMatchObject({ invalid: expect.any(String) });
  });

  it("numbers the columns in rows that fit 100 characters", () => {
    const lines = numberedColumns(COLUMNS);
    expect(lines[0]).toMatch(/^ {3}1 {2}id +2 {2}First Name/);
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThanOrEqual(102);
    expect(lines.join("\n")).toContain("11  Fax");
    expect(numberedColumns([{ name: "mobilephone", label: "Mobile Phone Number" }])).toEqual(["  1  mobilephone (Mobile Phone Number)"]);
  });
});

describe("chooseMapping", () => {
  const defaults = { defaultCountry: "US", schedule: "0 * * * *" };
  const customFields = [{ name: "Lead Source", key: "lead-source", type: "string" as const }];

  it("Enter everywhere takes the proposal", async () => {
    const proposal = proposeMapping(COLUMNS, { customFields });
    const d = scripted(Array.from({ length: 14 }, () => ""));
    const chosen = await chooseMapping(d, COLUMNS, proposal, defaults);
    const { notes: _n, ...mapping } = proposal;
    expect(chosen).toEqual({ mapping, defaultCountry: "US", schedule: "0 * * * *" });
    expect(d.prompts).toEqual([
      "key (unique, never changes) [id]: ",
      "firstName [First Name]: ",
      "lastName [Last Name]: ",
      "company [Company]: ",
      "role [Title]: ",
      "phoneNumbers.mobile [Phone]: ",
      "phoneNumbers.work [Work Phone]: ",
      "another phone column [none]: ",
      "emails.work [Email]: ",
      "another e-mail column [none]: ",
      'customFields["Lead Source"] (string) [none]: ',
      "defaultCountry, for numbers without +country code [US]: ",
      "schedule, cron for quo-sync daemon (- for none) [0 * * * *]: ",
    ]);
    expect(d.said.slice(0, 2)).toEqual(["Columns:", expect.stringContaining("1  id")]);
  });

  it("other columns by name and number, fields left out, a phone added under a label, answers it cannot use asked again", async () => {
    const proposal = proposeMapping(COLUMNS, { customFields });
    const d = scripted([
      "-", // key: required, asked again
      "Compny", // not a column, asked again
      "1", // key ← id
      "", // firstName
      "-", // lastName: none
      "none", // company ← the column named "none"
      "-", // role: none
      "", // phoneNumbers.mobile ← Phone
      "-", // phoneNumbers.work: none
      "fax", // another phone ← Fax
      "work", // its label
      "", // no more phones
      "", // emails.work ← Email
      "", // no more e-mails
      "Source", // customFields["Lead Source"] ← Source
      "xx", // not a country
      "gb",
      "-", // no schedule
    ]);
    const chosen = await chooseMapping(d, COLUMNS, proposal, defaults);
    expect(chosen).toEqual({
      mapping: {
        key: "id",
        name: { form: "parts", first: "First Name" },
        company: "none",
        phoneNumbers: [
          { label: "mobile", column: "Phone" },
          { label: "work", column: "Fax" },
        ],
        emails: [{ label: "work", column: "Email" }],
        customFields: [{ configName: "Lead Source", field: customFields[0], column: "Source" }],
      },
      defaultCountry: "GB",
    });
    expect(d.said).toContain("  key (unique, never changes) is required: type a column's name or number");
    expect(d.said).toContain("  no column 'Compny' (did you mean 'Company'?); type a column's name or number, Enter for the proposal, or - for none");
    expect(d.prompts).toContain("  label for 'Fax' [other]: ");
    expect(d.said.some((l) => l.includes("'xx' is not an ISO 3166-1 alpha-2 country code"))).toBe(true);
  });

  it("a full-name column is split into both name fields unless another column is chosen", async () => {
    const cols = ["ID", "Name", "Nickname", "Phone"].map((name) => ({ name }));
    const proposal = proposeMapping(cols);
    expect(proposal.name).toEqual({ form: "full", column: "Name" });
    const keep = scripted(Array.from({ length: 10 }, () => ""));
    expect((await chooseMapping(keep, cols, proposal, defaults)).mapping.name).toEqual({ form: "full", column: "Name" });
    expect(keep.said.some((l) => l.startsWith("'Name' holds whole names: firstName and lastName are split from it"))).toBe(true);
    expect(keep.prompts.slice(1, 3)).toEqual(["firstName [split('Name', first)]: ", "lastName [split('Name', last)]: "]);
    // Another column for lastName: the names are read from the two columns as they are.
    const other = scripted(["", "", "Nickname", ...Array.from({ length: 7 }, () => "")]);
    expect((await chooseMapping(other, cols, proposal, defaults)).mapping.name).toEqual({ form: "parts", first: "Name", last: "Nickname" });
    // No lastName: nothing is split off, the whole name is the first name.
    const whole = scripted(["", "", "-", ...Array.from({ length: 7 }, () => "")]);
    expect((await chooseMapping(whole, cols, proposal, defaults)).mapping.name).toEqual({ form: "parts", first: "Name" });
    // Another column for firstName: lastName is then asked for as a column of its own.
    const first = scripted(["", "Nickname", "", ...Array.from({ length: 7 }, () => "")]);
    expect((await chooseMapping(first, cols, proposal, defaults)).mapping.name).toEqual({ form: "parts", first: "Nickname" });
    expect(first.prompts[2]).toBe("lastName [none]: ");
  });

  it("stops when the dialogue does", async () => {
    const d = scripted(["", ""]);
    await expect(chooseMapping(d, COLUMNS, proposeMapping(COLUMNS), defaults)).rejects.toThrow("no answer left for 'lastName [Last Name]: '");
  });
});

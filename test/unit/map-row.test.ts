import { describe, expect, it } from "vitest";
import { syncSchema, type SyncConfig } from "../../src/config.js";
import type { ContactFields, SourceRow } from "../../src/model.js";
import { MAX_CELL_LENGTH, mapRow, type MapOptions, type ResolvedCustomField } from "../../src/plan/map-row.js";

function sync(defaultCountry = "US", fields: Record<string, unknown> = {}): SyncConfig {
  return syncSchema.parse({
    name: "leads",
    source: { type: "csv", path: "./contacts.csv" },
    key: "id",
    defaultCountry,
    fields: {
      firstName: "First Name",
      lastName: "Last Name",
      company: "Company",
      role: "Title",
      phoneNumbers: { mobile: "Phone", work: "Work Phone" },
      emails: { work: "Email", home: "Home Email" },
      ...fields,
    },
  });
}

const customFields: ResolvedCustomField[] = [
  { configName: "VIP", column: "VIP", key: "cf-vip", name: "VIP", type: "boolean" },
  { configName: "Lead Source", column: "Source", key: "cf-source", name: "Lead Source", type: "string" },
  { configName: "Deal size", column: "Deal", key: "cf-deal", name: "Deal size", type: "number" },
  { configName: "Met", column: "Met On", key: "cf-met", name: "Met", type: "date" },
  { configName: "Tags", column: "Tags", key: "cf-tags", name: "Tags", type: "multi-select" },
  { configName: "Site", column: "Website", key: "cf-site", name: "Site", type: "url" },
];

const opts = (defaultCountry = "US", extra: Partial<MapOptions> = {}): MapOptions => ({
  sync: sync(defaultCountry),
  customFields,
  ...extra,
});

const row = (values: Record<string, string>, extra: Partial<SourceRow> = {}): SourceRow => ({ row: 7, values, ...extra });

const bare: ContactFields = { firstName: "Ada", phoneNumbers: [], emails: [], customFields: {} };

describe("mapRow: names and blanks", () => {
  it.each<[string, Record<string, string>, ContactFields]>([
    ["only a first name", { "First Name": "Ada" }, bare],
    [
      "trims and collapses whitespace in names",
      { "First Name": "  Ada \t Augusta ", "Last Name": " King\u00a0 Lovelace ", Company: " Analytical  Engines ", Title: " Countess " },
      { ...bare, firstName: "Ada Augusta", lastName: "King Lovelace", company: "Analytical Engines", role: "Countess" },
    ],
    [
      "leaves blank optional fields out",
      { "First Name": "Ada", "Last Name": "   ", Company: "", Title: "\t", Phone: " ", Email: "", VIP: " ", Tags: "" },
      bare,
    ],
    ["treats missing columns (ragged sheet rows) as blank", { "First Name": "Ada" }, bare],
  ])("%s", (_name, values, fields) => {
    expect(mapRow(row(values), "42", opts())).toStrictEqual({ ok: true, keep: [], fields });
  });

  it.each(["constructor", "toString", "valueOf", "hasOwnProperty", "__proto__"])(
    "treats a missing column named %j, like a member of every object, as blank",
    (column) => {
      const o: MapOptions = {
        sync: sync("US", { lastName: column, phoneNumbers: { mobile: column }, emails: { work: column } }),
        customFields: [{ configName: "Note", column, key: "cf-note", name: "Note", type: "string" }],
      };
      expect(mapRow(row({ "First Name": "Ada" }), "42", o)).toStrictEqual({ ok: true, keep: [], fields: bare });
      const first = mapRow(row({ "Last Name": "Lovelace" }), "42", { sync: sync("US", { firstName: column }), customFields: [] });
      expect(first.ok ? undefined : first.rejections[0]!.reason).toBe(`firstName: first name is empty (column '${column}'); Quo requires one`);
    },
  );

  it.each<Record<string, string>>([{ "First Name": "" }, { "First Name": "   " }, {}])("rejects a blank first name: %j", (values) => {
    expect(mapRow(row({ ...values, "Last Name": "Lovelace" }), "42", opts())).toStrictEqual({
      ok: false,
      rejections: [
        {
          key: "42",
          row: 7,
          field: "firstName",
          value: "",
          reason: "firstName: first name is empty (column 'First Name'); Quo requires one",
        },
      ],
    });
  });

  it("rejects a row the connector flagged, with the connector's reason", () => {
    const problem = "row 7 has 5 cells but the header has 4";
    expect(mapRow(row({ "First Name": "Ada" }, { problem }), "42", opts())).toStrictEqual({
      ok: false,
      rejections: [{ key: "42", row: 7, reason: problem }],
    });
  });

  it("leaves out fields the config does not map", () => {
    const o: MapOptions = {
      sync: syncSchema.parse({
        name: "min",
        source: { type: "csv", path: "x.csv" },
        key: "id",
        fields: { firstName: "First Name" },
      }),
      customFields: [],
    };
    expect(mapRow(row({ "First Name": "Ada", "Last Name": "Lovelace", Phone: "x" }), "1", o)).toStrictEqual({ ok: true, keep: [], fields: bare });
  });
});

describe("mapRow: a name split from a column of whole names", () => {
  const FIRST = { split: "Full Name", part: "first" };
  const LAST = { split: "Full Name", part: "last" };
  const splitting = (fields: Record<string, unknown> = { firstName: FIRST, lastName: LAST }): MapOptions => ({ sync: sync("US", fields), customFields: [] });

  it.each<[string, Partial<ContactFields>]>([
    ["Anne-Marie van der Berg", { firstName: "Anne-Marie", lastName: "van der Berg" }],
    ["García Márquez, Gabriel", { firstName: "Gabriel", lastName: "García Márquez" }],
    ["Dr. Jane Smith", { firstName: "Jane", lastName: "Smith" }],
    ["John Smith Jr.", { firstName: "John", lastName: "Smith Jr." }],
    ["Mary Ann Smith", { firstName: "Mary Ann", lastName: "Smith" }],
    ["  MARY \t ANN  SMITH ", { firstName: "MARY ANN", lastName: "SMITH" }],
    ["山田 太郎", { firstName: "山田", lastName: "太郎" }],
    // One word: a first name, and a blank last name is left out like a blank cell.
    ["Madonna", { firstName: "Madonna" }],
  ])("%j → %j", (cell, names) => {
    expect(mapRow(row({ "Full Name": cell }), "42", splitting())).toStrictEqual({ ok: true, keep: [], fields: { ...bare, ...names } });
  });

  it.each(["", "   ", " , "])("a blank cell (%j) rejects the row: Quo requires a first name", (cell) => {
    expect(mapRow(row({ "Full Name": cell }), "42", splitting())).toStrictEqual({
      ok: false,
      rejections: [{ key: "42", row: 7, field: "firstName", value: "", reason: "firstName: first name is empty (the first part of the split column 'Full Name'); Quo requires one" }],
    });
    // As a missing column does.
    expect(mapRow(row({}), "42", splitting()).ok).toBe(false);
  });

  it("one field split, the other a column of its own, either way round", () => {
    const lastSplit = splitting({ firstName: "First Name", lastName: LAST });
    expect(mapRow(row({ "First Name": "Ada", "Full Name": "Countess Ada Lovelace" }), "42", lastSplit)).toStrictEqual({ ok: true, keep: [], fields: { ...bare, lastName: "Lovelace" } });
    const firstSplit = splitting({ firstName: FIRST, lastName: "Last Name" });
    expect(mapRow(row({ "Full Name": "Ada King", "Last Name": "Lovelace" }), "42", firstSplit)).toStrictEqual({ ok: true, keep: [], fields: { ...bare, lastName: "Lovelace" } });
  });

  it("an oversized cell rejects each field that splits it, naming the column", () => {
    const result = mapRow(row({ "Full Name": "x".repeat(MAX_CELL_LENGTH + 1) }), "42", splitting());
    expect(result.ok ? [] : result.rejections.map((r) => r.reason)).toEqual([
      "firstName: 10,001 characters, more than the 10,000 a cell may hold (column 'Full Name')",
      "lastName: 10,001 characters, more than the 10,000 a cell may hold (column 'Full Name')",
    ]);
  });

  it("a split first name with other problems lists them all", () => {
    const o = splitting({ firstName: FIRST, lastName: LAST, phoneNumbers: { mobile: "Phone" } });
    const result = mapRow(row({ "Full Name": "", Phone: "555-12" }), "42", o);
    expect(result.ok ? [] : result.rejections.map((r) => r.field)).toEqual(["firstName", "phoneNumbers.mobile"]);
  });
});

describe("mapRow: phone numbers", () => {
  it.each([
    ["US", "(201) 555-0123", "+12015550123"],
    ["US", "201.555.0123", "+12015550123"],
    ["US", "1-201-555-0123", "+12015550123"],
    ["US", "+1 201 555 0123", "+12015550123"],
    ["US", "+44 20 7946 0958", "+442079460958"],
    ["US", "011 44 20 7946 0958", "+442079460958"],
    ["US", "0044 20 7946 0958", "+442079460958"],
    ["US", "00 49 30 1234567", "+49301234567"],
    ["US", "(416) 979-1234", "+14169791234"],
    ["US", "\u202d+44 20 7946 0958\u202c", "+442079460958"],
    ["GB", "020 7946 0958", "+442079460958"],
    ["GB", "07911 123456", "+447911123456"],
    ["GB", "+44 (0)20 7946 0958", "+442079460958"],
    ["GB", "00 1 201 555 0123", "+12015550123"],
    ["DE", "030 1234567", "+49301234567"],
    ["DE", "030/1234567", "+49301234567"],
    ["DE", "+49 30 12345-67", "+49301234567"],
    ["DE", "0049 30 1234567", "+49301234567"],
    ["DE", "0151 23456789", "+4915123456789"],
  ])("%s: %j → %s", (country, value, e164) => {
    expect(mapRow(row({ "First Name": "Ada", Phone: value }), "42", opts(country))).toStrictEqual({
      ok: true,
      keep: [],
      fields: { ...bare, phoneNumbers: [{ name: "mobile", value: e164 }] },
    });
  });

  it.each([
    ["US", "555-12", "is not a valid phone number for US"],
    ["US", "(555) 555-5555", "is not a valid phone number for US"],
    ["US", "12", "is not a valid phone number for US"],
    ["US", "---", "is not a valid phone number for US"],
    ["US", "n/a", "is not a valid phone number for US"],
    ["US", "1-800-FLOWERS", "is not a valid phone number for US"],
    ["US", "Call 201 555 0123", "is not a valid phone number for US"],
    ["US", "201 555 0123 (home)", "is not a valid phone number for US"],
    ["US", "tel:+1-201-555-0123", "is not a valid phone number for US"],
    ["US", "201-555-0123, 201-555-0124", "is not a valid phone number for US"],
    ["US", "+1 201 555 0123 99", "is not a valid phone number for US"],
    ["US", "+1 201 555 0123 x12", "has an extension (12), which a Quo phone number (E.164) cannot hold"],
    ["US", "201-555-0123 ext. 7", "has an extension (7), which a Quo phone number (E.164) cannot hold"],
    ["GB", "020 7946 095", "is not a valid phone number for GB"],
    ["GB", "0800 00", "is not a valid phone number for GB"],
    ["DE", "030 12", "is not a valid phone number for DE"],
    ["DE", "0105 1600739", "is not a valid phone number for DE"],
  ])("%s: %j is rejected: %s", (country, value, why) => {
    expect(mapRow(row({ "First Name": "Ada", "Work Phone": ` ${value} ` }), "42", opts(country))).toStrictEqual({
      ok: false,
      rejections: [
        {
          key: "42",
          row: 7,
          field: "phoneNumbers.work",
          value,
          reason: `phoneNumbers.work: '${value}' ${why} (column 'Work Phone')`,
        },
      ],
    });
  });

  it("gives the README's example reason", () => {
    const result = mapRow(row({ "First Name": "Ada", Phone: "555-12" }), "17", opts());
    expect(result.ok ? undefined : result.rejections[0]!.reason).toBe(
      "phoneNumbers.mobile: '555-12' is not a valid phone number for US (column 'Phone')",
    );
  });

  it("orders phone numbers by label, whatever the config's order", () => {
    const o: MapOptions = {
      sync: sync("US", { phoneNumbers: { work: "Work Phone", Mobile: "Phone", home: "Home Phone" } }),
      customFields: [],
    };
    const values = { "First Name": "Ada", Phone: "201-555-0101", "Work Phone": "201-555-0102", "Home Phone": "201-555-0103" };
    expect(mapRow(row(values), "42", o)).toStrictEqual({
      ok: true,
      keep: [],
      fields: {
        ...bare,
        phoneNumbers: [
          { name: "Mobile", value: "+12015550101" },
          { name: "home", value: "+12015550103" },
          { name: "work", value: "+12015550102" },
        ],
      },
    });
  });
});

describe("mapRow: emails", () => {
  it.each([
    ["ada@example.com", "ada@example.com"],
    [" Ada.Lovelace@Example.COM ", "Ada.Lovelace@example.com"],
    ["a+tag@sub.example.co.uk", "a+tag@sub.example.co.uk"],
    ["o'brien@example.ie", "o'brien@example.ie"],
    ["user@xn--bcher-kva.example", "user@xn--bcher-kva.example"],
    ["user@Bücher.de", "user@bücher.de"],
  ])("%j → %j", (value, email) => {
    expect(mapRow(row({ "First Name": "Ada", Email: value }), "42", opts())).toStrictEqual({
      ok: true,
      keep: [],
      fields: { ...bare, emails: [{ name: "work", value: email }] },
    });
  });

  it.each([
    ["ada.example.com", "no '@'"],
    ["ada@@example.com", "more than one '@'"],
    ["ada@home@example.com", "more than one '@'"],
    ["@example.com", "nothing before the '@'"],
    ["ada@", "nothing after the '@'"],
    ["ada lovelace@example.com", "spaces or special characters before the '@'"],
    ["Ada <ada@example.com>", "spaces or special characters before the '@'"],
    ["ada,bob@example.com", "spaces or special characters before the '@'"],
    [".ada@example.com", "a misplaced '.' before the '@'"],
    ["ada..l@example.com", "a misplaced '.' before the '@'"],
    ["ada@localhost", "the domain 'localhost' has no '.'"],
    ["ada@example..com", "the domain 'example..com' is not a valid host name"],
    ["ada@example.com.", "the domain 'example.com.' is not a valid host name"],
    ["ada@-example.com", "the domain '-example.com' is not a valid host name"],
    ["ada@exa_mple.com", "the domain 'exa_mple.com' is not a valid host name"],
    ["ada@example.com; bob@example.com", "more than one '@'"],
    ["ada@192.168.0.1", "the domain '192.168.0.1' is not a valid host name"],
    [`${"a".repeat(65)}@example.com`, "more than 64 characters before the '@'"],
    [`ada@${"a".repeat(64)}.com`, `the domain '${"a".repeat(64)}.com' is not a valid host name`],
    [`ada@${"abcdefghij.".repeat(25)}com`, "longer than 254 characters"],
  ])("%j is rejected: %s", (value, why) => {
    expect(mapRow(row({ "First Name": "Ada", "Home Email": value }), "42", opts())).toStrictEqual({
      ok: false,
      rejections: [
        {
          key: "42",
          row: 7,
          field: "emails.home",
          value,
          reason: `emails.home: '${value}' is not a valid email address (${why}) (column 'Home Email')`,
        },
      ],
    });
  });

  it("orders emails by label", () => {
    const result = mapRow(row({ "First Name": "Ada", Email: "w@example.com", "Home Email": "h@example.com" }), "42", opts());
    expect(result).toStrictEqual({
      ok: true,
      keep: [],
      fields: {
        ...bare,
        emails: [
          { name: "home", value: "h@example.com" },
          { name: "work", value: "w@example.com" },
        ],
      },
    });
  });
});

describe("mapRow: custom fields", () => {
  it("converts every mapped type and keys values by Quo key", () => {
    const values = {
      "First Name": "Ada",
      VIP: "Yes",
      Source: " Trade show ",
      Deal: "1,234.50",
      "Met On": "01/02/2024",
      Tags: "b; a; b",
      Website: "https://example.com",
    };
    expect(mapRow(row(values), "42", opts())).toStrictEqual({
      ok: true,
      keep: [],
      fields: {
        ...bare,
        customFields: {
          "cf-vip": true,
          "cf-source": "Trade show",
          "cf-deal": 1234.5,
          "cf-met": "2024-01-02T00:00:00.000Z",
          "cf-tags": ["b", "a"],
          "cf-site": "https://example.com",
        },
      },
    });
  });

  it("reads slashed dates in the sync's country order", () => {
    const result = mapRow(row({ "First Name": "Ada", "Met On": "01/02/2024" }), "42", opts("GB"));
    expect(result).toStrictEqual({ ok: true, keep: [], fields: { ...bare, customFields: { "cf-met": "2024-02-01T00:00:00.000Z" } } });
  });

  it("keeps false and 0 (only blank cells are left out)", () => {
    const result = mapRow(row({ "First Name": "Ada", VIP: "no", Deal: "0" }), "42", opts());
    expect(result).toStrictEqual({ ok: true, keep: [], fields: { ...bare, customFields: { "cf-vip": false, "cf-deal": 0 } } });
  });

  it("uses the configured multi-select separator", () => {
    const result = mapRow(row({ "First Name": "Ada", Tags: "a, b|c" }), "42", opts("US", { multiSelectSeparator: "|" }));
    expect(result).toStrictEqual({ ok: true, keep: [], fields: { ...bare, customFields: { "cf-tags": ["a, b", "c"] } } });
  });

  it.each([
    ["VIP", "VIP", "maybe", "customFields.VIP: 'maybe' is not a boolean (expected true/false, yes/no, y/n, 1/0, checked/unchecked or x) (column 'VIP')"],
    [
      "Deal",
      "Deal size",
      "12abc",
      "customFields.Deal size: '12abc' is not a number (expected digits with optional ',' thousands groups, a '.' fraction and an exponent) (column 'Deal')",
    ],
    ["Met On", "Met", "02/30/2024", "customFields.Met: '02/30/2024' is not a date (February 2024 has no day 30) (column 'Met On')"],
    ["Website", "Site", "ftp://example.com", "customFields.Site: 'ftp://example.com' is not a url (only http and https URLs are accepted, not ftp) (column 'Website')"],
    ["Tags", "Tags", ";", "customFields.Tags: ';' is not a multi-select (it has no options between the ';' separators) (column 'Tags')"],
  ])("column %s: rejects %j", (column, configName, value, reason) => {
    expect(mapRow(row({ "First Name": "Ada", [column]: value }), "42", opts())).toStrictEqual({
      ok: false,
      rejections: [{ key: "42", row: 7, field: `customFields.${configName}`, value, reason }],
    });
  });
});

describe("mapRow: a row with several problems lists them all", () => {
  const j = (field: string, value: string, reason: string) => ({ key: "42", row: 7, field, value, reason: `${field}: ${reason}` });
  it.each<{ name: string; values: Record<string, string>; rejections: ReturnType<typeof j>[] }>([
    {
      name: "a bad phone, a bad email and no first name",
      values: { "First Name": " ", Phone: "555-12", Email: "fran@@example.com" },
      rejections: [
        j("firstName", "", "first name is empty (column 'First Name'); Quo requires one"),
        j("phoneNumbers.mobile", "555-12", "'555-12' is not a valid phone number for US (column 'Phone')"),
        j("emails.work", "fran@@example.com", "'fran@@example.com' is not a valid email address (more than one '@') (column 'Email')"),
      ],
    },
    {
      name: "both phones and both emails, each under its label",
      values: { "First Name": "Ada", Phone: "x", "Work Phone": "201-555-0123 ext. 7", Email: "a@b", "Home Email": "@example.com" },
      rejections: [
        j("phoneNumbers.mobile", "x", "'x' is not a valid phone number for US (column 'Phone')"),
        j("phoneNumbers.work", "201-555-0123 ext. 7", "'201-555-0123 ext. 7' has an extension (7), which a Quo phone number (E.164) cannot hold (column 'Work Phone')"),
        j("emails.home", "@example.com", "'@example.com' is not a valid email address (nothing before the '@') (column 'Home Email')"),
        j("emails.work", "a@b", "'a@b' is not a valid email address (the domain 'b' has no '.') (column 'Email')"),
      ],
    },
    {
      name: "custom fields next to a bad phone, good values left alone",
      values: { "First Name": "Ada", Phone: "555-12", VIP: "maybe", Deal: "12", Website: "ftp://x.io" },
      rejections: [
        j("phoneNumbers.mobile", "555-12", "'555-12' is not a valid phone number for US (column 'Phone')"),
        j("customFields.Site", "ftp://x.io", "'ftp://x.io' is not a url (only http and https URLs are accepted, not ftp) (column 'Website')"),
        j("customFields.VIP", "maybe", "'maybe' is not a boolean (expected true/false, yes/no, y/n, 1/0, checked/unchecked or x) (column 'VIP')"),
      ],
    },
  ])("$name", ({ values, rejections }) => {
    expect(mapRow(row(values), "42", opts())).toStrictEqual({ ok: false, rejections });
  });

  it("a row the connector flagged gives the connector's reason alone: its cells may not be where the header says", () => {
    const result = mapRow(row({ "First Name": "", Phone: "555-12" }, { problem: "has 5 cells but the header has 4" }), "42", opts());
    expect(result).toStrictEqual({ ok: false, rejections: [{ key: "42", row: 7, reason: "has 5 cells but the header has 4" }] });
  });

  it("once every field at fault is fixed, the row maps: nothing was left unsaid", () => {
    const values = { "First Name": "", Phone: "555-12", "Work Phone": "bad", Email: "x", "Home Email": "y@", VIP: "?", Deal: "1e", Tags: ";", Website: "nope", "Met On": "13/13/2024" };
    const result = mapRow(row(values), "42", opts());
    if (result.ok) throw new Error("expected a rejection");
    expect(result.rejections).toHaveLength(Object.keys(values).length);
    const columnOf = (field: string): string => /\(column '([^']+)'\)/.exec(result.rejections.find((r) => r.field === field)!.reason)![1]!;
    const fixed = { ...values };
    for (const r of result.rejections) Object.assign(fixed, { [columnOf(r.field!)]: r.field === "firstName" ? "Ada" : "" });
    expect(mapRow(row(fixed), "42", opts())).toStrictEqual({ ok: true, keep: [], fields: bare });
  });
});

describe("mapRow: oversized cells", () => {
  const huge = (n: number, unit = "x") => unit.repeat(n);
  it.each([
    { name: "a first name", column: "First Name", field: "firstName" },
    { name: "a last name", column: "Last Name", field: "lastName" },
    { name: "a company", column: "Company", field: "company" },
    { name: "a role", column: "Title", field: "role" },
    { name: "a phone", column: "Phone", field: "phoneNumbers.mobile" },
    { name: "an email", column: "Home Email", field: "emails.home" },
    { name: "a custom field", column: "Source", field: "customFields.Lead Source" },
  ])("$name past the limit rejects the row, naming the limit and keeping the start of the value", ({ column, field }) => {
    const values = { "First Name": "Ada", [column]: `  ${huge(MAX_CELL_LENGTH + 1)}  ` };
    expect(mapRow(row(values), "42", opts())).toStrictEqual({
      ok: false,
      rejections: [{ key: "42", row: 7, field, value: `${huge(100)}…`, reason: `${field}: 10,001 characters, more than the 10,000 a cell may hold (column '${column}')` }],
    });
  });

  it("a cell of exactly the limit is mapped", () => {
    const result = mapRow(row({ "First Name": "Ada", Company: huge(MAX_CELL_LENGTH) }), "42", opts());
    expect(result).toStrictEqual({ ok: true, keep: [], fields: { ...bare, company: huge(MAX_CELL_LENGTH) } });
  });

  it("an oversized cell is one problem among the others, and a cut value never splits a character", () => {
    // "a" first puts the cut between the halves of a pair.
    const result = mapRow(row({ "First Name": "Ada", Company: `a${huge(2_500_000, "🎉")}`, Phone: "555-12" }), "42", opts());
    expect(result.ok ? [] : result.rejections.map((r) => [r.field, r.value])).toEqual([
      ["company", `a${huge(49, "🎉")}…`],
      ["phoneNumbers.mobile", "555-12"],
    ]);
  });

  it("a column the sync does not map may hold anything", () => {
    expect(mapRow(row({ "First Name": "Ada", Notes: huge(1_000_000) }), "42", opts())).toStrictEqual({ ok: true, keep: [], fields: bare });
  });
});

describe("mapRow: determinism", () => {
  const values = {
    "First Name": "Ada",
    Phone: "201-555-0101",
    "Work Phone": "bad",
    Email: "bad",
    VIP: "bad",
    Tags: "bad;",
    Deal: "bad",
  };

  it("lists every problem in a fixed order: phones, emails, then custom fields by name", () => {
    const result = mapRow(row(values), "42", opts());
    expect(result.ok ? [] : result.rejections.map((j) => j.field)).toEqual(["phoneNumbers.work", "emails.work", "customFields.Deal size", "customFields.VIP"]);
  });

  it("does not depend on the order of the config's keys or custom field list", () => {
    const good = { "First Name": "Ada", Phone: "201-555-0101", "Work Phone": "201-555-0102", Email: "a@x.io", "Home Email": "b@x.io", VIP: "y", Tags: "t" };
    const a = mapRow(row(good), "42", opts());
    const reversed: MapOptions = {
      sync: sync("US", {
        emails: { home: "Home Email", work: "Email" },
        phoneNumbers: { work: "Work Phone", mobile: "Phone" },
      }),
      customFields: [...customFields].reverse(),
    };
    const b = mapRow(row(good), "42", reversed);
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
    const bad = { ...good, Deal: "x", Website: "y" };
    expect(mapRow(row(bad), "42", reversed)).toStrictEqual(mapRow(row(bad), "42", opts()));
  });

  it("maps 100,000 rows (timing is measured by the benchmark)", () => {
    const o = opts();
    let ok = 0;
    for (let i = 0; i < 100_000; i++) {
      const n = String(1000 + (i % 9000));
      const result = mapRow(
        row({
          "First Name": ` Person ${i} `,
          "Last Name": "Example",
          Phone: `(201) 555-${n}`,
          Email: `person${i}@Example.com`,
          VIP: i % 2 ? "yes" : "no",
          Deal: `${i}.5`,
        }),
        String(i),
        o,
      );
      if (result.ok) ok++;
    }
    expect(ok).toBe(100_000);
  });
});

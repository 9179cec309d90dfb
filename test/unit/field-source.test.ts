/**
 * Computed fields through `mapRow`: every form a field's config takes (a column, a column with a
 * default or a map, a constant, a template, a split), the `blanks` policy at sync level and per
 * field, the `keep` list and `keptBlanks`, and the per-field mapping `explain` asks for.
 */
import { describe, expect, it } from "vitest";
import { syncSchema, type SyncConfig } from "../../src/config.js";
import type { ContactFields, SourceRow } from "../../src/model.js";
import { compileSource, describeSource, sourceColumn } from "../../src/plan/field-source.js";
import { keptBlanks, mapRow, type MapOptions, type ResolvedCustomField } from "../../src/plan/map-row.js";

function sync(fields: Record<string, unknown>, extra: Record<string, unknown> = {}): SyncConfig {
  return syncSchema.parse({ name: "leads", source: { type: "csv", path: "./c.csv" }, key: "id", fields: { firstName: "First", ...fields }, ...extra });
}

const stage: ResolvedCustomField = { configName: "Stage", column: "Lifecycle", key: "cf-stage", name: "Stage", type: "string" };
const score: ResolvedCustomField = { configName: "Score", column: "Score", key: "cf-score", name: "Score", type: "number" };

const opts = (fields: Record<string, unknown>, extra: Record<string, unknown> = {}, customFields: ResolvedCustomField[] = []): MapOptions => ({
  sync: sync(fields, extra),
  customFields,
});

const row = (values: Record<string, string>): SourceRow => ({ row: 3, values: { First: "Ada", ...values } });

const bare: ContactFields = { firstName: "Ada", phoneNumbers: [], emails: [], customFields: {} };

describe("field sources", () => {
  it.each<[string, unknown, Record<string, string>, string | undefined]>([
    ["a column", "Company", { Company: "  Acme   Corp " }, "Acme Corp"],
    ["a blank column", "Company", { Company: "  " }, undefined],
    ["a column object", { column: "Company" }, { Company: "Acme" }, "Acme"],
    ["a default for a blank cell", { column: "Company", default: "Independent" }, { Company: " " }, "Independent"],
    ["a default for a missing cell", { column: "Company", default: "Independent" }, {}, "Independent"],
    ["no default when the cell has text", { column: "Company", default: "Independent" }, { Company: "Acme" }, "Acme"],
    ["a map, case and spaces aside", { column: "Company", map: { acme: "Acme Corp" } }, { Company: "  ACME " }, "Acme Corp"],
    ["a map key written in capitals", { column: "Company", map: { " ACME ": "Acme Corp" } }, { Company: "acme" }, "Acme Corp"],
    ["an unmapped value kept as it is", { column: "Company", map: { acme: "Acme Corp" } }, { Company: "Initech" }, "Initech"],
    ["a value mapped to '' is blank", { column: "Company", map: { "n/a": "" } }, { Company: "N/A" }, undefined],
    ["a constant", { value: "Website form" }, {}, "Website form"],
    ["a template", { template: "{{Title}} ({{Department}})" }, { Title: "Engineer", Department: "Sales" }, "Engineer (Sales)"],
    ["a template with a blank part", { template: "{{Title}} ({{Department}})" }, { Title: "Engineer" }, "Engineer"],
    ["a template all blank", { template: "{{Title}} ({{Department}})" }, {}, undefined],
  ])("company from %s", (_name, company, values, expected) => {
    const result = mapRow(row(values), "1", opts({ company }));
    expect(result).toStrictEqual({ ok: true, keep: [], fields: expected === undefined ? bare : { ...bare, company: expected } });
  });

  it("a template's placeholder names hold spaces and dots, with spaces inside the braces trimmed", () => {
    const result = mapRow(row({ "Job Title": "CTO", "Dept.": "R&D" }), "1", opts({ role: { template: "{{ Job Title }}, {{Dept.}}" } }));
    expect(result).toStrictEqual({ ok: true, keep: [], fields: { ...bare, role: "CTO, R&D" } });
  });

  it("a firstName from a template, and from a constant", () => {
    expect(mapRow(row({ Given: "Grace", Middle: "", Family: "Hopper" }), "1", opts({ firstName: { template: "{{Given}} {{Middle}} {{Family}}" } }))).toStrictEqual({
      ok: true,
      keep: [],
      fields: { ...bare, firstName: "Grace Hopper" },
    });
    expect(mapRow(row({}), "1", opts({ firstName: { value: "Friend" } }))).toStrictEqual({ ok: true, keep: [], fields: { ...bare, firstName: "Friend" } });
  });

  it("a computed value is normalised like a cell: a mapped phone goes to E.164, a templated email is checked", () => {
    const result = mapRow(row({ Phone: "(201) 555-0123", User: "ada", Domain: "Example.COM" }), "1", opts({ phoneNumbers: { mobile: { column: "Phone", default: "+1 212 555 0100" } }, emails: { work: { template: "{{User}}@{{Domain}}" } } }));
    expect(result).toStrictEqual({ ok: true, keep: [], fields: { ...bare, phoneNumbers: [{ name: "mobile", value: "+12015550123" }], emails: [{ name: "work", value: "ada@example.com" }] } });
    const fallback = mapRow(row({}), "1", opts({ phoneNumbers: { mobile: { column: "Phone", default: "+1 212 555 0100" } } }));
    expect(fallback).toStrictEqual({ ok: true, keep: [], fields: { ...bare, phoneNumbers: [{ name: "mobile", value: "+12125550100" }] } });
    // The '@' joins a blank placeholder, so it goes with it.
    const bad = mapRow(row({ User: "ada" }), "1", opts({ emails: { work: { template: "{{User}}@{{Domain}}" } } }));
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.rejections.map((r) => r.reason)).toEqual(["emails.work: 'ada' is not a valid email address (no '@') (template '{{User}}@{{Domain}}')"]);
  });

  it("a mapped custom field is still converted to, and checked as, its Quo type", () => {
    const o = opts({ customFields: { Score: { column: "Grade", map: { a: "90", b: "70", c: "lots" } } } }, {}, [{ ...score, column: "Grade" }]);
    expect(mapRow(row({ Grade: "A" }), "1", o)).toStrictEqual({ ok: true, keep: [], fields: { ...bare, customFields: { "cf-score": 90 } } });
    const bad = mapRow(row({ Grade: "c" }), "1", o);
    expect(bad.ok).toBe(false);
    if (!bad.ok) {
      expect(bad.rejections).toHaveLength(1);
      expect(bad.rejections[0]).toMatchObject({ field: "customFields.Score", value: "lots" });
      expect(bad.rejections[0]?.reason).toMatch(/^customFields\.Score: 'lots' is not a number \(.+\) \(map 'c' → 'lots' \(column 'Grade'\)\)$/);
    }
  });

  it("a strict map rejects a value it lacks, naming the field, the column, the value and the values it maps", () => {
    const o = opts({ customFields: { Stage: { column: "Lifecycle", map: { customer: "Customer", opportunity: "Open deal" }, strict: true } } }, {}, [stage]);
    expect(mapRow(row({ Lifecycle: "Opportunity" }), "1", o)).toStrictEqual({ ok: true, keep: [], fields: { ...bare, customFields: { "cf-stage": "Open deal" } } });
    const result = mapRow(row({ Lifecycle: " Prospect " }), "9", o);
    expect(result).toStrictEqual({
      ok: false,
      rejections: [
        {
          key: "9",
          row: 3,
          field: "customFields.Stage",
          value: "Prospect",
          reason: "customFields.Stage: 'Prospect' is not in the map (column 'Lifecycle'); the values it maps are 'customer', 'opportunity'",
        },
      ],
    });
    // A blank cell is not a value the map lacks: it is blank.
    expect(mapRow(row({}), "1", o)).toStrictEqual({ ok: true, keep: [], fields: bare });
  });

  it("a split of a column of whole names feeds a custom field", () => {
    const o = opts({ customFields: { Surname: { split: "Full Name", part: "last" } } }, {}, [{ configName: "Surname", column: "split", key: "cf-sur", name: "Surname", type: "string" }]);
    expect(mapRow(row({ "Full Name": "Dr. Anne-Marie van der Berg" }), "1", o)).toStrictEqual({ ok: true, keep: [], fields: { ...bare, customFields: { "cf-sur": "van der Berg" } } });
  });

  it("describes and names the column of each form", () => {
    expect([describeSource("A"), describeSource({ column: "B", map: {} }), describeSource({ value: "v" }), describeSource({ template: "{{C}}" }), describeSource({ split: "D", part: "first" })]).toEqual([
      "column 'A'",
      "column 'B'",
      "value 'v'",
      "template '{{C}}'",
      "first part of 'D'",
    ]);
    expect([sourceColumn("A"), sourceColumn({ column: "B" }), sourceColumn({ template: "{{C}} {{E}}" })]).toEqual(["A", "B", "template '{{C}} {{E}}'"]);
    expect(compileSource({ template: "{{C}} {{E}} {{C}}" }, "clear").columns).toEqual(["C", "E"]);
    expect(compileSource({ value: "x" }, "keep").columns).toEqual([]);
  });
});

describe("blanks", () => {
  const fields = {
    lastName: "Last",
    company: "Company",
    role: { template: "{{Title}} ({{Department}})" },
    phoneNumbers: { mobile: "Phone" },
    emails: { work: "Email" },
    customFields: { Stage: "Lifecycle" },
  };

  it("clear (the default): a blank value is left out and nothing is kept", () => {
    expect(mapRow(row({}), "1", opts(fields, {}, [stage]))).toStrictEqual({ ok: true, keep: [], fields: bare });
    expect(mapRow(row({}), "1", opts(fields, { blanks: "clear" }, [stage]))).toStrictEqual({ ok: true, keep: [], fields: bare });
  });

  it("keep at sync level: every blank field is listed under the name diffs use (a custom field by its Quo key)", () => {
    const o = opts(fields, { blanks: "keep" }, [stage]);
    expect(mapRow(row({}), "1", o)).toStrictEqual({ ok: true, keep: ["lastName", "company", "role", "phoneNumbers.mobile", "emails.work", "customFields.cf-stage"], fields: bare });
    expect(keptBlanks(row({}), o)).toEqual(["lastName", "company", "role", "phoneNumbers.mobile", "emails.work", "customFields.cf-stage"]);
    const some = row({ Last: "Lovelace", Phone: "+1 201 555 0123", Lifecycle: "Lead" });
    expect(mapRow(some, "1", o)).toStrictEqual({
      ok: true,
      keep: ["company", "role", "emails.work"],
      fields: { ...bare, lastName: "Lovelace", phoneNumbers: [{ name: "mobile", value: "+12015550123" }], customFields: { "cf-stage": "Lead" } },
    });
    expect(keptBlanks(some, o)).toEqual(["company", "role", "emails.work"]);
  });

  it("keep per field, and the field's own policy wins over the sync's either way", () => {
    const perField = opts({ company: { column: "Company", blanks: "keep" }, role: "Title" });
    expect(mapRow(row({}), "1", perField)).toStrictEqual({ ok: true, keep: ["company"], fields: bare });
    expect(keptBlanks(row({}), perField)).toEqual(["company"]);
    const overSync = opts({ company: { column: "Company", blanks: "clear" }, role: { template: "{{Title}}", blanks: "keep" }, lastName: "Last" }, { blanks: "keep" });
    expect(mapRow(row({}), "1", overSync)).toStrictEqual({ ok: true, keep: ["lastName", "role"], fields: bare });
    expect(keptBlanks(row({}), overSync)).toEqual(["lastName", "role"]);
  });

  it("a value mapped to '' is a blank the policy keeps; a default fills the cell before blanks are looked at", () => {
    const o = opts({ company: { column: "Company", map: { "n/a": "" }, blanks: "keep" }, role: { column: "Title", default: "Staff", blanks: "keep" } });
    expect(mapRow(row({ Company: "n/a" }), "1", o)).toStrictEqual({ ok: true, keep: ["company"], fields: { ...bare, role: "Staff" } });
  });

  it("a blank first name is never kept: it rejects the row whatever blanks says", () => {
    for (const o of [opts({}, { blanks: "keep" }), opts({ firstName: { column: "First", blanks: "keep" } }), opts({ firstName: { template: "{{First}} {{Middle}}", blanks: "keep" } })]) {
      const result = mapRow(row({ First: " " }), "1", o);
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.rejections.map((r) => r.field)).toEqual(["firstName"]);
      expect(keptBlanks(row({ First: " " }), o)).toEqual([]);
    }
  });

  it("keptBlanks is empty for a row the connector flagged and for a sync that keeps nothing", () => {
    expect(keptBlanks({ row: 2, values: {}, problem: "ragged row" }, opts(fields, { blanks: "keep" }, [stage]))).toEqual([]);
    expect(keptBlanks(row({}), opts(fields, {}, [stage]))).toEqual([]);
  });
});

describe("explain: the mapping of each field", () => {
  it("says what each field got and why", () => {
    const o: MapOptions = {
      ...opts(
        {
          firstName: { split: "Full Name", part: "first" },
          lastName: { split: "Full Name", part: "last" },
          company: { column: "Company", default: "Independent" },
          role: { template: "{{Title}} ({{Department}})" },
          phoneNumbers: { mobile: "Phone" },
          emails: { work: { column: "Email", blanks: "keep" } },
          customFields: { "Lead Source": { value: "Website form" }, Stage: { column: "Lifecycle", map: { customer: "Customer" } } },
        },
        {},
        [
          { configName: "Lead Source", column: "value 'Website form'", key: "cf-src", name: "Lead Source", type: "string" },
          stage,
        ],
      ),
      explain: true,
    };
    const result = mapRow(row({ "Full Name": "Ada Lovelace", Title: "Countess", Phone: "201-555-0123", Lifecycle: "CUSTOMER" }), "1", o);
    expect(result).toStrictEqual({
      ok: true,
      keep: ["emails.work"],
      fields: {
        firstName: "Ada",
        lastName: "Lovelace",
        company: "Independent",
        role: "Countess",
        phoneNumbers: [{ name: "mobile", value: "+12015550123" }],
        emails: [],
        customFields: { "cf-src": "Website form", "cf-stage": "Customer" },
      },
      mapping: {
        firstName: { value: "Ada", via: "first part of 'Full Name'" },
        lastName: { value: "Lovelace", via: "last part of 'Full Name'" },
        company: { value: "Independent", via: "default (column 'Company' is blank)" },
        role: { value: "Countess", via: "template '{{Title}} ({{Department}})'" },
        "phoneNumbers.mobile": { value: "+12015550123", via: "column 'Phone'" },
        "emails.work": { value: null, via: "column 'Email'; blank, kept: Quo's value stays (blanks: keep)" },
        "customFields.Lead Source": { value: "Website form", via: "value" },
        "customFields.Stage": { value: "Customer", via: "map 'customer' → 'Customer' (column 'Lifecycle')" },
      },
    });
  });

  it("a rejected row keeps its mapping, with the field at fault; a cleared blank is null; without explain there is no mapping", () => {
    const fields = { company: "Company", phoneNumbers: { mobile: "Phone" }, customFields: { Stage: { column: "Lifecycle", map: { a: "A" } } } };
    const result = mapRow(row({ Phone: "555-12", Lifecycle: "b" }), "1", { ...opts(fields, {}, [stage]), explain: true });
    expect(result.ok).toBe(false);
    expect(result.mapping).toStrictEqual({
      firstName: { value: "Ada", via: "column 'First'" },
      company: { value: null, via: "column 'Company'" },
      "phoneNumbers.mobile": { value: "555-12", via: "rejected: '555-12' is not a valid phone number for US (column 'Phone')" },
      "customFields.Stage": { value: "b", via: "column 'Lifecycle' (not in the map: sent as it is)" },
    });
    expect("mapping" in mapRow(row({}), "1", opts(fields, {}, [stage]))).toBe(false);
  });
});

/**
 * A sync's `where`, evaluated: every operator met and failed, blank and missing cells, the case
 * rules, `any` and its nesting, numbers and dates in the forms people keep them (slash dates by
 * country), the failed condition's text; and, as properties, the operators agree with a
 * straightforward reference (`in` is any of `equals`, `notIn` is not `in`, `gte` is `gt` or equal,
 * `any` is "one of", a list is "all of") and numbers and dates written in any of their forms
 * compare as their values.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { syncSchema } from "../../src/config.js";
import { whereSchema, type WhereCondition } from "../../src/config-where.js";
import { ConfigError } from "../../src/errors.js";
import type { SourceRow } from "../../src/model.js";
import { MONTH_FIRST_COUNTRIES, readDate, readNumber, slashDateOrder } from "../../src/plan/read-cell.js";
import { compileWhere, whereColumns, type WhereFailure } from "../../src/plan/where.js";

const DAY_MS = 86_400_000;

function row(values: Record<string, string>, n = 2): SourceRow {
  return { row: n, values };
}

/** The failure of `values` against `where` (validated by the schema first), or null when the row is in. */
function failure(where: unknown[], values: Record<string, string>, country = "US"): WhereFailure | null {
  return compileWhere(whereSchema.parse(where), 0, country).test(row(values));
}

function passes(where: unknown[], values: Record<string, string>, country = "US"): boolean {
  return failure(where, values, country) === null;
}

describe("compileWhere: text operators", () => {
  it.each([
    // [condition, cell (undefined: the row lacks the column), in the sync]
    [{ equals: "Customer" }, "Customer", true],
    [{ equals: "Customer" }, "  customer ", true],
    [{ equals: "Customer" }, "CUSTOMER", true],
    [{ equals: "Customer" }, "Customers", false],
    [{ equals: " Customer " }, "customer", true],
    [{ equals: "Customer", caseSensitive: true }, "customer", false],
    [{ equals: "Customer", caseSensitive: true }, " Customer ", true],
    [{ equals: "" }, "", true],
    [{ equals: "" }, "   ", true],
    [{ equals: "" }, undefined, true],
    [{ equals: "" }, "x", false],
    [{ equals: 5 }, "5", true],
    [{ equals: 5 }, "5.0", false],
    [{ equals: "Café" }, "CAFE\u0301", true],
    [{ equals: "Straße" }, "straße", true],
    [{ in: ["Customer", "Lead"] }, "lead", true],
    [{ in: ["Customer", "Lead"] }, "Other", false],
    [{ in: ["Customer", "Lead"] }, "", false],
    [{ in: ["Customer", "Lead"] }, undefined, false],
    [{ in: ["Customer", ""] }, "", true],
    [{ in: [1, 2] }, "2", true],
    [{ in: ["Lead"], caseSensitive: true }, "LEAD", false],
    [{ notIn: ["Spam", "Test"] }, "spam", false],
    [{ notIn: ["Spam", "Test"] }, "Customer", true],
    [{ notIn: ["Spam"] }, "", true],
    [{ notIn: ["Spam"] }, undefined, true],
    [{ notIn: ["Spam", ""] }, " ", false],
    [{ notIn: ["Spam"], caseSensitive: true }, "spam", true],
    [{ notBlank: true }, "x", true],
    [{ notBlank: true }, "0", true],
    [{ notBlank: true }, " \t ", false],
    [{ notBlank: true }, undefined, false],
    [{ matches: "@acme\\.com$" }, "ann@ACME.com", true],
    [{ matches: "@acme\\.com$" }, "ann@acme.com.example", false],
    [{ matches: "@acme\\.com$", caseSensitive: true }, "ann@ACME.com", false],
    [{ matches: "acme" }, "the acme company", true],
    [{ matches: "^a$" }, "  a  ", true],
    [{ matches: "^\\p{Lu}" }, "Émile", true],
    [{ matches: "^\\p{Lu}", caseSensitive: true }, "émile", false],
    [{ matches: "^$" }, undefined, true],
    [{ matches: "café" }, "CAFE\u0301", true],
  ])("%j on %j: %s", (condition, cell, expected) => {
    const values: Record<string, string> = cell === undefined ? { Other: "x" } : { C: cell };
    expect(passes([{ column: "C", ...condition }], values)).toBe(expected);
  });

  it("names the failed condition, its column and the trimmed cell", () => {
    expect(failure([{ column: "Status", in: ["Customer", "Lead"] }], { Status: "  Churned " })).toEqual({ condition: 'where[0]: \'Status\' in ["Customer", "Lead"]', column: "Status", value: "Churned" });
    expect(failure([{ column: "Status", notIn: ["Spam"] }], { Status: "SPAM" })).toEqual({ condition: 'where[0]: \'Status\' not in ["Spam"]', column: "Status", value: "SPAM" });
    expect(failure([{ column: "Owner", equals: "Ann", caseSensitive: true }], { Owner: "ann" })).toEqual({ condition: 'where[0]: \'Owner\' = "Ann" (case-sensitive)', column: "Owner", value: "ann" });
    expect(failure([{ column: "Owner", equals: 7 }], { Owner: "8" })?.condition).toBe("where[0]: 'Owner' = \"7\"");
    expect(failure([{ column: "Phone", notBlank: true }], {})).toEqual({ condition: "where[0]: 'Phone' not blank", column: "Phone", value: "" });
    expect(failure([{ column: "Email", matches: "@acme\\.com$" }], { Email: "a@b.com" })).toEqual({ condition: "where[0]: 'Email' matches /@acme\\.com$/", column: "Email", value: "a@b.com" });
  });

  it("reports the first condition the row fails, in config order, and passes a row that meets all", () => {
    const where = [{ column: "Status", in: ["Customer", "Lead"] }, { column: "Phone", notBlank: true }, { column: "Score", gte: 50 }];
    expect(failure(where, { Status: "Lead", Phone: "", Score: "10" })?.condition).toBe("where[1]: 'Phone' not blank");
    expect(failure(where, { Status: "Lead", Phone: "+1 555", Score: "10" })?.condition).toBe("where[2]: 'Score' ≥ 50");
    expect(failure(where, { Status: "Spam", Phone: "", Score: "10" })?.condition).toMatch(/^where\[0\]: /);
    expect(failure(where, { Status: "lead", Phone: "+1 555", Score: "50" })).toBeNull();
  });

  it("lets every row through without a where, or with an empty one", () => {
    expect(compileWhere(undefined, 0, "US").test(row({}))).toBeNull();
    expect(compileWhere([], 0, "US").test(row({ A: "x" }))).toBeNull();
  });

  it("reads a column by its own name only (an inherited property name is a missing column)", () => {
    expect(passes([{ column: "constructor", notBlank: true }], {})).toBe(false);
    expect(passes([{ column: "toString", equals: "" }], {})).toBe(true);
  });

  it("refuses, naming the path, a condition the schema would have refused", () => {
    expect(() => compileWhere([{ column: "A", matches: "(" }], 2, "US")).toThrow(ConfigError);
    expect(() => compileWhere([{ column: "A", matches: "(" }], 2, "US")).toThrow(/^syncs\[2\]\.where\[0\]\.matches: not a valid regular expression: .*Unterminated group/);
    expect(() => compileWhere([{ any: [{ column: "A" }] }], 1, "US")).toThrow(/^syncs\[1\]\.where\[0\]\.any\[0\]: give one of/);
  });
});

describe("compileWhere: numbers", () => {
  it.each([
    ["50", "gte", 50, true],
    ["50", "gt", 50, false],
    ["50", "lte", 50, true],
    ["50", "lt", 50, false],
    ["49.99", "lt", 50, true],
    ["1,234.5", "gt", 1234, true],
    ["1,234.5", "lt", 1234.6, true],
    ["$1,234", "gte", 1234, true],
    ["$1,234", "gt", 1234, false],
    ["-$5", "lt", 0, true],
    ["$-5", "lt", 0, true],
    ["\u22123", "lt", -2, true],
    ["+7", "gt", 6, true],
    ["12 €", "gte", 12, true],
    ["€ 12", "lte", 12, true],
    ["£1,000,000", "gte", 1e6, true],
    ["50%", "gte", 50, true],
    ["50%", "gt", 50, false],
    ["1 234", "gt", 1233, true],
    ["1\u00a0234", "gte", 1234, true],
    ["1\u202f234,5", "gt", 0, false],
    ["1.5e3", "gte", 1500, true],
    [".5", "lt", 1, true],
    [" 7 ", "lt", 8, true],
    ["1769817600000", "gt", 5, true],
  ])("%j %s %d: %s", (cell, op, bound, expected) => {
    expect(passes([{ column: "N", [op]: bound }], { N: cell })).toBe(expected);
  });

  it.each(["n/a", "12,5", "1,23", "1,234,56", "1,234 567", "--5", "5 5", "$", "%", "(5)", "5-", "1.2.3", "0x10", "Infinity", "1e999", "five"])("'%s' is not a number: every comparison fails, and says so", (cell) => {
    for (const op of ["gt", "gte", "lt", "lte"]) {
      const f = failure([{ column: "Score", [op]: 0 }], { Score: cell });
      expect(f?.condition).toContain(`('${cell}' is not a number)`);
      expect(f?.value).toBe(cell);
    }
  });

  it("a blank or missing cell fails a comparison, saying it is blank", () => {
    expect(failure([{ column: "Score", gte: 50 }], { Score: "  " })).toEqual({ condition: "where[0]: 'Score' ≥ 50 (blank)", column: "Score", value: "" });
    expect(failure([{ column: "Score", lt: 50 }], {})?.condition).toBe("where[0]: 'Score' < 50 (blank)");
  });

  it("a range pair needs both bounds, and says which range a row is outside", () => {
    const where = [{ column: "Score", gte: 10, lt: 20 }];
    expect(passes(where, { Score: "10" })).toBe(true);
    expect(passes(where, { Score: "19.99" })).toBe(true);
    expect(failure(where, { Score: "20" })).toEqual({ condition: "where[0]: 'Score' ≥ 10 and < 20", column: "Score", value: "20" });
    expect(passes(where, { Score: "9" })).toBe(false);
    expect(passes([{ column: "Score", gt: 10, lte: 20 }], { Score: "20" })).toBe(true);
    expect(passes([{ column: "Score", gt: 10, lte: 20 }], { Score: "10" })).toBe(false);
  });
});

describe("compileWhere: dates", () => {
  const jan31 = Date.UTC(2026, 0, 31);

  it.each([
    // [cell, condition, in the sync]
    ["2026-01-31", { lt: "2026-02-01" }, true],
    ["2026-01-31", { gte: "2026-02-01" }, false],
    ["2026-01-31", { gte: "2026-01-31", lte: "2026-01-31" }, true],
    // A date alone compares the calendar date the cell shows, at the cell's own offset.
    ["2026-01-31T23:00:00-05:00", { lt: "2026-02-01" }, true],
    ["2026-01-31T23:00:00-05:00", { gte: "2026-02-01" }, false],
    ["2026-02-01T01:00:00+02:00", { gte: "2026-02-01" }, true],
    ["2026-01-31T23:59:59.999Z", { lte: "2026-01-31" }, true],
    // A date-time with its offset compares instants.
    ["2026-01-31T23:00:00-05:00", { lt: "2026-02-01T00:00:00Z" }, false],
    ["2026-01-31T23:00:00-05:00", { gte: "2026-02-01T04:00:00Z", lte: "2026-02-01T04:00:00Z" }, true],
    ["2026-02-01T01:00:00+02:00", { lt: "2026-02-01T00:00:00Z" }, true],
    ["2026-02-01T01:00:00+0200", { lt: "2026-02-01T00:00:00Z" }, true],
    ["2026-01-31T09:00:00.5Z", { gt: "2026-01-31T09:00:00Z" }, true],
    // A cell without an offset is read at the bound's; a date alone at its midnight there.
    ["2026-01-31 09:00", { gte: "2026-01-31T09:00:00-05:00" }, true],
    ["2026-01-31 09:00", { gt: "2026-01-31T09:00:00-05:00" }, false],
    ["2026-01-31", { gte: "2026-01-31T00:00:00-05:00" }, true],
    ["2026-01-31", { gt: "2026-01-31T00:00:00-05:00" }, false],
    // HubSpot's epoch milliseconds, read in UTC.
    [String(jan31), { gte: "2026-01-31", lte: "2026-01-31" }, true],
    [String(jan31 + DAY_MS - 1), { lt: "2026-02-01" }, true],
    [String(jan31 + DAY_MS), { lt: "2026-02-01" }, false],
    [String(jan31), { gte: "2026-01-31T00:00:00Z", lte: "2026-01-31T00:00:00Z" }, true],
    ["946684800000", { lt: "2001-01-01" }, true],
    // Slash dates: month first in the US (the default country here).
    ["1/2/2026", { gte: "2026-01-02", lte: "2026-01-02" }, true],
    ["01/02/2026", { lt: "2026-01-03" }, true],
    ["31/1/2026", { gte: "2026-01-31", lte: "2026-01-31" }, true],
    ["1/31/2026 2:30 PM", { gte: "2026-01-31T14:30:00Z", lte: "2026-01-31T14:30:00Z" }, true],
    ["1/31/2026 12:00 AM", { gte: "2026-01-31T00:00:00Z", lte: "2026-01-31T00:00:00Z" }, true],
    ["1/31/2026 12:15 pm", { lt: "2026-01-31T12:16:00Z" }, true],
    ["1/31/2026, 17:05:09", { gt: "2026-01-31T17:05:08Z", lt: "2026-01-31T17:05:10Z" }, true],
  ])("%j %j: %s", (cell, condition, expected) => {
    expect(passes([{ column: "D", ...condition }], { D: cell })).toBe(expected);
  });

  it.each([
    // [cell, country, the date it is read as]
    ["1/2/2026", "US", "2026-01-02"],
    ["1/2/2026", "CA", "2026-01-02"],
    ["1/2/2026", "PH", "2026-01-02"],
    ["1/2/2026", "us", "2026-01-02"],
    ["1/2/2026", "GB", "2026-02-01"],
    ["1/2/2026", "DE", "2026-02-01"],
    ["1/2/2026", "AU", "2026-02-01"],
    ["31/1/2026", "US", "2026-01-31"],
    ["1/31/2026", "GB", "2026-01-31"],
    ["12/12/2026", "FR", "2026-12-12"],
  ])("slash date %s in %s is %s", (cell, country, date) => {
    expect(passes([{ column: "D", gte: date, lte: date }], { D: cell }, country)).toBe(true);
  });

  it("orders slash dates by country: month first in the US, Canada, the Philippines and the US territories, day first elsewhere", () => {
    expect(["US", "CA", "PH", "PR", "GU"].map(slashDateOrder)).toEqual(["month-first", "month-first", "month-first", "month-first", "month-first"]);
    expect(["GB", "DE", "FR", "IN", "AU", "BR", "MX", "JP"].map(slashDateOrder).every((o) => o === "day-first")).toBe(true);
    expect(MONTH_FIRST_COUNTRIES.size).toBe(12);
  });

  it.each(["soon", "2026-02-30", "2026-13-01", "2026-1-5", "13/13/2026", "2/30/2026", "30/2/2026", "1/2/26", "2026-01-31T25:00:00Z", "2026-01-31T09:00:00+25:00", "1/31/2026 13:00 PM", "12345678901", "12345678901234", "Jan 31, 2026"])("'%s' is not a date: every comparison fails, and says so", (cell) => {
    for (const op of ["gt", "gte", "lt", "lte"]) {
      const f = failure([{ column: "Created", [op]: "2026-01-31" }], { Created: cell });
      expect(f?.condition).toBe(`where[0]: 'Created' ${{ gt: ">", gte: "≥", lt: "<", lte: "≤" }[op]} 2026-01-31 ('${cell}' is not a date)`);
    }
  });

  it("a blank cell fails a date comparison, saying so", () => {
    expect(failure([{ column: "Created", gte: "2026-01-01", lt: "2026-02-01" }], { Created: "" })).toEqual({ condition: "where[0]: 'Created' ≥ 2026-01-01 and < 2026-02-01 (blank)", column: "Created", value: "" });
  });

  it("reads dates in cells as written: date, time, offset", () => {
    expect(readDate("2026-01-31T23:00:00-05:00", "month-first")).toEqual({ ok: true, value: { year: 2026, month: 1, day: 31, time: 23 * 3_600_000, offset: -300 } });
    expect(readDate("2026-01-31", "day-first")).toEqual({ ok: true, value: { year: 2026, month: 1, day: 31 } });
    expect(readDate(String(jan31 + 3_600_000), "day-first")).toEqual({ ok: true, value: { year: 2026, month: 1, day: 31, time: 3_600_000, offset: 0 } });
    expect(readNumber("1,234.5")).toEqual({ ok: true, value: 1234.5 });
    expect(readNumber("n/a")).toEqual({ ok: false, reason: "'n/a' is not a number" });
  });
});

describe("compileWhere: any", () => {
  const where = [{ any: [{ column: "Score", gte: 50 }, { column: "Owner", equals: "Ann" }] }];

  it("is met when one of its conditions is", () => {
    expect(passes(where, { Score: "60", Owner: "Bob" })).toBe(true);
    expect(passes(where, { Score: "10", Owner: "ann" })).toBe(true);
    expect(passes(where, { Score: "n/a", Owner: "ANN" })).toBe(true);
  });

  it("names each failed alternative and reports the first one's column and cell", () => {
    expect(failure(where, { Score: "10", Owner: "Bob" })).toEqual({ condition: "where[0]: any of ('Score' ≥ 50; 'Owner' = \"Ann\")", column: "Score", value: "10" });
    expect(failure(where, { Score: "n/a", Owner: "" })).toEqual({ condition: "where[0]: any of ('Score' ≥ 50 ('n/a' is not a number); 'Owner' = \"Ann\")", column: "Score", value: "n/a" });
  });

  it("nests", () => {
    const nested = [
      { column: "Status", notIn: ["Spam"] },
      { any: [{ column: "Region", equals: "EU" }, { any: [{ column: "Score", gt: 90 }, { column: "Tier", in: ["Gold", "VIP"] }] }] },
    ];
    expect(passes(nested, { Status: "Lead", Region: "US", Score: "95" })).toBe(true);
    expect(passes(nested, { Status: "Lead", Region: "US", Tier: "vip" })).toBe(true);
    expect(passes(nested, { Status: "Lead", Region: "eu" })).toBe(true);
    expect(failure(nested, { Status: "Lead", Region: "US", Score: "5", Tier: "Bronze" })).toEqual({
      condition: "where[1]: any of ('Region' = \"EU\"; any of ('Score' > 90; 'Tier' in [\"Gold\", \"VIP\"]))",
      column: "Region",
      value: "US",
    });
  });
});

describe("whereColumns", () => {
  it("lists every column the filter reads, with its config path, in config order", () => {
    const sync = syncSchema.parse({
      name: "leads",
      source: { type: "csv", path: "c.csv" },
      key: "id",
      fields: { firstName: "First" },
      where: [
        { column: "Status", in: ["Customer"] },
        { column: "Phone", notBlank: true },
        { any: [{ column: "Score", gte: 50 }, { any: [{ column: "Owner", equals: "Ann" }] }] },
      ],
    });
    expect(whereColumns(sync, 3)).toEqual([
      { path: "syncs[3].where[0].column", column: "Status" },
      { path: "syncs[3].where[1].column", column: "Phone" },
      { path: "syncs[3].where[2].any[0].column", column: "Score" },
      { path: "syncs[3].where[2].any[1].any[0].column", column: "Owner" },
    ]);
    expect(whereColumns({ ...sync, where: undefined }, 0)).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// Properties.

const COLUMNS = ["A", "B", "C"] as const;
const CELLS = ["", " ", "Customer", "customer", "LEAD", " Lead ", "Café", "CAFÉ", "10", "1,000", "$5", "50%", "-3", "n/a", "2026-01-31", "1/2/2026", "2026-01-31T23:00:00-05:00", String(Date.UTC(2026, 0, 31)), "x"];
const TEXTS = ["Customer", "lead", "café", "10", "", "x", "5"];
const NUMBERS = [-5, 0, 5, 10, 50, 1000];
const DATES = ["2026-01-02", "2026-01-31", "2026-02-01", "2026-01-31T12:00:00Z", "2026-02-01T00:00:00-05:00"];

const rowArb = fc.record({ A: fc.constantFrom(...CELLS), B: fc.constantFrom(...CELLS), C: fc.constantFrom(...CELLS) }, { requiredKeys: [] });
const columnArb = fc.constantFrom(...COLUMNS);
const caseArb = fc.option(fc.constant(true as const), { nil: undefined });
const textArb = fc.constantFrom<string | number>(...TEXTS, 10, 5);
const boundArb = fc.oneof(fc.constantFrom<number | string>(...NUMBERS), fc.constantFrom<number | string>(...DATES));

/** One condition on a column, with the given operator. */
const leafArb: fc.Arbitrary<WhereCondition> = fc.oneof(
  fc.record({ column: columnArb, equals: textArb, caseSensitive: caseArb }),
  fc.record({ column: columnArb, in: fc.array(textArb, { minLength: 1, maxLength: 3 }), caseSensitive: caseArb }),
  fc.record({ column: columnArb, notIn: fc.array(textArb, { minLength: 1, maxLength: 3 }), caseSensitive: caseArb }),
  fc.record({ column: columnArb, notBlank: fc.constant(true as const) }),
  fc.record({ column: columnArb, matches: fc.constantFrom("^c", "a", "\\d", "^$", "é$", "^\\d{4}-"), caseSensitive: caseArb }),
  fc.record({ column: columnArb, op: fc.constantFrom("gt", "gte", "lt", "lte"), bound: boundArb }).map(({ column, op, bound }) => ({ column, [op]: bound })),
).map((c) => Object.fromEntries(Object.entries(c).filter(([, v]) => v !== undefined)) as WhereCondition);

const treeArb = fc.letrec<{ tree: WhereCondition }>((tie) => ({
  tree: fc.oneof({ depthSize: "small", withCrossShrink: true }, leafArb, fc.record({ any: fc.array(tie("tree"), { minLength: 1, maxLength: 3 }) })),
})).tree;

const countryArb = fc.constantFrom("US", "GB");

/** One leaf, evaluated alone by the filter. */
function leafPasses(c: WhereCondition, values: Record<string, string>, country: string): boolean {
  return compileWhere([c], 0, country).test(row(values)) === null;
}

/** The reference: a list is all of its conditions, an `any` one of its own, a leaf as the filter says. */
function reference(c: WhereCondition, values: Record<string, string>, country: string): boolean {
  return c.any !== undefined ? c.any.some((d) => reference(d, values, country)) : leafPasses(c, values, country);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

describe("properties", () => {
  it("a list is all of its conditions and an any one of its own; the failure names the first condition failed", () => {
    fc.assert(
      fc.property(fc.array(treeArb, { maxLength: 4 }), rowArb, countryArb, (where, values, country) => {
        const parsed = whereSchema.safeParse(where);
        fc.pre(parsed.success);
        const f = compileWhere(parsed.data, 0, country).test(row(values));
        const firstFailed = where.findIndex((c) => !reference(c, values, country));
        expect(f === null).toBe(firstFailed === -1);
        if (f !== null) {
          expect(f.condition.startsWith(`where[${firstFailed}]: `)).toBe(true);
          const cell = Object.hasOwn(values, f.column) ? (values[f.column as keyof typeof values] ?? "").trim() : "";
          expect(f.value).toBe(cell);
        }
      }),
      { numRuns: 400 },
    );
  });

  it("in is any of equals, notIn is not in, notBlank is not equals \"\", matches ^v$ is equals v, any([c]) is c", () => {
    fc.assert(
      fc.property(columnArb, fc.array(textArb, { minLength: 1, maxLength: 4 }), caseArb, rowArb, (column, list, caseSensitive, values) => {
        const cs = caseSensitive === undefined ? {} : { caseSensitive };
        const inList = leafPasses({ column, in: list, ...cs }, values, "US");
        expect(inList).toBe(list.some((v) => leafPasses({ column, equals: v, ...cs }, values, "US")));
        expect(leafPasses({ column, notIn: list, ...cs }, values, "US")).toBe(!inList);
        expect(leafPasses({ column, notBlank: true }, values, "US")).toBe(!leafPasses({ column, equals: "" }, values, "US"));
        const v = String(list[0]).trim();
        expect(leafPasses({ column, matches: `^${escapeRegExp(v)}$`, ...cs }, values, "US")).toBe(leafPasses({ column, equals: v, ...cs }, values, "US"));
        expect(leafPasses({ any: [{ column, in: list, ...cs }] }, values, "US")).toBe(inList);
      }),
      { numRuns: 400 },
    );
  });

  it("gte is gt or equal, lte is lt or equal, and a range is both of its bounds", () => {
    fc.assert(
      fc.property(columnArb, boundArb, boundArb, rowArb, countryArb, (column, b, other, values, country) => {
        const p = (c: Omit<WhereCondition, "column">) => leafPasses({ column, ...c }, values, country);
        const equal = p({ lte: b }) && !p({ lt: b });
        expect(p({ gte: b })).toBe(p({ gt: b }) || equal);
        expect(p({ lte: b })).toBe(p({ lt: b }) || (p({ gte: b }) && !p({ gt: b })));
        // A readable cell is exactly one of <, =, >.
        expect([p({ lt: b }), equal, p({ gt: b })].filter(Boolean).length).toBeLessThanOrEqual(1);
        const range = { gte: b, lt: other };
        const parsed = whereSchema.safeParse([{ column, ...range }]);
        if (parsed.success) expect(compileWhere(parsed.data, 0, country).test(row(values)) === null).toBe(p({ gte: b }) && p({ lt: other }));
      }),
      { numRuns: 400 },
    );
  });

  it("a number written in any of its forms compares as its value", () => {
    const formatted = fc
      .record({
        whole: fc.integer({ min: 0, max: 99_999_999 }),
        cents: fc.option(fc.integer({ min: 0, max: 99 }), { nil: undefined }),
        negative: fc.boolean(),
        group: fc.constantFrom("", ",", " ", "\u00a0"),
        currency: fc.constantFrom("", "$", "€", "£"),
        currencyAfter: fc.boolean(),
        percent: fc.boolean(),
        pad: fc.constantFrom("", " ", "  "),
      })
      .map((f) => {
        const digits = String(f.whole).replace(/\B(?=(\d{3})+(?!\d))/g, f.group) + (f.cents === undefined ? "" : `.${String(f.cents).padStart(2, "0")}`);
        const value = (f.negative ? -1 : 1) * Number(`${f.whole}${f.cents === undefined ? "" : `.${String(f.cents).padStart(2, "0")}`}`);
        const sign = f.negative ? "-" : "";
        const tail = f.percent ? "%" : f.currencyAfter && f.currency ? ` ${f.currency}` : "";
        const head = f.currencyAfter || f.percent ? sign : `${sign}${f.currency}`;
        return { cell: `${f.pad}${head}${digits}${tail}${f.pad}`, value };
      });
    fc.assert(
      fc.property(formatted, fc.oneof(fc.integer({ min: -100_000_000, max: 100_000_000 }), fc.double({ min: -1e8, max: 1e8, noNaN: true })), ({ cell, value }, b) => {
        expect(readNumber(cell.trim())).toEqual({ ok: true, value: value === 0 ? expect.anything() : value });
        expect(passes([{ column: "N", gt: b }], { N: cell })).toBe(value > b);
        expect(passes([{ column: "N", gte: b }], { N: cell })).toBe(value >= b);
        expect(passes([{ column: "N", lt: b }], { N: cell })).toBe(value < b);
        expect(passes([{ column: "N", lte: b }], { N: cell })).toBe(value <= b);
        expect(passes([{ column: "N", gte: value, lte: value }], { N: cell })).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it("a date written in any of its forms compares as its calendar date; an ambiguous slash date reads by country", () => {
    const dateArb = fc.date({ min: new Date(Date.UTC(1975, 0, 1)), max: new Date(Date.UTC(2200, 11, 31)), noInvalidDate: true }).map((d) => ({ y: d.getUTCFullYear(), m: d.getUTCMonth() + 1, d: d.getUTCDate(), ms: d.getTime() }));
    const iso = (y: number, m: number, d: number) => `${String(y).padStart(4, "0")}-${String(m).padStart(2, "0")}-${String(d).padStart(2, "0")}`;
    const dayOf = (y: number, m: number, d: number) => Date.UTC(y, m - 1, d) / DAY_MS;
    fc.assert(
      fc.property(dateArb, dateArb, fc.constantFrom("US", "CA", "GB", "DE"), fc.constantFrom("iso", "iso-time", "epoch", "slash", "slash-other"), (date, boundDate, country, form) => {
        const monthFirst = slashDateOrder(country) === "month-first";
        const time = date.ms - Math.floor(date.ms / DAY_MS) * DAY_MS;
        const hh = Math.floor(time / 3_600_000);
        const mm = Math.floor(time / 60_000) % 60;
        let cell: string;
        let read = { y: date.y, m: date.m, d: date.d };
        if (form === "iso") cell = iso(date.y, date.m, date.d);
        else if (form === "iso-time") cell = `${iso(date.y, date.m, date.d)}T${String(hh).padStart(2, "0")}:${String(mm).padStart(2, "0")}:00${["Z", "+09:00", "-05:00"][date.d % 3]}`;
        else if (form === "epoch") cell = String(date.ms);
        else {
          const inOrder = form === "slash" ? monthFirst : !monthFirst;
          cell = inOrder ? `${date.m}/${date.d}/${date.y}` : `${date.d}/${date.m}/${date.y}`;
          // Written in the other order it reads back swapped whenever the swapped reading is a date too.
          if (form === "slash-other" && date.d <= 12) read = { y: date.y, m: date.d, d: date.m };
        }
        const day = dayOf(read.y, read.m, read.d);
        const bound = iso(boundDate.y, boundDate.m, boundDate.d);
        const b = dayOf(boundDate.y, boundDate.m, boundDate.d);
        expect(passes([{ column: "D", lt: bound }], { D: cell }, country)).toBe(day < b);
        expect(passes([{ column: "D", gte: bound }], { D: cell }, country)).toBe(day >= b);
        expect(passes([{ column: "D", gte: iso(read.y, read.m, read.d), lte: iso(read.y, read.m, read.d) }], { D: cell }, country)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});

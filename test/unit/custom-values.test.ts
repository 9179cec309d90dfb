import { describe, expect, it } from "vitest";
import { convertCustomValue, customFieldTypes, type CustomFieldType } from "../../src/plan/custom-values.js";

const US = { defaultCountry: "US" };
const GB = { defaultCountry: "GB" };
const CA = { defaultCountry: "CA" };

const convert = (raw: string, type: CustomFieldType, opts: { defaultCountry: string; multiSelectSeparator?: string } = US) =>
  convertCustomValue(raw, type, opts);

describe("convertCustomValue: boolean", () => {
  it.each([
    ["true", true],
    ["TRUE", true],
    ["yes", true],
    ["Y", true],
    ["1", true],
    ["checked", true],
    ["x", true],
    ["X", true],
    ["false", false],
    ["False", false],
    ["no", false],
    ["n", false],
    ["0", false],
    ["Unchecked", false],
  ])("%j → %j", (raw, value) => {
    expect(convert(raw, "boolean")).toEqual({ ok: true, value });
  });

  it.each(["maybe", "2", "on", "t", "yes!", "xx"])("%j is refused", (raw) => {
    expect(convert(raw, "boolean")).toEqual({
      ok: false,
      reason: "expected true/false, yes/no, y/n, 1/0, checked/unchecked or x",
    });
  });
});

describe("convertCustomValue: number", () => {
  it.each([
    ["1234", 1234],
    ["1,234.50", 1234.5],
    ["1,234,567.5", 1234567.5],
    ["-3", -3],
    ["+3", 3],
    ["1e3", 1000],
    ["2.5E-2", 0.025],
    ["0.5", 0.5],
    [".5", 0.5],
    ["-0", 0],
    ["007", 7],
  ])("%j → %j", (raw, value) => {
    expect(convert(raw, "number")).toEqual({ ok: true, value });
  });

  it.each(["12abc", "1,23", "1,2345", ",123", "1 234", "$5", "1.234,50", "--1", "e3", "1e", "NaN", "Infinity", "0x10"])(
    "%j is refused",
    (raw) => {
      expect(convert(raw, "number")).toEqual({
        ok: false,
        reason: "expected digits with optional ',' thousands groups, a '.' fraction and an exponent",
      });
    },
  );

  it("refuses a number too large to be finite", () => {
    expect(convert("1e400", "number")).toEqual({ ok: false, reason: "it is too large for a number" });
  });
});

describe("convertCustomValue: date", () => {
  it.each([
    ["2024-01-31", US, "2024-01-31T00:00:00.000Z"],
    ["2024-02-29", GB, "2024-02-29T00:00:00.000Z"],
    ["2024-01-31T10:20:30Z", US, "2024-01-31T10:20:30.000Z"],
    ["2024-01-31T10:20:30.123456Z", US, "2024-01-31T10:20:30.123Z"],
    ["2024-01-31T10:20:30+02:00", US, "2024-01-31T08:20:30.000Z"],
    ["2024-01-31T23:30:00-0130", US, "2024-02-01T01:00:00.000Z"],
    ["2024-01-31T10:20", US, "2024-01-31T10:20:00.000Z"],
    ["2024-01-31 10:20:30", GB, "2024-01-31T10:20:30.000Z"],
    ["0099-03-01", US, "0099-03-01T00:00:00.000Z"],
    // An offset that keeps the instant inside the years 0000–9999.
    ["0000-01-01T01:00:00+01:00", US, "0000-01-01T00:00:00.000Z"],
    ["9999-12-31T22:59:59.999-01:00", US, "9999-12-31T23:59:59.999Z"],
    // Slashed dates: month first for US-style countries, day first elsewhere.
    ["01/02/2024", US, "2024-01-02T00:00:00.000Z"],
    ["01/02/2024", GB, "2024-02-01T00:00:00.000Z"],
    ["1/31/2024", US, "2024-01-31T00:00:00.000Z"],
    ["31/1/2024", GB, "2024-01-31T00:00:00.000Z"],
    ["01/02/2024", { defaultCountry: "PH" }, "2024-01-02T00:00:00.000Z"],
    ["01/02/2024", { defaultCountry: "DE" }, "2024-02-01T00:00:00.000Z"],
    ["31.12.2024", { defaultCountry: "DE" }, "2024-12-31T00:00:00.000Z"],
    ["31-12-2024", { defaultCountry: "NL" }, "2024-12-31T00:00:00.000Z"],
    ["1/5/2024 13:45", US, "2024-01-05T13:45:00.000Z"],
    ["1/5/2024 13:45:10", GB, "2024-05-01T13:45:10.000Z"],
    // In Canada only slashed dates that read one way are accepted.
    ["31/01/2024", CA, "2024-01-31T00:00:00.000Z"],
    ["01/31/2024", CA, "2024-01-31T00:00:00.000Z"],
    ["05/05/2024", CA, "2024-05-05T00:00:00.000Z"],
    // Google Sheets serial numbers (days since 1899-12-30).
    ["45322", US, "2024-01-31T00:00:00.000Z"],
    ["45322.5", GB, "2024-01-31T12:00:00.000Z"],
    ["45322.572916666664", US, "2024-01-31T13:45:00.000Z"],
    ["1", US, "1899-12-31T00:00:00.000Z"],
    ["60", US, "1900-02-28T00:00:00.000Z"],
    ["2958465", US, "9999-12-31T00:00:00.000Z"],
    ["10000", US, "1927-05-18T00:00:00.000Z"],
    ["2024.5", US, "1905-07-16T12:00:00.000Z"],
  ])("%j (%o) → %j", (raw, opts, value) => {
    expect(convert(raw, "date", opts)).toEqual({ ok: true, value });
  });

  it.each([
    ["2024-02-30", US, "February 2024 has no day 30"],
    ["2023-02-29", US, "February 2023 has no day 29"],
    ["2024-13-01", US, "there is no month 13"],
    ["2024-04-31", GB, "April 2024 has no day 31"],
    ["02/30/2024", US, "February 2024 has no day 30"],
    ["30/02/2024", GB, "February 2024 has no day 30"],
    ["13/01/2024", US, "there is no month 13"],
    ["01/13/2024", GB, "there is no month 13"],
    ["2024-01-31T24:00:00Z", US, "the time of day is out of range"],
    ["2024-01-31T10:00:00+25:00", US, "the UTC offset is out of range"],
    // Sent as they are, these would be -000001-12-31T23:59:59.999Z and +010000-01-01T00:00:00.000Z.
    ["0000-01-01T01:02:59.999+01:03", US, "in UTC it falls outside the years 0000 to 9999"],
    ["9999-12-31T16:38:00.000-07:22", GB, "in UTC it falls outside the years 0000 to 9999"],
    ["01/02/2024", CA, "in CA it could be day/month or month/day; write it as YYYY-MM-DD"],
    ["2024", US, "a bare four-digit number looks like a year; write a full date such as YYYY-MM-DD"],
    ["0", US, "a Google Sheets serial number must be between 1 and 2958465"],
    ["2958466", US, "a Google Sheets serial number must be between 1 and 2958465"],
    ["yesterday", US, "expected YYYY-MM-DD, an ISO 8601 date-time, MM/DD/YYYY or a Google Sheets serial number"],
    ["31 Jan 2024", GB, "expected YYYY-MM-DD, an ISO 8601 date-time, DD/MM/YYYY or a Google Sheets serial number"],
    [
      "1/2/24",
      CA,
      "expected YYYY-MM-DD, an ISO 8601 date-time, an unambiguous DD/MM/YYYY or MM/DD/YYYY or a Google Sheets serial number",
    ],
    ["-5", US, "expected YYYY-MM-DD, an ISO 8601 date-time, MM/DD/YYYY or a Google Sheets serial number"],
  ])("%j (%o) is refused: %s", (raw, opts, reason) => {
    expect(convert(raw, "date", opts)).toEqual({ ok: false, reason });
  });

  it("does not depend on the machine's time zone for a date-time without a zone", () => {
    const result = convert("2024-06-01T09:00:00", "date");
    expect(result).toEqual({ ok: true, value: "2024-06-01T09:00:00.000Z" });
  });
});

describe("convertCustomValue: multi-select", () => {
  it.each([
    ["a; b", undefined, ["a", "b"]],
    ["a, b", undefined, ["a", "b"]],
    ["Sales, EMEA; Support", undefined, ["Sales, EMEA", "Support"]],
    ["a;;b; ;a", undefined, ["a", "b"]],
    [" b , a , b ", undefined, ["b", "a"]],
    ["single", undefined, ["single"]],
    ["a|b, c|a", "|", ["a", "b, c"]],
    ["a; b", "|", ["a; b"]],
    ["A, a", undefined, ["A", "a"]],
    // A configured separator with spaces around it: the cell arrives trimmed, its trailing one too.
    ["a; b;", "; ", ["a", "b"]],
    ["Sales /", " / ", ["Sales"]],
    ["a  b", " ", ["a", "b"]],
  ])("%j split on %j → %j", (raw, separator, value) => {
    const opts = separator === undefined ? US : { defaultCountry: "US", multiSelectSeparator: separator };
    expect(convert(raw, "multi-select", opts)).toEqual({ ok: true, value });
  });

  it.each([
    [";", "it has no options between the ';' separators"],
    [", ,", "it has no options between the ',' separators"],
  ])("%j is refused", (raw, reason) => {
    expect(convert(raw, "multi-select")).toEqual({ ok: false, reason });
  });
});

describe("convertCustomValue: url", () => {
  it.each(["https://example.com", "http://example.com/a?b=c#d", "HTTPS://Example.com/Path", "https://例え.jp/"])(
    "%j is kept as written",
    (raw) => {
      expect(convert(raw, "url")).toEqual({ ok: true, value: raw });
    },
  );

  it.each([
    ["example.com", "expected an absolute URL such as https://example.com"],
    ["www.example.com/path", "expected an absolute URL such as https://example.com"],
    ["ftp://example.com", "only http and https URLs are accepted, not ftp"],
    ["mailto:a@example.com", "only http and https URLs are accepted, not mailto"],
    ["javascript:alert(1)", "only http and https URLs are accepted, not javascript"],
    ["https://exa mple.com", "a URL cannot contain spaces"],
    ["https://", "expected an absolute URL such as https://example.com"],
  ])("%j is refused: %s", (raw, reason) => {
    expect(convert(raw, "url")).toEqual({ ok: false, reason });
  });
});

describe("convertCustomValue: address and string", () => {
  it.each([
    ["string", "Trade show, 2024"],
    ["string", "0042"],
    ["address", "1 Main St\nSpringfield, IL 62701"],
  ] as const)("%s %j is kept as text", (type, raw) => {
    expect(convert(raw, type)).toEqual({ ok: true, value: raw });
  });
});

it("knows every Quo custom field type", () => {
  expect(customFieldTypes).toEqual(["address", "boolean", "date", "multi-select", "number", "string", "url"]);
});

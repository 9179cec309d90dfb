/** A1 notation of configured ranges: table-driven. */
import { describe, expect, it } from "vitest";
import { cellAddress, columnLetters, columnNumber, parseA1Range, requestRange, sheetOfResponseRange } from "../../connectors/google-sheets/a1-range.js";

describe("parseA1Range", () => {
  it.each([
    ["Sheet1", { sheet: "Sheet1", startRow: 1, startColumn: 1 }, "'Sheet1'"],
    ["My Sheet", { sheet: "My Sheet", startRow: 1, startColumn: 1 }, "'My Sheet'"],
    ["'It''s'", { sheet: "It's", startRow: 1, startColumn: 1 }, "'It''s'"],
    ["'Q1'", { sheet: "Q1", startRow: 1, startColumn: 1 }, "'Q1'"],
    ["Sheet1!A1:Z", { sheet: "Sheet1", startRow: 1, startColumn: 1, endColumn: 26, cells: "A1:Z" }, "'Sheet1'!A1:Z"],
    ["Sheet1!A5:F", { sheet: "Sheet1", startRow: 5, startColumn: 1, endColumn: 6, cells: "A5:F" }, "'Sheet1'!A5:F"],
    ["'My Sheet'!c3:zz", { sheet: "My Sheet", startRow: 3, startColumn: 3, endColumn: 702, cells: "C3:ZZ" }, "'My Sheet'!C3:ZZ"],
    ["Data!B:D", { sheet: "Data", startRow: 1, startColumn: 2, endColumn: 4, cells: "B:D" }, "'Data'!B:D"],
    ["Data!5:900", { sheet: "Data", startRow: 5, startColumn: 1, cells: "5:900" }, "'Data'!5:900"],
    ["A1:Z", { startRow: 1, startColumn: 1, endColumn: 26, cells: "A1:Z" }, "A1:Z"],
    ["Q1", { startRow: 1, startColumn: 17, endColumn: 17, cells: "Q1" }, "Q1"],
    ["  Contacts  ", { sheet: "Contacts", startRow: 1, startColumn: 1 }, "'Contacts'"],
  ])("%s", (text, parsed, request) => {
    const r = parseA1Range(text);
    expect(r).toEqual(parsed);
    expect(requestRange(r!)).toBe(request);
  });

  it.each(["", "'unterminated", "'a'b", "!A1", "Sheet1!A1:B2:C3", "Sheet1!A0", "Sheet1!$A1", "Sheet1!A1:"])("refuses %j", (text) => {
    expect(parseA1Range(text)).toBeUndefined();
  });
});

describe("columns and addresses", () => {
  it.each([
    [1, "A"],
    [26, "Z"],
    [27, "AA"],
    [52, "AZ"],
    [702, "ZZ"],
    [703, "AAA"],
  ])("%i ↔ %s", (n, letters) => {
    expect(columnLetters(n)).toBe(letters);
    expect(columnNumber(letters)).toBe(n);
  });

  it("quotes the sheet of a cell address", () => {
    expect(cellAddress("It's mine", 28, 7)).toBe("'It''s mine'!AB7");
  });

  it.each([
    ["Sheet1!A1:Z1000", "Sheet1"],
    ["'My Sheet'!A1:B2", "My Sheet"],
    ["'It''s'!A1", "It's"],
    ["A1:B2", undefined],
  ])("sheet of the response range %s", (text, sheet) => {
    expect(sheetOfResponseRange(text)).toBe(sheet);
  });
});

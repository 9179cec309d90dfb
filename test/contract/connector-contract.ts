/**
 * The connector contract suite (docs/architecture.md, "Module map"): what every tabular source must yield for the
 * same table, whatever the source is. A connector's test file calls `describeConnectorContract` with
 * a function that puts a table into its source (a file, an emulated sheet or CRM) and returns the
 * connector and config that read it back.
 *
 * Only what every source can honour is checked. Left to each connector's own tests: header rules
 * (trimming, empty or repeated names), blank records, row numbers around multi-line cells, cells
 * beyond the header, and errors.
 */
import { describe, expect, it } from "vitest";
import type { ConnectorContext, SourceConnector, SourceItem } from "../../connectors/types.js";

/** A source holding a table, ready to read; `cleanup` removes whatever was created for it. */
export interface ContractSource {
  connector: SourceConnector<any>;
  config: any;
  ctx: ConnectorContext;
  cleanup?: () => Promise<void>;
}

/**
 * Puts `table` into a fresh source. `table[0]` is the header, every later array one record, cells as
 * plain strings; a record may be shorter than the header (its last cells are empty).
 */
export type MakeSource = (table: string[][]) => Promise<ContractSource>;

/** Rows in the large-table case: enough to cross any page or chunk boundary of a source. */
const LARGE_TABLE_ROWS = 2_000;

const HEADER = ["id", "First Name", "Last Name", "Email"];

/** Named tables with no blank records and no multi-line cells, so row numbers are exact. */
const TABLES: { name: string; table: string[][] }[] = [
  {
    name: "a plain table",
    table: [HEADER, ["1", "Ann", "Lee", "ann@example.com"], ["2", "Bob", "Ray", "bob@example.com"], ["3", "Cy", "Oh", "cy@example.com"]],
  },
  {
    name: "unicode in names and values",
    table: [
      ["id", "Prénom", "名前", "Notes"],
      ["1", "Zoë", "山田 太郎", "🎉 party – “quoted” ‘too’"],
      ["2", "Łukasz", "Ærøskøbing", "مرحبا بالعالم"],
      ["3", "José", "Ñandú", "e\u0301 (combining accent), \u00a0non-breaking space"],
    ],
  },
  {
    name: "commas and quotes inside cells",
    table: [
      HEADER,
      ["1", "Acme, Inc.", 'The "Best" Co', 'a,"b",c'],
      ["2", '"', ",", '""'],
      ["3", '"quoted at both ends"', "trailing comma,", ",leading comma"],
    ],
  },
  {
    name: "leading and trailing spaces, kept raw",
    table: [HEADER, ["1", "  Ann", "Lee  ", " ann@example.com "], ["2", "   ", "Ray", "\tbob@example.com"]],
  },
  {
    name: "empty cells and records shorter than the header",
    table: [HEADER, ["1", "", "Lee", ""], ["2", "Bob"], ["3"], ["4", "Di", "Ng", "di@example.com"]],
  },
  { name: "a header with no records", table: [HEADER] },
  {
    name: `${LARGE_TABLE_ROWS.toLocaleString("en-US")} records`,
    table: [
      HEADER,
      ...Array.from({ length: LARGE_TABLE_ROWS }, (_, i) => [String(i + 1), `First ${i}`, `Last, ${i}`, `user${i}@example.com`]),
    ],
  },
];

/**
 * Opt-in differences of a source from a spreadsheet. `firstRow` is the `row` of the first record:
 * 2 (default) for tables, where the header is row 1; 1 for a CRM, whose `row` is the record's
 * ordinal in the listing (src/model.ts, `SourceRow.row`).
 */
export interface ContractOptions {
  firstRow?: number;
}

/** The spreadsheet row of a table's first record: its header is row 1. */
const SPREADSHEET_FIRST_ROW = 2;

/** What a connector must yield for `table`: the header, then each record at its spreadsheet row (or from `firstRow`). */
export function expectedItems(table: readonly string[][], firstRow = SPREADSHEET_FIRST_ROW): SourceItem[] {
  const [header = [], ...records] = table;
  return [
    { type: "header", columns: [...header] },
    ...records.map((cells, index): SourceItem => ({
      type: "row",
      row: { row: index + firstRow, values: Object.fromEntries(header.map((column, c) => [column, cells[c] ?? ""])) },
    })),
  ];
}

/** Everything one read yields, in order. */
export async function readItems(source: ContractSource): Promise<SourceItem[]> {
  const items: SourceItem[] = [];
  for await (const item of source.connector.read(source.config, source.ctx)) items.push(item);
  return items;
}

async function withSource<T>(makeSource: MakeSource, table: string[][], use: (source: ContractSource) => Promise<T>): Promise<T> {
  const source = await makeSource(table);
  try {
    return await use(source);
  } finally {
    await source.cleanup?.();
  }
}

/**
 * Registers the contract tests for one connector under `describe(name)`. Each test builds its own
 * source with `makeSource` and cleans it up, so sources never share state.
 */
export function describeConnectorContract(name: string, makeSource: MakeSource, options: ContractOptions = {}): void {
  const firstRow = options.firstRow ?? SPREADSHEET_FIRST_ROW;
  describe(`connector contract: ${name}`, () => {
    it.each(TABLES)("yields the header, then every record at its row with each column's text: $name", async ({ table }) => {
      const items = await withSource(makeSource, table, readItems);
      // One comparison of the whole snapshot: header first and only once, rows in order, values for
      // exactly the header's columns (missing cells ""), no `problem` on any row.
      expect(items).toEqual(expectedItems(table, firstRow));
      for (const item of items.slice(1)) {
        if (item.type === "row") expect(item.row.problem).toBeUndefined();
      }
    });

    it("keeps line breaks inside a cell, and rows stay in order", async () => {
      const table = [HEADER, ["1", "Ann", "Lee", "line one\nline two"], ["2", "Bob", "multi\nline\nname", ""], ["3", "Cy", "Oh", "x"]];
      const items = await withSource(makeSource, table, readItems);
      expect(items.map((item) => (item.type === "row" ? item.row.values : item))).toEqual(
        expectedItems(table).map((item) => (item.type === "row" ? item.row.values : item)),
      );
      // How many rows a multi-line cell takes differs between sources; the order does not.
      const rows = items.flatMap((item) => (item.type === "row" ? [item.row.row] : []));
      expect(rows[0]).toBe(firstRow);
      expect(rows).toEqual([...rows].sort((a, b) => a - b));
      expect(new Set(rows).size).toBe(rows.length);
    });

    it("reads the same snapshot twice", async () => {
      const table = TABLES[0]!.table;
      const [first, second] = await withSource(makeSource, table, async (source) => [await readItems(source), await readItems(source)]);
      expect(second).toEqual(first);
      expect(first).toEqual(expectedItems(table, firstRow));
    });

    it("check reports a readable source as ok", async () => {
      const result = await withSource(makeSource, TABLES[0]!.table, (source) => source.connector.check(source.config, source.ctx));
      expect(result).toEqual({ ok: true });
    });
  });
}

/**
 * The CSV connector against the shared contract, once per dialect a user is likely to hand it: the
 * table is written to a real temp file with RFC 4180 quoting.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import iconv from "iconv-lite";
import { csvConnector } from "../../connectors/csv/index.js";
import { describeConnectorContract, type MakeSource } from "./connector-contract.js";

interface Dialect {
  name: string;
  delimiter: string;
  lineEnding: string;
  encoding: string;
  bom: boolean;
}

const DIALECTS: Dialect[] = [
  { name: "csv (comma, LF, UTF-8)", delimiter: ",", lineEnding: "\n", encoding: "utf8", bom: false },
  { name: "csv (semicolon, CRLF, UTF-8 with BOM)", delimiter: ";", lineEnding: "\r\n", encoding: "utf8", bom: true },
  { name: "csv (tab, CRLF, UTF-16LE with BOM)", delimiter: "\t", lineEnding: "\r\n", encoding: "utf16le", bom: true },
];

/** A cell as RFC 4180 writes it: quoted, with quotes doubled, when it holds a special character. */
function quoteCell(cell: string, delimiter: string): string {
  const special = cell.includes(delimiter) || cell.includes('"') || cell.includes("\n") || cell.includes("\r");
  return special ? `"${cell.replaceAll('"', '""')}"` : cell;
}

function toCsv(table: string[][], dialect: Dialect): Buffer {
  const text = table.map((cells) => cells.map((cell) => quoteCell(cell, dialect.delimiter)).join(dialect.delimiter)).join(dialect.lineEnding);
  return iconv.encode(text + dialect.lineEnding, dialect.encoding, { addBOM: dialect.bom });
}

function csvSource(dialect: Dialect): MakeSource {
  return async (table) => {
    const dir = mkdtempSync(path.join(tmpdir(), "quo-sync-csv-contract-"));
    writeFileSync(path.join(dir, "table.csv"), toCsv(table, dialect));
    return {
      connector: csvConnector,
      config: { type: "csv", path: "table.csv", delimiter: dialect.delimiter, encoding: dialect.encoding },
      ctx: { baseDir: dir, env: {}, wanted: [] },
      cleanup: async () => rmSync(dir, { recursive: true, force: true }),
    };
  };
}

for (const dialect of DIALECTS) describeConnectorContract(dialect.name, csvSource(dialect));

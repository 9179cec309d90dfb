/**
 * The config file `quo-sync init` writes, from the source it read and the mapping chosen, and what
 * it prints around it: the `--source` argument, the sync's name and schedule, the path to the
 * shipped JSON Schema, a summary of the mapping and the commands to run next. Pure: paths are
 * computed, never touched.
 */
import path from "node:path";
import { ConfigError } from "../errors.js";
import type { MappingProposal, NameProposal, SourceColumn } from "./propose-mapping.js";

/** The source named by `--source`: `csv:PATH`, `google-sheets:ID[!RANGE]` or `hubspot`. */
export type SourceSpec = { type: "csv"; path: string } | { type: "google-sheets"; spreadsheetId: string; range?: string } | { type: "hubspot" };

/** A mapping as it goes into the config: a proposal, possibly changed by the person answering. */
export type Mapping = Omit<MappingProposal, "notes">;

/** Everything the written config says. */
export interface InitChoices {
  /** The sync's name (`syncs[0].name`). */
  syncName: string;
  /** `syncs[0].source` as it is written: paths relative to the config file's folder. */
  source: Record<string, unknown>;
  mapping: Mapping;
  defaultCountry: string;
  schedule?: string;
  /** `$schema`: the shipped JSON Schema, relative to the config file's folder. */
  schema?: string;
}

/** The id of a spreadsheet in its URL: docs.google.com/spreadsheets/d/<id>/edit (docs/google-sheets.md). */
const SHEET_URL_ID = /\/spreadsheets\/d\/([A-Za-z0-9_-]+)/;
/** A bare path that can only be meant as a CSV file. */
const CSV_FILE = /\.(csv|tsv|txt)$/i;

const SOURCE_FORMS = "csv:PATH, google-sheets:SPREADSHEET_ID[!RANGE] or hubspot";

/**
 * Parses `--source`. A spreadsheet may be given by its URL, and a path ending in .csv, .tsv or .txt
 * without `csv:`. Throws `ConfigError` saying which forms are accepted.
 */
export function parseSourceSpec(text: string): SourceSpec {
  const t = text.trim();
  const colon = t.indexOf(":");
  const type = colon < 0 ? t.toLowerCase() : t.slice(0, colon).toLowerCase();
  const rest = colon < 0 ? "" : t.slice(colon + 1).trim();
  if (type === "hubspot" && rest === "") return { type: "hubspot" };
  if (type === "csv") {
    if (rest === "") throw new ConfigError(`--source ${text}: name the file, e.g. csv:./contacts.csv`);
    return { type: "csv", path: rest };
  }
  if (type === "google-sheets") {
    const url = SHEET_URL_ID.exec(rest);
    if (url) return { type: "google-sheets", spreadsheetId: url[1] as string };
    const bang = rest.indexOf("!");
    const spreadsheetId = (bang < 0 ? rest : rest.slice(0, bang)).trim();
    const range = bang < 0 ? "" : rest.slice(bang + 1).trim();
    if (spreadsheetId === "") throw new ConfigError(`--source ${text}: name the spreadsheet, e.g. google-sheets:1AbC…xyz!Leads (the id in the sheet's URL)`);
    return { type: "google-sheets", spreadsheetId, ...(range ? { range } : {}) };
  }
  if (CSV_FILE.test(t)) return { type: "csv", path: t };
  throw new ConfigError(`--source ${text}: use ${SOURCE_FORMS}`);
}

/** The sync name rule of the config (src/config.ts): 1–40 letters, digits, '.', '_' or '-'. */
const SYNC_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$/;

/** A sync name for the source: the CSV file's name ("contacts"), else "sheet" or "hubspot". Never throws. */
export function syncNameFor(spec: SourceSpec): string {
  if (spec.type === "hubspot") return "hubspot";
  if (spec.type === "google-sheets") return "sheet";
  const base = path
    .basename(spec.path.replaceAll("\\", "/"))
    .replace(/\.[^.]*$/, "")
    .normalize("NFKD")
    .replace(/\p{M}/gu, "")
    .toLowerCase()
    .replace(/[^a-z0-9_.-]+/g, "-")
    .replace(/^[^a-z0-9]+|-+$/g, "")
    .slice(0, 40);
  return SYNC_NAME.test(base) ? base : "contacts";
}

/**
 * The proposed `schedule`: hourly for a file, whose exports change a few times a day; every 15
 * minutes for a Sheet or HubSpot, people's live data (one read of a Sheet is far inside Google's
 * 60 reads a minute; a full HubSpot listing of 10,000 contacts is 100 requests, under 1 % of the
 * smallest daily limit in docs/hubspot.md).
 */
export function scheduleFor(spec: SourceSpec): string {
  return spec.type === "csv" ? "0 * * * *" : "*/15 * * * *";
}

/** `to` relative to `fromDir` with '/' separators; undefined when no relative path exists (another drive). */
function relativePath(fromDir: string, to: string): string | undefined {
  const rel = path.relative(fromDir, to);
  if (path.isAbsolute(rel)) return undefined;
  return rel.split(path.sep).join("/");
}

/**
 * The CSV path as the config should hold it: relative to the config file's folder (src/config.ts:
 * paths in a config resolve against it), starting with "./" or "../"; absolute when there is no
 * relative path. Never throws.
 */
export function configRelativePath(configDir: string, file: string): string {
  const rel = relativePath(configDir, file);
  if (rel === undefined) return file;
  return rel.startsWith("../") || rel === ".." ? rel : `./${rel}`;
}

/**
 * `$schema` for a config in `configDir`: the shipped schema file relative to it, so an editor
 * finds it offline; undefined when the schema was not found or no relative path exists.
 */
export function schemaReference(configDir: string, schemaFile: string | undefined): string | undefined {
  return schemaFile === undefined ? undefined : relativePath(configDir, schemaFile);
}

/** `firstName` and `lastName` for a name proposal: the columns, or both parts of one full-name column. */
export function renderNameFields(name: NameProposal): Record<string, unknown> {
  if (name.form === "parts") return { ...(name.first !== undefined ? { firstName: name.first } : {}), ...(name.last !== undefined ? { lastName: name.last } : {}) };
  return { firstName: { split: name.column, part: "first" }, lastName: { split: name.column, part: "last" } };
}

/** What a person should know about a full-name column, or undefined when the name is in parts. */
export function fullNameNote(name: NameProposal): string | undefined {
  if (name.form === "parts") return undefined;
  return `'${name.column}' holds whole names: firstName and lastName are split from it ("Dr. Anne-Marie van der Berg" gives "Anne-Marie" and "van der Berg").`;
}

function labelled(list: readonly { label: string; column: string }[]): Record<string, string> {
  return Object.fromEntries(list.map((l) => [l.label, l.column]));
}

/**
 * The config as JSON data: one sync, `deletes: "never"` (nothing in Quo is deleted until a person
 * decides to mirror), no `match`, the state beside the config. Never throws; the caller validates
 * it with the config schema.
 */
export function initConfig(c: InitChoices): Record<string, unknown> {
  const m = c.mapping;
  const customFields = Object.fromEntries(m.customFields.flatMap((cf) => (cf.column !== undefined ? [[cf.configName, cf.column]] : [])));
  return {
    ...(c.schema !== undefined ? { $schema: c.schema } : {}),
    state: "./quo-sync.db",
    syncs: [
      {
        name: c.syncName,
        source: c.source,
        ...(m.key !== undefined ? { key: m.key } : {}),
        fields: {
          ...renderNameFields(m.name),
          ...(m.company !== undefined ? { company: m.company } : {}),
          ...(m.role !== undefined ? { role: m.role } : {}),
          phoneNumbers: labelled(m.phoneNumbers),
          emails: labelled(m.emails),
          customFields,
        },
        defaultCountry: c.defaultCountry,
        deletes: "never",
        ...(c.schedule !== undefined ? { schedule: c.schedule } : {}),
      },
    ],
  };
}

/** The mapping, one line per field (`  phoneNumbers.work  ← Work Phone`), then the columns left out. */
export function describeMapping(m: Mapping, columns: readonly SourceColumn[]): string[] {
  const rows: [string, string][] = [];
  if (m.key !== undefined) rows.push(["key", m.key]);
  if (m.name.form === "full") {
    rows.push(["firstName", `split('${m.name.column}', first)`]);
    rows.push(["lastName", `split('${m.name.column}', last)`]);
  } else {
    if (m.name.first !== undefined) rows.push(["firstName", m.name.first]);
    if (m.name.last !== undefined) rows.push(["lastName", m.name.last]);
  }
  if (m.company !== undefined) rows.push(["company", m.company]);
  if (m.role !== undefined) rows.push(["role", m.role]);
  for (const p of m.phoneNumbers) rows.push([`phoneNumbers.${p.label}`, p.column]);
  for (const e of m.emails) rows.push([`emails.${e.label}`, e.column]);
  for (const cf of m.customFields) if (cf.column !== undefined) rows.push([`customFields["${cf.configName}"]`, cf.column]);
  const width = Math.max(...rows.map(([f]) => f.length));
  const lines = rows.map(([field, column]) => `  ${field.padEnd(width)}  ← ${column}`);
  const mapped = new Set(mappedColumnsOf(m));
  const left = columns.filter((c) => !mapped.has(c.name)).map((c) => c.name);
  if (left.length) lines.push(`  not mapped: ${left.join(", ")}`);
  return lines;
}

/** Every column a mapping reads, the key first. Never throws. */
export function mappedColumnsOf(m: Mapping): string[] {
  const name = m.name.form === "full" ? [m.name.column] : [m.name.first, m.name.last];
  return [m.key, ...name, m.company, m.role, ...m.phoneNumbers.map((p) => p.column), ...m.emails.map((e) => e.column), ...m.customFields.map((c) => c.column)].filter(
    (c): c is string => c !== undefined,
  );
}

/** A path as a shell argument: quoted when it holds anything but plain characters. */
export function shellArgument(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replaceAll("'", `'\\''`)}'`;
}

/**
 * What to run after `init`: `check`, `plan`, then `sync`, each with `--config` (the path as the
 * person would type it from here), and first the Quo key when none is set.
 */
export function nextSteps(configArgument: string, opts: { quoKeySet: boolean }): string[] {
  const config = `--config ${shellArgument(configArgument)}`;
  return [
    "Next:",
    ...(opts.quoKeySet ? [] : ["  set QUO_API_KEY (or MATON_API_KEY) in the environment or in .env"]),
    `  quo-sync check ${config}    # can the source be read, does Quo accept the key?`,
    `  quo-sync plan ${config}     # what the first sync would do; writes nothing`,
    `  quo-sync sync ${config}     # do it`,
  ];
}

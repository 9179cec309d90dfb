/**
 * The questions `quo-sync init` asks on a terminal, one per choice, each with the proposal as its
 * default: Enter takes it, a column's name or number picks another, "-" or "none" leaves the field
 * out. The dialogue goes through a `Dialogue` (a terminal in the command, a script in the tests),
 * so this module does no I/O of its own.
 */
import { getCountries } from "libphonenumber-js";
import { validate as validCron } from "node-cron";
import { closest } from "../closest-word.js";
import { fullNameNote, type Mapping } from "./init-config.js";
import { suggestLabel, type LabelledColumn, type MappingProposal, type NameProposal, type SourceColumn } from "./propose-mapping.js";

/** How the questions reach a person. */
export interface Dialogue {
  /** Shows `prompt` and resolves with the line the person typed, without its line ending. */
  ask(prompt: string): Promise<string>;
  /** Shows one line. */
  say(line: string): void;
}

/** What the dialogue settles. */
export interface ChosenSettings {
  mapping: Mapping;
  defaultCountry: string;
  schedule?: string;
}

/** An answer to "which column?". */
export type ColumnAnswer = { kind: "keep" } | { kind: "none" } | { kind: "column"; column: string } | { kind: "invalid"; message: string };

/** Answers that leave a field out. */
const NONE_ANSWERS = new Set(["-", "none"]);

const HOW_TO_PICK = "type a column's name or number";
const HOW_TO_ANSWER = `${HOW_TO_PICK}, Enter for the proposal, or - for none`;

/**
 * Reads an answer to "which column?": empty keeps the proposal; a column's exact name picks it
 * (even a column named "none" or "3"); "-" or "none" leaves the field out; a number picks that
 * column of the numbered list; a name or HubSpot label in any case picks its column. Anything else
 * is `invalid`, with the closest column named. Never throws.
 */
export function parseColumnAnswer(answer: string, columns: readonly SourceColumn[]): ColumnAnswer {
  const t = answer.trim();
  if (t === "") return { kind: "keep" };
  const exact = columns.find((c) => c.name === t);
  if (exact) return { kind: "column", column: exact.name };
  if (NONE_ANSWERS.has(t.toLowerCase())) return { kind: "none" };
  if (/^\d+$/.test(t)) {
    const n = Number(t);
    const c = columns[n - 1];
    if (n >= 1 && c) return { kind: "column", column: c.name };
    return { kind: "invalid", message: `there is no column ${t}: the columns are numbered 1 to ${columns.length}` };
  }
  const lower = t.toLowerCase();
  const matches = columns.filter((c) => c.name.toLowerCase() === lower || c.label?.toLowerCase() === lower);
  if (matches.length === 1) return { kind: "column", column: (matches[0] as SourceColumn).name };
  if (matches.length > 1) return { kind: "invalid", message: `'${t}' names ${matches.length} columns (${matches.map((c) => `'${c.name}'`).join(", ")}); type the exact name or its number` };
  const near = closest(t, columns.flatMap((c) => (c.label !== undefined ? [c.name, c.label] : [c.name])));
  return { kind: "invalid", message: `no column '${t}'${near !== undefined ? ` (did you mean '${near}'?)` : ""}; ${HOW_TO_ANSWER}` };
}

/** Reads a yes/no answer; empty is `byDefault`; undefined when it is neither. Never throws. */
export function parseYesNo(answer: string, byDefault: boolean): boolean | undefined {
  const t = answer.trim().toLowerCase();
  if (t === "") return byDefault;
  if (t === "y" || t === "yes") return true;
  if (t === "n" || t === "no") return false;
  return undefined;
}

const COUNTRIES = new Set<string>(getCountries());

/** Reads a country code (`gb` → `GB`); empty keeps `current`. Never throws. */
export function parseCountry(answer: string, current: string): { value: string } | { invalid: string } {
  const t = answer.trim().toUpperCase();
  if (t === "") return { value: current };
  return COUNTRIES.has(t) ? { value: t } : { invalid: `'${answer.trim()}' is not an ISO 3166-1 alpha-2 country code (e.g. US, GB, DE, FR)` };
}

/** Reads a cron expression as the daemon does (node-cron); empty keeps `current`, "-" or "none" means no schedule. Never throws. */
export function parseSchedule(answer: string, current: string | undefined): { value: string | undefined } | { invalid: string } {
  const t = answer.trim();
  if (t === "") return { value: current };
  if (NONE_ANSWERS.has(t.toLowerCase())) return { value: undefined };
  return validCron(t) ? { value: t } : { invalid: `'${t}' is not a cron expression (five fields, e.g. "0 * * * *" for hourly, "*/15 * * * *" for every 15 minutes)` };
}

/** Reads a phone or e-mail label; empty keeps `proposed`; a label already in use is refused. Never throws. */
export function parseLabel(answer: string, proposed: string, taken: readonly string[]): { value: string } | { invalid: string } {
  const t = answer.trim();
  const label = t === "" ? proposed : t;
  if (NONE_ANSWERS.has(label.toLowerCase())) return { invalid: "a label is a word such as mobile, work, home or other" };
  return taken.includes(label) ? { invalid: `the label '${label}' is already used; choose another` } : { value: label };
}

const shown = (column: string | undefined): string => (column === undefined ? "none" : column);

/** The numbered column list the answers' numbers refer to, in as many columns as fit 100 characters. */
export function numberedColumns(columns: readonly SourceColumn[]): string[] {
  const items = columns.map((c, i) => `${String(i + 1).padStart(String(columns.length).length)}  ${c.label !== undefined && c.label !== c.name ? `${c.name} (${c.label})` : c.name}`);
  const width = Math.max(0, ...items.map((s) => s.length)) + 3;
  const perLine = Math.max(1, Math.floor(100 / width));
  const lines: string[] = [];
  for (let i = 0; i < items.length; i += perLine) lines.push(`  ${items.slice(i, i + perLine).map((s) => s.padEnd(width)).join("").trimEnd()}`);
  return lines;
}

/** Asks until the answer parses; returns the parsed value. */
async function askUntil<T>(d: Dialogue, prompt: string, parse: (answer: string) => { value: T } | { invalid: string }): Promise<T> {
  for (;;) {
    const r = parse(await d.ask(prompt));
    if ("value" in r) return r.value;
    d.say(`  ${r.invalid}`);
  }
}

/**
 * Asks for a column; `required` refuses "none". `shownAs` is how the proposal is shown when it is
 * more than the column (a split). Returns the column chosen, or undefined for none.
 */
async function askColumn(d: Dialogue, columns: readonly SourceColumn[], field: string, proposed: string | undefined, required = false, shownAs?: string): Promise<string | undefined> {
  return askUntil(d, `${field} [${shownAs ?? shown(proposed)}]: `, (answer) => {
    const a = parseColumnAnswer(answer, columns);
    switch (a.kind) {
      case "keep":
        return proposed === undefined && required ? { invalid: `${field} is required: ${HOW_TO_PICK}` } : { value: proposed };
      case "none":
        return required ? { invalid: `${field} is required: ${HOW_TO_PICK}` } : { value: undefined };
      case "column":
        return { value: a.column };
      case "invalid":
        return { invalid: a.message };
    }
  });
}

/** Goes through a proposal's phone or e-mail columns, then offers to add more. */
async function askLabelled(d: Dialogue, columns: readonly SourceColumn[], group: "phoneNumbers" | "emails", proposed: readonly LabelledColumn[]): Promise<LabelledColumn[]> {
  const out: LabelledColumn[] = [];
  for (const p of proposed) {
    const column = await askColumn(d, columns, `${group}.${p.label}`, p.column);
    if (column !== undefined) out.push({ label: p.label, column });
  }
  const kind = group === "phoneNumbers" ? "phone" : "email";
  for (;;) {
    const column = await askColumn(d, columns, `another ${kind === "phone" ? "phone" : "e-mail"} column`, undefined);
    if (column === undefined) return out;
    const taken = out.map((l) => l.label);
    const proposedLabel = suggestLabel(kind, columns.find((c) => c.name === column) as SourceColumn, taken);
    const label = await askUntil(d, `  label for '${column}' [${proposedLabel}]: `, (answer) => parseLabel(answer, proposedLabel, taken));
    out.push({ label, column });
  }
}

/**
 * Asks about every choice of `proposal`, in the config's order: key, first and last name (a
 * full-name column's split proposed for both), company, role, each phone and e-mail column (then more of them), each workspace custom field, the default
 * country and the schedule. Re-asks after an answer it cannot use, saying why. Returns what was
 * chosen; rejects only when `d.ask` does (the person stopped the dialogue).
 */
export async function chooseMapping(
  d: Dialogue,
  columns: readonly SourceColumn[],
  proposal: MappingProposal,
  defaults: { defaultCountry: string; schedule?: string },
): Promise<ChosenSettings> {
  d.say("Columns:");
  for (const line of numberedColumns(columns)) d.say(line);
  d.say("");
  d.say(`For each field, Enter takes the proposal in [brackets]; ${HOW_TO_PICK} to pick another, or - for none.`);
  const key = await askColumn(d, columns, "key (unique, never changes)", proposal.key, true);

  const name = proposal.name;
  const note = fullNameNote(name);
  if (note !== undefined) d.say(`${note} Enter keeps the split; - for lastName puts the whole name in firstName.`);
  const split = (part: string) => (name.form === "full" ? `split('${name.column}', ${part})` : undefined);
  const first = await askColumn(d, columns, "firstName", name.form === "full" ? name.column : name.first, true, split("first"));
  // The full-name column kept for firstName keeps the split; lastName may then keep it too, take
  // another column, or be left out (the whole name, unsplit, goes to firstName).
  const splitKept = name.form === "full" && first === name.column;
  const last = await askColumn(d, columns, "lastName", splitKept ? name.column : name.form === "parts" ? name.last : undefined, false, splitKept ? split("last") : undefined);
  const chosenName: NameProposal =
    splitKept && last === name.column ? name : { form: "parts", ...(first !== undefined ? { first } : {}), ...(last !== undefined ? { last } : {}) };

  const company = await askColumn(d, columns, "company", proposal.company);
  const role = await askColumn(d, columns, "role", proposal.role);
  const phoneNumbers = await askLabelled(d, columns, "phoneNumbers", proposal.phoneNumbers);
  const emails = await askLabelled(d, columns, "emails", proposal.emails);
  const customFields = [];
  for (const cf of proposal.customFields) {
    const column = await askColumn(d, columns, `customFields["${cf.configName}"] (${cf.field.type})`, cf.column);
    customFields.push({ configName: cf.configName, field: cf.field, ...(column !== undefined ? { column } : {}) });
  }
  const defaultCountry = await askUntil(d, `defaultCountry, for numbers without +country code [${defaults.defaultCountry}]: `, (a) => parseCountry(a, defaults.defaultCountry));
  const schedule = await askUntil(d, `schedule, cron for quo-sync daemon (- for none) [${shown(defaults.schedule)}]: `, (a) => parseSchedule(a, defaults.schedule));

  return {
    mapping: {
      ...(key !== undefined ? { key } : {}),
      name: chosenName,
      ...(company !== undefined ? { company } : {}),
      ...(role !== undefined ? { role } : {}),
      phoneNumbers,
      emails,
      customFields,
    },
    defaultCountry,
    ...(schedule !== undefined ? { schedule } : {}),
  };
}

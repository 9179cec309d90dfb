/**
 * What one Quo field reads from a source row, before normalisation: a column's cell, that cell with
 * a default or a map, a constant, a template over several columns (src/plan/template.ts), or a part
 * of a column of whole names (src/plan/split-name.ts). Each field's source is compiled once per
 * sync (a map lowered to a lookup table, a template parsed) and then computed per row. Pure: it
 * never normalises phones, emails or custom values, and never decides what a blank does beyond
 * saying which `blanks` policy the field follows.
 */
import type { BlanksPolicy, FieldSource } from "../config.js";
import { splitName, type SplitName } from "./split-name.js";
import { compileTemplate, renderTemplate } from "./template.js";

/** A field's text for one row and the words saying where it came from, or why the row is rejected for it. */
export type FieldText = { ok: true; text: string; via: string } | { ok: false; value: string; reason: string };

/** A cell of the row being mapped, trimmed ('' when blank or absent). */
export type CellReader = (column: string) => string;

/** One field's compiled source. */
export interface CompiledSource {
  /** The columns it reads, each once (none for a constant). */
  columns: readonly string[];
  /** What a blank value does: the field's own `blanks`, else the sync's. */
  blanks: BlanksPolicy;
  /** Whether it is computed (anything but a plain column name), as `fields` and the mapping say. */
  computed: boolean;
  /** A plain column name's column (its trimmed cell is its text, said `via`), so a mapper can skip `read`. */
  plain?: string;
  /** How a plain column's text is said to come about: `column 'C'`. */
  via: string;
  /**
   * The field's text for a row (trimmed; '' when blank). `splits` caches the split of each
   * whole-name cell within one row. Never throws.
   */
  read(cell: CellReader, splits: Map<string, SplitName>): FieldText;
}

/** How a field's source is described in messages: `column 'Company'`, `template '{{A}} {{B}}'`, `first part of 'Full Name'`. Never throws. */
export function describeSource(source: FieldSource): string {
  if (typeof source === "string") return `column '${source}'`;
  if ("column" in source) return `column '${source.column}'`;
  if ("split" in source) return `${source.part} part of '${source.split}'`;
  if ("template" in source) return `template '${source.template}'`;
  return `value '${source.value}'`;
}

/**
 * The column a plain or `column` entry reads; for any other form, how it is computed (as
 * `describeSource` says it). Never throws.
 */
export function sourceColumn(source: FieldSource): string {
  if (typeof source === "string") return source;
  return "column" in source ? source.column : describeSource(source);
}

/**
 * Compiles one field's source for a sync whose own `blanks` is `syncBlanks`. Throws `Error` only
 * for a template the config would have refused (the config checks every template when loaded).
 */
export function compileSource(source: FieldSource, syncBlanks: BlanksPolicy): CompiledSource {
  if (typeof source === "string") {
    const via = `column '${source}'`;
    return { columns: [source], blanks: syncBlanks, computed: false, plain: source, via, read: (cell) => ({ ok: true, text: cell(source), via }) };
  }
  if ("split" in source) {
    const via = `${source.part} part of '${source.split}'`;
    return {
      columns: [source.split],
      blanks: syncBlanks,
      computed: true,
      via,
      read(cell, splits) {
        let parts = splits.get(source.split);
        if (parts === undefined) splits.set(source.split, (parts = splitName(cell(source.split))));
        return { ok: true, text: parts[source.part], via };
      },
    };
  }
  if ("value" in source) {
    const text = source.value.trim();
    return { columns: [], blanks: syncBlanks, computed: true, via: "value", read: () => ({ ok: true, text, via: "value" }) };
  }
  if ("template" in source) {
    const template = compileTemplate(source.template);
    const via = `template '${source.template}'`;
    return {
      columns: template.columns,
      blanks: source.blanks ?? syncBlanks,
      computed: true,
      via,
      read: (cell) => ({ ok: true, text: renderTemplate(template, cell), via }),
    };
  }
  return compileColumn(source, syncBlanks);
}

/** `{ column, default?, map?, strict? }`: the map lowered once to a table keyed by the trimmed, lower-cased value. */
function compileColumn(source: Extract<FieldSource, { column: string }>, syncBlanks: BlanksPolicy): CompiledSource {
  const { column } = source;
  const plain = `column '${column}'`;
  const table = source.map === undefined ? undefined : new Map(Object.entries(source.map).map(([from, to]) => [fold(from), { from, to: to.trim() }]));
  const listed = table ? [...table.values()].map((e) => `'${e.from}'`).join(", ") : "";
  const fallback = source.default?.trim() ?? "";
  return {
    columns: [column],
    blanks: source.blanks ?? syncBlanks,
    computed: source.default !== undefined || table !== undefined,
    via: plain,
    read(cell) {
      const value = cell(column);
      if (value === "") return fallback === "" ? { ok: true, text: "", via: plain } : { ok: true, text: fallback, via: `default (column '${column}' is blank)` };
      if (table === undefined) return { ok: true, text: value, via: plain };
      const hit = table.get(fold(value));
      if (hit) return { ok: true, text: hit.to, via: `map '${hit.from}' → '${hit.to}' (column '${column}')` };
      if (source.strict) return { ok: false, value, reason: `'${value}' is not in the map (column '${column}'); the values it maps are ${listed || "(none)"}` };
      return { ok: true, text: value, via: `${plain} (not in the map: sent as it is)` };
    },
  };
}

function fold(value: string): string {
  return value.trim().toLowerCase();
}

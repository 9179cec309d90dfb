/**
 * Wording shared by every human-readable renderer (table, markdown, html), so the three formats
 * say the same thing in the same words and cannot drift apart.
 */
import type { ErrorInfo } from "../model.js";
import type { Drift, FieldChange, FilteredRow, Rejection, RowMapping } from "../model.js";
import type { ReportChange, SyncReport } from "./report.js";

/**
 * How a report lists one entry: the five actions, a change Quo refused ("failed"), a source row
 * that could not be sent ("rejected"), a contact edited or deleted in the Quo app ("drift"), a
 * row the sync's `where` left out ("filtered") or its `mode` left alone ("skipped"), and one
 * source row of `plan --explain` ("explained"). The html report filters by these.
 */
export type EntryKind = "create" | "update" | "delete" | "link" | "unlink" | "failed" | "rejected" | "drift" | "skipped" | "filtered" | "explained";

/** Every kind, in the order reports list them. */
export const ENTRY_KINDS: readonly EntryKind[] = ["create", "update", "delete", "link", "unlink", "failed", "rejected", "drift", "skipped", "filtered", "explained"];

/** The count names of the JSON contract, in the order every renderer shows them. */
export const COUNT_NAMES = ["create", "update", "delete", "link", "unlink", "unchanged", "rejected", "failed", "skipped", "filtered"] as const;

/** A count name of the JSON contract. */
export type CountName = (typeof COUNT_NAMES)[number];

/**
 * The counts the headline names only when they are not zero: linking is opt-in (`match`), so a
 * sync that never links keeps the headline it always had.
 */
const COUNTS_SHOWN_WHEN_NONZERO = ["link", "unlink"] as const;

/**
 * The counts of the sync policies (`mode`, `where`), named in the headline, the counts tables and
 * one-line summaries only when not zero: a sync without them reads as it always did.
 */
export const POLICY_COUNTS = ["skipped", "filtered"] as const;

/** How many filtered rows the table and markdown list per `where` condition; JSON lists them all. */
export const FILTERED_SHOWN = 5;

/** Said wherever the table or markdown lists only the first filtered, skipped or explained rows. */
export const JSON_LISTS_ALL = "--format json lists them all";

/** How many write-back keys a summary names before it just counts the rest. */
export const MISSING_SHOWN = 10;

/** Shown for an absent value (a field a create or link fills, or a delete clears). */
export const ABSENT = "—";

/** One field of a change as people read it: the field name, and the value before and after. */
export interface FieldLine {
  field: string;
  from: string;
  to: string;
  /** Kept as a person set it in the Quo app (`onDrift: "skip"`): `from` the source's value, `to` Quo's. */
  kept?: boolean;
}

/**
 * The count names a counts table shows: every one of COUNT_NAMES but a policy count (skipped,
 * filtered) that is zero. A count missing from `counts` (a run recorded before it existed) is zero.
 */
export function shownCountNames(counts: Readonly<Partial<Record<CountName, number>>>): CountName[] {
  return COUNT_NAMES.filter((n) => !(POLICY_COUNTS as readonly string[]).includes(n) || (counts[n] ?? 0) > 0);
}

/**
 * Counts in one line, `create 2, update 1, …`, for run lists (status, the console): link, unlink,
 * skipped and filtered only when not zero. A count missing from `counts` reads 0.
 */
export function countsLine(counts: Readonly<Record<string, number>>): string {
  const optional: readonly string[] = [...COUNTS_SHOWN_WHEN_NONZERO, ...POLICY_COUNTS];
  return COUNT_NAMES.filter((n) => !optional.includes(n) || (counts[n] ?? 0) > 0)
    .map((n) => `${n} ${counts[n] ?? 0}`)
    .join(", ");
}

/** A field value as a person reads it: lists joined with "; ", absent as "—", empty text as `""`. */
export function showValue(v: unknown): string {
  if (v === null || v === undefined) return ABSENT;
  if (v === "") return '""';
  if (Array.isArray(v)) return v.map(showValue).join("; ");
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

/**
 * Rejections grouped by source row: a row with several fields at fault has one rejection per field,
 * next to each other (the plan lists them in row order). Renderers show a group as one rejected
 * row, and count groups, as the counts do.
 */
export function rejectedRows(rejected: readonly Rejection[]): Rejection[][] {
  const rows: Rejection[][] = [];
  for (const j of rejected) {
    const last = rows[rows.length - 1];
    if (last && last[0]!.row === j.row && last[0]!.key === j.key) last.push(j);
    else rows.push([j]);
  }
  return rows;
}

/** The filter kind of a change: a change Quo refused is listed as "failed", whatever its action. */
export function kindOf(c: ReportChange): EntryKind {
  return c.status === "failed" ? "failed" : c.action;
}

/**
 * The action, with what happened to it when that is not simply "done": failed or skipped in a real
 * run, refused when a guard refused the whole run (the plan is listed, nothing was written).
 */
export function actionLabel(c: ReportChange, r: SyncReport): string {
  if (r.outcome === "refused") return `${c.action} (refused)`;
  return c.status && c.status !== "done" ? `${c.action} (${c.status})` : c.action;
}

/** The title of a report's list of changes, saying so when a guard refused them all. */
export function changesTitle(r: SyncReport): string {
  return r.outcome === "refused" ? "Changes refused by a guard, none written" : "Changes";
}

/** Field-by-field lines of a change (or of a drift: `from` last sent, `to` what Quo holds now). */
export function fieldLines(fields: Record<string, FieldChange>): FieldLine[] {
  return Object.entries(fields).map(([field, c]) => ({ field, from: showValue(c.from), to: showValue(c.to) }));
}

/**
 * Field-by-field lines of a change (none for an unlink, which changes nothing in Quo), then the
 * fields it kept as a person set them in the Quo app, each from the sync's value to the value kept.
 */
export function changeFieldLines(c: ReportChange): FieldLine[] {
  const kept = c.kept ? fieldLines(c.kept).map((l) => ({ ...l, kept: true })) : [];
  return [...(c.fields ? fieldLines(c.fields) : []), ...kept];
}

/**
 * One field as a single phrase: an update as `before → after`, a create or a link as the value it
 * sets, a delete as the value it removes. Drift reads like an update (last sent → now in Quo).
 */
export function describeField(action: ReportChange["action"] | "drift", l: FieldLine): string {
  if (l.kept) return `kept as set in Quo: ${l.to} (the source's ${l.from} is not sent; onDrift: skip)`;
  if (action === "create" || action === "link") return l.to;
  if (action === "delete") return l.from;
  return `${l.from} → ${l.to}`;
}

/**
 * What a link or an unlink means beyond its fields, in one phrase: how the contact already in Quo
 * was found ("matched by phone +14155550100"), or that the contact stays in Quo as it is.
 * Undefined for the other actions, whose fields say it all.
 */
export function describeChange(c: ReportChange): string | undefined {
  if (c.action === "link" && c.match) return `matched by ${c.match.by} ${c.match.value}`;
  if (c.action === "unlink") return "no longer synced; the contact stays in Quo as it is";
  return undefined;
}

/** Quo's refusal as one line: status, code, message and the trace id Quo support asks for. */
export function describeError(e: ErrorInfo): string {
  const head = [e.status !== null ? `HTTP ${e.status}` : "", e.code ?? ""].filter(Boolean).join(" ");
  return `${head ? `${head}: ` : ""}${e.message}${e.trace ? ` (trace ${e.trace})` : ""}`;
}

/** A drift in words: what happened in the Quo app and what this plan does about it. */
export function describeDrift(d: Drift): string {
  if (d.kind === "rekeyed") return "re-keyed in Quo (another externalId names it now); left alone: restore its externalId, or remove the row";
  const what = d.kind === "deleted" ? "deleted in Quo" : "edited in Quo";
  const plan = d.resolution === "overwrite" ? "the source's values will be sent again" : "left as it is in Quo (onDrift: skip)";
  return `${what}; ${plan}`;
}

/** "dry run", "refused", "interrupted" or "run": what kind of report this is. */
export function modeOf(r: SyncReport): string {
  if (r.outcome === "refused") return "refused";
  if (r.dryRun) return "dry run";
  if (r.outcome === "interrupted") return "interrupted";
  return "run";
}

/**
 * The one-line summary of a sync, e.g. `leads: would create 2, update 1, delete 0; unchanged 497, …`,
 * or with links `leads: would create 2, update 1, delete 0, link 3; unchanged 494, …`: link and
 * unlink are named only when not zero (COUNTS_SHOWN_WHEN_NONZERO), and so are skipped and filtered
 * (POLICY_COUNTS: `…, failed 0, skipped 4, filtered 12`), in every format alike.
 */
export function headline(r: SyncReport): string {
  const c = r.counts;
  const verb = r.outcome === "refused" ? "refused, nothing written:" : r.dryRun ? "would" : r.outcome === "interrupted" ? "interrupted after it did" : "did";
  const linked = COUNTS_SHOWN_WHEN_NONZERO.filter((n) => c[n] > 0).map((n) => `, ${n} ${c[n]}`).join("");
  const policies = POLICY_COUNTS.filter((n) => (c[n] ?? 0) > 0).map((n) => `, ${n} ${c[n]}`).join("");
  const drift = r.drift ? `, drifted in Quo ${r.drift.length}` : "";
  const where = r.workspace ? ` (workspace ${r.workspace})` : "";
  return `${r.sync}${where}: ${verb} create ${c.create}, update ${c.update}, delete ${c.delete}${linked}; unchanged ${c.unchanged}, rejected ${c.rejected}, failed ${c.failed}${policies}${drift}`;
}

/** The extra facts of a run (recovery, write-back, an incremental or targeted read, duration), one phrase each. */
export function runFacts(r: SyncReport): string[] {
  const out: string[] = [];
  const rec = r.recovery;
  if (rec && rec.adopted + rec.refreshed + rec.dropped + rec.duplicatesRemoved > 0) {
    out.push(`recovered interrupted writes: adopted ${rec.adopted}, refreshed ${rec.refreshed}, dropped ${rec.dropped}, duplicates removed ${rec.duplicatesRemoved}`);
  }
  if (r.writeBack) {
    const m = r.writeBack.missing;
    const more = m.length > MISSING_SHOWN ? ` and ${m.length - MISSING_SHOWN} more` : "";
    const missing = m.length ? `; keys not found in the source: ${m.slice(0, MISSING_SHOWN).join(", ")}${more}` : "";
    out.push(`written back to the source: ${r.writeBack.updated}${missing}`);
  }
  if (r.read === "incremental") out.push("incremental read: only the contacts modified since the last run; deletes wait for the next full refresh");
  if (r.read === "full") out.push("full read");
  if (r.read === "targeted") out.push("targeted read: only the contacts a webhook named, by id; only those gone from the source can be deleted");
  if (r.durationMs !== undefined) out.push(`took ${(r.durationMs / 1000).toFixed(1)} s`);
  return out;
}

/** A plain `column 'Company'` mapping: the field is the cell as it is, which goes without saying in an ordinary plan. */
const PLAIN_COLUMN = /^column '.*'$/s;

/** One field of a row's mapping as a person reads it: `company = Independent  (default (column 'Company' is blank))`. */
export interface MappingLine {
  field: string;
  value: string;
  via: string;
}

/**
 * A row's mapping, one line per field. Without `all`, a field taken plainly from a column is left
 * out, to keep an ordinary plan short (what such a field gets is already in the change's fields);
 * with it (`plan --explain`), every field is listed.
 */
export function mappingLines(mapping: RowMapping | undefined, all: boolean): MappingLine[] {
  if (!mapping) return [];
  return Object.entries(mapping)
    .filter(([, m]) => all || !PLAIN_COLUMN.test(m.via))
    .map(([field, m]) => ({ field, value: showValue(m.value), via: m.via }));
}

/** A mapping line as one phrase: `field = value  (via)`. */
export function describeMapping(l: MappingLine): string {
  return `${l.field} = ${l.value}  (${l.via})`;
}

/** Filtered rows grouped by the condition they failed, in order of each condition's first row. */
export function filteredByCondition(filtered: readonly FilteredRow[]): { condition: string; rows: FilteredRow[] }[] {
  const groups = new Map<string, FilteredRow[]>();
  for (const f of filtered) {
    const g = groups.get(f.condition);
    if (g) g.push(f);
    else groups.set(f.condition, [f]);
  }
  return [...groups].map(([condition, rows]) => ({ condition, rows }));
}

/** "1 row", "3 rows". */
export function rowsText(n: number): string {
  return `${n} ${n === 1 ? "row" : "rows"}`;
}

/** Where the list of a long section stops: "… and 12 more (--format json lists them all)". */
export function moreText(more: number): string {
  return `… and ${more} more (${JSON_LISTS_ALL})`;
}

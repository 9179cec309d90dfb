/**
 * The report of one sync: built from a Plan (dry run) or from a Plan and what the executor did
 * (real run). Every renderer (json, table, markdown, html) renders this one shape.
 */
import { diffFields } from "../plan/diff.js";
import type { Action, ActionOutcome, Drift, ErrorInfo, ExplainedRow, FieldChanges, FilteredRow, GuardResult, LinkAction, Plan, PlanCounts, RecoveryResult, Rejection, RowMapping, SkippedRow } from "../model.js";

export type ReportOutcome = "planned" | "ok" | "refused" | "interrupted";

/**
 * How many of each action a plan would do or a run did, in the key order of the JSON contract
 * (`create, update, delete, link, unlink, unchanged, rejected, failed, skipped, filtered`).
 */
export interface ReportCounts {
  create: number;
  update: number;
  delete: number;
  link: number;
  unlink: number;
  unchanged: number;
  rejected: number;
  failed: number;
  /** Rows the sync's `mode` left alone (`SyncReport.skipped`). */
  skipped: number;
  /** Rows out of the sync by its `where` (`SyncReport.filtered`). */
  filtered: number;
}

/**
 * One planned action as reports show it. A link carries `match` and, like a create, the fields it
 * sets (from null); an unlink carries no `fields`, because it leaves the contact in Quo untouched.
 */
export interface ReportChange {
  action: Action["action"];
  key: string;
  row?: number;
  quoId?: string;
  /** A link only: how the contact already in Quo was found. */
  match?: LinkAction["match"];
  /**
   * Field by field, what the action sets, changes or removes; absent for an unlink. In a real run,
   * a write that read its contact first measures this against that copy, so a field a person
   * changed in the Quo app and the write overwrote is listed.
   */
  fields?: FieldChanges;
  /** Fields left as a person set them in the Quo app (`onDrift: "skip"`): `from` the sync's value, `to` Quo's. */
  kept?: FieldChanges;
  /** Real runs only. */
  status?: "done" | "failed" | "skipped";
  note?: string;
  error?: ErrorInfo;
  /**
   * A create, update or link: how each field of its row got its value (`Plan.mappings`), as
   * `{ field: { value, via } }`; absent when the plan has no mapping for its key.
   */
  mapping?: RowMapping;
}

export interface SyncReport {
  sync: string;
  /** The Quo workspace the sync writes to, when the config names workspaces. */
  workspace?: string;
  dryRun: boolean;
  outcome: ReportOutcome;
  counts: ReportCounts;
  changes: ReportChange[];
  rejected: Rejection[];
  /** Rows out of the sync by its `where`, in row order (a stored report from before filters: read as empty). */
  filtered: FilteredRow[];
  /** Rows the sync's `mode` left alone, in row order (a stored report from before modes: read as empty). */
  skipped: SkippedRow[];
  /** `plan --explain` only: every source row, its outcome, why, and its mapping. */
  rows?: ExplainedRow[];
  guards: GuardResult[];
  /** With `--verify` (or `verify: true`): contacts edited or deleted in the Quo app, and what the plan does. */
  drift?: Drift[];
  recovery?: RecoveryResult;
  /** Sources with write-back (Google Sheets): what was written back after the run. */
  writeBack?: { updated: number; missing: string[]; error?: string };
  durationMs?: number;
  /**
   * For a source read incrementally: `incremental` when only the records changed since the last run
   * were read (nothing can be deleted), `full` for a full refresh. `targeted` (any HubSpot source):
   * only the contacts a webhook named were read by id; only those found gone can be deleted.
   */
  read?: "incremental" | "full" | "targeted";
  /**
   * A real run that completed (`ok`) only: the newest source change Quo has from this sync after it,
   * as ISO text (a CSV file's mtime, HubSpot's newest `lastmodifieddate`; null for Google Sheets,
   * which cannot tell). A run that read nothing newer carries the previous run's time forward.
   */
  sourceChangedAt?: string | null;
  /**
   * A stored report only (`storedReport`): how many changes, rejected, filtered and skipped rows
   * were left out of it (`filtered` and `skipped` are absent from reports stored before them).
   */
  omitted?: { changes: number; rejected: number; filtered?: number; skipped?: number };
}

/**
 * How many changes, and rejected, filtered and skipped rows (each), a run keeps in the state with its record: the console's run
 * page shows them. A run of 100,000 changes would otherwise store megabytes per run, times the
 * `retention` runs kept; the counts stay exact, and every rejected row is in `rejections` anyway.
 */
export const STORED_REPORT_CAP = 1000;

/**
 * The report as a run's record keeps it: the first `STORED_REPORT_CAP` changes, rejected, filtered
 * and skipped rows, and how many more of each there were. A real run has no explained `rows`; a
 * report that has them keeps none (they are every source row, and a plan is never stored).
 */
export function storedReport(report: SyncReport): SyncReport {
  const more = (list: readonly unknown[]) => Math.max(0, list.length - STORED_REPORT_CAP);
  const omitted = { changes: more(report.changes), rejected: more(report.rejected), filtered: more(report.filtered), skipped: more(report.skipped) };
  const { rows, ...rest } = report;
  if (omitted.changes + omitted.rejected + omitted.filtered + omitted.skipped === 0) return rows ? rest : report;
  return {
    ...rest,
    changes: report.changes.slice(0, STORED_REPORT_CAP),
    rejected: report.rejected.slice(0, STORED_REPORT_CAP),
    filtered: report.filtered.slice(0, STORED_REPORT_CAP),
    skipped: report.skipped.slice(0, STORED_REPORT_CAP),
    omitted,
  };
}

/**
 * A report as read back from a run's record, in today's shape: one stored before filters and
 * modes existed lacks `filtered`, `skipped` and their counts, and had none of either, so they read
 * as empty and 0. Anything already present is kept as it is; never throws.
 */
export function upgradeStoredReport(report: SyncReport): SyncReport {
  const old = report as Partial<Pick<SyncReport, "filtered" | "skipped">> & Omit<SyncReport, "filtered" | "skipped">;
  const counts = report.counts as Partial<ReportCounts>;
  return {
    ...report,
    counts: { ...report.counts, skipped: counts.skipped ?? 0, filtered: counts.filtered ?? 0 },
    filtered: Array.isArray(old.filtered) ? old.filtered : [],
    skipped: Array.isArray(old.skipped) ? old.skipped : [],
  };
}

/** A change as reports show it; a create, update or link carries its row's mapping when `mappings` has one. */
function changeOf(a: Action, mappings: Plan["mappings"]): ReportChange {
  const c = changeOfAction(a);
  if (a.action === "create" || a.action === "update" || a.action === "link") {
    const mapping = mappings?.get(a.key);
    if (mapping) c.mapping = mapping;
  }
  return c;
}

function changeOfAction(a: Action): ReportChange {
  switch (a.action) {
    case "create":
      return { action: "create", key: a.key, row: a.row, fields: diffFields(null, a.fields) };
    case "update":
      return { action: "update", key: a.key, row: a.row, quoId: a.quoId, fields: a.changes };
    case "delete":
      return { action: "delete", key: a.key, quoId: a.quoId, fields: diffFields(a.before, null) };
    case "link":
      return { action: "link", key: a.key, row: a.row, quoId: a.quoId, match: { by: a.match.by, value: a.match.value }, fields: diffFields(null, a.fields) };
    case "unlink":
      return { action: "unlink", key: a.key, quoId: a.quoId };
  }
}

/** The plan's counts in the contract's key order, with nothing failed (yet). */
function countsOfPlan(c: PlanCounts): ReportCounts {
  return { create: c.create, update: c.update, delete: c.delete, link: c.link, unlink: c.unlink, unchanged: c.unchanged, rejected: c.rejected, failed: 0, skipped: c.skipped, filtered: c.filtered };
}

/** What every report of a plan carries about the rows it did not write: filtered, skipped, and (`--explain`) every row. */
function rowsOfPlan(plan: Plan): Pick<SyncReport, "filtered" | "skipped" | "rows"> {
  return { filtered: plan.filtered, skipped: plan.skipped, ...(plan.explained ? { rows: plan.explained } : {}) };
}

/** The report of a dry run, or of a run a guard refused (nothing written). */
export function reportFromPlan(plan: Plan, dryRun: boolean): SyncReport {
  const refused = plan.guards.some((g) => g.refused);
  return {
    sync: plan.sync,
    dryRun,
    outcome: refused ? "refused" : "planned",
    counts: refused
      ? { create: 0, update: 0, delete: 0, link: 0, unlink: 0, unchanged: plan.unchanged, rejected: plan.counts.rejected, failed: 0, skipped: plan.counts.skipped, filtered: plan.counts.filtered }
      : countsOfPlan(plan.counts),
    changes: plan.actions.map((a) => changeOf(a, plan.mappings)),
    rejected: plan.rejected,
    ...rowsOfPlan(plan),
    guards: plan.guards,
    ...(plan.drift ? { drift: plan.drift } : {}),
  };
}

/**
 * The report of a real run: counts say what was done; `failed` counts what Quo refused after
 * retries. An unlink sends nothing to Quo, so it counts once the state has forgotten the contact.
 */
export function reportFromRun(plan: Plan, outcomes: readonly ActionOutcome[], interrupted: boolean): SyncReport {
  const counts: ReportCounts = { create: 0, update: 0, delete: 0, link: 0, unlink: 0, unchanged: plan.unchanged, rejected: plan.counts.rejected, failed: 0, skipped: plan.counts.skipped, filtered: plan.counts.filtered };
  const byAction = new Map(outcomes.map((o) => [o.action, o]));
  const changes: ReportChange[] = [];
  for (const a of plan.actions) {
    const o = byAction.get(a);
    const c = changeOf(a, plan.mappings);
    if (o) {
      c.status = o.status;
      if (o.quoId) c.quoId = o.quoId;
      if (o.note) c.note = o.note;
      if (o.error) c.error = o.error;
      if (o.changes) c.fields = o.changes;
      if (o.kept && Object.keys(o.kept).length) c.kept = o.kept;
      if (o.status === "done") counts[a.action]++;
      else if (o.status === "failed") counts.failed++;
    } else c.status = "skipped";
    changes.push(c);
  }
  return {
    sync: plan.sync,
    dryRun: false,
    outcome: interrupted ? "interrupted" : "ok",
    counts,
    changes,
    rejected: plan.rejected,
    ...rowsOfPlan(plan),
    guards: plan.guards,
    ...(plan.drift ? { drift: plan.drift } : {}),
  };
}

/** The report of a real run stopped by a signal before it wrote anything (waiting for its lock, or reading). */
export function reportOfStoppedRun(sync: string): SyncReport {
  return {
    sync,
    dryRun: false,
    outcome: "interrupted",
    counts: { create: 0, update: 0, delete: 0, link: 0, unlink: 0, unchanged: 0, rejected: 0, failed: 0, skipped: 0, filtered: 0 },
    changes: [],
    rejected: [],
    filtered: [],
    skipped: [],
    guards: [],
  };
}

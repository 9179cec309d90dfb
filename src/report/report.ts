/**
 * The report of one sync: built from a Plan (dry run) or from a Plan and what the executor did
 * (real run). Every renderer (json, table, markdown) renders this one shape.
 */
import type { ActionOutcome, ErrorInfo } from "../execute/executor.js";
import type { RecoveryResult } from "../execute/recover.js";
import { diffFields } from "../plan/diff.js";
import type { Action, Drift, FieldChanges, GuardResult, Plan, Rejection } from "../model.js";

export type ReportOutcome = "planned" | "ok" | "refused" | "interrupted";

export interface ReportCounts {
  create: number;
  update: number;
  delete: number;
  unchanged: number;
  rejected: number;
  failed: number;
}

export interface ReportChange {
  action: "create" | "update" | "delete";
  key: string;
  row?: number;
  quoId?: string;
  fields: FieldChanges;
  /** Real runs only. */
  status?: "done" | "failed" | "skipped";
  note?: string;
  error?: ErrorInfo;
}

export interface SyncReport {
  sync: string;
  dryRun: boolean;
  outcome: ReportOutcome;
  counts: ReportCounts;
  changes: ReportChange[];
  rejected: Rejection[];
  guards: GuardResult[];
  /** With `--verify` (or `verify: true`): contacts edited or deleted in the Quo app, and what the plan does. */
  drift?: Drift[];
  recovery?: RecoveryResult;
  /** Sources with write-back (Google Sheets): what was written back after the run. */
  writeBack?: { updated: number; missing: string[]; error?: string };
  durationMs?: number;
}

function changeOf(a: Action): ReportChange {
  switch (a.action) {
    case "create":
      return { action: "create", key: a.key, row: a.row, fields: diffFields(null, a.fields) };
    case "update":
      return { action: "update", key: a.key, row: a.row, quoId: a.quoId, fields: a.changes };
    case "delete":
      return { action: "delete", key: a.key, quoId: a.quoId, fields: diffFields(a.before, null) };
  }
}

/** The report of a dry run, or of a run a guard refused (nothing written). */
export function reportFromPlan(plan: Plan, dryRun: boolean): SyncReport {
  const refused = plan.guards.some((g) => g.refused);
  return {
    sync: plan.sync,
    dryRun,
    outcome: refused ? "refused" : "planned",
    counts: refused
      ? { create: 0, update: 0, delete: 0, unchanged: plan.unchanged, rejected: plan.counts.rejected, failed: 0 }
      : { ...plan.counts, failed: 0 },
    changes: plan.actions.map(changeOf),
    rejected: plan.rejected,
    guards: plan.guards,
    ...(plan.drift ? { drift: plan.drift } : {}),
  };
}

/** The report of a real run: counts say what was done; `failed` counts what Quo refused after retries. */
export function reportFromRun(plan: Plan, outcomes: readonly ActionOutcome[], interrupted: boolean): SyncReport {
  const counts: ReportCounts = { create: 0, update: 0, delete: 0, unchanged: plan.unchanged, rejected: plan.rejected.length, failed: 0 };
  const byAction = new Map(outcomes.map((o) => [o.action, o]));
  const changes: ReportChange[] = [];
  for (const a of plan.actions) {
    const o = byAction.get(a);
    const c = changeOf(a);
    if (o) {
      c.status = o.status;
      if (o.quoId) c.quoId = o.quoId;
      if (o.note) c.note = o.note;
      if (o.error) c.error = o.error;
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
    guards: plan.guards,
    ...(plan.drift ? { drift: plan.drift } : {}),
  };
}

/**
 * What an alert says, built once per event and rendered per channel: the webhook's JSON (the
 * contract in docs/daemon.md, "Alerts"), a Slack incoming-webhook message and a plain-text mail
 * with the same facts. Every text that may echo a request (a run's error) is scrubbed of the
 * secrets the process knows before it is put in (src/net/redact.ts).
 */
import type { AlertEventName } from "../config.js";
import type { Rejection } from "../model.js";
import { redactSecrets } from "../net/redact.js";
import type { RunRecord } from "../state/store.js";

/** An event as sent: a configured event, or `test` (`quo-sync check --alert-test`). */
export type SentEvent = AlertEventName | "test";

/** Rejected rows an alert lists: enough to see what is wrong, few enough for a chat message. */
export const ALERT_REJECTED_LIMIT = 10;

/** The webhook's JSON body; the other channels render the same facts. */
export interface AlertPayload {
  event: SentEvent;
  sync: string;
  workspace: string;
  /** When the event was decided, ISO 8601. */
  at: string;
  /** The run the event was judged from; null for `test`, and for `stalled` before any completed run. */
  run: { id: number; outcome: string; counts: Record<string, number> | null; error: string | null } | null;
  rejected: { key: string | null; row: number; reason: string }[];
  /** The sync's page in the console (`QUO_SYNC_CONSOLE_URL`), or null when it is not set. */
  console: string | null;
}

/** What `buildAlertPayload` reads. */
export interface PayloadInput {
  event: SentEvent;
  sync: string;
  workspace: string;
  at: number;
  run: RunRecord | null;
  /** The run's rejected rows (only the first `ALERT_REJECTED_LIMIT` are kept). */
  rejected: readonly Rejection[];
  /** `QUO_SYNC_CONSOLE_URL`, as set (or undefined). */
  consoleBase: string | undefined;
  /** Every secret the process knows (`alertSecrets`), scrubbed from every text. */
  secrets: readonly string[];
}

/**
 * The alert's JSON body. The run's error and each rejected reason pass through `redactSecrets`.
 * Pure; never throws.
 */
export function buildAlertPayload(input: PayloadInput): AlertPayload {
  const scrub = (t: string) => redactSecrets(t, input.secrets);
  const r = input.run;
  return {
    event: input.event,
    sync: input.sync,
    workspace: input.workspace,
    at: new Date(input.at).toISOString(),
    run: r ? { id: r.id, outcome: r.outcome, counts: r.counts, error: r.error === null ? null : scrub(r.error) } : null,
    rejected: input.rejected.slice(0, ALERT_REJECTED_LIMIT).map((x) => ({ key: x.key ?? null, row: x.row, reason: scrub(x.reason) })),
    console: consoleUrl(input.consoleBase, input.sync),
  };
}

/** `${base}/syncs/NAME` (one trailing slash of `base` dropped, the name escaped), or null without a base. Never throws. */
export function consoleUrl(base: string | undefined, sync: string): string | null {
  const b = base?.trim();
  if (!b) return null;
  return `${b.replace(/\/+$/, "")}/syncs/${encodeURIComponent(sync)}`;
}

/** What each event means, in a few words, for a subject or a headline. */
const HEADLINE: Record<SentEvent, string> = {
  failed: "failed",
  refused: "was refused by a safety guard",
  stalled: "has stalled: no run completed for three of its schedule intervals",
  rejected: "rejected rows it did not reject before",
  recovered: "recovered: a run completed",
  test: "test alert: this channel works",
};

/** `quo-sync: leads failed`: a mail's subject, a Slack message's fallback text. Never throws. */
export function alertSubject(p: AlertPayload): string {
  return `quo-sync: ${p.sync} ${p.event === "test" ? "test alert" : p.event}`;
}

/** The facts of an alert as lines of plain text (the mail's body). Never throws. */
export function alertLines(p: AlertPayload): string[] {
  const lines = [`Sync '${p.sync}' (workspace '${p.workspace}') ${HEADLINE[p.event]}.`, `At: ${p.at}`];
  if (p.run) {
    lines.push(`Run: #${p.run.id}, ${p.run.outcome}`);
    const counts = p.run.counts ? Object.entries(p.run.counts).filter(([, n]) => n > 0) : [];
    if (counts.length) lines.push(`Counts: ${counts.map(([k, n]) => `${k} ${n}`).join(", ")}`);
    if (p.run.error) lines.push(`Error: ${p.run.error}`);
  }
  if (p.rejected.length) {
    lines.push(`Rejected rows${p.rejected.length === ALERT_REJECTED_LIMIT ? ` (the first ${ALERT_REJECTED_LIMIT})` : ""}:`);
    for (const r of p.rejected) lines.push(`  - row ${r.row}${r.key !== null ? ` (key ${r.key})` : ""}: ${r.reason}`);
  }
  if (p.console) lines.push(`Console: ${p.console}`);
  return lines;
}

/** Slack's limit on a section block's text (https://api.slack.com/reference/block-kit/blocks#section). */
const SLACK_SECTION_MAX = 3000;

/** `&`, `<`, `>` escaped as Slack's mrkdwn requires (https://api.slack.com/reference/surfaces/formatting#escaping). */
function slackEscape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/**
 * A Slack incoming-webhook message (https://api.slack.com/messaging/webhooks): `text` is the
 * notification's fallback, one section block holds the facts. Never throws.
 */
export function slackMessage(p: AlertPayload): { text: string; blocks: unknown[] } {
  const [headline, ...rest] = alertLines(p);
  let body = `*${slackEscape(headline ?? "")}*\n${rest.map(slackEscape).join("\n")}`;
  if (body.length > SLACK_SECTION_MAX) body = `${body.slice(0, SLACK_SECTION_MAX - 1)}…`;
  return { text: alertSubject(p), blocks: [{ type: "section", text: { type: "mrkdwn", text: body } }] };
}

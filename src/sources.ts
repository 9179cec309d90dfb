/**
 * The source connectors by type, and reading a snapshot from one.
 */
import { csvConnector } from "../connectors/csv/index.js";
import { googleSheetsConnector, googleSheetsWriteBack } from "../connectors/google-sheets/index.js";
import { hubspotConnector } from "../connectors/hubspot/index.js";
import type { ConnectorContext, SourceConnector, WriteBackTarget } from "../connectors/types.js";
import type { SourceConfig } from "./config.js";
import { SourceError } from "./errors.js";
import type { Snapshot, SourceRow } from "./model.js";

/** The connector for a source config. */
export function connectorFor(source: SourceConfig): SourceConnector<SourceConfig> {
  switch (source.type) {
    case "csv":
      return csvConnector as SourceConnector<SourceConfig>;
    case "google-sheets":
      return googleSheetsConnector as SourceConnector<SourceConfig>;
    case "hubspot":
      return hubspotConnector as SourceConnector<SourceConfig>;
  }
}

/** The write-back target of a source config that asks for one, else null. */
export function writeBackFor(source: SourceConfig): WriteBackTarget<SourceConfig> | null {
  if (source.type === "google-sheets" && source.writeBack) return googleSheetsWriteBack as WriteBackTarget<SourceConfig>;
  return null;
}

/** A human name of a source for messages (never a credential). */
export function describeSource(source: SourceConfig): string {
  switch (source.type) {
    case "csv":
      return source.path;
    case "google-sheets":
      return `spreadsheet ${source.spreadsheetId} (${source.range})`;
    case "hubspot":
      return "HubSpot contacts";
  }
}

/**
 * Reads the whole snapshot into memory (with `ctx.cursor`, an incremental source's changed records
 * only, flagged `partial`, and its next cursor; with `ctx.targets`, only those records, flagged
 * `partial`, with the keys gone in `gone`), with when the source says its data last changed
 * (`sourceChangedAt`, null when it cannot tell). Throws `SourceError` when the source cannot be read
 * completely: nothing partial ever reaches the planner.
 */
export async function readSnapshot(source: SourceConfig, ctx: ConnectorContext): Promise<Snapshot> {
  const connector = connectorFor(source);
  let columns: string[] | null = null;
  const rows: SourceRow[] = [];
  let state: { cursor: unknown; partial: boolean } | undefined;
  let changedAt: number | null = null;
  const sourceChanged = (at: number): void => {
    if (Number.isFinite(at) && (changedAt === null || at > changedAt)) changedAt = at;
  };
  let targeted: { gone: string[]; unmapped: string[] } | undefined;
  for await (const item of connector.read(source, { ...ctx, sourceChanged })) {
    if (item.type === "header") columns = item.columns;
    else if (item.type === "row") rows.push(item.row);
    else if (item.type === "targeted") targeted = { gone: item.gone, unmapped: item.unmapped };
    else state = { cursor: item.cursor, partial: item.partial };
  }
  if (columns === null) throw new SourceError(`${describeSource(source)}: the source sent no header`);
  const origin = describeSource(source);
  // A targeted read is partial whatever else it says, and never moves an incremental cursor.
  if (targeted) return { origin, columns, rows, sourceChangedAt: changedAt, partial: true, gone: targeted.gone, targeted: { unmapped: targeted.unmapped } };
  if (ctx.targets) throw new SourceError(`${origin}: a read of some records by id was asked for, and this source cannot do it`);
  return { origin, columns, rows, sourceChangedAt: changedAt, ...(state ? { cursor: state.cursor, ...(state.partial ? { partial: true } : {}) } : {}) };
}

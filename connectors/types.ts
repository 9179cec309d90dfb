/**
 * The source connector contract. A connector only reads: it never imports the Quo client or the
 * state store (docs/architecture.md, "Module map"), and every connector passes the suite in `test/contract/`.
 */
import type { SourceRow, SourceType } from "../src/model.js";

/** Runtime context a connector may use: where relative paths resolve, and the environment. */
export interface ConnectorContext {
  /** Directory of the config file; relative paths in a source config resolve against it. */
  baseDir: string;
  env: NodeJS.ProcessEnv;
  /**
   * The columns (or properties) the sync's mapping reads, key first. A source that selects fields
   * (HubSpot) reads exactly these plus its config's extra ones; a tabular source may ignore it.
   */
  wanted: readonly string[];
  /**
   * Where a connector says what it decided on its own, such as the encoding or delimiter it
   * detected in a file; absent, it says nothing. Never a value read from the source.
   */
  log?: (message: string) => void;
  /**
   * For a source read incrementally (`source.incremental`): the cursor its last complete read
   * yielded, to read only what changed since; absent or null: read everything. A connector that
   * cannot use the cursor it is given reads everything and says so in its `cursor` item.
   */
  cursor?: unknown;
  /**
   * Where a connector says when the data it read last changed (epoch ms), when the source can tell:
   * a file's modification time, the newest modified date among the records read. Called at most
   * once per read; a source that cannot tell (Google Sheets' values API has no such time) never
   * calls it. Kept out of the item stream so readers that ignore it need not know it.
   */
  sourceChanged?: (at: number) => void;
  /**
   * A targeted read (a source that supports it: HubSpot): read only the records with these ids
   * (`ids`), and count `gone` (merged away) as removed without reading them. `key` is the sync's key
   * column, to name removed records by their key. The read yields their rows, then a `targeted` item.
   */
  targets?: { ids: readonly string[]; gone: readonly string[]; key: string };
}

/** The result of `check`: never thrown, always reported. */
export type CheckResult = { ok: true } | { ok: false; message: string };

/**
 * What `read` yields, in order: exactly one `header` first (the source's column names in source
 * order), then one `row` per record. Modelled on the Airbyte protocol's typed messages.
 */
export type SourceItem =
  | { type: "header"; columns: string[] }
  | { type: "row"; row: SourceRow }
  /**
   * Last, from a source read incrementally (Airbyte's STATE message): where the next read may
   * resume (JSON-serialisable, kept by the run only once its writes are recorded), and whether this
   * read held only the records changed since `ctx.cursor` (`partial`) or every record.
   */
  | { type: "cursor"; cursor: unknown; partial: boolean }
  /**
   * Last, from a targeted read (`ctx.targets`): the keys of the records asked for that are gone
   * from the source (not found, archived and dropped, merged away), and the ids of those whose key
   * could not be told (the key is not the record id and the record can no longer be read).
   */
  | { type: "targeted"; gone: string[]; unmapped: string[] };

export interface SourceConnector<C> {
  readonly type: SourceType;
  /** Can the source be reached and read with this config? Never throws. */
  check(config: C, ctx: ConnectorContext): Promise<CheckResult>;
  /**
   * The snapshot, streamed: every record, or with `ctx.cursor` only those changed since (ending with
   * a `cursor` item that says which). Throws `SourceError` (naming the file and line, or the request)
   * when the source cannot be read completely: a partial snapshot must never reach the planner.
   */
  read(config: C, ctx: ConnectorContext): AsyncIterable<SourceItem>;
}

/** One record's outcome, as a source that can record it (Google Sheets write-back) receives it. */
export interface WriteBackEntry {
  key: string;
  /** The Quo contact id, when the record has one. */
  quoId: string | null;
  /** "ok", or why the record is not (fully) in Quo: the rejection or failure reason. */
  status: string;
}

export interface WriteBackResult {
  /** Cells written. */
  updated: number;
  /** Keys that were no longer found in the source when writing. */
  missing: string[];
}

/**
 * A source that can record each record's Quo id and status after a run. Kept apart from
 * `SourceConnector` so reading never depends on writing; the run calls it only after executing.
 */
export interface WriteBackTarget<C> {
  writeBack(config: C, ctx: ConnectorContext, entries: readonly WriteBackEntry[]): Promise<WriteBackResult>;
}

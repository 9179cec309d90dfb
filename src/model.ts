/**
 * The glossary of quo-sync: the data that flows from a source, through the planner, to the executor.
 * Types only; no behaviour lives here.
 */

/** The source kinds quo-sync can read. */
export type SourceType = "csv" | "google-sheets" | "hubspot";

/**
 * One record of a source snapshot.
 * `row` is the record's position as a person would find it in the source: for a CSV file and a
 * sheet, the spreadsheet row number (the header is row 1, the first record row 2); for a CRM, the
 * record's ordinal in the listing. `values` maps a column (or property) name to its raw text.
 * `problem`, when set, says why the connector could not read the record as a whole (for example a
 * CSV line with more cells than the header); such a row is rejected, never guessed at.
 */
export interface SourceRow {
  row: number;
  values: Record<string, string>;
  problem?: string;
}

/** A full snapshot of a source: its columns (in source order) and every record. */
export interface Snapshot {
  /** A human name of where the snapshot came from (a file path, a sheet id), for messages. */
  origin: string;
  columns: string[];
  rows: SourceRow[];
  /**
   * True when the rows are only the records changed since the last read (an incremental read): a
   * record absent from them is unchanged, not gone, so the planner deletes nothing.
   */
  partial?: boolean;
  /** From a source read incrementally: where its next read resumes (the connector's `cursor` item). */
  cursor?: unknown;
  /**
   * When the data read last changed at the source (epoch ms), as the connector reported it
   * (`ConnectorContext.sourceChanged`): a CSV file's mtime, HubSpot's newest `lastmodifieddate`
   * read; null when the source cannot tell (Google Sheets).
   */
  sourceChangedAt?: number | null;
  /**
   * With `partial`, the keys known to be gone from the source (a targeted read: deleted, purged,
   * merged away). In `mirror` mode these, and only these, are deleted; every other absent key is untouched.
   */
  gone?: string[];
  /** A targeted read (only the records a webhook named): `gone` says what left, `unmapped` the ids whose key is unknown. */
  targeted?: { unmapped: string[] };
}

/** A value Quo accepts for a custom field: see docs/quo-api.md, "Creating a contact". */
export type CustomFieldValue = string | number | boolean | string[] | null;

/** A labelled phone number or email, as Quo stores it in `defaultFields`. */
export interface LabelledValue {
  name: string;
  value: string;
}

/**
 * The Quo contact fields quo-sync manages for one record, normalised (trimmed names, E.164 phones,
 * lower-cased email domains). Optional scalars are absent when blank. Lists are ordered by label so
 * that two equal contacts hash equally.
 */
export interface ContactFields {
  firstName: string;
  lastName?: string;
  company?: string;
  role?: string;
  phoneNumbers: LabelledValue[];
  emails: LabelledValue[];
  /** Custom field values by Quo custom-field key. */
  customFields: Record<string, CustomFieldValue>;
}

/** Quo's ids of a contact's list items, by label, so a PATCH can address them. */
export interface ItemIds {
  phoneNumbers: Record<string, string>;
  emails: Record<string, string>;
}

/** What the state store remembers about one source key of one sync. */
export interface SyncRow {
  key: string;
  quoId: string;
  /** Hash of `fields`, as computed by `hashContact`. */
  hash: string;
  /** What was last sent to Quo (or, after recovery, what Quo was seen to hold). */
  fields: ContactFields;
  itemIds: ItemIds;
  /**
   * True when the contact was already in Quo and the sync linked it (`match`) rather than created
   * it: such a contact is never deleted by the sync, only forgotten (`unlink`).
   */
  linked?: boolean;
  /**
   * Digest of the raw source cells the mapping read, together with the mapping's fingerprint
   * (`sourceHash` in src/plan/source-hash.ts). Equal digests mean the mapped contact cannot differ,
   * so the planner skips mapping the row. Absent after recovery, which forces a fresh mapping.
   */
  sourceHash?: string;
}

/**
 * One reason a record cannot be sent as it is, with everything a person needs to find and fix it.
 * A record with several fields at fault has one Rejection per field, next to each other in the
 * plan's list (which is in row order); `PlanCounts.rejected` and the reports' counts are of rows.
 */
export interface Rejection {
  key?: string;
  row: number;
  field?: string;
  value?: string;
  reason: string;
}

/** One field's change, for reports: `from` is null for a create, `to` null for a clear or delete. */
export interface FieldChange {
  from: unknown;
  to: unknown;
}

export type FieldChanges = Record<string, FieldChange>;

export interface CreateAction {
  action: "create";
  key: string;
  row: number;
  fields: ContactFields;
  hash: string;
  sourceHash: string;
}

export interface UpdateAction {
  action: "update";
  key: string;
  row: number;
  quoId: string;
  before: ContactFields;
  itemIds: ItemIds;
  fields: ContactFields;
  hash: string;
  sourceHash: string;
  changes: FieldChanges;
  /**
   * Fields whose cells are blank under `blanks: "keep"`: the write keeps the value Quo holds for
   * each (named as `diffFields` names fields). Absent when none.
   */
  keep?: string[];
}

export interface DeleteAction {
  action: "delete";
  key: string;
  quoId: string;
  before: ContactFields;
}

/**
 * A row that would be created, matched instead to exactly one contact already in Quo that may be
 * taken over (`match`): the contact is written whole with the sync's fields and externalId and is
 * managed from then on like one the sync created, except that it is never deleted.
 */
export interface LinkAction {
  action: "link";
  key: string;
  row: number;
  quoId: string;
  fields: ContactFields;
  hash: string;
  sourceHash: string;
  /** How the contact was found: by which kind of value, and the value. */
  match: { by: "phone" | "email"; value: string };
  /**
   * Fields whose cells are blank under `blanks: "keep"`: the write keeps the value Quo holds for
   * each (named as `diffFields` names fields). Absent when none.
   */
  keep?: string[];
}

/** A linked contact whose row left the source: the sync forgets it; Quo keeps it untouched. */
export interface UnlinkAction {
  action: "unlink";
  key: string;
  quoId: string;
  before: ContactFields;
}

/** A single small decision of the planner; the executor carries each out on its own. */
export type Action = CreateAction | UpdateAction | DeleteAction | LinkAction | UnlinkAction;

/**
 * A contact that differs in Quo from what this sync last sent: edited or deleted in the Quo app, or
 * re-keyed (another externalId now names it, set by another tool; always left alone).
 * `fields` gives, per field, `from` = what was last sent and `to` = what Quo holds now.
 */
export interface Drift {
  key: string;
  quoId: string;
  kind: "edited" | "deleted" | "rekeyed";
  fields: FieldChanges;
  /** What the plan does about it (config `onDrift`): overwrite with the source, or leave it alone. */
  resolution: "overwrite" | "skip";
}

/** A safety guard's verdict, shown in every report and enforced by the executor. */
export interface GuardResult {
  guard: "empty-source" | "max-delete-percent";
  /** True when the guard refuses the whole run (nothing is written). */
  refused: boolean;
  message: string;
}

export interface PlanCounts {
  create: number;
  update: number;
  delete: number;
  link: number;
  unlink: number;
  unchanged: number;
  /** Rows rejected, however many reasons each has. */
  rejected: number;
  /** Rows the sync's `mode` leaves alone (`create-only`: exist already; `update-only`: no contact to update). */
  skipped: number;
  /** Rows out of the sync by its `where` filter: as if absent from the source. */
  filtered: number;
}

/**
 * A source row the sync's `where` leaves out: as if absent from the source (under `deletes:
 * "mirror"` a contact the sync made for it is deleted, through the usual guards).
 */
export interface FilteredRow {
  /** The row's key, when it has one. */
  key?: string;
  row: number;
  /** The condition it failed, as `where[0]: 'Status' in ["Customer", "Lead"]`; for an `any`, the group and each of its failed alternatives. */
  condition: string;
  /** The column the (first) failed condition read, and that row's cell in it ('' when blank). */
  column: string;
  value: string;
}

/** A source row the sync's `mode` leaves alone, and why. */
export interface SkippedRow {
  key: string;
  row: number;
  reason: string;
}

/**
 * How one field of a row got its value, for `plan`: `value` as sent (null when the field is
 * left blank), `via` the words that say where it came from (`column 'Company'`, `default (column
 * 'Company' is blank)`, `map 'customer' → 'Customer' (column 'Lifecycle')`, `template`, `value`,
 * `first part of 'Full Name'`, `blank cell kept: Quo's value stays (blanks: keep)`).
 */
export interface FieldMapping {
  value: unknown;
  via: string;
}

/** A row's fields as mapping made them, by field as reports name them (`firstName`, `phoneNumbers.mobile`, `customFields.<config name>`). */
export type RowMapping = Record<string, FieldMapping>;

/** One source row in `plan --explain`: what the plan does with it, why, and what each field gets. */
export interface ExplainedRow {
  key?: string;
  row: number;
  outcome: "create" | "update" | "link" | "unchanged" | "skipped" | "filtered" | "rejected";
  /** Why it is filtered, skipped or rejected. */
  reason?: string;
  /** Absent for a filtered row and for a row rejected before mapping (no key, a duplicate key). */
  mapping?: RowMapping;
}

/** What one sync would do, computed purely from (snapshot, state, options). */
export interface Plan {
  sync: string;
  actions: Action[];
  unchanged: number;
  rejected: Rejection[];
  guards: GuardResult[];
  /** Only when Quo was read back (`--verify`): contacts that drifted, and what the plan does. */
  drift?: Drift[];
  /** Planned from a partial snapshot (an incremental or targeted read): nothing is deleted or unlinked but the keys it named as gone. */
  partial?: true;
  /** Rows out of the sync by its `where`, in row order. */
  filtered: FilteredRow[];
  /** Rows the sync's `mode` leaves alone, in row order. */
  skipped: SkippedRow[];
  /** The mapping of each create, update and link, by key (a dry run's report shows it beside the change). */
  mappings?: Map<string, RowMapping>;
  /**
   * Under `update-only` with `match`, planned without the workspace: the fields of the rows that no
   * contact is bound to, whose phones and emails the run looks up before it plans again (as it does
   * for creates). Never reported.
   */
  unbound?: ContactFields[];
  /** With `explain`: every source row, in row order. */
  explained?: ExplainedRow[];
  counts: PlanCounts;
}

/** A custom field as the sync resolved it on its last real run: config name → Quo key, name and type. */
export interface CustomFieldBinding {
  configName: string;
  key: string;
  name: string;
  type: string;
}

/** Quo's answer to a write that failed, as reports show it (never a key or header). */
export interface ErrorInfo {
  message: string;
  status: number | null;
  code?: string;
  trace?: string;
}

/** What happened to one planned action. */
export interface ActionOutcome {
  action: Action;
  status: "done" | "failed" | "skipped";
  quoId?: string;
  /**
   * How it was done when not the plain way: "adopted" (found by externalId), "recreated" (was
   * deleted in Quo), "already gone", "already in Quo" (an update whose merged contact Quo already held).
   */
  note?: string;
  error?: ErrorInfo;
  /**
   * Field by field, what the write changed, measured against Quo's copy read just before it: a
   * mapped field a person changed in the app and the write overwrote is listed. Absent when no copy
   * was read (a plain create, a delete).
   */
  changes?: FieldChanges;
  /** Fields kept as a person set them in the Quo app (`onDrift: "skip"`): `from` the sync's value, `to` Quo's. */
  kept?: FieldChanges;
}

/** What resolving the writes an earlier run left in flight did (`recoverJournal`). */
export interface RecoveryResult {
  /** Creates that had landed: their contacts are now in the state. */
  adopted: number;
  /** Updates/deletes whose contact was re-read from Quo. */
  refreshed: number;
  /** Writes that never reached Quo (or contacts that are gone): nothing to keep. */
  dropped: number;
  /** Extra contacts with the same externalId, deleted. */
  duplicatesRemoved: number;
}

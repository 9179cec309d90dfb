/**
 * The planner: a pure function of (source snapshot, state rows, options) → Plan. No I/O, no clock
 * (docs/architecture.md, "Planning is pure"), so `plan`, `sync --dry-run` and `sync` all see the same decisions.
 */
import type { SyncConfig } from "../config.js";
import type { Action, ContactFields, Drift, ExplainedRow, FilteredRow, GuardResult, ItemIds, LinkAction, Plan, Rejection, RowMapping, SkippedRow, Snapshot, SourceRow, SyncRow } from "../model.js";
import { diffFields } from "./diff.js";
import { hashContact } from "./hash.js";
import { overlayFields } from "./keep-drifted.js";
import { keptBlanks, mapRow, type MapOptions, type ResolvedCustomField } from "./map-row.js";
import { matchRow, type WorkspaceIndex } from "./match.js";
import { externalIdFor } from "./patch.js";
import { keyRows } from "./snapshot.js";
import { sourceHasher } from "./source-hash.js";
import { compileWhere, type RowFilter } from "./where.js";

/**
 * What Quo was seen to hold for a contact of this sync (`--verify`): its fields; null when it is
 * gone; `rekeyedTo` when the contact now carries another externalId (or none).
 */
export type Observed = { fields: ContactFields; itemIds: ItemIds } | { rekeyedTo: string | null } | null;

export interface PlanOptions {
  sync: SyncConfig;
  customFields: ResolvedCustomField[];
  /** `--allow-deletes`: lift the maxDeletePercent guard for this run. */
  allowDeletes: boolean;
  /**
   * With `--verify`: what Quo holds now, by key, for every state row. A contact that differs from
   * what was last sent drifted (edited or deleted in the Quo app); `sync.onDrift` decides.
   */
  observed?: ReadonlyMap<string, Observed>;
  /**
   * With `match`: the workspace's contacts holding the values the creates carry. Without it the
   * plan creates as if nothing matched — the run reads the workspace only when a first plan has
   * creates, then plans again with it.
   */
  workspace?: WorkspaceIndex;
  /**
   * `plan --explain` (`sync --dry-run --explain`): the plan also lists every source row in
   * `Plan.explained`, with what it does with each, why, and what each field gets.
   */
  explain?: boolean;
  /** A dry run's report: the mapping of each create, update and link in `Plan.mappings`. */
  showMapping?: boolean;
}

/**
 * Compares what Quo holds with what was last sent. With `overwrite`, returns the state row as Quo
 * holds it (so the planner PATCHes back to the source), or undefined for a contact that is gone
 * (so it is created again). A re-keyed contact is always left alone: it is no longer this sync's.
 */
function driftOf(sync: string, known: SyncRow, seen: Observed, resolution: Drift["resolution"], kept: readonly string[] = []): { drift: Drift; effective: SyncRow | undefined } | null {
  if (seen === null) {
    return { drift: { key: known.key, quoId: known.quoId, kind: "deleted", fields: diffFields(known.fields, null), resolution }, effective: undefined };
  }
  if ("rekeyedTo" in seen) {
    const fields = { externalId: { from: externalIdFor(sync, known.key), to: seen.rekeyedTo } };
    return { drift: { key: known.key, quoId: known.quoId, kind: "rekeyed", fields, resolution: "skip" }, effective: known };
  }
  const hash = hashContact(seen.fields);
  if (hash === known.hash) return null;
  // A field whose cell is blank under `blanks: "keep"` is Quo's to hold: a person's edit of it is no drift.
  if (kept.length && hashContact(overlayFields(seen.fields, known.fields, kept)) === known.hash) return null;
  return {
    drift: { key: known.key, quoId: known.quoId, kind: "edited", fields: diffFields(known.fields, seen.fields), resolution },
    effective: { key: known.key, quoId: known.quoId, hash, fields: seen.fields, itemIds: seen.itemIds },
  };
}

/**
 * Decides, for one sync, what to create, update and delete.
 *
 * - create: a mapped source row whose key this sync has no contact for;
 * - update: the hash of the mapped row differs from the hash of what was last sent;
 * - delete: only with `deletes: "mirror"`, only contacts this sync created (state rows), whose key
 *   is gone from the source. A key whose row is present but rejected is *not* gone: a typo in a
 *   phone number must not delete the contact;
 * - guards: a source with no rows deletes nothing; deleting more than `maxDeletePercent` of the
 *   sync's contacts refuses the whole run unless `allowDeletes`.
 * - a partial snapshot (`snapshot.partial`, an incremental read) holds only the records changed
 *   since the last read: a key absent from it is unchanged, not gone, so it deletes and unlinks
 *   nothing, and no delete guard applies; only a full snapshot finds what left the source —
 *   except the keys it names in `snapshot.gone` (a targeted read: deleted, purged, merged away),
 *   which are deleted (or unlinked) like keys gone from a full one, the guard counting them against
 *   every contact of the sync.
 */
export function plan(snapshot: Snapshot, state: readonly SyncRow[], opts: PlanOptions): Plan {
  const { sync } = opts;
  const byKey = new Map<string, SyncRow>();
  for (const s of state) byKey.set(s.key, s);

  const filtered = filterRows(snapshot, sync);
  const keyed = keyRows(filtered.kept, sync.key);
  const rejected: Rejection[] = [...keyed.rejected];
  const present = new Set<string>();
  for (const r of keyed.rejected) if (r.key !== undefined) present.add(r.key);

  const actions: Action[] = [];
  let unchanged = 0;
  const digest = sourceHasher(sync, opts.customFields);
  const mapOptions: MapOptions = { sync, customFields: opts.customFields, ...(sync.multiSelectSeparator ? { multiSelectSeparator: sync.multiSelectSeparator } : {}) };
  const drifts: Drift[] = [];
  const driftByKey = new Map<string, ReturnType<typeof driftOf>>();
  if (opts.observed) {
    const rowOf = new Map(keyed.rows.map((k) => [k.key, k.row]));
    for (const s of state) {
      const seen = opts.observed.get(s.key);
      if (seen === undefined) continue;
      const source = rowOf.get(s.key);
      const kept = source ? keptBlanks(source, mapOptions) : [];
      // Under create-only people own a contact once it exists: a drift is reported and left alone.
      const d = driftOf(sync.name, s, seen, sync.mode === "create-only" ? "skip" : sync.onDrift, kept);
      if (d) {
        drifts.push(d.drift);
        driftByKey.set(s.key, d);
      }
    }
  }
  const links: LinkAction[] = [];
  const skipped: SkippedRow[] = [];
  const unbound: ContactFields[] = [];
  const managedIds = new Map(state.map((r) => [r.quoId, r.key]));
  const explain = opts.explain === true;
  const showMapping = explain || opts.showMapping === true;
  const mappings = new Map<string, RowMapping>();
  /** Per key, what became of its row (for `explain`), when not an action or a rejection. */
  const outcomeOf = new Map<string, { outcome: ExplainedRow["outcome"]; reason?: string; mapping?: RowMapping }>();
  for (const { key, row } of keyed.rows) {
    present.add(key);
    let known = byKey.get(key);
    const drifted = driftByKey.get(key);
    if (drifted) {
      if (drifted.drift.resolution === "skip") {
        // Left alone, as configured: the contact keeps what a person set in the Quo app.
        unchanged++;
        if (explain) outcomeOf.set(key, { outcome: "unchanged", reason: "edited or deleted in the Quo app and left alone", ...mappingOf(row, key, mapOptions) });
        continue;
      }
      known = drifted.effective;
    }
    const sourceHash = digest(row);
    if (known?.sourceHash === sourceHash) {
      unchanged++;
      if (explain) outcomeOf.set(key, { outcome: "unchanged", ...mappingOf(row, key, mapOptions) });
      continue;
    }
    const mapped = mapRow(row, key, showMapping ? { ...mapOptions, explain: true } : mapOptions);
    if (mapped.mapping) mappings.set(key, mapped.mapping);
    if (!mapped.ok) {
      if (known && sync.mode === "create-only") {
        // Nothing of the row would be sent to a contact that exists: its faults change nothing.
        skipped.push({ key, row: row.row, reason: `the contact exists (${known.quoId}): create-only never updates it (the row is not valid now: ${mapped.rejections.map((r) => r.reason).join("; ")})` });
        continue;
      }
      rejected.push(...mapped.rejections);
      continue;
    }
    // A blank cell under `blanks: "keep"` asks for whatever the contact holds: the last value sent
    // stands for it here, and the write itself keeps Quo's current one (src/execute/write-whole.ts).
    const fields = known && mapped.keep.length ? overlayFields(mapped.fields, known.fields, mapped.keep) : mapped.fields;
    const keep = mapped.keep.length ? { keep: mapped.keep } : {};
    const hash = hashContact(fields);
    if (!known) {
      const verdict = sync.match && opts.workspace ? matchRow(fields, externalIdFor(sync.name, key), sync.match, opts.workspace, managedIds) : { kind: "none" as const };
      if (verdict.kind === "link" && sync.mode === "create-only") {
        skipped.push({ key, row: row.row, reason: `matches Quo contact ${verdict.contact.id} by ${verdict.matched.by} ${verdict.matched.value}: create-only never writes to a contact that exists (nor creates a twin of it)` });
      } else if (verdict.kind === "link") {
        links.push({ action: "link", key, row: row.row, quoId: verdict.contact.id, fields, hash, sourceHash, match: verdict.matched, ...keep });
      } else if (verdict.kind === "reject") {
        rejected.push({ key, row: row.row, field: `match.${verdict.matched.by}`, value: verdict.matched.value, reason: verdict.reason });
      } else if (sync.mode === "update-only") {
        if (sync.match && !opts.workspace) unbound.push(fields);
        const gone = drifted?.drift.kind === "deleted" ? "its contact was deleted in Quo and " : "";
        skipped.push({ key, row: row.row, reason: `${gone}no Quo contact is bound to this row${sync.match ? ` or matches it by ${sync.match.by.join(" or ")}` : ""}: update-only never creates one` });
      } else {
        actions.push({ action: "create", key, row: row.row, fields, hash, sourceHash });
      }
    } else if (known.hash !== hash && sync.mode === "create-only") {
      skipped.push({ key, row: row.row, reason: `the contact exists (${known.quoId}): create-only never updates it (${Object.keys(diffFields(known.fields, fields)).join(", ")} would change)` });
    } else if (known.hash !== hash) {
      actions.push({
        action: "update",
        key,
        row: row.row,
        quoId: known.quoId,
        before: known.fields,
        itemIds: known.itemIds,
        fields,
        hash,
        sourceHash,
        changes: diffFields(known.fields, fields),
        ...keep,
      });
    } else {
      unchanged++;
      if (explain) outcomeOf.set(key, { outcome: "unchanged" });
    }
  }

  actions.push(...linksClaimedOnce(links, rejected));

  const guards: GuardResult[] = [];
  const deletes: Action[] = [];
  const unlinks: Action[] = [];
  // In a partial read a row that left the filter changed, and is out of the sync now: gone.
  const goneKeys = snapshot.partial ? new Set([...(snapshot.gone ?? []), ...filtered.keys]) : null;
  if (sync.deletes === "mirror" && (!snapshot.partial || goneKeys?.size)) {
    if (!snapshot.partial && snapshot.rows.length === 0) {
      if (state.length > 0) {
        guards.push({
          guard: "empty-source",
          refused: false,
          message: `${snapshot.origin} has no rows: nothing is deleted (a source that returns no rows at all never deletes)`,
        });
      }
    } else if (!snapshot.partial && filtered.kept.rows.length === 0) {
      // A filter that keeps no row at all is far likelier a mistyped value than an empty business.
      if (state.length > 0) {
        guards.push({
          guard: "empty-source",
          refused: false,
          message: `where leaves none of the ${snapshot.rows.length} rows of ${snapshot.origin}: nothing is deleted (a filter that keeps no row never deletes; check its values)`,
        });
      }
    } else {
      for (const s of state) {
        if (present.has(s.key)) continue;
        // A partial snapshot says nothing of a key it neither holds nor names as gone.
        if (goneKeys && !goneKeys.has(s.key)) continue;
        const drifted = driftByKey.get(s.key);
        if (drifted?.drift.resolution === "skip") continue;
        // A contact that was in Quo before the sync linked it is never deleted: only forgotten.
        if (s.linked) unlinks.push({ action: "unlink", key: s.key, quoId: s.quoId, before: s.fields });
        else deletes.push({ action: "delete", key: s.key, quoId: s.quoId, before: s.fields });
      }
      if (deletes.length > 0 && state.length > 0) {
        const percent = (deletes.length / state.length) * 100;
        if (percent > sync.maxDeletePercent) {
          const share = `${deletes.length} of the sync's ${state.length} contacts (${percent.toFixed(1)}%)`;
          guards.push({
            guard: "max-delete-percent",
            refused: !opts.allowDeletes,
            message: opts.allowDeletes
              ? `would delete ${share}, over maxDeletePercent ${sync.maxDeletePercent}: allowed by --allow-deletes`
              : `would delete ${share}, over maxDeletePercent ${sync.maxDeletePercent} of syncs '${sync.name}'; rerun with --allow-deletes if that is intended`,
          });
        }
      }
    }
  }
  actions.push(...deletes, ...unlinks);
  // Stable: a row's rejections stay together, in the order mapping found them.
  rejected.sort((a, b) => a.row - b.row);

  const count = (kind: Action["action"]) => actions.filter((a) => a.action === kind).length;
  return {
    sync: sync.name,
    actions,
    unchanged,
    rejected,
    guards,
    filtered: filtered.rows,
    skipped: skipped.sort((a, b) => a.row - b.row),
    ...(unbound.length ? { unbound } : {}),
    ...(showMapping ? { mappings } : {}),
    ...(explain ? { explained: explainRows(snapshot, sync.key, filtered.rows, actions, rejected, skipped, outcomeOf, mappings) } : {}),
    ...(opts.observed ? { drift: drifts } : {}),
    ...(snapshot.partial ? { partial: true as const } : {}),
    // Rows, not rejections: a row with several fields at fault has one rejection per field.
    counts: { create: count("create"), update: count("update"), delete: deletes.length, link: count("link"), unlink: unlinks.length, unchanged, rejected: new Set(rejected.map((r) => r.row)).size, skipped: skipped.length, filtered: filtered.rows.length },
  };
}

/**
 * Links whose Quo contact no other row claims. When several rows match the same contact, none of
 * them may take it over: each is rejected, naming the contact and the other rows.
 */
function linksClaimedOnce(links: readonly LinkAction[], rejected: Rejection[]): LinkAction[] {
  const byContact = new Map<string, LinkAction[]>();
  for (const l of links) byContact.set(l.quoId, [...(byContact.get(l.quoId) ?? []), l]);
  const out: LinkAction[] = [];
  for (const [quoId, claims] of byContact) {
    if (claims.length === 1) {
      out.push(claims[0] as LinkAction);
      continue;
    }
    for (const l of claims) {
      const others = claims.filter((o) => o !== l).map((o) => `row ${o.row} (key '${o.key}')`);
      rejected.push({ key: l.key, row: l.row, field: `match.${l.match.by}`, value: l.match.value, reason: `matches Quo contact ${quoId} by ${l.match.by} ${l.match.value}, which ${others.join(", ")} ${others.length === 1 ? "matches" : "match"} too; give each person their own number or email, or merge the rows` });
    }
  }
  return out;
}

/** True when a guard refuses the run. */
export function isRefused(p: Plan): boolean {
  return p.guards.some((g) => g.refused);
}

/** A compiled `where` per sync config: planning twice in a run (match) or every minute compiles once. */
const filters = new WeakMap<object, RowFilter>();

/**
 * The rows `sync.where` keeps (as a snapshot of their own), and the rows it leaves out with the
 * condition each failed, and their keys. A row the connector could not read (`problem`) is kept:
 * its cells may not be where the header says, so the mapping stage rejects it rather than a
 * filter judging the wrong cell.
 */
function filterRows(snapshot: Snapshot, sync: PlanOptions["sync"]): { kept: Snapshot; rows: FilteredRow[]; keys: string[] } {
  const where = sync.where;
  if (!where || where.length === 0) return { kept: snapshot, rows: [], keys: [] };
  let filter = filters.get(where);
  if (!filter) filters.set(where, (filter = compileWhere(where, 0, sync.defaultCountry)));
  const kept: SourceRow[] = [];
  const rows: FilteredRow[] = [];
  const keys: string[] = [];
  for (const row of snapshot.rows) {
    const miss = row.problem ? null : filter.test(row);
    if (!miss) {
      kept.push(row);
      continue;
    }
    const key = (Object.hasOwn(row.values, sync.key) ? (row.values[sync.key] ?? "") : "").trim();
    if (key !== "") keys.push(key);
    rows.push({ ...(key !== "" ? { key } : {}), row: row.row, condition: miss.condition, column: miss.column, value: miss.value });
  }
  return { kept: { ...snapshot, rows: kept }, rows, keys };
}

/** A row's mapping for `explain`, whatever its outcome: `{ mapping }`, or nothing when it cannot be mapped. */
function mappingOf(row: SourceRow, key: string, opts: MapOptions): { mapping?: RowMapping } {
  const m = mapRow(row, key, { ...opts, explain: true });
  return m.mapping ? { mapping: m.mapping } : {};
}

/** Every row of the snapshot, in row order, with what the plan does with it and why (`plan --explain`). */
function explainRows(
  snapshot: Snapshot,
  keyColumn: string,
  filtered: readonly FilteredRow[],
  actions: readonly Action[],
  rejected: readonly Rejection[],
  skipped: readonly SkippedRow[],
  outcomeOf: ReadonlyMap<string, { outcome: ExplainedRow["outcome"]; reason?: string; mapping?: RowMapping }>,
  mappings: ReadonlyMap<string, RowMapping>,
): ExplainedRow[] {
  const byRow = new Map<number, ExplainedRow>();
  for (const f of filtered) byRow.set(f.row, { ...(f.key !== undefined ? { key: f.key } : {}), row: f.row, outcome: "filtered", reason: f.condition });
  for (const a of actions) {
    if (a.action !== "create" && a.action !== "update" && a.action !== "link") continue;
    const mapping = mappings.get(a.key);
    byRow.set(a.row, { key: a.key, row: a.row, outcome: a.action, ...(mapping ? { mapping } : {}) });
  }
  for (const s of skipped) {
    const mapping = mappings.get(s.key);
    byRow.set(s.row, { key: s.key, row: s.row, outcome: "skipped", reason: s.reason, ...(mapping ? { mapping } : {}) });
  }
  const reasons = new Map<number, string[]>();
  for (const r of rejected) reasons.set(r.row, [...(reasons.get(r.row) ?? []), r.reason]);
  for (const [row, why] of reasons) {
    const key = rejected.find((r) => r.row === row)?.key;
    const mapping = key !== undefined ? mappings.get(key) : undefined;
    byRow.set(row, { ...(key !== undefined ? { key } : {}), row, outcome: "rejected", reason: why.join("; "), ...(mapping ? { mapping } : {}) });
  }
  for (const row of snapshot.rows) {
    if (byRow.has(row.row)) continue;
    const key = (row.values[keyColumn] ?? "").trim();
    const o = outcomeOf.get(key);
    if (o) byRow.set(row.row, { key, row: row.row, ...o, ...(o.mapping ? {} : mappings.has(key) ? { mapping: mappings.get(key) } : {}) });
  }
  return [...byRow.values()].sort((a, b) => a.row - b.row);
}

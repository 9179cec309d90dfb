/**
 * A cheap digest of the raw cells a sync's mapping reads. Mapping a row (phone parsing above all)
 * costs tens of microseconds; hashing its raw cells costs one. When a row's digest equals the one
 * stored after it was last sent, its mapped contact cannot differ, so the planner skips mapping it.
 */
import { createHash } from "node:crypto";
import type { SyncConfig } from "../config.js";
import { mappedColumns } from "../config.js";
import type { SourceRow } from "../model.js";
import { canonicalJson } from "./hash.js";
import type { ResolvedCustomField } from "./map-row.js";
import { SPLIT_NAME_VERSION } from "./split-name.js";

/**
 * Bump when mapping or normalisation rules change in a way that changes what a row maps to, so
 * every row is mapped afresh once after an upgrade.
 */
export const MAPPING_VERSION = 1;

export interface SourceHasher {
  (row: SourceRow): string;
}

/**
 * A hasher for one sync: the fingerprint covers everything besides the cells that decides what a
 * row maps to (the field mapping, a split field's column and part included, defaultCountry, the
 * resolved custom fields and their types, and the name-splitting rules when a field splits names).
 * The cells hashed are those of every column the mapping reads, a split column included.
 */
export function sourceHasher(sync: SyncConfig, customFields: readonly ResolvedCustomField[]): SourceHasher {
  const columns = [...new Set(mappedColumns(sync, 0).map((m) => m.column))];
  const splits = typeof sync.fields.firstName === "object" || typeof sync.fields.lastName === "object";
  const fingerprint = canonicalJson({
    v: MAPPING_VERSION,
    // Only with a split, so that the fingerprints of other syncs stay as they were.
    ...(splits ? { split: SPLIT_NAME_VERSION } : {}),
    key: sync.key,
    fields: sync.fields,
    country: sync.defaultCountry,
    separator: sync.multiSelectSeparator ?? null,
    custom: customFields.map((c) => [c.configName, c.column, c.key, c.type]),
  });
  return (row) => {
    const h = createHash("sha1").update(fingerprint);
    for (const c of columns) h.update("\u0000").update(row.values[c] ?? "");
    if (row.problem) h.update("\u0001").update(row.problem);
    return h.digest("base64url");
  };
}

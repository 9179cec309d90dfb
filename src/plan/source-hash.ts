/**
 * A cheap digest of the raw cells a sync's mapping reads. Mapping a row (phone parsing above all)
 * costs tens of microseconds; hashing its raw cells costs one. When a row's digest equals the one
 * stored after it was last sent, its mapped contact cannot differ, so the planner skips mapping it.
 */
import { createHash } from "node:crypto";
import type { FieldSource, SyncConfig } from "../config.js";
import { mappedColumns } from "../config.js";
import type { SourceRow } from "../model.js";
import { canonicalJson } from "./hash.js";
import type { ResolvedCustomField } from "./map-row.js";
import { SPLIT_NAME_VERSION } from "./split-name.js";
import { TEMPLATE_VERSION } from "./template.js";

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
 * resolved custom fields and their types, the sync's `blanks`, the name-splitting rules when a
 * field splits names, the template rules when a field uses a template). The cells hashed are those
 * of every column the mapping reads (`mappedColumns`: a split column and each template placeholder
 * included).
 */
export function sourceHasher(sync: SyncConfig, customFields: readonly ResolvedCustomField[]): SourceHasher {
  const columns = [...new Set(mappedColumns(sync, 0).map((m) => m.column))];
  const sources = fieldSources(sync);
  const splits = sources.some((s) => typeof s === "object" && "split" in s);
  const templates = sources.some((s) => typeof s === "object" && "template" in s);
  const fingerprint = canonicalJson({
    v: MAPPING_VERSION,
    // Each only when used (blanks: only when not the default clear), so that the fingerprints of
    // other syncs stay as they were.
    ...(splits ? { split: SPLIT_NAME_VERSION } : {}),
    ...(templates ? { template: TEMPLATE_VERSION } : {}),
    ...((sync.blanks ?? "clear") !== "clear" ? { blanks: sync.blanks } : {}),
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

/** Every field source of a sync's mapping. */
function fieldSources(sync: SyncConfig): FieldSource[] {
  const f = sync.fields;
  return [f.firstName, f.lastName, f.company, f.role, ...Object.values(f.phoneNumbers), ...Object.values(f.emails), ...Object.values(f.customFields)].filter((s) => s !== undefined);
}

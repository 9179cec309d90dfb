/**
 * The custom fields and labels a sync manages, and the check that the workspace's custom-field
 * definitions did not change under it since the last run. Pure: no I/O.
 */
import { formatPath, type SyncConfig } from "../config.js";
import { ConfigError } from "../errors.js";
import type { CustomFieldBinding } from "../model.js";
import { OPTIONAL_SCALARS, type Managed } from "./from-quo.js";
import type { ResolvedCustomField } from "./map-row.js";

/** What `sync` manages on a contact: its mapped scalars, phone and email labels and custom fields. */
export function managedOf(sync: SyncConfig, custom: readonly ResolvedCustomField[]): Managed {
  return {
    scalars: new Set(OPTIONAL_SCALARS.filter((f) => sync.fields[f] !== undefined)),
    phoneLabels: new Set(Object.keys(sync.fields.phoneNumbers)),
    emailLabels: new Set(Object.keys(sync.fields.emails)),
    customKeys: new Set(custom.map((c) => c.key)),
    defaultCountry: sync.defaultCountry,
  };
}

/**
 * Compares the custom-field definitions resolved now with those of the last real run. Throws
 * `ConfigError` when one disappeared, now points at another field, or changed type — values
 * converted for the old type would be wrong for the new one.
 */
export function checkFieldChanges(sync: SyncConfig, index: number, before: readonly CustomFieldBinding[], now: readonly ResolvedCustomField[]): void {
  const current = new Map(now.map((c) => [c.configName, c]));
  const problems: string[] = [];
  for (const b of before) {
    const c = current.get(b.configName);
    if (!c) continue; // no longer mapped: nothing to check
    const at = `syncs[${index}].fields.${formatPath(["customFields", b.configName])}`;
    if (c.key !== b.key) problems.push(`${at}: now resolves to the Quo field '${c.name}' (key ${c.key}), but the last run wrote to key ${b.key}, which is gone or renamed`);
    else if (c.type !== b.type) problems.push(`${at}: the Quo field '${c.name}' changed type from ${b.type} to ${c.type} since the last run`);
  }
  if (problems.length) {
    throw new ConfigError(`${problems.join("\n")}\n  check the field in the Quo app; rerun with --accept-field-changes if the change is intended (sync '${sync.name}')`);
  }
}

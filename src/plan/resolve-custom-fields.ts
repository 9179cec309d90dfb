/**
 * Resolves a sync's `fields.customFields` entries (by key, or by name case-insensitively) against
 * the workspace's definitions from `GET /v1/contact-custom-fields`. Pure.
 */
import { closest } from "../closest-word.js";
import type { SyncConfig } from "../config.js";
import { formatPath } from "../config.js";
import { ConfigError } from "../errors.js";
import type { CustomFieldType } from "./custom-values.js";
import { sourceColumn } from "./field-source.js";
import type { ResolvedCustomField } from "./map-row.js";

export interface CustomFieldDefinition {
  name: string;
  key: string;
  type: CustomFieldType;
}

function listing(defs: readonly CustomFieldDefinition[]): string {
  return defs.length ? defs.map((d) => `'${d.name}' (key ${d.key}, ${d.type})`).join(", ") : "(the workspace has no custom fields)";
}

/**
 * Throws `ConfigError` naming the config path when an entry matches no definition or several,
 * listing the workspace's fields and the closest match.
 */
export function resolveCustomFields(sync: SyncConfig, index: number, defs: readonly CustomFieldDefinition[]): ResolvedCustomField[] {
  const out: ResolvedCustomField[] = [];
  const problems: string[] = [];
  for (const [configName, source] of Object.entries(sync.fields.customFields)) {
    const column = sourceColumn(source);
    const at = `syncs[${index}].fields.${formatPath(["customFields", configName])}`;
    const byKey = defs.filter((d) => d.key === configName);
    const byName = defs.filter((d) => d.name.toLowerCase() === configName.toLowerCase());
    const matches = byKey.length ? byKey : byName;
    if (matches.length === 1) {
      const d = matches[0] as CustomFieldDefinition;
      out.push({ configName, column, key: d.key, name: d.name, type: d.type });
    } else if (matches.length === 0) {
      const near = closest(configName, defs.flatMap((d) => [d.name, d.key]));
      problems.push(`${at}: no custom field named '${configName}' in the workspace${near ? `; did you mean '${near}'?` : ""} Fields: ${listing(defs)}`);
    } else {
      problems.push(`${at}: '${configName}' matches ${matches.length} custom fields (${listing(matches)}); use the key instead`);
    }
  }
  if (problems.length) throw new ConfigError(problems.join("\n"));
  return out;
}

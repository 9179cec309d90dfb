/**
 * `quo-sync fields`: the Quo custom fields (name, key, type) of each workspace the selected syncs
 * use, which source column maps to each, the fields each sync computes and what they read (a name
 * split from a column of whole names, a template's placeholders, a map, a default, a constant), and each source's unmapped columns with a suggested
 * mapping where the names are close. Reads Quo and the sources; writes nothing.
 */
import { columnsOfSource, hasWorkspaces, mappedColumns, workspaceOf, type FieldSource, type FieldsConfig, type SyncConfig } from "../config.js";
import { sourceColumn } from "../plan/field-source.js";
import { ConfigError } from "../errors.js";
import { closest } from "../closest-word.js";
import { resolveCustomFields, type CustomFieldDefinition } from "../plan/resolve-custom-fields.js";
import { clientsFor } from "../run.js";
import { readSnapshot } from "../sources.js";
import { EXIT, emit, fail, selectSyncs, setup, workspacesOf, type GlobalOptions } from "./common.js";

/**
 * What `fields` prints. A config without `workspaces` gets `fields` and `syncs` only, as before
 * workspaces existed; one with workspaces gets `workspaces` (each with its fields) and each sync's
 * `workspace` too, and `fields` only when the selected syncs all use one workspace.
 */
export interface FieldsReport {
  fields?: CustomFieldDefinition[];
  workspaces?: { workspace: string; fields: CustomFieldDefinition[] }[];
  syncs: {
    sync: string;
    workspace?: string;
    /**
     * The Quo fields the sync computes rather than copies from one cell: the field, the columns it
     * reads and the rule, e.g. `{ field: "firstName", reads: ["Full Name"], rule: "split('Full Name', first)" }`,
     * `{ field: "role", reads: ["Title", "Department"], rule: "template '{{Title}} ({{Department}})'" }`.
     */
    computed: ComputedField[];
    mappings: { configName: string; column: string; key: string; name: string; type: string }[];
    unresolved: { configName: string; column: string; problem: string }[];
    /**
     * Source columns no mapping reads. `suggestion` is the free custom field whose name or key is
     * closest (each field suggested for one column at most), and `configName` what to write for it
     * under `fields.customFields`: its name, or its key when the name would not resolve to it alone.
     */
    unmappedColumns: { column: string; suggestion?: CustomFieldDefinition; configName?: string }[];
    sourceError?: string;
  }[];
}

/** A field computed from source columns, as `fields` shows it. */
export interface ComputedField {
  field: string;
  reads: string[];
  rule: string;
}

/**
 * The fields a sync computes rather than copies from one cell — every field given in an object
 * form: a split name, a template, a constant, a column with a default or a map — in the order of
 * Quo's fields, each with the columns it reads and its rule. Never throws.
 */
export function computedFields(fields: FieldsConfig): ComputedField[] {
  const out: ComputedField[] = [];
  const add = (field: string, source: FieldSource | undefined) => {
    if (source === undefined || typeof source === "string") return;
    out.push({ field, reads: [...new Set(columnsOfSource(source).map((c) => c.column))], rule: ruleOf(source) });
  };
  for (const k of ["firstName", "lastName", "company", "role"] as const) add(k, fields[k]);
  for (const group of ["phoneNumbers", "emails", "customFields"] as const) {
    for (const [label, source] of Object.entries(fields[group])) add(`${group}.${label}`, source);
  }
  return out;
}

/** How `fields` writes a computed field's rule: `split('Full Name', first)`, `template '…'`, `value '…'`, `column 'C', default '…', map a → A, strict`. */
function ruleOf(source: Exclude<FieldSource, string>): string {
  if ("split" in source) return `split('${source.split}', ${source.part})`;
  if ("value" in source) return `value '${source.value}'`;
  const blanks = source.blanks !== undefined ? `, blanks: ${source.blanks}` : "";
  if ("template" in source) return `template '${source.template}'${blanks}`;
  const parts = [`column '${source.column}'`];
  if (source.default !== undefined) parts.push(`default '${source.default}'`);
  if (source.map !== undefined) parts.push(`map ${Object.entries(source.map).map(([from, to]) => `'${from}' → '${to}'`).join(", ") || "(empty)"}`);
  if (source.strict) parts.push("strict");
  return parts.join(", ") + blanks;
}

function resolveEach(sync: SyncConfig, index: number, defs: CustomFieldDefinition[]): Pick<FieldsReport["syncs"][number], "mappings" | "unresolved"> {
  const mappings: FieldsReport["syncs"][number]["mappings"] = [];
  const unresolved: FieldsReport["syncs"][number]["unresolved"] = [];
  for (const [configName, source] of Object.entries(sync.fields.customFields)) {
    const column = sourceColumn(source);
    const one = { ...sync, fields: { ...sync.fields, customFields: { [configName]: source } } };
    try {
      mappings.push(...resolveCustomFields(one, index, defs));
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      unresolved.push({ configName, column, problem: e.message });
    }
  }
  return { mappings, unresolved };
}

/**
 * Builds the report: one Quo read per workspace the selected syncs use, one read of each selected
 * source. Throws `ConfigError` for a config or a workspace key that is missing, `QuoApiError` (naming
 * the workspace when there are several) when Quo refuses; a source that cannot be read is reported
 * in its sync's entry instead.
 */
export async function buildFieldsReport(opts: GlobalOptions): Promise<FieldsReport> {
  const { loaded, env, logger } = setup(opts);
  const clients = clientsFor(loaded, env, logger);
  const indexes = selectSyncs(loaded, opts.sync);
  const named = hasWorkspaces(loaded.config);
  const defsBy = new Map<string, CustomFieldDefinition[]>();
  for (const workspace of workspacesOf(loaded, indexes)) defsBy.set(workspace, await clients.forWorkspace(workspace).listCustomFields());
  const report: FieldsReport = {
    ...(defsBy.size === 1 ? { fields: [...defsBy.values()][0] as CustomFieldDefinition[] } : {}),
    ...(named ? { workspaces: [...defsBy].map(([workspace, fields]) => ({ workspace, fields })) } : {}),
    syncs: [],
  };
  for (const i of indexes) {
    const sync = loaded.config.syncs[i] as SyncConfig;
    const defs = defsBy.get(workspaceOf(sync)) as CustomFieldDefinition[];
    const entry: FieldsReport["syncs"][number] = {
      sync: sync.name,
      ...(named ? { workspace: workspaceOf(sync) } : {}),
      computed: computedFields(sync.fields),
      ...resolveEach(sync, i, defs),
      unmappedColumns: [],
    };
    try {
      const used = mappedColumns(sync, i).map((m) => m.column);
      const snapshot = await readSnapshot(sync.source, { baseDir: loaded.baseDir, env, wanted: used });
      const taken = new Set(entry.mappings.map((m) => m.key));
      const unmapped = snapshot.columns.filter((c) => !used.includes(c));
      const suggested = suggestFields(unmapped, defs.filter((d) => !taken.has(d.key)));
      for (const column of unmapped) {
        const suggestion = suggested.get(column);
        entry.unmappedColumns.push({ column, ...(suggestion ? { suggestion, configName: configNameOf(suggestion, defs) } : {}) });
      }
    } catch (e) {
      entry.sourceError = e instanceof Error ? e.message : String(e);
    }
    report.syncs.push(entry);
  }
  return report;
}

/**
 * A free custom field for each unmapped column that has a close one: columns named exactly (case
 * aside) like a field's name or key first, then the closest; a field goes to one column only, since
 * `customFields` maps each field from one column. Never throws.
 */
function suggestFields(columns: readonly string[], free: readonly CustomFieldDefinition[]): Map<string, CustomFieldDefinition> {
  const out = new Map<string, CustomFieldDefinition>();
  const given = new Set<string>();
  const give = (column: string, d: CustomFieldDefinition | undefined) => {
    if (!d || out.has(column) || given.has(d.key)) return;
    out.set(column, d);
    given.add(d.key);
  };
  for (const column of columns) give(column, free.find((d) => d.name.toLowerCase() === column.toLowerCase() || d.key.toLowerCase() === column.toLowerCase()));
  for (const column of columns) {
    if (out.has(column)) continue;
    const left = free.filter((d) => !given.has(d.key));
    const near = closest(column, left.flatMap((d) => [d.name, d.key]));
    give(column, near === undefined ? undefined : left.find((d) => d.name === near || d.key === near));
  }
  return out;
}

/**
 * What to write under `fields.customFields` for `d`: its name when `resolveCustomFields` would find
 * `d` alone by it (no field has that name as its key, no other field has the same name), else its key.
 */
function configNameOf(d: CustomFieldDefinition, defs: readonly CustomFieldDefinition[]): string {
  const byKey = defs.filter((x) => x.key === d.name);
  const byName = defs.filter((x) => x.name.toLowerCase() === d.name.toLowerCase());
  const unique = byKey.length ? byKey.length === 1 && byKey[0] === d : byName.length === 1;
  return unique ? d.name : d.key;
}

function renderFieldList(out: string[], heading: string, fields: readonly CustomFieldDefinition[]): void {
  out.push(heading);
  if (!fields.length) out.push("  (none: create them in the Quo app under workspace settings)");
  const w = Math.max(4, ...fields.map((f) => f.name.length));
  const k = Math.max(3, ...fields.map((f) => f.key.length));
  if (fields.length) out.push(`  ${"name".padEnd(w)}  ${"key".padEnd(k)}  type`);
  for (const f of fields) out.push(`  ${f.name.padEnd(w)}  ${f.key.padEnd(k)}  ${f.type}`);
}

/** The table `fields` prints by default. Never throws. */
export function renderFieldsTable(r: FieldsReport): string {
  const out: string[] = [];
  if (r.workspaces) r.workspaces.forEach((w, i) => renderFieldList(out, `${i > 0 ? "\n" : ""}Quo custom fields in workspace '${w.workspace}':`, w.fields));
  else renderFieldList(out, "Quo custom fields in this workspace:", r.fields ?? []);
  for (const s of r.syncs) {
    out.push("", `sync '${s.sync}'${s.workspace !== undefined ? ` (workspace '${s.workspace}')` : ""}:`);
    if (s.computed.length) {
      out.push("  computed fields:");
      const w = Math.max(...s.computed.map((c) => c.field.length));
      for (const c of s.computed) out.push(`    ${c.field.padEnd(w)} ← ${c.rule}`);
    }
    if (!s.mappings.length && !s.unresolved.length) out.push("  no customFields mapped");
    const ruleFor = (configName: string, column: string) => s.computed.find((c) => c.field === `customFields.${configName}`)?.rule ?? `column '${column}'`;
    for (const m of s.mappings) out.push(`  ${ruleFor(m.configName, m.column)} → '${m.name}' (${m.key}, ${m.type})`);
    for (const u of s.unresolved) out.push(`  ${ruleFor(u.configName, u.column)} → '${u.configName}': ${u.problem}`);
    if (s.sourceError) out.push(`  could not read the source: ${s.sourceError}`);
    else if (s.unmappedColumns.length) {
      out.push("  unmapped source columns:");
      for (const c of s.unmappedColumns) {
        const s = c.suggestion;
        const byKey = s && c.configName !== s.name ? `'${s.name}', ${s.type}; by key: its name would match another field too` : s?.type;
        out.push(`    '${c.column}'${s ? ` — maybe "customFields": { ${JSON.stringify(c.configName ?? s.name)}: ${JSON.stringify(c.column)} } (${byKey})` : ""}`);
      }
    }
  }
  return out.join("\n") + "\n";
}

export async function fieldsCommand(opts: GlobalOptions): Promise<number> {
  try {
    if (opts.format !== "table" && opts.format !== "json") throw new ConfigError(`--format ${opts.format}: fields prints table or json`);
    const report = await buildFieldsReport(opts);
    emit(opts.format === "json" ? JSON.stringify(report, null, 2) + "\n" : renderFieldsTable(report), opts.out);
    return EXIT.ok;
  } catch (e) {
    return fail(e);
  }
}

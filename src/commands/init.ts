/**
 * `quo-sync init`: reads a source's columns (a CSV header, a Sheet's header row, HubSpot's contact
 * properties) and, when a Quo key is set, the workspace's custom fields, proposes a mapping
 * (src/init/propose-mapping.ts), asks about each choice on a terminal (src/init/choose-mapping.ts),
 * and writes a config that the config schema accepts (README, "Quick start"). It reads the source
 * through its connector, writes nothing but the config file, and never overwrites one without
 * `--force`. Exit 0 written; 1 not written (source unreadable, file exists, answered no); 130
 * stopped with Ctrl-C.
 */
import { existsSync, readdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { createInterface, type Interface } from "node:readline/promises";
import { fileURLToPath } from "node:url";
import { InvalidArgumentError } from "commander";
import { googleSheetsConnector } from "../../connectors/google-sheets/index.js";
import { parseA1Range, quoteSheetName } from "../../connectors/google-sheets/a1-range.js";
import { loadServiceAccountKey } from "../../connectors/google-sheets/service-account.js";
import { SHEETS_RETRY_POLICY, SheetsApi, sheetsRootUrl } from "../../connectors/google-sheets/sheets-api.js";
import { HubspotClient } from "../../connectors/hubspot/hubspot-client.js";
import { HUBSPOT_DEFAULT_API_URL } from "../../connectors/hubspot/limits.js";
import type { ConnectorContext } from "../../connectors/types.js";
import { HUBSPOT_DEFAULT_REQUESTS_PER_10S, loadEnv, parseConfig, type SourceConfig } from "../config.js";
import { ConfigError, SourceError } from "../errors.js";
import { chooseMapping, parseYesNo, type Dialogue } from "../init/choose-mapping.js";
import {
  configRelativePath,
  describeMapping,
  fullNameNote,
  initConfig,
  nextSteps,
  parseSourceSpec,
  scheduleFor,
  schemaReference,
  syncNameFor,
  type SourceSpec,
} from "../init/init-config.js";
import { hubspotColumns, proposeMapping, type SourceColumn } from "../init/propose-mapping.js";
import type { CustomFieldDefinition } from "../plan/resolve-custom-fields.js";
import { QuoClient, quoClientOptionsFromEnv } from "../quo/client.js";
import { connectorFor } from "../sources.js";
import { EXIT, describeError, fail } from "./common.js";

/** The options of `quo-sync init`. */
export interface InitOptions {
  source?: SourceSpec;
  /** The config file to write. */
  out: string;
  /** Take the proposals without asking. */
  yes?: boolean;
  /** Overwrite `out` if it exists. */
  force?: boolean;
}

/** Rows read besides the header, to tell a unique id column from a repeated one. */
const SAMPLE_ROWS = 500;
/** The country national numbers are read in unless the person answers otherwise (docs: README, "Config"). */
const DEFAULT_COUNTRY = "US";
/**
 * The readings tried on a CSV file, in order: the config's defaults first (UTF-8, ','), then the
 * delimiters European spreadsheet programs and tab-separated exports write, then the same with the
 * connector's `"auto"` encoding (UTF-8, UTF-16 or Windows-1252).
 */
const CSV_READINGS = (["utf8", "auto"] as const).flatMap((encoding) => ([",", ";", "\t", "|"] as const).map((delimiter) => [delimiter, encoding] as const));
/** The schema file that ships at the package's root (package.json "files"). */
const SCHEMA_FILE = "quo-sync.schema.json";

/** `--source` for commander: a usage error, not a run error, when it cannot be read. */
export function parseSourceArgument(value: string): SourceSpec {
  try {
    return parseSourceSpec(value);
  } catch (e) {
    throw new InvalidArgumentError(e instanceof Error ? e.message.replace(/^--source [^:]*: /, "") : String(e));
  }
}

/** The person stopped the dialogue: Ctrl-C, or the end of the input. */
class DialogueStopped extends Error {
  override readonly name = "DialogueStopped";
  constructor(readonly how: "interrupted" | "ended") {
    super(how === "interrupted" ? "interrupted" : "the input ended");
  }
}

/**
 * Questions on a terminal through node:readline. Lines are queued as they come, so answers typed
 * (or pasted) ahead of their question are kept rather than dropped between two questions. The
 * terminal is held only while asking: `release` hands it back (line editing and Ctrl-C as usual)
 * while init reads the source, and the next question takes it again.
 */
class TerminalDialogue implements Dialogue {
  readonly #input: NodeJS.ReadableStream;
  readonly #output: NodeJS.WritableStream;
  readonly #lines: string[] = [];
  #rl: Interface | undefined;
  #waiting: { resolve: (line: string) => void; reject: (e: Error) => void } | undefined;
  #stopped: DialogueStopped | undefined;

  constructor(input: NodeJS.ReadableStream, output: NodeJS.WritableStream) {
    this.#input = input;
    this.#output = output;
  }

  #open(): Interface {
    if (this.#rl) return this.#rl;
    const rl = createInterface({ input: this.#input, output: this.#output, terminal: true });
    rl.on("line", (line) => {
      const w = this.#waiting;
      this.#waiting = undefined;
      if (w) w.resolve(line);
      else this.#lines.push(line);
    });
    // Without a listener, readline pauses on Ctrl-C and the question would wait forever.
    rl.on("SIGINT", () => this.#stop(new DialogueStopped("interrupted")));
    rl.on("close", () => {
      if (this.#rl === rl) this.#stop(new DialogueStopped("ended"));
    });
    this.#rl = rl;
    return rl;
  }

  #stop(e: DialogueStopped): void {
    this.#stopped ??= e;
    const w = this.#waiting;
    this.#waiting = undefined;
    w?.reject(e);
  }

  ask(prompt: string): Promise<string> {
    const queued = this.#lines.shift();
    if (queued !== undefined) {
      this.#output.write(`${prompt}${queued}\n`);
      return Promise.resolve(queued);
    }
    if (this.#stopped) return Promise.reject(this.#stopped);
    const rl = this.#open();
    return new Promise((resolve, reject) => {
      this.#waiting = { resolve, reject };
      rl.setPrompt(prompt);
      rl.prompt();
    });
  }

  say(line: string): void {
    this.#output.write(`${line}\n`);
  }

  /** Gives the terminal back until the next question. */
  release(): void {
    const rl = this.#rl;
    this.#rl = undefined;
    rl?.close();
  }
}

/** The dialogue's lines, or stdout's when there is no dialogue. */
function sayer(d: Dialogue | undefined): (line: string) => void {
  return d ? (line) => d.say(line) : (line) => process.stdout.write(`${line}\n`);
}

/** What was read of the source. */
interface SourceRead {
  columns: SourceColumn[];
  samples: Record<string, string>[];
  /** `source` as the config will hold it. */
  source: Record<string, unknown>;
  /** The source in messages. */
  origin: string;
}

/** The header and the first `SAMPLE_ROWS` rows, through the source's connector. Throws its errors. */
async function readHead(source: SourceConfig, ctx: ConnectorContext): Promise<{ columns: string[]; samples: Record<string, string>[] }> {
  let columns: string[] = [];
  const samples: Record<string, string>[] = [];
  for await (const item of connectorFor(source).read(source, ctx)) {
    if (item.type === "header") columns = item.columns;
    else if (item.type === "row") samples.push(item.row.values);
    if (samples.length >= SAMPLE_ROWS) break;
  }
  return { columns, samples };
}

/**
 * A CSV file's header, read as `CSV_READINGS` try it: the first reading that splits the header into
 * several columns is the one the config keeps, so a semicolon export gets its delimiter and a
 * Windows-1252 one `"encoding": "auto"` (README, "CSV files as people export them"). Throws the
 * default reading's error when none works.
 */
async function readCsv(spec: Extract<SourceSpec, { type: "csv" }>, ctx: ConnectorContext, cwd: string, configDir: string): Promise<SourceRead> {
  const file = path.resolve(cwd, spec.path);
  const found = (head: Awaited<ReturnType<typeof readHead>>, delimiter: string, encoding: string): SourceRead => ({
    columns: head.columns.map((name) => ({ name })),
    samples: head.samples,
    source: { type: "csv", path: configRelativePath(configDir, file), ...(delimiter !== "," ? { delimiter } : {}), ...(encoding !== "utf8" ? { encoding } : {}) },
    origin: spec.path,
  });
  let firstError: unknown;
  let oneColumn: SourceRead | undefined;
  for (const [delimiter, encoding] of CSV_READINGS) {
    let head: Awaited<ReturnType<typeof readHead>>;
    try {
      head = await readHead({ type: "csv", path: file, delimiter, encoding }, ctx);
    } catch (e) {
      firstError ??= e;
      continue;
    }
    if (head.columns.length === 0) throw new SourceError(`${file} is empty: init needs its header row`);
    if (head.columns.length > 1) return found(head, delimiter, encoding);
    // A file of one column is possible: kept in case no delimiter splits it.
    oneColumn ??= found(head, delimiter, encoding);
  }
  if (oneColumn) return oneColumn;
  if (firstError instanceof Error) throw firstError;
  throw new SourceError(`${file}: its header cannot be read`);
}

/**
 * The first tab of a spreadsheet, as a config range (quoted when it reads like cells, e.g. 'Q1').
 * Undefined when it cannot be found; the read that follows then reports why.
 */
async function firstSheet(spreadsheetId: string, env: NodeJS.ProcessEnv, cwd: string): Promise<string | undefined> {
  try {
    const key = await loadServiceAccountKey(undefined, cwd, env);
    const api = new SheetsApi({ spreadsheetId, key, rootUrl: sheetsRootUrl(env), write: false, retry: SHEETS_RETRY_POLICY });
    const title = (await api.sheetTitles())[0];
    if (title === undefined) return undefined;
    return parseA1Range(title)?.sheet === title ? title : quoteSheetName(title);
  } catch {
    return undefined;
  }
}

async function readSheet(spec: Extract<SourceSpec, { type: "google-sheets" }>, ctx: ConnectorContext, cwd: string): Promise<SourceRead> {
  // Google names a new spreadsheet's first tab "Sheet1" (in English); the read names the real tabs if not.
  const range = spec.range ?? (await firstSheet(spec.spreadsheetId, ctx.env, cwd)) ?? "Sheet1";
  const source = { type: "google-sheets" as const, spreadsheetId: spec.spreadsheetId, range };
  const head = await readHead({ ...source, headerRow: 1, valueRenderOption: "FORMATTED_VALUE" }, ctx);
  if (head.columns.length === 0) throw new SourceError(`spreadsheet ${spec.spreadsheetId} (${range}) has no header row`);
  return { columns: head.columns.map((name) => ({ name })), samples: head.samples, source, origin: `spreadsheet ${spec.spreadsheetId} (${range})` };
}

/**
 * HubSpot's contact properties (`GET /crm/v3/properties/contacts`, docs/hubspot.md) through the
 * connector's client. Throws `ConfigError` when `HUBSPOT_ACCESS_TOKEN` is not set or
 * `HUBSPOT_API_URL` is not a URL, `SourceError` when HubSpot refuses.
 */
async function readHubspot(env: NodeJS.ProcessEnv): Promise<SourceRead> {
  const token = env.HUBSPOT_ACCESS_TOKEN?.trim();
  if (!token) {
    throw new ConfigError(
      "HUBSPOT_ACCESS_TOKEN is not set: create a private app in HubSpot (Settings → Integrations → Private apps) with the scopes crm.objects.contacts.read and crm.schemas.contacts.read, and set its access token",
    );
  }
  const client = new HubspotClient({ baseUrl: env.HUBSPOT_API_URL?.trim() || HUBSPOT_DEFAULT_API_URL, token, requestsPerWindow: HUBSPOT_DEFAULT_REQUESTS_PER_10S });
  const columns = hubspotColumns(await client.listProperties());
  return { columns, samples: [], source: { type: "hubspot" }, origin: "HubSpot's contact properties" };
}

function readSource(spec: SourceSpec, env: NodeJS.ProcessEnv, cwd: string, configDir: string): Promise<SourceRead> {
  const ctx: ConnectorContext = { baseDir: configDir, env, wanted: [] };
  switch (spec.type) {
    case "csv":
      return readCsv(spec, ctx, cwd, configDir);
    case "google-sheets":
      return readSheet(spec, ctx, cwd);
    case "hubspot":
      return readHubspot(env);
  }
}

/**
 * The default workspace's custom fields when `QUO_API_KEY` or `MATON_API_KEY` is set; none, with a
 * note saying why, when no key is set or Quo refuses (init goes on: `check` will say the same).
 */
async function readCustomFields(env: NodeJS.ProcessEnv): Promise<{ defs: CustomFieldDefinition[]; note?: string }> {
  if (!env.QUO_API_KEY?.trim() && !env.MATON_API_KEY?.trim()) {
    return { defs: [], note: "QUO_API_KEY is not set, so Quo's custom fields were not read; map them later (quo-sync fields lists them)." };
  }
  try {
    return { defs: await new QuoClient(quoClientOptionsFromEnv(env)).listCustomFields() };
  } catch (e) {
    return { defs: [], note: `Quo's custom fields could not be read (${describeError(e)}); map them later (quo-sync fields lists them).` };
  }
}

/**
 * `quo-sync.schema.json` of this installation: the first one found going up from this module to
 * the package's root (the folder with package.json), whether run from the repository or installed.
 */
function shippedSchema(): string | undefined {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const file = path.join(dir, SCHEMA_FILE);
    if (existsSync(file)) return file;
    const up = path.dirname(dir);
    if (existsSync(path.join(dir, "package.json")) || up === dir) return undefined;
    dir = up;
  }
}

function exists(file: string): ConfigError {
  return new ConfigError(`${file} already exists; nothing was written (pass --force to overwrite it, or --out FILE to write another file)`);
}

/**
 * Writes the config: exclusively (fails if the file appeared meanwhile) unless `force`. Throws
 * `ConfigError` naming the resolved path.
 */
function writeConfigFile(file: string, text: string, force: boolean): void {
  try {
    writeFileSync(file, text, { flag: force ? "w" : "wx" });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "EEXIST") throw exists(file);
    const reason = code === "ENOENT" ? "its folder does not exist" : code === "EACCES" || code === "EPERM" ? "permission denied" : code === "EISDIR" ? "it is a folder" : (e as Error).message;
    throw new ConfigError(`cannot write ${file}: ${reason}; nothing was written`, undefined, { cause: e });
  }
}

/** Asks for the source when `--source` was not given; proposes the working folder's only CSV file. */
async function askSource(d: Dialogue, cwd: string): Promise<SourceSpec> {
  const csvs = readdirSync(cwd).filter((f) => /\.csv$/i.test(f));
  const proposed = csvs.length === 1 ? `csv:${csvs[0] as string}` : undefined;
  for (;;) {
    const answer = (await d.ask(`source: csv:PATH, google-sheets:SPREADSHEET_ID[!RANGE] or hubspot${proposed ? ` [${proposed}]` : ""}: `)).trim() || proposed;
    if (answer === undefined) continue;
    try {
      return parseSourceSpec(answer);
    } catch (e) {
      d.say(`  ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}

/** Asks whether to write the file; Enter means yes. */
async function confirmWrite(d: Dialogue, target: string): Promise<boolean> {
  for (;;) {
    const yes = parseYesNo(await d.ask(`${existsSync(target) ? "Overwrite" : "Write"} ${target}? [Y/n]: `), true);
    if (yes !== undefined) return yes;
    d.say("  answer y or n");
  }
}

/** How the config file is named in the commands to run next: relative to here when inside it. */
function configArgument(cwd: string, file: string): string {
  const rel = path.relative(cwd, file);
  return rel === "" || rel.startsWith("..") || path.isAbsolute(rel) ? file : rel;
}

/**
 * Runs `quo-sync init` (see the module's comment): prints what it read, the notes and, off a
 * terminal, the mapping to stdout; reasons to stderr. Returns the exit status; never throws.
 */
export async function initCommand(opts: InitOptions): Promise<number> {
  let dialogue: TerminalDialogue | undefined;
  try {
    const cwd = process.cwd();
    const env = loadEnv(cwd);
    const target = path.resolve(cwd, opts.out);
    const configDir = path.dirname(target);
    if (!opts.force && existsSync(target)) throw exists(target);
    if (!existsSync(configDir)) throw new ConfigError(`cannot write ${target}: the folder ${configDir} does not exist; nothing was written`);
    const onTerminal = Boolean(process.stdin.isTTY && process.stdout.isTTY);
    if (!opts.yes && onTerminal) dialogue = new TerminalDialogue(process.stdin, process.stdout);
    else if (!opts.yes) process.stderr.write("quo-sync: not on a terminal, so init takes the proposed mapping without asking (--yes says so and silences this)\n");
    const say = sayer(dialogue);

    let spec = opts.source;
    if (spec === undefined) {
      if (!dialogue) throw new ConfigError("init needs --source csv:PATH, google-sheets:SPREADSHEET_ID[!RANGE] or hubspot (it asks for the source only on a terminal)");
      spec = await askSource(dialogue, cwd);
    }
    // Ctrl-C while reading stops init at once, as it does any command: nothing is written yet.
    dialogue?.release();
    const read = await readSource(spec, env, cwd, configDir);
    const custom = await readCustomFields(env);
    const proposal = proposeMapping(read.columns, { customFields: custom.defs, samples: read.samples });
    const schedule = scheduleFor(spec);

    say(`Read ${read.origin}: ${read.columns.length} columns.${custom.defs.length ? ` Quo custom fields: ${custom.defs.map((d) => d.name).join(", ")}.` : ""}`);
    for (const note of [...(custom.note ? [custom.note] : []), ...proposal.notes]) say(`Note: ${note}`);

    const { notes: _notes, ...proposed } = proposal;
    const chosen = dialogue
      ? await chooseMapping(dialogue, read.columns, proposal, { defaultCountry: DEFAULT_COUNTRY, schedule })
      : { mapping: proposed, defaultCountry: DEFAULT_COUNTRY, schedule };
    const schema = schemaReference(configDir, shippedSchema());
    const config = initConfig({
      syncName: syncNameFor(spec),
      source: read.source,
      mapping: chosen.mapping,
      defaultCountry: chosen.defaultCountry,
      ...(chosen.schedule !== undefined ? { schedule: chosen.schedule } : {}),
      ...(schema !== undefined ? { schema } : {}),
    });
    // What init writes must load: a config the schema refuses is a fault here, said before writing.
    parseConfig(config, target);
    const text = `${JSON.stringify(config, null, 2)}\n`;

    if (dialogue) {
      dialogue.say("");
      dialogue.say(text.trimEnd());
      if (!(await confirmWrite(dialogue, target))) {
        process.stderr.write(`quo-sync: nothing was written to ${target}\n`);
        return EXIT.error;
      }
    } else {
      say("Proposed mapping:");
      for (const line of describeMapping(chosen.mapping, read.columns)) say(line);
      const note = fullNameNote(chosen.mapping.name);
      if (note !== undefined) say(`Note: ${note}`);
    }
    writeConfigFile(target, text, opts.force === true);
    say(`Wrote ${target}`);
    for (const line of nextSteps(configArgument(cwd, target), { quoKeySet: Boolean(env.QUO_API_KEY?.trim() || env.MATON_API_KEY?.trim()) })) say(line);
    return EXIT.ok;
  } catch (e) {
    if (e instanceof DialogueStopped) {
      process.stderr.write(`quo-sync: init ${e.how === "interrupted" ? "stopped" : "stopped: the input ended"}; nothing was written\n`);
      return e.how === "interrupted" ? EXIT.interrupted : EXIT.error;
    }
    return fail(e);
  } finally {
    dialogue?.release();
  }
}

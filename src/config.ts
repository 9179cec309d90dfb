/**
 * The config file: its zod schema (the single source of the shipped JSON Schema), loading, `.env`,
 * and the environment quo-sync reads. Contract: README.md, "Config" and "Environment".
 */
import { DURATION_FORMAT, DURATION_PATTERN, parseDuration } from "./duration.js";
import { closest } from "./closest-word.js";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { parse as parseDotenv } from "dotenv";
import { getCountries, type CountryCode } from "libphonenumber-js";
import { z } from "zod";
import { ConfigError } from "./errors.js";
import { whereSchema } from "./config-where.js";
import { whereColumns } from "./plan/where.js";
import { checkBaseUrl } from "./net/base-url.js";
import { MATON_DEFAULT_BASE_URL, QUO_DEFAULT_BASE_URL } from "./quo/auth.js";
import { isPostgresUrl } from "./state/location.js";
import { parseTemplate } from "./plan/template.js";

/** Quo allows 10 requests per second per API key (docs/quo-api.md, "Connecting"). */
export const QUO_DEFAULT_REQUESTS_PER_SECOND = 10;
/** Deletes above this share of a sync's contacts refuse the run unless `--allow-deletes`. */
export const DEFAULT_MAX_DELETE_PERCENT = 20;
/**
 * Runs kept per sync (README, "Retention"): two days of a run every 15 minutes, a week and more of
 * hourly runs; far more than `status` lists (10) and enough to see a pattern in failures.
 */
export const DEFAULT_RETENTION_RUNS = 200;
/**
 * Days of run history kept per sync: rejections hold raw source values (personal data), which
 * should not outlive the month they were needed in to fix the source.
 */
export const DEFAULT_RETENTION_DAYS = 30;

const countries = new Set<string>(getCountries());

const columnName = z.string().trim().min(1, "a column name must not be empty");
const labelMap = z
  .record(z.string().trim().min(1, "a label must not be empty"), columnName)
  .default({});

const csvSource = z.strictObject({
  type: z.literal("csv"),
  path: z.string().min(1).describe("CSV file, relative to the config file"),
  delimiter: z
    .union([z.literal("auto"), z.string().length(1, 'one character, or "auto"')])
    .default(",")
    .describe("one character, e.g. ',' or ';' or '\\t'; or \"auto\": whichever of , ; tab | splits the header and the first rows alike"),
  encoding: z
    .string()
    .min(1)
    .default("utf8")
    .describe(
      "a Node or iconv-lite encoding name, e.g. utf8, latin1, windows-1252, utf16le; or \"auto\": a byte-order mark (UTF-8, UTF-16), else UTF-8, or windows-1252 when the file is not valid UTF-8",
    ),
  watch: z
    .boolean()
    .optional()
    .describe("the daemon runs the sync within seconds of the file changing (or being replaced by a rename), besides its schedule"),
});

const googleSheetsSource = z.strictObject({
  type: z.literal("google-sheets"),
  spreadsheetId: z.string().trim().min(1).describe("the id in the sheet's URL: docs.google.com/spreadsheets/d/<id>/edit"),
  range: z.string().trim().min(1).describe("a sheet name (Sheet1) or an A1 range (Sheet1!A1:Z)"),
  headerRow: z.number().int().min(1).default(1).describe("the row holding the column names (1-based, within the range)"),
  credentials: z.string().min(1).optional().describe("service-account key file; default GOOGLE_APPLICATION_CREDENTIALS"),
  valueRenderOption: z.enum(["FORMATTED_VALUE", "UNFORMATTED_VALUE"]).default("FORMATTED_VALUE"),
  writeBack: z
    .strictObject({
      idColumn: columnName.describe("column that receives each contact's Quo id"),
      statusColumn: columnName.optional().describe("column that receives 'ok' or the reason a row was not synced"),
    })
    .optional(),
});

/** HubSpot's default request budget: 100 requests per 10 s per app on Free/Starter (docs/hubspot.md). */
export const HUBSPOT_DEFAULT_REQUESTS_PER_10S = 100;

/**
 * The shortest `fullEvery`: a full refresh more often than a minute costs a full listing on
 * nearly every run, which is what an incremental source is there to avoid.
 */
export const MIN_FULL_EVERY_MS = 60_000;

const duration = z
  .string({ error: 'a duration such as "24h" (a number and a unit: s, m, h or d)' })
  .regex(DURATION_PATTERN, `not a duration: give ${DURATION_FORMAT}`)
  .superRefine((text, ctx) => {
    const ms = parseDuration(text);
    // Text that is not a duration at all has its issue from the pattern already.
    if (ms === undefined) {
      if (DURATION_PATTERN.test(text)) ctx.addIssue({ code: "custom", message: `'${text}' is longer than a year` });
    } else if (ms < MIN_FULL_EVERY_MS) ctx.addIssue({ code: "custom", message: `'${text}' is under a minute: a full refresh that often defeats incremental reads` });
  });

const hubspotSource = z.strictObject({
  type: z.literal("hubspot"),
  properties: z.array(z.string().trim().min(1)).default([]).describe("extra properties to read besides those the mapping uses"),
  archived: z.enum(["drop", "keep"]).default("drop").describe("drop: archived contacts leave the snapshot (deleted in mirror mode); keep: they stay"),
  requestsPer10Seconds: z.number().int().positive().max(1000).default(HUBSPOT_DEFAULT_REQUESTS_PER_10S),
  incremental: z
    .strictObject({
      fullEvery: duration
        .describe('how often a run reads every contact (and so finds deletes), e.g. "24h"; between those, runs read only the contacts modified since the last run')
        .meta({ examples: ["24h", "12h", "7d"] }),
    })
    .optional()
    .describe("read only the contacts modified since the last run (CRM search on lastmodifieddate); such runs create and update, and deletes wait for the full refresh every fullEvery (or sync --full)")
    .meta({ examples: [{ fullEvery: "24h" }] }),
});

/** HubSpot's own record id, the natural key of a HubSpot sync. */
export const HUBSPOT_DEFAULT_KEY = "hs_object_id";

export const sourceSchema = z.discriminatedUnion("type", [csvSource, googleSheetsSource, hubspotSource]);

/** What a blank computed value does to the Quo field: `clear` it (the default) or `keep` Quo's value. */
const blanksPolicy = z
  .enum(["clear", "keep"], { error: 'what a blank value does: "clear" (clear the Quo field) or "keep" (leave Quo\'s value as it is)' })
  .describe("clear: a blank value clears the Quo field the sync manages (default); keep: a blank value leaves Quo's value as it is, neither cleared nor set")
  .meta({ examples: ["clear", "keep"] });

/**
 * A part of a column of whole names (src/plan/split-name.ts): the name fields, and custom fields
 * (a custom "Last name" field, say); never a phone or an email, which no name holds.
 */
const splitField = z
  .strictObject({
    split: columnName.describe("the source column holding whole names").meta({ examples: ["Full Name"] }),
    part: z.enum(["first", "last"], { error: 'which part of the name this field gets: "first" or "last"' }).describe("which part of the name this field gets").meta({ examples: ["first", "last"] }),
  })
  .describe(
    'a part of a column of whole names, e.g. { "split": "Full Name", "part": "first" } beside { "split": "Full Name", "part": "last" }: "Dr. Anne-Marie van der Berg" gives "Anne-Marie" and "van der Berg", "García Márquez, Gabriel" gives "Gabriel" and "García Márquez"; a title in front is dropped, a suffix (Jr., III) stays with the last name, middle names go with the first name, one word is a first name alone',
  )
  .meta({ examples: [{ split: "Full Name", part: "first" }, { split: "Full Name", part: "last" }] });

/** A column's cell, with a default for a blank cell and a table translating its values. */
const columnField = z
  .strictObject({
    column: columnName.describe("the source column read").meta({ examples: ["Company", "Lifecycle"] }),
    default: z.string().optional().describe("the value used when the cell is blank").meta({ examples: ["Independent"] }),
    map: z
      .record(z.string(), z.string())
      .optional()
      .describe('translates a cell\'s value (compared case-insensitively, spaces at either end ignored) to the value sent; a value mapped to "" is blank; a value not in the map is sent as it is, unless strict')
      .meta({ examples: [{ customer: "Customer", opportunity: "Open deal", lost: "" }] }),
    strict: z.boolean().optional().describe("a value not in the map rejects the row (naming the field, the column, the value and the values mapped) instead of being sent as it is; needs map").meta({ examples: [true] }),
    blanks: blanksPolicy.optional().describe("what a blank value does to this field, over the sync's blanks: clear (clear the Quo field) or keep (leave Quo's value)"),
  })
  .superRefine((f, ctx) => {
    if (f.strict !== undefined && f.map === undefined) ctx.addIssue({ code: "custom", path: ["strict"], message: 'strict rejects values the map does not list: give a "map" too, or remove strict' });
    const seen = new Map<string, string>();
    for (const from of Object.keys(f.map ?? {})) {
      const folded = from.trim().toLowerCase();
      const first = seen.get(folded);
      if (first !== undefined) ctx.addIssue({ code: "custom", path: ["map", from], message: `the same value as '${first}' (the map compares values case-insensitively, spaces at either end ignored): keep one of them` });
      else seen.set(folded, from);
    }
  })
  .describe('a column read with a default for a blank cell and/or a table translating its values, e.g. { "column": "Lifecycle", "map": { "customer": "Customer" }, "strict": true }')
  .meta({ examples: [{ column: "Company", default: "Independent" }, { column: "Lifecycle", map: { customer: "Customer", opportunity: "Open deal" }, strict: true }] });

/** The same text on every contact. */
const valueField = z
  .strictObject({ value: z.string().describe("the text every contact gets").meta({ examples: ["Website form"] }) })
  .describe('a constant: every contact gets this text, e.g. { "value": "Website form" }')
  .meta({ examples: [{ value: "Website form" }] });

/** Text built from several columns (src/plan/template.ts). */
const templateField = z
  .strictObject({
    template: z
      .string()
      .superRefine((text, ctx) => {
        const parsed = parseTemplate(text);
        if (!parsed.ok) ctx.addIssue({ code: "custom", message: parsed.reason });
      })
      .describe("text with {{Column}} placeholders (a column name may hold spaces and dots); a blank placeholder goes with the punctuation joining it to its neighbours and with brackets around it alone; no sections, partials or escaping")
      .meta({ examples: ["{{Title}} ({{Department}})", "{{City}}, {{State}}"] }),
    blanks: blanksPolicy.optional().describe("what a blank result (every placeholder blank) does to this field, over the sync's blanks"),
  })
  .describe('text built from columns, e.g. { "template": "{{Title}} ({{Department}})" } gives "Engineer (Sales)", "Engineer" when Department is blank, "(Sales)" when Title is')
  .meta({ examples: [{ template: "{{Title}} ({{Department}})" }] });

const FORMS = 'a column name, { "column": COLUMN, "default"?, "map"?, "strict"?, "blanks"? }, { "value": TEXT }, { "template": "{{Column}} …" }';

/**
 * What a Quo field reads: a column, a column with a default or a map, a constant, a template, and
 * (the name fields and custom fields only) a part of a column of whole names.
 */
const fieldSource = (description: string, split = true, examples: unknown[] = []) =>
  (split
    ? z
        .union([columnName, columnField, valueField, templateField, splitField], { error: `${FORMS} or { "split": COLUMN, "part": "first" | "last" }` })
        .describe(`${description}: ${FORMS}, or a part of a column of whole names`)
    : z.union([columnName, columnField, valueField, templateField], { error: FORMS }).describe(`${description}: ${FORMS}`)
  ).meta({ examples });

/** Label (or custom field) → what it reads. */
const fieldMap = (what: string, split: boolean, examples: unknown[]) =>
  z
    .record(z.string().trim().min(1, "a label must not be empty"), fieldSource(what, split))
    .default({})
    .meta({ examples });

export const fieldsSchema = z.strictObject({
  firstName: fieldSource("required (Quo refuses a contact without a first name; a blank one rejects the row whatever blanks says)", true, ["First Name", { split: "Full Name", part: "first" }]),
  lastName: fieldSource("optional", true, ["Last Name", { split: "Full Name", part: "last" }]).optional(),
  company: fieldSource("optional", false, ["Company", { column: "Company", default: "Independent" }]).optional(),
  role: fieldSource("optional", false, ["Title", { template: "{{Title}} ({{Department}})" }]).optional(),
  phoneNumbers: fieldMap("the phone number with this label", false, [{ mobile: "Phone", work: { column: "Work Phone", blanks: "keep" } }]).describe("Quo phone label → what it reads"),
  emails: fieldMap("the email with this label", false, [{ work: "Email" }]).describe("Quo email label → what it reads"),
  customFields: fieldMap("the custom field's value, converted to its Quo type", true, [
    { "Lead Source": { value: "Website form" }, Stage: { column: "Lifecycle", map: { customer: "Customer", opportunity: "Open deal" } } },
  ]).describe("Quo custom field (name or key) → what it reads"),
});

const syncName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$/, "use 1–40 letters, digits, '.', '_' or '-', starting with a letter or digit");

/**
 * The workspace of a sync that names none: its key comes from `QUO_API_KEY` or `MATON_API_KEY`, its
 * origin from `QUO_BASE_URL`, its rate from `quo.requestsPerSecond`. Logs and metrics call it by
 * this name; `workspaces` may not define it.
 */
export const DEFAULT_WORKSPACE = "default";

/**
 * An environment variable's name. Upper case only: a lower-case or mixed-case value is more likely
 * a key pasted where its variable's name belongs, and a name is quoted in messages.
 */
const envVarName = z
  .string()
  .regex(/^[A-Z][A-Z0-9_]{0,63}$/, "the name of an environment variable: capital letters, digits and '_', starting with a letter (e.g. WEST_QUO_API_KEY), never the key itself");

/**
 * One entry of the top-level `workspaces`: where a client workspace's key is (`apiKeyEnv`, read when
 * a sync of it runs), how it authenticates, its origin and rate. `baseUrl` is checked like
 * `QUO_BASE_URL` (`checkBaseUrl`); every problem is an issue on its own path.
 */
export const workspaceSchema = z
  .strictObject({
    apiKeyEnv: envVarName.describe("the environment variable holding this workspace's key (checked when a sync of the workspace runs)"),
    baseUrl: z.string().min(1).optional().describe("origin of the API for this workspace; default https://api.openphone.com (with auth maton https://gateway.maton.ai/quo)"),
    auth: z.enum(["quo", "maton"]).default("quo").describe("quo: a Quo API key sent raw; maton: a Maton key, through the Maton gateway (Bearer, paths under /quo)"),
    requestsPerSecond: z.number().positive().max(100).optional().describe("Quo's limit for this key; default quo.requestsPerSecond. Workspaces that share a key share one throttle at the lowest rate set for it"),
  })
  .superRefine((w, ctx) => {
    if (w.baseUrl === undefined) return;
    try {
      checkBaseUrl(w.baseUrl, { variable: "baseUrl", example: w.auth === "maton" ? MATON_DEFAULT_BASE_URL : QUO_DEFAULT_BASE_URL });
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      ctx.addIssue({ code: "custom", path: ["baseUrl"], message: e.message });
    }
  });

export const syncSchema = z.strictObject({
  name: syncName,
  workspace: syncName.optional().describe("the Quo workspace this sync writes to: a name under the top-level workspaces; default the workspace of QUO_API_KEY / MATON_API_KEY"),
  source: sourceSchema,
  key: columnName.optional().describe("the source column holding a stable unique id (HubSpot: default hs_object_id)"),
  fields: fieldsSchema,
  blanks: blanksPolicy.default("clear"),
  defaultCountry: z
    .string()
    .default("US")
    .refine((c) => countries.has(c), { message: "not an ISO 3166-1 alpha-2 country code libphonenumber knows (e.g. US, GB, DE)" }),
  multiSelectSeparator: z
    .string()
    .min(1)
    .optional()
    .describe("splits multi-select custom field cells; default ';' when the cell has one, else ','"),
  mode: z
    .enum(["upsert", "create-only", "update-only"])
    .default("upsert")
    .describe("upsert: create and update (default); create-only: create contacts and never update them afterwards (people own them once they exist); update-only: never create, only write rows already bound to a Quo contact or linked by match (the rest are reported as skipped)")
    .meta({ examples: ["upsert", "create-only", "update-only"] }),
  where: whereSchema.optional(),
  deletes: z.enum(["mirror", "never"]).default("never"),
  verify: z.boolean().default(false).describe("read this sync's contacts back from Quo every run to find edits made in the Quo app (as --verify)"),
  onDrift: z
    .enum(["overwrite", "skip"])
    .default("overwrite")
    .describe("a contact edited or deleted in the Quo app: overwrite it with the source (default), or leave it alone and report it"),
  maxDeletePercent: z.number().min(0).max(100).default(DEFAULT_MAX_DELETE_PERCENT),
  schedule: z.string().min(1).optional(),
  match: z
    .strictObject({
      by: z
        .array(z.enum(["phone", "email"]))
        .min(1)
        .refine((by) => new Set(by).size === by.length, { message: "list each of phone and email at most once" })
        .describe("what a row that would be created is matched by, in order: its E.164 phones, its case-folded emails"),
      sources: z
        .array(z.string().trim().min(1))
        .default([])
        .describe("contact sources besides Quo's own (and none) whose contacts may be taken over, e.g. another tool's"),
    })
    .optional()
    .describe("link rows to contacts already in Quo instead of creating twins (off by default)"),
})
  .superRefine((s, ctx) => {
    if (s.key === undefined && s.source.type !== "hubspot") ctx.addIssue({ code: "custom", path: ["key"], message: "required: the source column holding a stable unique id" });
    if (s.source.type === "google-sheets" && s.source.writeBack) {
      // A written-back column that is also read would change on every run and never settle.
      const read = new Set(mappedColumns({ ...s, key: s.key ?? HUBSPOT_DEFAULT_KEY }, 0).map((m) => m.column));
      for (const k of ["idColumn", "statusColumn"] as const) {
        const column = s.source.writeBack[k];
        if (column !== undefined && read.has(column)) {
          ctx.addIssue({ code: "custom", path: ["source", "writeBack", k], message: `'${column}' is the key or a mapped column; write-back needs a column of its own` });
        }
      }
    }
  })
  .transform((s) => ({ ...s, key: s.key ?? HUBSPOT_DEFAULT_KEY }));

/**
 * How much run history the state keeps: after each real run, the sync's runs beyond the newest
 * `runs`, or started more than `days` days ago, are deleted with their rejections. A run still
 * running, and the sync's newest finished and newest successful runs, are always kept.
 */
export const retentionSchema = z
  .strictObject({
    runs: z.number().int().min(1).max(1_000_000).default(DEFAULT_RETENTION_RUNS).describe("runs kept per sync, newest first"),
    days: z.number().positive().max(36_500).default(DEFAULT_RETENTION_DAYS).describe("runs (and their rejected rows, which hold source values) started longer ago than this many days are deleted"),
  })
  .default({ runs: DEFAULT_RETENTION_RUNS, days: DEFAULT_RETENTION_DAYS })
  .describe("how much run history the state database keeps per sync; each sync's newest finished and newest successful runs are always kept");

/** The events an alert channel can be sent (docs/daemon.md, "Alerts"). */
export const ALERT_EVENTS = ["failed", "refused", "stalled", "rejected", "recovered"] as const;
/** How long a failed, refused or stalled state lasts before its alert is sent again, by default. */
export const DEFAULT_REPEAT_AFTER = "24h";

/** What every channel shares: which events it gets and when a lasting state is announced again. */
const channelCommon = {
  on: z
    .array(z.enum(ALERT_EVENTS, { error: `one of ${ALERT_EVENTS.join(", ")}` }))
    .min(1, "list at least one event, or leave 'on' out for all of them")
    .refine((on) => new Set(on).size === on.length, { message: "list each event at most once" })
    .optional()
    .describe(`the events sent on this channel: ${ALERT_EVENTS.join(", ")}; default all`)
    .meta({ examples: [["failed", "refused", "stalled", "recovered"]] }),
  repeatAfter: z
    .string()
    .refine((d) => parseDuration(d) !== undefined, { message: `not a duration: give ${DURATION_FORMAT}` })
    .default(DEFAULT_REPEAT_AFTER)
    .describe("while a sync stays failed, refused or stalled, its alert is sent again after this long")
    .meta({ examples: ["30m", "24h", "2d"] }),
};

const webhookChannel = z.strictObject({
  type: z.literal("webhook"),
  urlEnv: envVarName.describe("the environment variable holding the URL the alert's JSON is POSTed to (the URL itself never goes in the config)").meta({ examples: ["OPS_WEBHOOK_URL"] }),
  ...channelCommon,
});

const slackChannel = z.strictObject({
  type: z.literal("slack"),
  urlEnv: envVarName.describe("the environment variable holding the Slack incoming-webhook URL (https://hooks.slack.com/services/…)").meta({ examples: ["SLACK_WEBHOOK_URL"] }),
  ...channelCommon,
});

const emailAddress = z.email({ error: "not an email address" });

const emailChannel = z.strictObject({
  type: z.literal("email"),
  smtpUrlEnv: envVarName.describe("the environment variable holding the SMTP server as a URL with its credentials: smtps://USER:PASSWORD@HOST:465 or smtp://HOST:587").meta({ examples: ["SMTP_URL"] }),
  from: emailAddress.describe("the sender's address").meta({ examples: ["quo-sync@example.com"] }),
  to: z.array(emailAddress).min(1, "list at least one recipient").describe("the recipients").meta({ examples: [["ops@example.com"]] }),
  ...channelCommon,
});

/**
 * One alert channel: where the events of every sync are sent. Its address (a URL, an SMTP URL with
 * its password) is read from the environment variable it names, never from the config file.
 */
export const alertChannelSchema = z.discriminatedUnion("type", [webhookChannel, slackChannel, emailChannel], {
  error: 'a channel\'s "type" is one of webhook, slack, email',
});

export const webhooksSchema = z
  .strictObject({
    hubspot: z
      .strictObject({
        clientSecretEnv: envVarName.optional().describe("variable holding the HubSpot app's client secret, which signs its webhooks (v3)"),
        secretEnv: envVarName.optional().describe("the same as clientSecretEnv (give one of the two)"),
      })
      .superRefine((h, ctx) => {
        if ((h.clientSecretEnv === undefined) === (h.secretEnv === undefined)) ctx.addIssue({ code: "custom", message: "give the variable holding the app's client secret in 'clientSecretEnv' (or 'secretEnv'), once" });
      })
      .optional()
      .describe("POST /webhooks/hubspot: contact events of a HubSpot app run every HubSpot-sourced sync"),
    quo: z
      .strictObject({ secretEnv: envVarName.describe("variable holding the webhook's signing secret (whsec_… or a legacy base64 key)") })
      .optional()
      .describe("POST /webhooks/quo: contact.updated / contact.deleted of a contact a sync manages re-checks it at once (onDrift)"),
  })
  .default({})
  .describe("webhook endpoints served by 'quo-sync daemon --http'; each is enabled only when configured here, its secret read from the named environment variable");

export const configSchema = z.strictObject({
  $schema: z.string().optional(),
  webhooks: webhooksSchema,
  state: z.string().min(1).default("./quo-sync.db"),
  quo: z
    .strictObject({
      requestsPerSecond: z.number().positive().max(100).default(QUO_DEFAULT_REQUESTS_PER_SECOND),
    })
    .default({ requestsPerSecond: QUO_DEFAULT_REQUESTS_PER_SECOND }),
  retention: retentionSchema,
  workspaces: z
    .record(syncName, workspaceSchema)
    .default({})
    .describe("Quo workspaces besides the default one, each with its own key, by name (1–40 letters, digits, '.', '_', '-'); a sync picks one with 'workspace'"),
  alerts: z
    .array(alertChannelSchema)
    .default([])
    .describe("where failures, refusals, stalls, new rejected rows and recoveries are announced, once per change of state (docs/daemon.md, \"Alerts\")")
    .meta({
      examples: [
        [
          { type: "slack", urlEnv: "SLACK_WEBHOOK_URL" },
          { type: "webhook", urlEnv: "OPS_WEBHOOK_URL", on: ["failed", "refused", "stalled", "recovered"], repeatAfter: "24h" },
          { type: "email", smtpUrlEnv: "SMTP_URL", from: "quo-sync@example.com", to: ["ops@example.com"] },
        ],
      ],
    }),
  syncs: z
    .array(syncSchema)
    .min(1, "configure at least one sync")
    .superRefine((syncs, ctx) => {
      const seen = new Map<string, number>();
      syncs.forEach((s, i) => {
        const first = seen.get(s.name);
        if (first !== undefined) {
          ctx.addIssue({ code: "custom", path: [i, "name"], message: `'${s.name}' is already the name of syncs[${first}]` });
        } else seen.set(s.name, i);
      });
    }),
})
  .superRefine((c, ctx) => {
    if (Object.hasOwn(c.workspaces, DEFAULT_WORKSPACE)) {
      ctx.addIssue({ code: "custom", path: ["workspaces", DEFAULT_WORKSPACE], message: `'${DEFAULT_WORKSPACE}' is the name of the workspace of QUO_API_KEY / MATON_API_KEY, used by syncs without a 'workspace'; choose another name` });
    }
    const known = Object.keys(c.workspaces);
    c.syncs.forEach((s, i) => {
      if (s.workspace === undefined || s.workspace === DEFAULT_WORKSPACE || Object.hasOwn(c.workspaces, s.workspace)) return;
      const list = known.length ? `the workspaces are: ${known.join(", ")}` : "the config defines no workspaces (add it under the top-level 'workspaces')";
      ctx.addIssue({ code: "custom", path: ["syncs", i, "workspace"], message: `no workspace named '${s.workspace}'; ${list}` });
    });
  });

export type Config = z.infer<typeof configSchema>;
export type SyncConfig = z.infer<typeof syncSchema>;
/** A validated entry of `workspaces` (defaults filled). */
export type WorkspaceConfig = z.infer<typeof workspaceSchema>;
export type SourceConfig = z.infer<typeof sourceSchema>;
/** A validated entry of `alerts` (defaults filled). */
export type AlertChannelConfig = z.infer<typeof alertChannelSchema>;
/** An event alert channels are sent. */
export type AlertEventName = (typeof ALERT_EVENTS)[number];
export type CsvSourceConfig = z.infer<typeof csvSource>;
/** The validated top-level `webhooks`. */
export type WebhooksConfig = z.infer<typeof webhooksSchema>;
export type GoogleSheetsSourceConfig = z.infer<typeof googleSheetsSource>;
export type HubspotSourceConfig = z.infer<typeof hubspotSource>;
export type FieldsConfig = z.infer<typeof fieldsSchema>;
/** `{ "split": COLUMN, "part": "first" | "last" }`: a part of a column of whole names. */
export type SplitField = z.infer<typeof splitField>;
/** `{ "column", "default"?, "map"?, "strict"?, "blanks"? }`. */
export type ColumnField = z.infer<typeof columnField>;
/** `{ "value" }`: a constant. */
export type ValueField = z.infer<typeof valueField>;
/** `{ "template", "blanks"? }`: text built from columns. */
export type TemplateField = z.infer<typeof templateField>;
/** What one Quo field reads: any of the forms (phones and emails never split). */
export type FieldSource = string | ColumnField | ValueField | TemplateField | SplitField;
/** What `firstName` or `lastName` reads (kept for the callers that name it so). */
export type NameField = FieldSource;
/** A blank value's effect: clear the Quo field, or keep Quo's value. */
export type BlanksPolicy = z.infer<typeof blanksPolicy>;

/** A loaded config: the validated data, where it came from, and each sync's index for messages. */
export interface LoadedConfig {
  config: Config;
  file: string;
  baseDir: string;
}

/** `syncs[0].fields.phoneNumbers.mobile` from a zod issue path. */
export function formatPath(parts: readonly PropertyKey[]): string {
  let out = "";
  for (const p of parts) {
    if (typeof p === "number") out += `[${p}]`;
    else {
      const s = String(p);
      out += /^[A-Za-z_$][\w$]*$/.test(s) ? (out ? `.${s}` : s) : `[${JSON.stringify(s)}]`;
    }
  }
  return out || "(config)";
}

/**
 * Validates parsed JSON against the schema. Throws `ConfigError` listing every problem, each
 * prefixed with its path; an unknown key is named with its own path and, when a known key of the
 * same object is close, the key that was probably meant.
 */
export function parseConfig(data: unknown, file = "config"): Config {
  const result = configSchema.safeParse(data);
  if (result.success) return result.data;
  const lines = result.error.issues.flatMap((i) => issueLines(i, [], data));
  throw new ConfigError(`${file} is not valid:\n  ${lines.join("\n  ")}`);
}

/** The lines that say what is wrong with `issue`, found at `prefix` + its own path. */
function issueLines(issue: z.core.$ZodIssue, prefix: readonly PropertyKey[], data: unknown): string[] {
  const at = [...prefix, ...issue.path];
  if (issue.code === "unrecognized_keys") return issue.keys.map((key) => `${formatPath([...at, key])}: ${sourceOnlyKey(key, at) ?? unknownKey(key, knownKeysAt(configSchema, at, data))}`);
  // zod says only "Invalid key in record" for a bad name under `workspaces`; its own issues say why.
  if (issue.code === "invalid_key") return [`${formatPath(at)}: not a valid name: ${issue.issues.map((k) => k.message).join("; ")}`];
  if (issue.code === "invalid_union") {
    // A value of the right kind for one of the forms (an object for `{ "split", "part" }`) is
    // told what that form lacks; zod alone says only "Invalid input".
    const reached = issue.errors.filter((branch) => !branch.every((i) => i.code === "invalid_type" && i.path.length === 0));
    if (reached.length === 1) return (reached[0] as z.core.$ZodIssue[]).flatMap((i) => issueLines(i, at, data));
    // An object several forms could be: the form its keys (or their near misses) point at.
    const union = unionAt(configSchema, at, data);
    const chosen = union ? objectOption(union.options as readonly z.ZodType[], valueAt(data, at)) : undefined;
    const branch = chosen && union ? issue.errors[(union.options as readonly z.ZodType[]).indexOf(chosen)] : undefined;
    if (branch?.length) return branch.flatMap((i) => issueLines(i, at, data));
  }
  return [`${formatPath(at)}: ${issue.message}`];
}

/** What is said of `incremental` on a source that cannot read incrementally; undefined for any other key. */
function sourceOnlyKey(key: string, at: readonly PropertyKey[]): string | undefined {
  if (at[at.length - 1] !== "source") return undefined;
  if (key === "incremental") return "incremental reads are for HubSpot sources only (a file or a sheet is read whole on every run, which is cheap); remove it";
  if (key === "watch") return "only a CSV source can be watched ('type': 'csv'); other sources run on their schedule (HubSpot: see 'webhooks')";
  return undefined;
}

/** What is said about an unknown key: the known key it is closest to, else every known key. */
function unknownKey(key: string, known: readonly string[]): string {
  const near = closest(key, known);
  if (near !== undefined) return `unknown key; did you mean '${near}'?`;
  return known.length ? `unknown key (the keys here are: ${known.join(", ")})` : "unknown key";
}

/**
 * The keys the object schema at `at` (a zod issue path) allows, following `data` through unions by
 * their discriminator. Empty when the path leads to no object schema. Never throws.
 */
export function knownKeysAt(schema: z.ZodType, at: readonly PropertyKey[], data: unknown): string[] {
  let s: z.ZodType | undefined = unwrapSchema(schema, data);
  let d = data;
  for (const part of at) {
    if (s instanceof z.ZodObject) s = (s.shape as Record<string, z.ZodType>)[String(part)];
    else if (s instanceof z.ZodArray) s = s.element as z.ZodType;
    else if (s instanceof z.ZodRecord) s = s.valueType as z.ZodType;
    else return [];
    d = d !== null && typeof d === "object" ? (d as Record<PropertyKey, unknown>)[part] : undefined;
    s = s === undefined ? undefined : unwrapSchema(s, d);
  }
  return s instanceof z.ZodObject ? Object.keys(s.shape) : [];
}

/**
 * The schema under optional/default/transform wrappers, and the union option `data` chose: by its
 * discriminator, or (a plain union, such as a name field's) the object form its keys fit best.
 */
function unwrapSchema(schema: z.ZodType, data: unknown): z.ZodType {
  let s = schema;
  for (let depth = 0; depth < 20; depth++) {
    if (s instanceof z.ZodOptional || s instanceof z.ZodDefault || s instanceof z.ZodNullable) s = s.unwrap() as z.ZodType;
    else if (s instanceof z.ZodPipe) s = s.in as z.ZodType;
    else if (s instanceof z.ZodDiscriminatedUnion) {
      const field = s._zod.def.discriminator;
      const value = data !== null && typeof data === "object" ? (data as Record<string, unknown>)[field] : undefined;
      const chosen = (s.options as z.ZodType[]).find((o) => o instanceof z.ZodObject && literalValues(o.shape[field]).includes(value));
      if (!chosen) return s;
      s = chosen;
    } else if (s instanceof z.ZodUnion) {
      const chosen = objectOption(s.options as readonly z.ZodType[], data);
      if (!chosen) return s;
      s = chosen;
    } else return s;
  }
  return s;
}

/**
 * The object option of a union that `data` (an object) fits best: two points for each key it has,
 * one for each key close to one of its own (a misspelt `templte` points at `template`), ties
 * going to the option with fewer required keys `data` lacks; undefined for other data and for an
 * object none of whose keys any option has or nearly has.
 */
function objectOption(options: readonly z.ZodType[], data: unknown): z.ZodObject | undefined {
  if (data === null || typeof data !== "object" || Array.isArray(data)) return undefined;
  const keys = Object.keys(data);
  let best: z.ZodObject | undefined;
  let bestScore = -1;
  for (const o of options) {
    if (!(o instanceof z.ZodObject)) continue;
    const own = Object.keys(o.shape);
    const missing = own.filter((k) => !keys.includes(k) && !(o.shape[k] as z.ZodType).safeParse(undefined).success).length;
    const fit = keys.reduce((n, k) => n + (own.includes(k) ? 2 : closest(k, own) !== undefined ? 1 : 0), 0);
    // The required keys lacking only break ties between options the keys fit equally.
    const score = fit === 0 ? 0 : fit * 100 - missing;
    if (score > bestScore) [best, bestScore] = [o, score];
  }
  return bestScore > 0 ? best : undefined;
}

/** The plain union (not a discriminated one) at `at`, under its optional/default wrappers; undefined when there is none. */
function unionAt(schema: z.ZodType, at: readonly PropertyKey[], data: unknown): z.ZodUnion | undefined {
  let s: z.ZodType | undefined = unwrapSchema(schema, data);
  let d = data;
  for (const [n, part] of at.entries()) {
    if (s instanceof z.ZodObject) s = (s.shape as Record<string, z.ZodType>)[String(part)];
    else if (s instanceof z.ZodArray) s = s.element as z.ZodType;
    else if (s instanceof z.ZodRecord) s = s.valueType as z.ZodType;
    else return undefined;
    d = d !== null && typeof d === "object" ? (d as Record<PropertyKey, unknown>)[part] : undefined;
    if (s === undefined) return undefined;
    if (n < at.length - 1) s = unwrapSchema(s, d);
  }
  for (let depth = 0; depth < 20 && s; depth++) {
    if (s instanceof z.ZodOptional || s instanceof z.ZodDefault || s instanceof z.ZodNullable) s = s.unwrap() as z.ZodType;
    else if (s instanceof z.ZodPipe) s = s.in as z.ZodType;
    else break;
  }
  return s instanceof z.ZodUnion && !(s instanceof z.ZodDiscriminatedUnion) ? s : undefined;
}

/** The part of `data` at `at`; undefined where the path leaves it. */
function valueAt(data: unknown, at: readonly PropertyKey[]): unknown {
  let d = data;
  for (const part of at) d = d !== null && typeof d === "object" ? (d as Record<PropertyKey, unknown>)[part] : undefined;
  return d;
}

function literalValues(schema: unknown): unknown[] {
  return schema instanceof z.ZodLiteral ? [...schema.values] : [];
}

/** The name of the workspace a sync writes to: its `workspace`, or `DEFAULT_WORKSPACE`. Never throws. */
export function workspaceOf(sync: SyncConfig): string {
  return sync.workspace ?? DEFAULT_WORKSPACE;
}

/**
 * Whether the config defines workspaces of its own. Without any, messages, `check`, `fields` and
 * `status` read exactly as they did before workspaces existed; with some, they name the workspace
 * of each sync, the default one included. Never throws.
 */
export function hasWorkspaces(config: Config): boolean {
  return Object.keys(config.workspaces).length > 0;
}

/**
 * Reads and validates a config file. The file and every path in it (`state`, a CSV source's
 * `path`, a Google source's `credentials`) are resolved against the config file's folder, whatever
 * the working directory (README, "Config"), so every later message names the file actually meant.
 * Throws `ConfigError` naming the resolved file, with the line and column of a JSON syntax error.
 */
export function loadConfig(file: string): LoadedConfig {
  const abs = path.resolve(file);
  let text: string;
  try {
    text = readFileSync(abs, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") throw new ConfigError(`config file ${abs} does not exist (use --config FILE)`);
    if (code === "EISDIR") throw new ConfigError(`config file ${abs} is a directory (use --config FILE)`);
    throw new ConfigError(`config file ${abs} cannot be read (${code === "EACCES" || code === "EPERM" ? "permission denied" : (code ?? "unknown error")})`);
  }
  // Editors on Windows may save a byte-order mark, which JSON.parse refuses.
  if (text.startsWith("\uFEFF")) text = text.slice(1);
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    const { line, column, message } = jsonSyntaxError(text, e instanceof Error ? e.message : String(e));
    throw new ConfigError(`${abs}:${line}:${column}: ${message} (the config file must be JSON: no comments, no trailing commas)`);
  }
  const baseDir = path.dirname(abs);
  return { config: resolvePaths(parseConfig(data, abs), baseDir), file: abs, baseDir };
}

/** A config whose file paths are absolute, resolved against `baseDir`; a `postgres://` state is kept as it is. Never throws. */
export function resolvePaths(config: Config, baseDir: string): Config {
  // A trailing separator is kept: it says the user gave a folder, which `stateLocation` refuses.
  const state = isPostgresUrl(config.state) ? config.state : path.resolve(baseDir, config.state) + (/[\\/]$/.test(config.state) ? path.sep : "");
  const syncs = config.syncs.map((s) => {
    if (s.source.type === "csv") return { ...s, source: { ...s.source, path: path.resolve(baseDir, s.source.path) } };
    if (s.source.type === "google-sheets" && s.source.credentials !== undefined) return { ...s, source: { ...s.source, credentials: path.resolve(baseDir, s.source.credentials) } };
    return s;
  });
  return { ...config, state, syncs };
}

/**
 * Where JSON.parse stopped, as a 1-based line and column, and its message without the position
 * and without the quoted text (which may be long, or hold a value better not printed). Node 20
 * reports most faults "at position N"; for the rest ("Unexpected token") the position is found by
 * scanning the text. Never throws.
 */
export function jsonSyntaxError(text: string, nodeMessage: string): { line: number; column: number; message: string } {
  const at = / at position (\d+)/.exec(nodeMessage);
  const offset = at ? Number(at[1]) : firstJsonFault(text);
  const message = nodeMessage.replace(/( in JSON)? at position \d+.*$/s, "").replace(/, (\.\.\.)?".* is not valid JSON$/s, "");
  const before = text.slice(0, Math.min(offset, text.length));
  const line = before.split("\n").length;
  const column = offset - (before.lastIndexOf("\n") + 1) + 1;
  return { line, column, message };
}

/** The offset of the first character a JSON parser would refuse (the text's length when it ends too early). */
function firstJsonFault(text: string): number {
  let i = 0;
  const ws = () => {
    while (i < text.length && " \t\r\n".includes(text[i] as string)) i++;
  };
  const fail = (): never => {
    throw new JsonFault(i);
  };
  const literal = (word: string) => {
    for (const ch of word) {
      if (text[i] !== ch) fail();
      i++;
    }
  };
  const string = () => {
    i++;
    while (i < text.length && text[i] !== '"') {
      const c = text.charCodeAt(i);
      if (c < 0x20) fail();
      if (text[i] === "\\") {
        i++;
        if (text[i] === "u") {
          for (let k = 1; k <= 4; k++) if (!/[0-9a-fA-F]/.test(text[i + k] ?? "")) fail();
          i += 4;
        } else if (!'"\\/bfnrt'.includes(text[i] ?? "x")) fail();
      }
      i++;
    }
    if (i >= text.length) fail();
    i++;
  };
  const number = () => {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i));
    if (!m) fail();
    i += (m as RegExpExecArray)[0].length;
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === "{") {
      i++;
      ws();
      if (text[i] === "}") return void i++;
      for (;;) {
        ws();
        if (text[i] !== '"') fail();
        string();
        ws();
        if (text[i] !== ":") fail();
        i++;
        value();
        ws();
        if (text[i] === ",") i++;
        else if (text[i] === "}") return void i++;
        else fail();
      }
    }
    if (c === "[") {
      i++;
      ws();
      if (text[i] === "]") return void i++;
      for (;;) {
        value();
        ws();
        if (text[i] === ",") i++;
        else if (text[i] === "]") return void i++;
        else fail();
      }
    }
    if (c === '"') return string();
    if (c === "t") return literal("true");
    if (c === "f") return literal("false");
    if (c === "n") return literal("null");
    number();
  };
  try {
    value();
    ws();
    return i;
  } catch (e) {
    // Anything else is the scan's own recursion running out on absurdly deep nesting.
    return e instanceof JsonFault ? e.at : 0;
  }
}

/** Where `firstJsonFault`'s scan stopped; never leaves it. */
class JsonFault extends Error {
  constructor(readonly at: number) {
    super(`JSON fault at ${at}`);
  }
}

/** The JSON Schema shipped as `quo-sync.schema.json`, generated from the zod schema. */
export function configJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(configSchema, { io: "input", unrepresentable: "any" }) as Record<string, unknown>;
}

/**
 * The process environment merged over a `.env` file in the working directory (real environment
 * variables win, as with dotenv's default).
 */
export function loadEnv(cwd: string, env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const file = path.join(cwd, ".env");
  const fromFile = existsSync(file) ? parseDotenv(readFileSync(file)) : {};
  return { ...fromFile, ...env };
}

/**
 * Every column a sync's mapping reads, with the config path that names it: a column by its field
 * (`syncs[0].fields.company`, or `….company.column` for the object form), a split column by its
 * `split` (`syncs[0].fields.firstName.split`), each placeholder of a template by its `template`
 * (`syncs[0].fields.role.template`, once per column). A `value` reads none. Never throws.
 */
export function mappedColumns(sync: SyncConfig, index: number): { path: string; column: string }[] {
  const base = `syncs[${index}]`;
  const out: { path: string; column: string }[] = [{ path: `${base}.key`, column: sync.key }];
  const f = sync.fields;
  const add = (at: string, source: FieldSource | undefined) => {
    for (const r of columnsOfSource(source)) out.push({ path: `${at}${r.key ? `.${r.key}` : ""}`, column: r.column });
  };
  for (const k of ["firstName", "lastName", "company", "role"] as const) add(`${base}.fields.${k}`, f[k]);
  for (const group of ["phoneNumbers", "emails", "customFields"] as const) {
    for (const [label, source] of Object.entries(f[group])) add(`${base}.fields.${formatPath([group, label])}`, source);
  }
  // The filter's columns too: a source lacking one stops the run, and HubSpot reads them.
  out.push(...whereColumns(sync, index));
  return out;
}

/** The columns one field reads, each with the key of the object form that names it ('' for a plain column name). */
export function columnsOfSource(source: FieldSource | undefined): { key: "" | "column" | "split" | "template"; column: string }[] {
  if (source === undefined) return [];
  if (typeof source === "string") return [{ key: "", column: source }];
  if ("column" in source) return [{ key: "column", column: source.column }];
  if ("split" in source) return [{ key: "split", column: source.split }];
  if ("template" in source) {
    const parsed = parseTemplate(source.template);
    return parsed.ok ? parsed.template.columns.map((column) => ({ key: "template" as const, column })) : [];
  }
  return [];
}

/** Throws `ConfigError` naming the column, when a mapping reads a column the source lacks. */
export function checkColumns(sync: SyncConfig, index: number, columns: readonly string[], origin: string): void {
  const have = new Set(columns);
  const missing = mappedColumns(sync, index).filter((m) => !have.has(m.column));
  if (missing.length === 0) return;
  const list = columns.length ? columns.map((c) => `'${c}'`).join(", ") : "(none)";
  throw new ConfigError(
    missing.map((m) => `${m.path}: column '${m.column}' is not in ${origin}`).join("\n") + `\n  the source's columns are: ${list}`,
  );
}

export type { CountryCode };

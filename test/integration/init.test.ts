/**
 * `quo-sync init` through the built CLI (`npm run build` first): the config it writes for a CSV
 * file, a Google Sheet and HubSpot (their emulators on 127.0.0.1, in this process) loads through
 * the config loader, and `check`, `plan` and `sync` run on it against the Quo emulator; custom
 * fields come from the Quo emulator; an existing file is never overwritten without --force; and on
 * a real terminal (util-linux `script`) the questions are answered one by one.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { startHubspotEmulator, type HubspotEmulator } from "../emulators/hubspot-emulator.js";
import type { CustomFieldDef, QuoEmulator } from "../emulators/quo-emulator.js";
import { generateServiceAccount, startSheetsEmulator, type SheetsEmulator } from "../emulators/sheets-emulator.js";
import { CLI, HEADER, ROOT, Workspace, cliEnv, personRow, reports, runCli, useQuoEmulator, type CliResult } from "./harness.js";

const FIELDS: CustomFieldDef[] = [
  { name: "Lead Source", key: "lead-source", type: "string" },
  { name: "VIP", key: "vip", type: "boolean" },
];

let quo: QuoEmulator;
let ws: Workspace;
useQuoEmulator((e, w) => {
  quo = e;
  ws = w;
}, FIELDS);

const ROWS = Array.from({ length: 6 }, (_, i) => personRow(i + 1));

const init = (args: string[], env: NodeJS.ProcessEnv = cliEnv(quo), cwd = ws.dir): Promise<CliResult> => runCli(["init", ...args], env, cwd);

/** The config file as written, parsed. */
const written = (file = ws.config): any => JSON.parse(readFileSync(file, "utf8"));

/** `check`, then `plan --format json`: both succeed on the written config; returns the plan's report. */
async function checkAndPlan(env: NodeJS.ProcessEnv, config = ws.config): Promise<any> {
  const check = await runCli(["check", "--config", config], env, ws.dir);
  expect(check.stderr).toBe("");
  expect(check.status).toBe(0);
  const plan = await runCli(["plan", "--config", config, "--format", "json"], env, ws.dir);
  expect(plan.stderr).toBe("");
  expect(plan.status).toBe(0);
  return reports(plan.stdout)[0];
}

describe("init from a CSV file", () => {
  it("with --yes writes a config that loads, and check, plan and sync run on it", async () => {
    ws.writeCsv(ROWS, [...HEADER, "Title", "Notes"]);
    const r = await init(["--source", "csv:contacts.csv", "--yes"]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`Wrote ${ws.config}`);
    expect(r.stdout).toContain("quo-sync check --config quo-sync.config.json");
    expect(r.stdout).toContain("quo-sync plan --config quo-sync.config.json");
    expect(r.stdout).toContain("not mapped: Notes");

    // As written: relative to the config's folder; as loaded: resolved from there.
    expect(written().syncs[0].source.path).toBe("./contacts.csv");
    const { config } = loadConfig(ws.config);
    expect(config.syncs[0]).toMatchObject({
      name: "contacts",
      source: { type: "csv", path: ws.csv },
      key: "id",
      fields: {
        firstName: "First Name",
        lastName: "Last Name",
        company: "Company",
        role: "Title",
        phoneNumbers: { mobile: "Phone", "work": "Work Phone" },
        emails: { work: "Email" },
        customFields: {},
      },
      defaultCountry: "US",
      deletes: "never",
      schedule: "0 * * * *",
    });
    expect(config.syncs[0]?.match).toBeUndefined();
    // The $schema resolves from the config's folder to the schema this installation ships.
    expect(path.resolve(ws.dir, written().$schema as string)).toBe(path.join(ROOT, "quo-sync.schema.json"));

    const plan = await checkAndPlan(cliEnv(quo));
    expect(plan.counts).toMatchObject({ create: ROWS.length, rejected: 0 });
    const sync = await runCli(["sync", "--config", ws.config, "--format", "json"], cliEnv(quo), ws.dir);
    expect(sync.status).toBe(0);
    expect(quo.contacts()).toHaveLength(ROWS.length);
    expect(quo.contacts().map((c) => c.externalId).sort()).toEqual(ROWS.map((row) => `contacts:${row[0]}`).sort());
  });

  it("one full-name column: the config splits it into first and last name, and plan and sync use the parts", async () => {
    const people = [
      ["1", "Anne-Marie van der Berg", "(415) 555-0101"],
      ["2", "García Márquez, Gabriel", "(415) 555-0102"],
      ["3", "Dr. Jane Smith", "(415) 555-0103"],
    ];
    ws.writeCsv(people, ["id", "Full Name", "Phone"]);
    const r = await init(["--source", "csv:contacts.csv", "--yes"]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("'Full Name' holds whole names: firstName and lastName are split from it");
    expect(r.stdout).toMatch(/firstName +← split\('Full Name', first\)/);
    expect(r.stdout).toMatch(/lastName +← split\('Full Name', last\)/);
    expect(r.stdout).not.toContain("not mapped");
    expect(written().syncs[0].fields).toEqual({
      firstName: { split: "Full Name", part: "first" },
      lastName: { split: "Full Name", part: "last" },
      phoneNumbers: { mobile: "Phone" },
      emails: {},
      customFields: {},
    });

    const plan = await checkAndPlan(cliEnv(quo));
    expect(plan.counts).toMatchObject({ create: 3, rejected: 0 });
    const planned = Object.fromEntries(plan.changes.map((c: any) => [c.key, [c.fields.firstName?.to, c.fields.lastName?.to]]));
    expect(planned).toEqual({ "1": ["Anne-Marie", "van der Berg"], "2": ["Gabriel", "García Márquez"], "3": ["Jane", "Smith"] });
    const synced = await runCli(["sync", "--config", ws.config], cliEnv(quo), ws.dir);
    expect(synced.status, synced.stderr).toBe(0);
    expect(quo.contacts().map((c) => [c.defaultFields.firstName, c.defaultFields.lastName]).sort()).toEqual([
      ["Anne-Marie", "van der Berg"],
      ["Gabriel", "García Márquez"],
      ["Jane", "Smith"],
    ]);
  });

  it("maps columns named like the workspace's custom fields, read from Quo", async () => {
    ws.writeCsv(
      ROWS.map((row, i) => [...row, i % 2 ? "Website" : "Referral", i % 3 ? "no" : "yes"]),
      [...HEADER, "lead source", "VIP"],
    );
    const r = await init(["--source", "csv:contacts.csv", "--yes"]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("Quo custom fields: Lead Source, VIP.");
    expect(loadConfig(ws.config).config.syncs[0]?.fields.customFields).toEqual({ "Lead Source": "lead source", VIP: "VIP" });
    const plan = await checkAndPlan(cliEnv(quo));
    expect(plan.counts).toMatchObject({ create: ROWS.length, rejected: 0 });
  });

  it("without Quo credentials it still writes the mapping, and says the custom fields were not read", async () => {
    ws.writeCsv(ROWS, [...HEADER, "Lead Source"]);
    const env = { PATH: process.env.PATH, HOME: process.env.HOME };
    const r = await init(["--source", "csv:contacts.csv", "--yes"], env);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("QUO_API_KEY is not set, so Quo's custom fields were not read");
    expect(r.stdout).toContain("set QUO_API_KEY (or MATON_API_KEY)");
    expect(written().syncs[0].fields.customFields).toEqual({});
  });

  it("a key Quo refuses is reported, and the config is written without custom fields", async () => {
    ws.writeCsv(ROWS);
    const r = await init(["--source", "csv:contacts.csv", "--yes"], cliEnv(quo, { QUO_API_KEY: "qk_wrong" }));
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/Quo's custom fields could not be read \(Quo API error: .*401/);
    expect(r.stdout).not.toContain("qk_wrong");
    expect(existsSync(ws.config)).toBe(true);
  });

  it("never overwrites an existing file without --force, and names the resolved path", async () => {
    ws.writeCsv(ROWS);
    writeFileSync(ws.config, "{ \"mine\": true }\n");
    const r = await init(["--source", "csv:contacts.csv", "--yes"]);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`quo-sync: config error: ${ws.config} already exists; nothing was written (pass --force to overwrite it, or --out FILE to write another file)\n`);
    expect(r.stdout).toBe("");
    expect(readFileSync(ws.config, "utf8")).toBe("{ \"mine\": true }\n");

    const forced = await init(["--source", "csv:contacts.csv", "--yes", "--force"]);
    expect(forced.status).toBe(0);
    expect(written().syncs[0].key).toBe("id");
  });

  it("--out elsewhere: the CSV path is relative to the config's folder, and the config runs from anywhere", async () => {
    ws.writeCsv(ROWS);
    mkdirSync(path.join(ws.dir, "conf"));
    const r = await init(["--source", "csv:contacts.csv", "--out", "conf/leads.json", "--yes"]);
    expect(r.status).toBe(0);
    const file = path.join(ws.dir, "conf", "leads.json");
    expect(written(file).syncs[0].source.path).toBe("../contacts.csv");
    expect(r.stdout).toContain("quo-sync plan --config conf/leads.json");
    const plan = await runCli(["plan", "--config", file, "--format", "json"], cliEnv(quo), path.join(ws.dir, "conf"));
    expect(plan.status).toBe(0);
    expect(reports(plan.stdout)[0].counts.create).toBe(ROWS.length);
  });

  it("a semicolon-separated export gets its delimiter", async () => {
    writeFileSync(ws.csv, [HEADER, ...ROWS].map((r) => r.join(";")).join("\n") + "\n");
    const r = await init(["--source", "csv:contacts.csv", "--yes"]);
    expect(r.status).toBe(0);
    expect(written().syncs[0].source).toEqual({ type: "csv", path: "./contacts.csv", delimiter: ";" });
    expect((await checkAndPlan(cliEnv(quo))).counts.create).toBe(ROWS.length);
  });

  it("a Windows-1252 export with semicolons gets its delimiter and \"encoding\": \"auto\", and its names arrive whole", async () => {
    const rows = ROWS.map((r, i) => (i === 0 ? [r[0]!, "José", ...r.slice(2)] : r));
    writeFileSync(ws.csv, Buffer.from([HEADER, ...rows].map((r) => r.join(";")).join("\r\n") + "\r\n", "latin1"));
    const r = await init(["--source", "csv:contacts.csv", "--yes"]);
    expect(r.status, r.stderr).toBe(0);
    expect(written().syncs[0].source).toEqual({ type: "csv", path: "./contacts.csv", delimiter: ";", encoding: "auto" });
    expect((await checkAndPlan(cliEnv(quo))).counts.create).toBe(ROWS.length);
    const synced = await runCli(["sync", "--config", ws.config, "--format", "json"], cliEnv(quo), ws.dir);
    expect(synced.status, synced.stderr).toBe(0);
    expect(quo.contacts().map((c) => c.defaultFields.firstName)).toContain("José");
  });

  it("off a terminal without --yes it takes the proposals and says so", async () => {
    ws.writeCsv(ROWS);
    const r = await init(["--source", "csv:contacts.csv"]);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe("quo-sync: not on a terminal, so init takes the proposed mapping without asking (--yes says so and silences this)\n");
    expect(written().syncs[0].key).toBe("id");
  });

  it("--help lists its options", async () => {
    const r = await init(["--help"]);
    expect(r.status).toBe(0);
    for (const option of ["--source <source>", "--out <file>", "--yes", "--force"]) expect(r.stdout).toContain(option);
  });

  it.each([
    [["--source", "bogus", "--yes"], "use csv:PATH, google-sheets:SPREADSHEET_ID[!RANGE] or hubspot"],
    [["--yes"], "init needs --source csv:PATH"],
    [["--source", "csv:missing.csv", "--yes"], "source error: cannot read"],
    [["--source", "csv:contacts.csv", "--out", "nowhere/quo-sync.json", "--yes"], "the folder"],
  ])("%j fails with a reason and writes nothing", async (args, reason) => {
    const r = await init(args);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(reason);
    expect(existsSync(ws.config)).toBe(false);
  });
});

describe("init from HubSpot and Google Sheets", () => {
  const TOKEN = "pat-na1-SECRET-init-7c1a";
  const SHEET_ID = "1qUoSyncInitSheet_abcdefghijklmnop";
  const account = generateServiceAccount("quo-sync-init@acme-sync.iam.gserviceaccount.com");
  let hubspot: HubspotEmulator;
  let sheets: SheetsEmulator;
  beforeAll(async () => {
    hubspot = await startHubspotEmulator({ tokens: [TOKEN], requestsPerWindow: 0 });
    sheets = await startSheetsEmulator();
    sheets.addServiceAccount(account.email, account.publicKeyPem);
  });
  afterAll(async () => {
    await hubspot.close();
    await sheets.close();
  });

  it("HubSpot: the property list becomes docs/hubspot.md's mapping, and plan reads the contacts with it", async () => {
    hubspot.setProperties([
      ...["firstname", "lastname", "email", "company", "jobtitle"].map((name) => ({ name, label: name, type: "string", fieldType: "text", options: [] })),
      { name: "phone", label: "Phone Number", type: "string", fieldType: "phonenumber", options: [] },
      { name: "mobilephone", label: "Mobile Phone Number", type: "string", fieldType: "phonenumber", options: [] },
      { name: "fax", label: "Fax Number", type: "string", fieldType: "phonenumber", options: [] },
      { name: "lead_source_detail", label: "Lead Source", type: "string", fieldType: "text", options: [] },
      { name: "hs_calculated_phone_number", label: "Calculated Phone Number", type: "string", fieldType: "phonenumber", options: [] },
    ]);
    hubspot.addContacts([
      { firstname: "Ada", lastname: "Lovelace", phone: "(415) 555-0132", email: "ada@example.com", lead_source_detail: "Website" },
      { firstname: "Grace", lastname: "Hopper", mobilephone: "+1 212 555 0199" },
    ]);
    const env = cliEnv(quo, { HUBSPOT_ACCESS_TOKEN: TOKEN, HUBSPOT_API_URL: hubspot.url });
    const r = await init(["--source", "hubspot", "--yes"], env);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).not.toContain(TOKEN);
    expect(loadConfig(ws.config).config.syncs[0]).toMatchObject({
      name: "hubspot",
      source: { type: "hubspot" },
      key: "hs_object_id",
      fields: {
        firstName: "firstname",
        lastName: "lastname",
        company: "company",
        role: "jobtitle",
        phoneNumbers: { work: "phone", mobile: "mobilephone" },
        emails: { work: "email" },
        customFields: { "Lead Source": "lead_source_detail" },
      },
      schedule: "*/15 * * * *",
    });
    const plan = await checkAndPlan(env);
    expect(plan.counts).toMatchObject({ create: 2, rejected: 0 });
  });

  it("HubSpot without a token: the reason, and nothing written", async () => {
    const r = await init(["--source", "hubspot", "--yes"], cliEnv(quo, { HUBSPOT_API_URL: hubspot.url }));
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("HUBSPOT_ACCESS_TOKEN is not set");
    expect(existsSync(ws.config)).toBe(false);
  });

  it("Google Sheets: the header row of the first tab when no range is given, and plan reads the sheet with it", async () => {
    sheets.setSheet(SHEET_ID, "Leads 2024", [["Contact ID", "Name", "Mobile", "E-mail"], ...ROWS.map((r) => [r[0]!, `${r[1]} ${r[2]}`, r[4]!, r[6]!])]);
    sheets.setSheet(SHEET_ID, "Archive", [["x"]]);
    sheets.share(SHEET_ID, account.email, "reader");
    const keyFile = path.join(ws.dir, "sa-key.json");
    writeFileSync(keyFile, JSON.stringify(account.keyFile));
    const env = cliEnv(quo, { GOOGLE_SHEETS_API_URL: sheets.url, GOOGLE_APPLICATION_CREDENTIALS: keyFile });
    const r = await init(["--source", `google-sheets:${SHEET_ID}`, "--yes"], env);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("'Name' holds whole names: firstName and lastName are split from it");
    expect(loadConfig(ws.config).config.syncs[0]).toMatchObject({
      name: "sheet",
      source: { type: "google-sheets", spreadsheetId: SHEET_ID, range: "Leads 2024" },
      key: "Contact ID",
      fields: { firstName: { split: "Name", part: "first" }, lastName: { split: "Name", part: "last" }, phoneNumbers: { mobile: "Mobile" }, emails: { work: "E-mail" } },
    });
    const plan = await checkAndPlan(env);
    expect(plan.counts).toMatchObject({ create: ROWS.length, rejected: 0 });
    expect(plan.changes.find((c: any) => c.key === ROWS[0]![0]).fields).toMatchObject({ firstName: { to: ROWS[0]![1] }, lastName: { to: ROWS[0]![2] } });
  });

  it("Google Sheets: a tab named in the source, and a tab that does not exist named with the real ones", async () => {
    sheets.setSheet(SHEET_ID, "Leads 2024", [["id", "First Name", "Phone"]]);
    sheets.setSheet(SHEET_ID, "Archive", [["Old ID", "First Name", "Phone"]]);
    sheets.share(SHEET_ID, account.email, "reader");
    const keyFile = path.join(ws.dir, "sa-key.json");
    writeFileSync(keyFile, JSON.stringify(account.keyFile));
    const env = cliEnv(quo, { GOOGLE_SHEETS_API_URL: sheets.url, GOOGLE_APPLICATION_CREDENTIALS: keyFile });
    const r = await init(["--source", `google-sheets:${SHEET_ID}!Archive`, "--yes"], env);
    expect(r.status).toBe(0);
    expect(written().syncs[0]).toMatchObject({ source: { range: "Archive" }, key: "Old ID" });
    const missing = await init(["--source", `google-sheets:${SHEET_ID}!Leads`, "--yes", "--force"], env);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain("sheet 'Leads' not found");
    expect(missing.stderr).toContain("Leads 2024, Archive");
  });
});

/** A quoted shell word. */
const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * The CLI on a pseudo-terminal (`script -qfec`): stdin and stdout are a terminal, so init asks.
 * `answer` waits until the terminal shows `prompt` (after what was already answered), then types
 * `text` and Enter, as a person would.
 */
function onTerminal(args: string[], env: NodeJS.ProcessEnv) {
  const command = `exec ${[process.execPath, CLI, "init", ...args].map(quote).join(" ")}`;
  const child = spawn("script", ["-qfec", command, "/dev/null"], { env, cwd: ws.dir, stdio: ["pipe", "pipe", "pipe"] });
  let screen = "";
  let seen = 0;
  child.stdout.on("data", (d) => (screen += d));
  child.stderr.on("data", (d) => (screen += d));
  const done = new Promise<{ status: number | null; screen: string }>((resolve) => child.on("close", (status) => resolve({ status, screen })));
  const waitFor = async (text: string): Promise<void> => {
    const deadline = Date.now() + 20_000;
    while (!screen.includes(text, seen)) {
      if (Date.now() > deadline) throw new Error(`the terminal never showed ${JSON.stringify(text)}; it shows:\n${screen}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    seen = screen.indexOf(text, seen) + text.length;
  };
  return {
    done,
    answer: async (prompt: string, text: string) => {
      await waitFor(prompt);
      child.stdin.write(`${text}\r`);
    },
    type: (text: string) => child.stdin.write(text),
    waitFor,
    close: () => child.stdin.end(),
  };
}

describe("init on a terminal", () => {
  it("asks before each choice; answers other than the proposal end up in the config", async () => {
    ws.writeCsv(
      ROWS.map((row) => [...row, "Referral", `+1 650 555 ${row[0]!.slice(1).padStart(4, "0")}`]),
      [...HEADER, "Source", "Home"],
    );
    const t = onTerminal(["--source", "csv:contacts.csv"], cliEnv(quo));
    await t.waitFor("Read contacts.csv: 9 columns. Quo custom fields: Lead Source, VIP.");
    await t.answer("key (unique, never changes) [id]: ", "");
    await t.answer("firstName [First Name]: ", "");
    await t.answer("lastName [Last Name]: ", "-");
    await t.answer("company [Company]: ", "");
    await t.answer("role [none]: ", "");
    await t.answer("phoneNumbers.mobile [Phone]: ", "");
    await t.answer("phoneNumbers.work [Work Phone]: ", "-");
    await t.answer("another phone column [none]: ", "Hme");
    await t.waitFor("no column 'Hme' (did you mean 'Home'?)");
    await t.answer("another phone column [none]: ", "9");
    await t.answer("label for 'Home' [home]: ", "");
    await t.answer("another phone column [none]: ", "");
    await t.answer("emails.work [Email]: ", "");
    await t.answer("another e-mail column [none]: ", "");
    await t.answer('customFields["Lead Source"] (string) [none]: ', "source");
    await t.answer('customFields["VIP"] (boolean) [none]: ', "");
    await t.answer("defaultCountry, for numbers without +country code [US]: ", "ca");
    await t.answer("schedule, cron for quo-sync daemon (- for none) [0 * * * *]: ", "*/30 * * * *");
    await t.waitFor('"deletes": "never"');
    await t.answer(`Write ${ws.config}? [Y/n]: `, "y");
    const r = await t.done;
    expect(r.status).toBe(0);
    expect(r.screen).toContain(`Wrote ${ws.config}`);
    expect(r.screen).toContain("quo-sync check --config quo-sync.config.json");
    expect(loadConfig(ws.config).config.syncs[0]).toMatchObject({
      key: "id",
      fields: {
        firstName: "First Name",
        company: "Company",
        phoneNumbers: { mobile: "Phone", home: "Home" },
        emails: { work: "Email" },
        customFields: { "Lead Source": "Source" },
      },
      defaultCountry: "CA",
      schedule: "*/30 * * * *",
    });
    const fields = written().syncs[0].fields;
    expect(fields).not.toHaveProperty("lastName");
    expect(fields).not.toHaveProperty("role");
    expect((await checkAndPlan(cliEnv(quo))).counts.create).toBe(ROWS.length);
  });

  it("answering no at the end writes nothing", async () => {
    ws.writeCsv(ROWS);
    const t = onTerminal(["--source", "csv:contacts.csv"], cliEnv(quo));
    await t.waitFor("key (unique, never changes) [id]: ");
    // Answers typed ahead of their questions are kept, as when pasted.
    t.type("\r".repeat(14));
    await t.answer(`Write ${ws.config}? [Y/n]: `, "n");
    const r = await t.done;
    expect(r.status).toBe(1);
    expect(r.screen).toContain(`quo-sync: nothing was written to ${ws.config}`);
    expect(existsSync(ws.config)).toBe(false);
  });

  it("asks for the source when none is given, proposing the only CSV file here", async () => {
    ws.writeCsv(ROWS);
    const t = onTerminal([], cliEnv(quo));
    await t.answer("source: csv:PATH, google-sheets:SPREADSHEET_ID[!RANGE] or hubspot [csv:contacts.csv]: ", "");
    await t.waitFor("key (unique, never changes) [id]: ");
    t.type("\r".repeat(15));
    const r = await t.done;
    expect(r.status).toBe(0);
    expect(written().syncs[0].source).toEqual({ type: "csv", path: "./contacts.csv" });
  });

  it("Ctrl-C stops it with 130 and writes nothing", async () => {
    ws.writeCsv(ROWS);
    const t = onTerminal(["--source", "csv:contacts.csv"], cliEnv(quo));
    await t.answer("key (unique, never changes) [id]: ", "");
    await t.waitFor("firstName [First Name]: ");
    t.type("\x03");
    const r = await t.done;
    expect(r.status).toBe(130);
    expect(r.screen).toContain("quo-sync: init stopped; nothing was written");
    expect(existsSync(ws.config)).toBe(false);
  });
});

/**
 * Integration harness: a temp workspace (CSV + config + state file), the built CLI run as a child
 * process, and the project's Quo emulator on 127.0.0.1 in the test process.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, beforeEach, expect } from "vitest";
import { startHubspotEmulator, type HubspotEmulator } from "../emulators/hubspot-emulator.js";
import { startQuoEmulator, type CustomFieldDef, type EmulatedContact, type QuoEmulator } from "../emulators/quo-emulator.js";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
export const CLI = path.join(ROOT, "dist", "src", "cli.js");
export const API_KEY = "qk_live_SECRET_4f7d2c9a1b";

/**
 * The hooks most integration files share: one Quo emulator per file (accepting `API_KEY`, no rate
 * limit), and before each test a fresh `Workspace` and an emptied emulator with its counters,
 * faults, latency and custom fields reset. `bind` hands both to the file's own variables.
 * Registered first, so a file's own `afterEach` (stopping daemons) runs before the workspace goes.
 */
export function useQuoEmulator(bind: (emulator: QuoEmulator, ws: Workspace) => void, customFields: CustomFieldDef[] = []): void {
  let emulator: QuoEmulator;
  let ws: Workspace;
  beforeAll(async () => {
    emulator = await startQuoEmulator({ apiKeys: [API_KEY], requestsPerSecond: 0, customFields });
  });
  afterAll(async () => {
    await emulator.close();
  });
  beforeEach(() => {
    ws = new Workspace();
    for (const c of emulator.contacts()) emulator.appDelete(c.id);
    emulator.setCustomFields(customFields);
    emulator.resetStats();
    emulator.setFaults(undefined);
    emulator.setLatency(0);
    emulator.setPatchMode("replace");
    emulator.setRefusal(undefined);
    emulator.onRequest(undefined);
    emulator.setPartialCopies(undefined);
    emulator.setLateCreates(undefined);
    emulator.applyLateCreates();
    emulator.setDuplicateExternalIds("allow");
    bind(emulator, ws);
  });
  afterEach(() => {
    ws.cleanup();
    // A request hook that threw answered 500; the test that set it must not pass unnoticed.
    expect(emulator.takeHookErrors()).toEqual([]);
  });
}

/**
 * `useQuoEmulator` with a HubSpot emulator beside it (accepting `token`), started once per file and
 * emptied before each test: no contact, no fault, no daily limit, no search lag, counters at zero.
 */
export function useQuoAndHubspot(token: string, bind: (quo: QuoEmulator, hubspot: HubspotEmulator, ws: Workspace) => void): void {
  let hubspot: HubspotEmulator;
  beforeAll(async () => {
    hubspot = await startHubspotEmulator({ tokens: [token], requestsPerWindow: 0 });
  });
  afterAll(async () => {
    await hubspot.close();
  });
  useQuoEmulator((quo, ws) => {
    hubspot.purge(hubspot.contacts().map((c) => c.id));
    hubspot.setFault(undefined);
    hubspot.setLimits({ dailyLimit: 0 });
    hubspot.setSearchLag(0);
    hubspot.resetStats();
    bind(quo, hubspot, ws);
  });
}

export interface CliResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Quotes a cell for CSV when needed. */
function cell(v: string): string {
  return /[",\r\n]/.test(v) || v !== v.trim() ? `"${v.replace(/"/g, '""')}"` : v;
}

export function toCsv(rows: readonly (readonly string[])[]): string {
  return rows.map((r) => r.map(cell).join(",")).join("\n") + "\n";
}

export const HEADER = ["id", "First Name", "Last Name", "Company", "Phone", "Work Phone", "Email"];

/** A deterministic source row for key `i`. */
export function personRow(i: number, edit = 0): string[] {
  const line = String(i % 10000).padStart(4, "0");
  return [
    `K${i}`,
    `First${i}`,
    edit ? `Last${i}e${edit}` : `Last${i}`,
    `Company ${i % 37}`,
    `(415) ${200 + ((Math.floor(i / 10000) + edit) % 700)}-${line}`,
    i % 3 === 0 ? `212-${600 + (Math.floor(i / 10000) % 300)}-${line}` : "",
    i % 2 === 0 ? `person${i}@example.com` : "",
  ];
}

export class Workspace {
  readonly dir = mkdtempSync(path.join(os.tmpdir(), "quo-sync-it-"));
  readonly csv = path.join(this.dir, "contacts.csv");
  readonly config = path.join(this.dir, "quo-sync.config.json");
  readonly state = path.join(this.dir, "state.db");

  writeCsv(rows: readonly (readonly string[])[], header: readonly string[] = HEADER): void {
    writeFileSync(this.csv, toCsv([header, ...rows]));
  }

  writeConfig(sync: Record<string, unknown> = {}, top: Record<string, unknown> = {}): void {
    const config = {
      state: this.state,
      // Faster than Quo's 10/s so the suite stays quick; the throttle itself is tested on its own
      // and measured by the benchmark.
      quo: { requestsPerSecond: 50 },
      ...top,
      syncs: [
        {
          name: "leads",
          source: { type: "csv", path: "contacts.csv" },
          key: "id",
          fields: {
            firstName: "First Name",
            lastName: "Last Name",
            company: "Company",
            phoneNumbers: { mobile: "Phone", work: "Work Phone" },
            emails: { work: "Email" },
          },
          defaultCountry: "US",
          deletes: "mirror",
          maxDeletePercent: 20,
          ...sync,
        },
      ],
    };
    writeFileSync(this.config, JSON.stringify(config, null, 2));
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export function cliEnv(emulator: QuoEmulator, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, QUO_API_KEY: API_KEY, QUO_BASE_URL: emulator.url, LOG_LEVEL: "warn", ...extra };
  return env;
}

/** Starts the CLI; the emulator runs in this process, so the child must never be awaited synchronously. */
export function startCli(args: string[], env: NodeJS.ProcessEnv, cwd: string, wrapper: readonly string[] = []): { child: ChildProcess; done: Promise<CliResult> } {
  const [cmd, ...pre] = [...wrapper, process.execPath];
  const child = spawn(cmd as string, [...pre, CLI, ...args], { env, cwd, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d) => (stdout += d));
  child.stderr!.on("data", (d) => (stderr += d));
  const done = new Promise<CliResult>((resolve) => child.on("close", (status, signal) => resolve({ status, signal, stdout, stderr })));
  return { child, done };
}

export function runCli(args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<CliResult> {
  return startCli(args, env, cwd).done;
}

/** Parses the JSON report (one object per sync per line). */
export function reports(stdout: string): any[] {
  return stdout
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l));
}

/** Contacts in the emulator grouped by externalId. */
export function byExternalId(contacts: readonly EmulatedContact[]): Map<string, EmulatedContact[]> {
  const m = new Map<string, EmulatedContact[]>();
  for (const c of contacts) {
    if (!c.externalId) continue;
    m.set(c.externalId, [...(m.get(c.externalId) ?? []), c]);
  }
  return m;
}

export function writes(e: QuoEmulator): number {
  const w = e.stats().writesApplied;
  return w.create + w.update + w.delete;
}

/**
 * Asserts-by-return: the differences between the emulator and the expected rows (empty when equal).
 * Phones and emails under `ignoreLabels` (added by a person in the app) are left out of the comparison.
 */
export function compareWithSource(contacts: readonly EmulatedContact[], rows: readonly string[][], sync = "leads", ignoreLabels: ReadonlySet<string> = new Set()): string[] {
  const problems: string[] = [];
  const m = byExternalId(contacts);
  for (const [ext, list] of m) if (list.length > 1) problems.push(`${ext}: ${list.length} contacts (duplicate)`);
  const expected = new Set(rows.map((r) => `${sync}:${r[0]}`));
  for (const ext of m.keys()) if (ext.startsWith(`${sync}:`) && !expected.has(ext)) problems.push(`${ext}: in Quo but not in the source`);
  for (const r of rows) {
    const c = m.get(`${sync}:${r[0]}`)?.[0];
    if (!c) {
      problems.push(`${sync}:${r[0]}: missing in Quo`);
      continue;
    }
    const d = c.defaultFields;
    if (d.firstName !== r[1]) problems.push(`${r[0]}: firstName ${d.firstName} != ${r[1]}`);
    if ((d.lastName ?? "") !== (r[2] ?? "")) problems.push(`${r[0]}: lastName ${d.lastName} != ${r[2]}`);
    const phones = d.phoneNumbers
      .filter((p) => !ignoreLabels.has(p.name))
      .map((p) => `${p.name}=${p.value}`)
      .sort()
      .join(",");
    const wantPhones = [r[4] ? `mobile=+1${r[4].replace(/\D/g, "")}` : "", r[5] ? `work=+1${r[5].replace(/\D/g, "")}` : ""].filter(Boolean).sort().join(",");
    if (phones !== wantPhones) problems.push(`${r[0]}: phones ${phones} != ${wantPhones}`);
    const emails = d.emails
      .filter((p) => !ignoreLabels.has(p.name))
      .map((p) => `${p.name}=${p.value}`)
      .join(",");
    const wantEmails = r[6] ? `work=${r[6]}` : "";
    if (emails !== wantEmails) problems.push(`${r[0]}: emails ${emails} != ${wantEmails}`);
  }
  return problems;
}

/**
 * Property: any sequence of source edits, runs (some against a Quo that fails and loses answers)
 * and edits people make in the Quo app to fields the sync does not map converges — after one clean
 * run Quo holds exactly the valid source rows the sync's `where` keeps, with no duplicate — and no
 * run ever deletes what a person added. Each sequence runs under a random policy: with or without a
 * filter on a status column, and blank cells clearing Quo's value or kept (for the whole sync or
 * one field), where a kept blank leaves a value the source once gave, or none. The real run (reader, planner, executor, SQLite state, Quo client) works against
 * the emulator, whose PATCH replaces the contact as Quo's does.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig, type LoadedConfig } from "../../src/config.js";
import { createLogger } from "../../src/log.js";
import { QuoClient } from "../../src/quo/client.js";
import { runSync } from "../../src/run.js";
import { startQuoEmulator, type CustomFieldDef, type EmulatedContact, type QuoEmulator } from "../emulators/quo-emulator.js";
import { toCsv } from "./harness.js";

const KEY = "convergence-key";
const CUSTOM: CustomFieldDef[] = [
  { name: "Lead Source", key: "lead-source", type: "string" },
  { name: "VIP", key: "vip", type: "boolean" },
];
const HEADER = ["id", "first", "last", "phone", "email", "source", "status"];
/** Labels, scalars and custom keys only people set: the sync maps mobile, work and lead-source. */
const PERSON_LABELS = new Set(["home", "personal"]);

type Row = { first: string; last: string; phone: string; email: string; source: string; status: string };
/** The sync's policy for one sequence: a `where` on status or none; blanks cleared, kept, or kept for the last name only. */
type Policy = { filter: boolean; blanks: "clear" | "keep" | "lastName" };
const policyArb: fc.Arbitrary<Policy> = fc.record({ filter: fc.boolean(), blanks: fc.constantFrom("clear" as const, "keep" as const, "lastName" as const) });
/** The mapped columns whose blank cells a policy keeps. */
const keptColumns = (p: Policy): ReadonlySet<string> => new Set(p.blanks === "keep" ? ["last", "phone", "email", "source"] : p.blanks === "lastName" ? ["last"] : []);
const passes = (p: Policy, r: Row): boolean => !p.filter || r.status !== "gone";
const e164 = (phone: string): string => `+1${phone.replace(/\D/g, "").replace(/^1(?=\d{10}$)/, "")}`;
type AppEdit = { kind: "phone" | "email" | "both" | "role"; n: number };
type Cmd =
  | { kind: "put"; key: number; row: Row }
  | { kind: "remove"; key: number }
  | { kind: "run"; faults: boolean; seed: number }
  | { kind: "app"; key: number; edit: AppEdit };

const rowArb: fc.Arbitrary<Row> = fc.record({
  first: fc.constantFrom("Ann", "Bob", "", "Dee"),
  last: fc.constantFrom("", "Lee", "Stone"),
  phone: fc.constantFrom("", "(415) 555-0100", "+1 212 555 0199", "12"),
  email: fc.constantFrom("", "a@x.io", "b@y.io"),
  source: fc.constantFrom("", "web", "fair"),
  status: fc.constantFrom("lead", "customer", "gone"),
});
// Few keys and many runs and app edits, so a contact a person edited is often updated afterwards.
const keyArb = fc.integer({ min: 0, max: 2 });
const cmdArb: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("put" as const), key: keyArb, row: rowArb }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("remove" as const), key: keyArb }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("run" as const), faults: fc.boolean(), seed: fc.integer({ min: 1, max: 1_000_000 }) }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("app" as const),
      key: keyArb,
      edit: fc.record({ kind: fc.constantFrom("phone" as const, "email" as const, "both" as const, "role" as const), n: fc.integer({ min: 0, max: 9 }) }),
    }),
  },
);

/** What a person set on one contact, to be found on it after every run while it exists. */
interface PersonEdits {
  items: { id: string; name: string; value: string | null }[];
  vip?: boolean;
  role?: string;
  company?: string;
}

let emulator: QuoEmulator;
let dir: string;
const logger = createLogger({ LOG_LEVEL: "silent" }, { pretty: false });

beforeAll(async () => {
  emulator = await startQuoEmulator({ apiKeys: [KEY], requestsPerSecond: 0, customFields: CUSTOM });
  dir = mkdtempSync(path.join(os.tmpdir(), "quo-sync-prop-"));
});
afterAll(async () => {
  await emulator.close();
  rmSync(dir, { recursive: true, force: true });
});

function loadedConfig(state: string, policy: Policy): LoadedConfig {
  const config = parseConfig({
    state,
    syncs: [
      {
        name: "leads",
        source: { type: "csv", path: "c.csv" },
        key: "id",
        fields: {
          firstName: "first",
          lastName: policy.blanks === "lastName" ? { column: "last", blanks: "keep" } : "last",
          phoneNumbers: { mobile: "phone" },
          emails: { work: "email" },
          customFields: { "Lead Source": "source" },
        },
        ...(policy.blanks === "keep" ? { blanks: "keep" } : {}),
        ...(policy.filter ? { where: [{ column: "status", notIn: ["gone"] }] } : {}),
        deletes: "mirror",
        maxDeletePercent: 100,
      },
    ],
  });
  return { config, file: path.join(dir, "config.json"), baseDir: dir };
}

function lost(c: EmulatedContact, p: PersonEdits): string[] {
  const out: string[] = [];
  const items = [...c.defaultFields.phoneNumbers, ...c.defaultFields.emails];
  for (const i of p.items) if (!items.some((x) => x.id === i.id && x.value === i.value && x.name === i.name)) out.push(`${c.externalId}: ${i.name} ${i.value} lost`);
  const vip = c.customFields.find((f) => f.key === "vip")?.value;
  if (p.vip !== undefined && vip !== p.vip) out.push(`${c.externalId}: vip ${String(vip)} != ${p.vip}`);
  if (p.role !== undefined && c.defaultFields.role !== p.role) out.push(`${c.externalId}: role ${c.defaultFields.role} != ${p.role}`);
  if (p.company !== undefined && c.defaultFields.company !== p.company) out.push(`${c.externalId}: company ${c.defaultFields.company} != ${p.company}`);
  return out;
}

describe("convergence with app edits, faults and a replacing PATCH (fast-check)", () => {
  it("converges to Quo == source and never deletes what a person added", async () => {
    let round = 0;
    await fc.assert(
      fc.asyncProperty(policyArb, fc.array(cmdArb, { maxLength: 20 }), async (policy, cmds) => {
        round++;
        for (const c of emulator.contacts()) emulator.appDelete(c.id);
        emulator.setFaults(undefined);
        const loaded = loadedConfig(path.join(dir, `state-${round}.db`), policy);
        const kept = keptColumns(policy);
        /** Every value each key's columns ever held: what a kept blank may have left in Quo. */
        const history = new Map<string, Set<string>>();
        const client = new QuoClient({ baseUrl: emulator.url, apiKey: KEY, requestsPerSecond: 10_000, retryBaseDelayMs: 0, rateLimitPenaltyMs: 0 });
        const source = new Map<number, Row>();
        const person = new Map<string, PersonEdits>();

        const writeSource = (): void => {
          const rows = [...source.entries()].map(([k, r]) => [`k${k}`, r.first, r.last, r.phone, r.email, r.source, r.status]);
          writeFileSync(path.join(dir, "c.csv"), toCsv([HEADER, ...rows]));
        };
        const checkPersonEdits = (): void => {
          const now = new Map(emulator.contacts().map((c) => [c.id, c]));
          const problems = [...person].flatMap(([id, p]) => (now.has(id) ? lost(now.get(id)!, p) : []));
          expect(problems).toEqual([]);
        };
        const run = async (faults: boolean, seed: number): Promise<void> => {
          writeSource();
          emulator.setFaults(faults ? { serverErrorRate: 0.15, lostResponseRate: 0.15, seed } : undefined);
          try {
            await runSync({ loaded, env: {}, logger, client }, 0, { dryRun: false, allowDeletes: true });
          } catch (e) {
            // A run may fail against a faulty Quo (its journal is resolved by the next one).
            if (!faults) throw e;
          } finally {
            emulator.setFaults(undefined);
          }
          checkPersonEdits();
        };
        // A person edits one contact in the app: one of each kind of thing the sync does not map.
        const appEdit = (key: number, edit: AppEdit): void => {
          const c = emulator.contacts().find((x) => x.externalId === `leads:k${key}`);
          if (!c) return;
          const p = person.get(c.id) ?? { items: [] };
          p.vip = edit.n % 2 === 0;
          p[edit.kind === "role" ? "role" : "company"] = `${edit.kind} ${edit.n}`;
          const after = emulator.appEdit(c.id, {
            ...(edit.kind === "role" ? { role: p.role! } : { company: p.company! }),
            customFields: { vip: p.vip },
            ...(edit.kind !== "email" ? { addPhoneNumbers: [{ name: "home", value: `+1646555010${edit.n}` }] } : {}),
            ...(edit.kind !== "phone" ? { addEmails: [{ name: "personal", value: `p${edit.n}@home.example` }] } : {}),
          });
          if (edit.kind !== "email") p.items.push(after.defaultFields.phoneNumbers.at(-1)!);
          if (edit.kind !== "phone") p.items.push(after.defaultFields.emails.at(-1)!);
          person.set(c.id, p);
        };

        for (const c of cmds) {
          if (c.kind === "put") {
            source.set(c.key, c.row);
            for (const col of ["last", "phone", "email", "source"] as const) history.set(`${c.key}.${col}`, (history.get(`${c.key}.${col}`) ?? new Set()).add(c.row[col]));
          }
          else if (c.kind === "remove") source.delete(c.key);
          else if (c.kind === "run") await run(c.faults, c.seed);
          else appEdit(c.key, c.edit);
        }
        await run(false, 0);

        // Quo == source for what the sync maps, one contact per key, nothing of the sync left over.
        const ours = emulator.contacts().filter((c) => c.externalId?.startsWith("leads:"));
        const byExt = new Map(ours.map((c) => [c.externalId, c]));
        expect(byExt.size).toBe(ours.length);
        // A filter that keeps no row deletes nothing (the empty-source guard), so leftovers are allowed then.
        const anyKept = [...source.values()].some((r) => passes(policy, r));
        /** A mapped value as Quo should hold it: the cell's, or under a kept blank any value the column once held (or none). */
        const expectValue = (k: number, col: "last" | "phone" | "email" | "source", cell: string, held: string, form: (v: string) => string = (v) => v): void => {
          if (cell !== "" || !kept.has(col)) {
            expect(held, `k${k}.${col}`).toBe(cell === "" ? "" : form(cell));
            return;
          }
          const once = [...(history.get(`${k}.${col}`) ?? [])].filter((v) => v !== "" && !(col === "phone" && v === "12")).map(form);
          expect(["", ...once], `k${k}.${col} kept`).toContain(held);
        };
        for (const [k, r] of source) {
          const c = byExt.get(`leads:k${k}`);
          if (!passes(policy, r)) {
            if (anyKept) expect(c, `k${k} is filtered out, and gone from Quo`).toBeUndefined();
            continue;
          }
          const valid = r.first !== "" && r.phone !== "12";
          if (!valid) continue; // rejected rows keep their last good contact, or none
          expect(c, `k${k} in Quo`).toBeDefined();
          const d = c!.defaultFields;
          expect(d.firstName).toBe(r.first);
          expectValue(k, "last", r.last, d.lastName ?? "");
          const mapped = (list: typeof d.phoneNumbers, label: string) => list.filter((i) => !PERSON_LABELS.has(i.name)).map((i) => `${i.name}=${i.value}`).filter((v) => v.startsWith(`${label}=`)).map((v) => v.slice(label.length + 1));
          expect(mapped(d.phoneNumbers, "mobile").length).toBeLessThanOrEqual(1);
          expectValue(k, "phone", r.phone, mapped(d.phoneNumbers, "mobile")[0] ?? "", e164);
          expectValue(k, "email", r.email, mapped(d.emails, "work")[0] ?? "");
          expectValue(k, "source", r.source, String(c!.customFields.find((f) => f.key === "lead-source")?.value ?? ""));
        }
        if (source.size > 0 && anyKept) {
          for (const c of ours) {
            const r = source.get(Number(c.externalId!.slice("leads:k".length)));
            expect(r, `${c.externalId} has a row`).toBeDefined();
            expect(passes(policy, r!), `${c.externalId} passes the filter`).toBe(true);
          }
        }

        // And a further run has nothing to send.
        emulator.resetStats();
        await runSync({ loaded, env: {}, logger, client }, 0, { dryRun: false, allowDeletes: true });
        expect(emulator.stats().writesApplied).toEqual({ create: 0, update: 0, delete: 0 });
      }),
      { numRuns: 100 },
    );
  });
});

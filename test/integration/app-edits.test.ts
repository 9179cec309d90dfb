/**
 * What people add in the Quo app survives every run. Quo's PATCH replaces the contact (the
 * emulator's default), so an update that carried only what changed would delete everything else;
 * each scenario also runs with the emulator merging PATCH bodies, to show the same result under
 * both readings of Quo's docs.
 */
import { describe, expect, it } from "vitest";
import type { CustomFieldDef, EmulatedContact, QuoEmulator } from "../emulators/quo-emulator.js";
import { HEADER, Workspace, byExternalId, cliEnv, personRow, reports, runCli, useQuoEmulator } from "./harness.js";

const CUSTOM: CustomFieldDef[] = [
  { name: "Lead Source", key: "lead-source", type: "string" },
  { name: "VIP", key: "vip", type: "boolean" },
  { name: "Notes", key: "notes", type: "string" },
];

let emulator: QuoEmulator;
let ws: Workspace;
useQuoEmulator((e, w) => {
  emulator = e;
  ws = w;
}, CUSTOM);

const COLUMNS = [...HEADER, "Source"];
const FIELDS = {
  firstName: "First Name",
  lastName: "Last Name",
  company: "Company",
  phoneNumbers: { mobile: "Phone", work: "Work Phone" },
  emails: { work: "Email" },
  customFields: { "Lead Source": "Source" },
};

function rowsOf(n: number): string[][] {
  return Array.from({ length: n }, (_, i) => [...personRow(i + 2), `fair-${i + 2}`]);
}

const sync = (...extra: string[]) => runCli(["sync", "--config", ws.config, "--format", "json", ...extra], cliEnv(emulator), ws.dir);

function contactOf(key: string): EmulatedContact {
  const list = byExternalId(emulator.contacts()).get(`leads:${key}`) ?? [];
  expect(list).toHaveLength(1);
  return list[0]!;
}

/** What a person adds in the app to a contact: items under other labels and the sync's, an unmapped scalar and custom values. */
function addAsPerson(id: string): EmulatedContact {
  return emulator.appEdit(id, {
    role: "Buyer",
    addPhoneNumbers: [
      { name: "home", value: "+14155550999" },
      { name: "mobile", value: "+14155550888" },
    ],
    addEmails: [{ name: "personal", value: "pat@home.example" }],
    customFields: { vip: true, notes: "met at the fair" },
  });
}

/** The person's additions, each item checked by id, label and value, on the contact as Quo holds it now. */
function expectPersonsAdditions(c: EmulatedContact, person: EmulatedContact, sync: EmulatedContact): void {
  const syncIds = new Set([...sync.defaultFields.phoneNumbers, ...sync.defaultFields.emails].map((i) => i.id));
  const added = (list: EmulatedContact["defaultFields"]["phoneNumbers"]) => list.filter((i) => !syncIds.has(i.id));
  expect(c.defaultFields.role).toBe("Buyer");
  for (const item of added(person.defaultFields.phoneNumbers)) expect(c.defaultFields.phoneNumbers).toContainEqual(item);
  for (const item of added(person.defaultFields.emails)) expect(c.defaultFields.emails).toContainEqual(item);
  const custom = Object.fromEntries(c.customFields.map((f) => [f.key, f.value]));
  expect(custom).toMatchObject({ vip: true, notes: "met at the fair" });
}

/** The sync's own fields on the contact equal the source row (ignoring what the person added). */
function expectMappedEqual(c: EmulatedContact, row: string[], personIds: ReadonlySet<string>): void {
  const d = c.defaultFields;
  expect(d.firstName).toBe(row[1]);
  expect(d.lastName ?? "").toBe(row[2]);
  expect(d.company ?? "").toBe(row[3]);
  const mine = (list: EmulatedContact["defaultFields"]["phoneNumbers"]) =>
    list
      .filter((i) => !personIds.has(i.id))
      .map((i) => `${i.name}=${i.value}`)
      .sort();
  const digits = (s: string) => `+1${s.replace(/\D/g, "")}`;
  expect(mine(d.phoneNumbers)).toEqual([row[4] ? `mobile=${digits(row[4])}` : "", row[5] ? `work=${digits(row[5])}` : ""].filter(Boolean).sort());
  expect(mine(d.emails)).toEqual(row[6] ? [`work=${row[6]}`] : []);
  const source = c.customFields.find((f) => f.key === "lead-source")?.value ?? "";
  expect(source).toBe(row[7]);
}

describe.each(["replace", "merge"] as const)("a person's additions in the Quo app survive every run (PATCH %s)", (mode) => {
  it("edits of a name, a phone, a mapped custom cell, a blanked email and an added work phone keep everything else", async () => {
    emulator.setPatchMode(mode);
    const rows = rowsOf(3);
    ws.writeCsv(rows, COLUMNS);
    ws.writeConfig({ fields: FIELDS });
    expect((await sync()).status).toBe(0);
    const created = contactOf("K2");
    const person = addAsPerson(created.id);
    const personIds = new Set(
      [...person.defaultFields.phoneNumbers, ...person.defaultFields.emails].map((i) => i.id).filter((id) => ![...created.defaultFields.phoneNumbers, ...created.defaultFields.emails].some((x) => x.id === id)),
    );

    const steps: [string, (r: string[]) => void][] = [
      ["a name", (r) => (r[2] = "Renamed")],
      ["a phone", (r) => (r[4] = "(415) 555-0142")],
      ["a mapped custom cell", (r) => (r[7] = "web")],
      ["a blanked email", (r) => (r[6] = "")],
      ["an added work phone", (r) => (r[5] = "212-555-0177")],
      ["a blanked lead source", (r) => (r[7] = "")],
    ];
    for (const [what, edit] of steps) {
      edit(rows[0]!);
      ws.writeCsv(rows, COLUMNS);
      emulator.resetStats();
      const r = await sync();
      expect(r.status, `${what}: ${r.stderr}`).toBe(0);
      expect(reports(r.stdout)[0].counts, what).toMatchObject({ create: 0, update: 1, delete: 0, failed: 0 });
      const stats = emulator.stats();
      // One whole-contact PATCH, prepared by one batched read (plus the custom-field definitions).
      expect(stats.byRoute, what).toEqual({ "GET /v1/contact-custom-fields": 1, "GET /v1/contacts": 1, "PATCH /v1/contacts/:id": 1 });
      const now = contactOf("K2");
      expectPersonsAdditions(now, person, created);
      expectMappedEqual(now, rows[0]!, personIds);
      // The other contacts were not touched.
      for (const other of rows.slice(1)) expectMappedEqual(contactOf(other[0]!), other, new Set());
    }
    // The person's second "mobile" is still one item, the sync's own mobile another: no twin.
    expect(contactOf("K2").defaultFields.phoneNumbers.filter((p) => p.name === "mobile")).toHaveLength(2);

    // A rerun reads the custom-field definitions and nothing else.
    emulator.resetStats();
    expect((await sync()).status).toBe(0);
    expect(emulator.stats().byRoute).toEqual({ "GET /v1/contact-custom-fields": 1 });
  });

  it("a number deleted and added again in the app under the sync's label becomes the sync's item, not a second one", async () => {
    emulator.setPatchMode(mode);
    const rows = rowsOf(1);
    ws.writeCsv(rows, COLUMNS);
    ws.writeConfig({ fields: FIELDS });
    expect((await sync()).status).toBe(0);
    const c = contactOf("K2");
    const mobile = c.defaultFields.phoneNumbers.find((p) => p.name === "mobile")!;
    emulator.appEdit(c.id, { removeItemIds: [mobile.id], addPhoneNumbers: [{ name: "mobile", value: mobile.value! }] });

    rows[0]![4] = "(415) 555-0166";
    ws.writeCsv(rows, COLUMNS);
    expect((await sync()).status).toBe(0);
    const after = contactOf("K2").defaultFields.phoneNumbers.filter((p) => p.name === "mobile");
    expect(after.map((p) => p.value)).toEqual(["+14155550166"]);
    expect(after[0]!.id).not.toBe(mobile.id);
  });

  it("sync --verify puts an app edit of a mapped field back and keeps what the person added", async () => {
    emulator.setPatchMode(mode);
    const rows = rowsOf(2);
    ws.writeCsv(rows, COLUMNS);
    ws.writeConfig({ fields: FIELDS });
    expect((await sync()).status).toBe(0);
    const created = contactOf("K2");
    const person = addAsPerson(created.id);
    emulator.appEdit(created.id, { lastName: "Edited in the app" });

    emulator.resetStats();
    const r = await sync("--verify");
    expect(r.status).toBe(0);
    const rep = reports(r.stdout)[0];
    expect(rep.counts).toMatchObject({ update: 1, failed: 0 });
    const now = contactOf("K2");
    expect(now.defaultFields.lastName).toBe(rows[0]![2]);
    expectPersonsAdditions(now, person, created);
    expect(emulator.stats().writesApplied).toEqual({ create: 0, update: 1, delete: 0 });
  });
});

describe("a contact whose merged state Quo already holds", () => {
  it("is recorded without a PATCH", async () => {
    const rows = rowsOf(1);
    ws.writeCsv(rows, COLUMNS);
    ws.writeConfig({ fields: FIELDS });
    expect((await sync()).status).toBe(0);
    // A person makes in the app exactly the edit the source is about to make.
    emulator.appEdit(contactOf("K2").id, { lastName: "Same" });
    rows[0]![2] = "Same";
    ws.writeCsv(rows, COLUMNS);
    emulator.resetStats();
    const r = await sync();
    expect(r.status).toBe(0);
    expect(reports(r.stdout)[0].changes[0]).toMatchObject({ action: "update", key: "K2", note: "already in Quo" });
    expect(emulator.stats().byRoute["PATCH /v1/contacts/:id"] ?? 0).toBe(0);
    emulator.resetStats();
    expect((await sync()).status).toBe(0);
    expect(emulator.stats().byRoute).toEqual({ "GET /v1/contact-custom-fields": 1 });
  });
});

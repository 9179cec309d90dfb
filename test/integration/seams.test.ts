/**
 * The seams: the world changes between a read and a write. A person edits a contact in the Quo app
 * while a run is in flight (the emulator's request hook makes the edit at an exact moment), a create
 * whose answer was lost lands seconds later, another tool re-keys a contact, Quo hands back a copy
 * without one of its lists or a number as a person typed it. Each test fails without the fix it
 * names: no edit lost, no twin, no write built from a copy that may be missing data.
 */
import { describe, expect, it } from "vitest";
import type { ApiRequestInfo, EmulatedContact, QuoEmulator } from "../emulators/quo-emulator.js";
import { Workspace, byExternalId, cliEnv, compareWithSource, personRow, reports, runCli, useQuoEmulator } from "./harness.js";

let emulator: QuoEmulator;
let ws: Workspace;
useQuoEmulator((e, w) => {
  emulator = e;
  ws = w;
});

const cli = (cmd: string, ...extra: string[]) => runCli([cmd, "--config", ws.config, "--format", "json", ...extra], cliEnv(emulator), ws.dir);

/** personRow(i)'s mobile number in E.164. */
const mobileOf = (i: number): string => `+1415${200 + (Math.floor(i / 10000) % 700)}${String(i % 10000).padStart(4, "0")}`;

const MATCH = { match: { by: ["phone", "email"] } };

/** The one contact carrying `leads:<key>`. */
function contactOf(key: string): EmulatedContact {
  const list = byExternalId(emulator.contacts()).get(`leads:${key}`) ?? [];
  expect(list).toHaveLength(1);
  return list[0]!;
}

function byId(id: string): EmulatedContact | undefined {
  return emulator.contacts().find((c) => c.id === id);
}

/** Runs `edit` once, just before the first request after the first one that `after` picks. */
function editAfter(after: (r: ApiRequestInfo) => boolean, edit: () => void): { done: () => boolean } {
  let seen = false;
  let edited = false;
  emulator.onRequest((r) => {
    if (edited) return;
    if (seen) {
      edit();
      edited = true;
    } else if (after(r)) seen = true;
  });
  return { done: () => edited };
}

/** Runs `edit` once, just before the first request that `at` picks is processed. */
function editAt(at: (r: ApiRequestInfo) => boolean, edit: () => void): { done: () => boolean } {
  let edited = false;
  emulator.onRequest((r) => {
    if (!edited && at(r)) {
      edit();
      edited = true;
    }
  });
  return { done: () => edited };
}

const isLookup = (r: ApiRequestInfo) => r.route === "GET /v1/contacts" && r.query.has("externalIds");
const HOME = { name: "home", value: "+16175550199" };

describe("a person edits a contact while a run is in flight", () => {
  it("an edit after the workspace was listed and before the link is kept (link read by id)", async () => {
    const app = emulator.seedContact({ source: null, defaultFields: { firstName: "Pat", phoneNumbers: [{ id: "", name: "main", value: mobileOf(1) }] } });
    ws.writeCsv([personRow(1), personRow(2)]);
    ws.writeConfig(MATCH);
    // Creates run before links: the edit lands after the plan's listing, before the link's write.
    const edit = editAt((r) => r.route === "POST /v1/contacts", () => emulator.appEdit(app.id, { role: "Owner", addPhoneNumbers: [HOME] }));
    const r = await cli("sync");
    expect(r.status).toBe(0);
    expect(edit.done()).toBe(true);
    const linked = byId(app.id)!;
    expect(linked.externalId).toBe("leads:K1");
    expect(linked.defaultFields.role).toBe("Owner");
    expect(linked.defaultFields.phoneNumbers.map((p) => `${p.name}=${p.value}`).sort()).toEqual([`home=${HOME.value}`, `mobile=${mobileOf(1)}`]);
    expect(reports(r.stdout)[0].counts).toMatchObject({ link: 1, create: 1, failed: 0 });
    // One link, one read of it by id: cheaper than listing the workspace again.
    expect(emulator.stats().byRoute["GET /v1/contacts/:id"]).toBe(1);
  });

  it("with more links than the workspace has pages, the workspace is listed again and each link written from its page", async () => {
    const seeded = [1, 2, 3].map((i) => emulator.seedContact({ source: null, defaultFields: { firstName: `Pat${i}`, phoneNumbers: [{ id: "", name: "main", value: mobileOf(i) }] } }));
    ws.writeCsv([1, 2, 3, 4].map((i) => personRow(i)));
    ws.writeConfig(MATCH);
    const edit = editAt((r) => r.route === "POST /v1/contacts", () => emulator.appEdit(seeded[2]!.id, { addEmails: [{ name: "personal", value: "pat3@home.example" }] }));
    emulator.resetStats();
    const r = await cli("sync");
    expect(r.status).toBe(0);
    expect(edit.done()).toBe(true);
    expect(reports(r.stdout)[0].counts).toMatchObject({ link: 3, create: 1, failed: 0 });
    expect(byId(seeded[2]!.id)!.defaultFields.emails.map((e) => e.value)).toContain("pat3@home.example");
    const listings = emulator.stats().byRoute["GET /v1/contacts"] ?? 0;
    // The plan's listing, its creates' look-up, and one listing again for the links (one page each).
    expect(emulator.stats().byRoute["GET /v1/contacts/:id"] ?? 0).toBe(0);
    expect(listings).toBe(3);
    // Each contact holds the matched number once, taken over by the sync's label.
    seeded.forEach((c, i) => expect(byId(c.id)!.defaultFields.phoneNumbers.filter((p) => p.value === mobileOf(i + 1)).map((p) => p.name)).toEqual(["mobile"]));
  });

  it("a link whose contact lost the matched number before the write is reported, not written", async () => {
    const app = emulator.seedContact({ source: null, defaultFields: { firstName: "Pat", phoneNumbers: [{ id: "", name: "main", value: mobileOf(1) }] } });
    ws.writeCsv([personRow(1), personRow(2)]);
    ws.writeConfig(MATCH);
    const phoneId = app.defaultFields.phoneNumbers[0]!.id;
    editAt((r) => r.route === "POST /v1/contacts", () => emulator.appEdit(app.id, { setItems: [{ id: phoneId, value: "+16175550100" }] }));
    const r = await cli("sync");
    const change = reports(r.stdout)[0].changes.find((c: any) => c.key === "K1");
    expect(change).toMatchObject({ action: "link", status: "failed" });
    expect(change.error.message).toContain(`no longer holds phone ${mobileOf(1)}`);
    expect(byId(app.id)!.externalId).toBeNull();
  });

  it("sync --verify builds each update from a copy read after the read-back, not from the read-back", async () => {
    const rows = [1, 2, 3].map((i) => personRow(i));
    ws.writeCsv(rows);
    ws.writeConfig();
    expect((await cli("sync")).status).toBe(0);
    const c1 = contactOf("K1");
    rows[0] = personRow(1, 1);
    ws.writeCsv(rows);
    // The read-back is the run's first look-up by externalId; the person's edit lands right after it.
    const edit = editAfter(isLookup, () => emulator.appEdit(c1.id, { role: "Owner", addPhoneNumbers: [HOME] }));
    const r = await cli("sync", "--verify");
    expect(r.status).toBe(0);
    expect(edit.done()).toBe(true);
    const after = byId(c1.id)!;
    expect(after.defaultFields.lastName).toBe(rows[0]![2]);
    expect(after.defaultFields.role).toBe("Owner");
    expect(after.defaultFields.phoneNumbers.map((p) => p.value)).toContain(HOME.value);
    expect(compareWithSource(emulator.contacts(), rows, "leads", new Set(["home"]))).toEqual([]);
  });

  it("an update overwriting a mapped field a person changed says so in the report; onDrift skip keeps that field, without --verify", async () => {
    const rows = [1, 2].map((i) => personRow(i));
    ws.writeCsv(rows);
    ws.writeConfig();
    expect((await cli("sync")).status).toBe(0);
    const c1 = contactOf("K1");
    emulator.appEdit(c1.id, { company: "Set in the app" });
    rows[0] = personRow(1, 1);
    ws.writeCsv(rows);
    let change = reports((await cli("sync")).stdout)[0].changes.find((c: any) => c.key === "K1");
    expect(change.fields.company).toEqual({ from: "Set in the app", to: rows[0]![3] });
    expect(change.fields.lastName).toEqual({ from: "Last1", to: rows[0]![2] });
    expect(byId(c1.id)!.defaultFields.company).toBe(rows[0]![3]);

    ws.writeConfig({ onDrift: "skip" });
    emulator.appEdit(c1.id, { company: "Set in the app again" });
    rows[0] = personRow(1, 2);
    ws.writeCsv(rows);
    const r = await cli("sync");
    change = reports(r.stdout)[0].changes.find((c: any) => c.key === "K1");
    expect(change.status).toBe("done");
    expect(change.fields.lastName).toEqual({ from: personRow(1, 1)[2], to: rows[0]![2] });
    expect(change.fields.company).toBeUndefined();
    expect(change.kept).toEqual({ company: { from: rows[0]![3], to: "Set in the app again" } });
    const after = byId(c1.id)!;
    expect(after.defaultFields.company).toBe("Set in the app again");
    expect(after.defaultFields.lastName).toBe(rows[0]![2]);
    // The table names the kept field too.
    rows[0] = personRow(1, 3);
    ws.writeCsv(rows);
    const shown = await runCli(["sync", "--config", ws.config], cliEnv(emulator), ws.dir);
    expect(shown.stdout).toMatch(/company\s.*kept as set in Quo: Set in the app again/);
  });
});

describe("creates that land late, conflicts, twins", () => {
  it.each(["gateway-timeout", "no-answer"] as const)("a create answered %s and applied 1.5 s later is adopted, never sent twice", async (kind) => {
    const rows = [1, 2, 3].map((i) => personRow(i));
    ws.writeCsv(rows);
    ws.writeConfig();
    emulator.setLateCreates({ count: 1, delayMs: 1500, kind });
    const r = await cli("sync");
    expect(r.status).toBe(0);
    expect(compareWithSource(emulator.contacts(), rows)).toEqual([]);
    expect(emulator.contacts()).toHaveLength(3);
    expect(emulator.stats().byRoute["POST /v1/contacts"]).toBe(3);
    expect(emulator.stats().lateCreates).toMatchObject({ held: 1, applied: 1 });
    const report = reports(r.stdout)[0];
    expect(report.counts).toMatchObject({ create: 3, failed: 0 });
    expect(report.changes.filter((c: any) => c.note === "adopted")).toHaveLength(1);
    // Nothing left to do, and a rerun sends no write.
    emulator.resetStats();
    expect(reports((await cli("sync")).stdout)[0].counts).toMatchObject({ create: 0, update: 0, unchanged: 3 });
    expect(emulator.stats().writesApplied).toEqual({ create: 0, update: 0, delete: 0 });
  });

  it("a 409 on create means look it up: the contact that landed meanwhile is adopted, nothing is created again", async () => {
    ws.writeCsv([personRow(1)]);
    ws.writeConfig();
    emulator.setDuplicateExternalIds("conflict");
    // Another run's create of the same row lands just before this one's.
    editAt((r) => r.route === "POST /v1/contacts", () => emulator.seedContact({ externalId: "leads:K1", source: "quo-sync", defaultFields: { firstName: "First1", phoneNumbers: [{ id: "", name: "mobile", value: mobileOf(1) }] } }));
    const r = await cli("sync");
    expect(r.status).toBe(0);
    expect(emulator.stats().byRoute["POST /v1/contacts"]).toBe(1);
    expect(emulator.contacts()).toHaveLength(1);
    expect(compareWithSource(emulator.contacts(), [personRow(1)])).toEqual([]);
    expect(reports(r.stdout)[0].changes[0]).toMatchObject({ action: "create", status: "done", note: "adopted" });
  });

  it("a 409 on create whose contact never shows up is reported, and not created again", async () => {
    ws.writeCsv([personRow(1)]);
    ws.writeConfig();
    emulator.setRefusal((req) => (req.method === "POST" ? { status: 409, title: "Conflict", message: "Conflict", code: "0800409" } : undefined));
    const r = await cli("sync");
    expect(r.status).toBe(0);
    expect(emulator.stats().byRoute["POST /v1/contacts"]).toBe(1);
    expect(emulator.contacts()).toHaveLength(0);
    const change = reports(r.stdout)[0].changes[0];
    expect(change).toMatchObject({ action: "create", status: "failed" });
    expect(change.error.status).toBe(409);
    expect(change.error.message).toContain("not created again");
  });

  it("of the contacts carrying the row's externalId, only twins quo-sync made are deleted", async () => {
    const fields = { firstName: "First1", phoneNumbers: [{ id: "", name: "mobile", value: mobileOf(1) }] };
    const ours = emulator.seedContact({ externalId: "leads:K1", source: "quo-sync", defaultFields: fields });
    const twin = emulator.seedContact({ externalId: "leads:K1", source: "quo-sync", defaultFields: fields });
    const persons = emulator.seedContact({ externalId: "leads:K1", source: null, defaultFields: { firstName: "Pat" } });
    ws.writeCsv([personRow(1)]);
    ws.writeConfig();
    const r = await cli("sync");
    expect(r.status).toBe(0);
    expect(byId(ours.id)).toBeDefined();
    expect(byId(twin.id)).toBeUndefined();
    expect(byId(persons.id)?.defaultFields.firstName).toBe("Pat");
    expect(r.stderr).toContain("was not made by quo-sync; left alone");
  });
});

describe("a contact another tool re-keyed", () => {
  it("is reported and left alone by updates, --verify and deletes, and never created again", async () => {
    const rows = [1, 2, 3].map((i) => personRow(i));
    ws.writeCsv(rows);
    ws.writeConfig({ maxDeletePercent: 100 });
    expect((await cli("sync")).status).toBe(0);
    const c1 = contactOf("K1");
    emulator.appEdit(c1.id, { externalId: "other-tool:1" });

    rows[0] = personRow(1, 1);
    ws.writeCsv(rows);
    const updated = await cli("sync");
    const change = reports(updated.stdout)[0].changes.find((c: any) => c.key === "K1");
    expect(change).toMatchObject({ action: "update", status: "failed", quoId: c1.id });
    expect(change.error.message).toContain("now carries externalId 'other-tool:1'");
    expect(emulator.contacts()).toHaveLength(3);
    expect(byId(c1.id)!.defaultFields.lastName).toBe("Last1");

    const verified = reports((await cli("plan", "--verify")).stdout)[0];
    expect(verified.drift).toEqual([{ key: "K1", quoId: c1.id, kind: "rekeyed", fields: { externalId: { from: "leads:K1", to: "other-tool:1" } }, resolution: "skip" }]);
    expect(verified.counts).toMatchObject({ create: 0, update: 0, delete: 0 });

    ws.writeCsv(rows.slice(1));
    const deleted = await cli("sync");
    const del = reports(deleted.stdout)[0].changes.find((c: any) => c.key === "K1");
    expect(del).toMatchObject({ action: "delete", status: "failed" });
    expect(byId(c1.id)).toBeDefined();
    expect(emulator.stats().writesApplied.create).toBe(3);
  });

  it("a contact deleted in the app (404 by id) is created again", async () => {
    const rows = [1, 2].map((i) => personRow(i));
    ws.writeCsv(rows);
    ws.writeConfig();
    expect((await cli("sync")).status).toBe(0);
    emulator.appDelete(contactOf("K1").id);
    rows[0] = personRow(1, 1);
    ws.writeCsv(rows);
    const r = await cli("sync");
    expect(reports(r.stdout)[0].changes.find((c: any) => c.key === "K1")).toMatchObject({ status: "done", note: "recreated" });
    expect(compareWithSource(emulator.contacts(), rows)).toEqual([]);
  });
});

describe("a linked contact deleted in the app", () => {
  it("is created again as the sync's own: from then on mirror deletes it instead of unlinking it", async () => {
    const app = emulator.seedContact({ source: null, defaultFields: { firstName: "Pat", phoneNumbers: [{ id: "", name: "main", value: mobileOf(1) }] } });
    let rows = [1, 2].map((i) => personRow(i));
    ws.writeCsv(rows);
    ws.writeConfig({ ...MATCH, maxDeletePercent: 100 });
    expect(reports((await cli("sync")).stdout)[0].counts).toMatchObject({ link: 1, create: 1 });
    emulator.appDelete(app.id);
    rows[0] = personRow(1, 1);
    ws.writeCsv(rows);
    const again = reports((await cli("sync")).stdout)[0];
    expect(again.changes.find((c: any) => c.key === "K1")).toMatchObject({ status: "done", note: "recreated" });
    const made = contactOf("K1");
    expect(made.source).toBe("quo-sync");
    rows = rows.slice(1);
    ws.writeCsv(rows);
    const gone = reports((await cli("sync")).stdout)[0];
    expect(gone.counts).toMatchObject({ delete: 1, unlink: 0 });
    expect(byId(made.id)).toBeUndefined();
  });
});

describe("copies Quo hands back", () => {
  it("a number a person typed as (617) 555-0145 is sent back in E.164; one that does not parse refuses that write, named", async () => {
    const rows = [1, 2].map((i) => personRow(i));
    ws.writeCsv(rows);
    ws.writeConfig();
    expect((await cli("sync")).status).toBe(0);
    const c1 = contactOf("K1");
    emulator.appEdit(c1.id, { addPhoneNumbers: [{ name: "home", value: "(617) 555-0145" }] });
    rows[0] = personRow(1, 1);
    ws.writeCsv(rows);
    let r = await cli("sync");
    expect(reports(r.stdout)[0].counts).toMatchObject({ update: 1, failed: 0 });
    expect(byId(c1.id)!.defaultFields.phoneNumbers.find((p) => p.name === "home")?.value).toBe("+16175550145");

    emulator.appEdit(c1.id, { addPhoneNumbers: [{ name: "other", value: "555-01" }] });
    rows[0] = personRow(1, 2);
    ws.writeCsv(rows);
    r = await cli("sync");
    const change = reports(r.stdout)[0].changes.find((c: any) => c.key === "K1");
    expect(change).toMatchObject({ action: "update", status: "failed" });
    expect(change.error.message).toContain("'555-01' (label 'other')");
    expect(byId(c1.id)!.defaultFields.lastName).toBe(personRow(1, 1)[2]);
    expect(byId(c1.id)!.defaultFields.phoneNumbers.map((p) => p.value)).toContain("555-01");
  });

  it("a link by phone to a number typed as 415.200.0001 takes that item over instead of adding the number again", async () => {
    const app = emulator.seedContact({ source: null, defaultFields: { firstName: "Pat", phoneNumbers: [{ id: "", name: "main", value: "415.200.0001" }] } });
    ws.writeCsv([personRow(1)]);
    ws.writeConfig(MATCH);
    const r = await cli("sync");
    expect(reports(r.stdout)[0].counts).toMatchObject({ link: 1, create: 0, failed: 0 });
    const phones = byId(app.id)!.defaultFields.phoneNumbers;
    expect(phones).toEqual([{ id: app.defaultFields.phoneNumbers[0]!.id, name: "mobile", value: mobileOf(1) }]);
  });

  it("a copy without its phoneNumbers list is not written; the write happens once Quo hands back the whole contact", async () => {
    const rows = [1, 2].map((i) => personRow(i));
    ws.writeCsv(rows);
    ws.writeConfig();
    expect((await cli("sync")).status).toBe(0);
    const c1 = contactOf("K1");
    emulator.appEdit(c1.id, { addPhoneNumbers: [HOME] });
    emulator.setPartialCopies({ ids: [c1.id], omit: ["phoneNumbers"] });
    rows[0] = personRow(1, 1);
    rows[1] = personRow(2, 1);
    ws.writeCsv(rows);
    let r = await cli("sync");
    const report = reports(r.stdout)[0];
    const change = report.changes.find((c: any) => c.key === "K1");
    expect(change).toMatchObject({ action: "update", status: "failed" });
    expect(change.error.message).toContain("came without its phoneNumbers list");
    expect(report.counts).toMatchObject({ update: 1, failed: 1 });
    expect(byId(c1.id)!.defaultFields.phoneNumbers.map((p) => p.value)).toContain(HOME.value);
    expect(byId(c1.id)!.defaultFields.lastName).toBe("Last1");

    emulator.setPartialCopies(undefined);
    r = await cli("sync");
    expect(reports(r.stdout)[0].counts).toMatchObject({ update: 1, failed: 0 });
    expect(compareWithSource(emulator.contacts(), rows, "leads", new Set(["home"]))).toEqual([]);
    expect(byId(c1.id)!.defaultFields.phoneNumbers.map((p) => p.value)).toContain(HOME.value);
  });
});

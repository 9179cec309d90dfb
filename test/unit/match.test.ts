import { describe, expect, it } from "vitest";
import { syncSchema, type SyncConfig } from "../../src/config.js";
import type { ContactFields, Snapshot, SyncRow } from "../../src/model.js";
import { hashContact } from "../../src/plan/hash.js";
import { matchRow, mayTakeOver, type WorkspaceContact, type WorkspaceIndex } from "../../src/plan/match.js";
import { plan } from "../../src/plan/planner.js";

const MATCH = { by: ["phone", "email"] as const, sources: [] as string[] };

function index(entries: { phone?: string; email?: string; c: WorkspaceContact }[]): WorkspaceIndex {
  const byPhone = new Map<string, WorkspaceContact[]>();
  const byEmail = new Map<string, WorkspaceContact[]>();
  for (const e of entries) {
    if (e.phone) byPhone.set(e.phone, [...(byPhone.get(e.phone) ?? []), e.c]);
    if (e.email) byEmail.set(e.email, [...(byEmail.get(e.email) ?? []), e.c]);
  }
  return { byPhone, byEmail };
}

const fields = (phone?: string, email?: string): ContactFields => ({
  firstName: "Ann",
  phoneNumbers: phone ? [{ name: "mobile", value: phone }] : [],
  emails: email ? [{ name: "work", value: email }] : [],
  customFields: {},
});
const app = (id: string): WorkspaceContact => ({ id, externalId: null, source: null });

describe("mayTakeOver", () => {
  it.each([
    [{ id: "A", externalId: null, source: null }, [], true],
    [{ id: "A", externalId: null, source: "openphone" }, [], true],
    [{ id: "A", externalId: null, source: "csv" }, [], true],
    [{ id: "A", externalId: null, source: "hubspot" }, [], false],
    [{ id: "A", externalId: null, source: "hubspot" }, ["hubspot"], true],
    [{ id: "A", externalId: "other:1", source: null }, [], false],
    [{ id: "A", externalId: "zap-9", source: "zapier" }, ["zapier"], false],
  ] as const)("%j with sources %j → %s", (c, sources, ok) => expect(mayTakeOver(c, { by: ["phone"], sources })).toBe(ok));
});

describe("matchRow", () => {
  const managed = new Map([["M1", "K9"]]);
  it.each([
    { name: "no match → none", idx: index([]), f: fields("+14155550100", "a@x.io"), kind: "none" },
    { name: "one app contact by phone → link", idx: index([{ phone: "+14155550100", c: app("A") }]), f: fields("+14155550100"), kind: "link", by: "phone" },
    { name: "by email, case-folded → link", idx: index([{ email: "ann@x.io", c: app("A") }]), f: fields(undefined, "Ann@x.io"), kind: "link", by: "email" },
    { name: "phone decides before email", idx: index([{ phone: "+14155550100", c: app("A") }, { email: "a@x.io", c: app("B") }]), f: fields("+14155550100", "a@x.io"), kind: "link", id: "A" },
    { name: "two contacts by phone → reject", idx: index([{ phone: "+14155550100", c: app("A") }, { phone: "+14155550100", c: app("B") }]), f: fields("+14155550100"), kind: "reject", reason: /matches 2 Quo contacts by phone: A .* B /s },
    { name: "an integration's contact → reject", idx: index([{ phone: "+14155550100", c: { id: "H", externalId: null, source: "hubspot" } }]), f: fields("+14155550100"), kind: "reject", reason: /H \(source 'hubspot'\).*not Quo's own \(add it to match.sources/ },
    { name: "another tool's externalId → reject", idx: index([{ phone: "+14155550100", c: { id: "T", externalId: "crm:7", source: "crm" } }]), f: fields("+14155550100"), kind: "reject", reason: /externalId 'crm:7' of another sync or tool/ },
    { name: "a contact this sync manages for another key → reject", idx: index([{ phone: "+14155550100", c: app("M1") }]), f: fields("+14155550100"), kind: "reject", reason: /already manages for key 'K9'/ },
    { name: "a contact carrying the row's own externalId → none (adopted by the create)", idx: index([{ phone: "+14155550100", c: { id: "O", externalId: "leads:1", source: "quo-sync" } }]), f: fields("+14155550100"), kind: "none" },
  ])("$name", ({ idx, f, kind, ...want }) => {
    const v = matchRow(f, "leads:1", MATCH, idx, managed);
    expect(v.kind).toBe(kind);
    if (v.kind === "link") {
      if ("by" in want) expect(v.matched.by).toBe(want.by);
      if ("id" in want) expect(v.contact.id).toBe(want.id);
    }
    if (v.kind === "reject" && "reason" in want) expect(v.reason).toMatch(want.reason as RegExp);
  });
});

describe("plan with match", () => {
  function syncConfig(): SyncConfig {
    return syncSchema.parse({
      name: "leads",
      source: { type: "csv", path: "x.csv" },
      key: "id",
      fields: { firstName: "first", phoneNumbers: { mobile: "phone" }, emails: { work: "email" } },
      deletes: "mirror",
      maxDeletePercent: 100,
      match: { by: ["phone", "email"] },
    });
  }
  const snapshot = (rows: Record<string, string>[]): Snapshot => ({ origin: "x.csv", columns: ["id", "first", "phone", "email"], rows: rows.map((values, i) => ({ row: i + 2, values })) });

  it("links, creates, and rejects every row that claims a contact another row claims too", () => {
    const idx = index([
      { phone: "+14155550100", c: app("A") },
      { phone: "+14155550111", c: app("B") },
      { email: "shared@x.io", c: app("B") },
    ]);
    const p = plan(
      snapshot([
        { id: "1", first: "Ann", phone: "(415) 555-0100", email: "" },
        { id: "2", first: "Bob", phone: "(415) 555-0111", email: "" },
        { id: "3", first: "Cy", phone: "", email: "Shared@x.io" },
        { id: "4", first: "Dee", phone: "(415) 555-0199", email: "" },
      ]),
      [],
      { sync: syncConfig(), customFields: [], allowDeletes: false, workspace: idx },
    );
    expect(p.actions.map((a) => `${a.action}:${a.key}${a.action === "link" ? `→${a.quoId} by ${a.match.by} ${a.match.value}` : ""}`)).toEqual(["create:4", "link:1→A by phone +14155550100"]);
    expect(p.counts).toMatchObject({ create: 1, link: 1, rejected: 2 });
    expect(p.rejected.map((r) => [r.key, r.field, r.value])).toEqual([
      ["2", "match.phone", "+14155550111"],
      ["3", "match.email", "shared@x.io"],
    ]);
    expect(p.rejected[0]!.reason).toContain("which row 4 (key '3') matches too");
  });

  it("a linked contact whose row left the source is unlinked, never deleted, and does not count against maxDeletePercent", () => {
    const f = fields("+14155550100");
    const state: SyncRow[] = [
      { key: "1", quoId: "A", hash: hashContact(f), fields: f, itemIds: { phoneNumbers: {}, emails: {} }, linked: true },
      { key: "2", quoId: "B", hash: hashContact(f), fields: f, itemIds: { phoneNumbers: {}, emails: {} } },
      { key: "3", quoId: "C", hash: hashContact(f), fields: f, itemIds: { phoneNumbers: {}, emails: {} } },
    ];
    const sync = { ...syncConfig(), maxDeletePercent: 40 };
    const p = plan(snapshot([{ id: "3", first: "Ann", phone: "(415) 555-0100", email: "" }]), state, { sync, customFields: [], allowDeletes: false });
    expect(p.actions.map((a) => `${a.action}:${a.key}`)).toEqual(["delete:2", "unlink:1"]);
    expect(p.counts).toMatchObject({ delete: 1, unlink: 1 });
    expect(p.guards).toEqual([]); // 1 delete of 3 contacts is under 40%
  });
});

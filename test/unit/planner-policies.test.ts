/**
 * The planner under a sync's policies: `mode` (create-only, update-only), with and without `match`
 * and drift.
 */
import { describe, expect, it } from "vitest";
import { syncSchema, type SyncConfig } from "../../src/config.js";
import type { ContactFields, Snapshot, SyncRow } from "../../src/model.js";
import { hashContact } from "../../src/plan/hash.js";
import type { WorkspaceIndex } from "../../src/plan/match.js";
import { plan } from "../../src/plan/planner.js";

function syncConfig(over: Record<string, unknown> = {}): SyncConfig {
  return syncSchema.parse({
    name: "leads",
    source: { type: "csv", path: "x.csv" },
    key: "id",
    fields: { firstName: "first", lastName: "last", company: "company", phoneNumbers: { mobile: "phone" } },
    deletes: "mirror",
    maxDeletePercent: 100,
    ...over,
  });
}

const COLUMNS = ["id", "first", "last", "company", "phone", "status"];

function snapshot(rows: Record<string, string>[]): Snapshot {
  return { origin: "x.csv", columns: COLUMNS, rows: rows.map((values, i) => ({ row: i + 2, values })) };
}

function fields(first: string, extra: Partial<ContactFields> = {}): ContactFields {
  return { firstName: first, phoneNumbers: [], emails: [], customFields: {}, ...extra };
}

function stateRow(key: string, f: ContactFields, quoId = `Q${key}`): SyncRow {
  return { key, quoId, hash: hashContact(f), fields: f, itemIds: { phoneNumbers: f.phoneNumbers.length ? { mobile: `P${key}` } : {}, emails: {} } };
}

const opts = (over: Record<string, unknown>) => ({ sync: syncConfig(over), customFields: [], allowDeletes: false });

describe("mode", () => {
  const rows = [
    { id: "1", first: "Ann", last: "Lee", company: "Acme Corp", phone: "" },
    { id: "2", first: "Bob", last: "", company: "", phone: "" },
    { id: "3", first: "Cy", last: "", company: "", phone: "" },
  ];
  const state = [stateRow("1", fields("Ann", { lastName: "Lee", company: "Acme" })), stateRow("2", fields("Bob")), stateRow("9", fields("Zed"))];

  it("upsert (the default) creates, updates and deletes", () => {
    const p = plan(snapshot(rows), state, opts({}));
    expect(p.actions.map((a) => `${a.action}:${a.key}`)).toEqual(["update:1", "create:3", "delete:9"]);
    expect(p.skipped).toEqual([]);
  });

  it("create-only creates new rows, never updates an existing contact, and reports each it leaves alone", () => {
    const p = plan(snapshot(rows), state, opts({ mode: "create-only" }));
    expect(p.actions.map((a) => `${a.action}:${a.key}`)).toEqual(["create:3", "delete:9"]);
    expect(p.skipped).toEqual([{ key: "1", row: 2, reason: "the contact exists (Q1): create-only never updates it (company would change)" }]);
    expect(p.counts).toMatchObject({ create: 1, update: 0, delete: 1, unchanged: 1, skipped: 1 });
  });

  it("create-only reports a bad row of an existing contact as skipped, not rejected; a new bad row is rejected", () => {
    const p = plan(
      snapshot([
        { id: "1", first: "Ann", last: "Lee", company: "Acme", phone: "555-12" },
        { id: "4", first: "Dee", last: "", company: "", phone: "555-12" },
      ]),
      [stateRow("1", fields("Ann", { lastName: "Lee", company: "Acme" }))],
      opts({ mode: "create-only" }),
    );
    expect(p.skipped.map((s) => s.key)).toEqual(["1"]);
    expect(p.skipped[0]!.reason).toContain("phoneNumbers.mobile: '555-12' is not a valid phone number for US");
    expect(p.rejected.map((r) => r.key)).toEqual(["4"]);
    expect(p.actions).toEqual([]);
  });

  it("create-only leaves a contact edited or deleted in the Quo app alone, whatever onDrift says", () => {
    const observed = new Map([
      ["1", { fields: fields("Ann", { lastName: "Lee", company: "Edited" }), itemIds: { phoneNumbers: {}, emails: {} } }],
      ["2", null],
    ]);
    const p = plan(snapshot(rows.slice(0, 2)), state.slice(0, 2), { ...opts({ mode: "create-only", onDrift: "overwrite" }), observed });
    expect(p.actions).toEqual([]);
    expect(p.drift!.map((d) => [d.key, d.kind, d.resolution])).toEqual([
      ["1", "edited", "skip"],
      ["2", "deleted", "skip"],
    ]);
  });

  it("update-only updates bound rows, never creates, and reports every unbound row as skipped", () => {
    const p = plan(snapshot(rows), state, opts({ mode: "update-only" }));
    expect(p.actions.map((a) => `${a.action}:${a.key}`)).toEqual(["update:1", "delete:9"]);
    expect(p.skipped).toEqual([{ key: "3", row: 4, reason: "no Quo contact is bound to this row: update-only never creates one" }]);
    expect(p.counts).toMatchObject({ create: 0, update: 1, skipped: 1 });
    expect(p.unbound).toBeUndefined();
  });

  it("update-only does not re-create a contact deleted in the Quo app: the row is skipped, saying so", () => {
    const observed = new Map([["2", null]]);
    const p = plan(snapshot(rows.slice(0, 2)), state.slice(0, 2), { ...opts({ mode: "update-only" }), observed });
    expect(p.actions.map((a) => `${a.action}:${a.key}`)).toEqual(["update:1"]);
    expect(p.skipped).toEqual([{ key: "2", row: 3, reason: "its contact was deleted in Quo and no Quo contact is bound to this row: update-only never creates one" }]);
  });

  describe("with match", () => {
    const match = { by: ["phone"] };
    const matchRows = [
      { id: "5", first: "Eve", last: "", company: "", phone: "+14155550105" },
      { id: "6", first: "Fay", last: "", company: "", phone: "+14155550106" },
    ];
    const workspace: WorkspaceIndex = { byPhone: new Map([["+14155550105", [{ id: "QE", externalId: null, source: null }]]]), byEmail: new Map() };

    it("update-only without the workspace hands the unbound rows' values to the run, then links what matches and skips the rest", () => {
      const first = plan(snapshot(matchRows), [], opts({ mode: "update-only", match }));
      expect(first.actions).toEqual([]);
      expect(first.unbound!.map((f) => f.phoneNumbers[0]!.value)).toEqual(["+14155550105", "+14155550106"]);
      const second = plan(snapshot(matchRows), [], { ...opts({ mode: "update-only", match }), workspace });
      expect(second.actions.map((a) => `${a.action}:${a.key}:${a.action === "link" ? a.quoId : ""}`)).toEqual(["link:5:QE"]);
      expect(second.skipped).toEqual([{ key: "6", row: 3, reason: "no Quo contact is bound to this row or matches it by phone: update-only never creates one" }]);
      expect(second.unbound).toBeUndefined();
    });

    it("create-only creates what matches nothing and leaves a contact that exists alone (no link, no twin)", () => {
      const p = plan(snapshot(matchRows), [], { ...opts({ mode: "create-only", match }), workspace });
      expect(p.actions.map((a) => `${a.action}:${a.key}`)).toEqual(["create:6"]);
      expect(p.skipped).toEqual([{ key: "5", row: 2, reason: "matches Quo contact QE by phone +14155550105: create-only never writes to a contact that exists (nor creates a twin of it)" }]);
    });
  });

  it("the config refuses an unknown mode, naming the three", () => {
    expect(() => syncConfig({ mode: "insert" })).toThrow(/upsert.*create-only.*update-only/);
  });
});

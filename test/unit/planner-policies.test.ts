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

/** A row with only a key, a first name and a status. */
const person = (id: string, first: string, status: string) => ({ id, first, last: "", company: "", phone: "", status });

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

describe("where", () => {
  const rows = [
    person("1", "Ann", "Customer"),
    person("2", "Bob", "Churned"),
    person("3", "", "Churned"),
    person("", "Nokey", "Churned"),
  ];
  const where = [{ column: "status", notIn: ["Churned"] }];

  it("leaves filtered rows out before keying and mapping: no create, no rejection, a delete of their contact; each reported with its condition", () => {
    const p = plan(snapshot(rows), [stateRow("2", fields("Bob"))], opts({ where }));
    expect(p.actions.map((a) => `${a.action}:${a.key}`)).toEqual(["create:1", "delete:2"]);
    expect(p.rejected).toEqual([]);
    expect(p.filtered).toEqual([
      { key: "2", row: 3, condition: "where[0]: 'status' not in [\"Churned\"]", column: "status", value: "Churned" },
      { key: "3", row: 4, condition: "where[0]: 'status' not in [\"Churned\"]", column: "status", value: "Churned" },
      { row: 5, condition: "where[0]: 'status' not in [\"Churned\"]", column: "status", value: "Churned" },
    ]);
    expect(p.counts).toMatchObject({ create: 1, delete: 1, filtered: 3, rejected: 0 });
  });

  it("a partial read (incremental, targeted) deletes a contact whose row it read and the filter now leaves out, and nothing else", () => {
    const state = [stateRow("2", fields("Bob")), stateRow("7", fields("Gus"))];
    const partial: Snapshot = { ...snapshot(rows.slice(0, 2)), partial: true };
    const p = plan(partial, state, opts({ where }));
    expect(p.actions.map((a) => `${a.action}:${a.key}`)).toEqual(["create:1", "delete:2"]);
    const never = plan(partial, state, opts({ where, deletes: "never" }));
    expect(never.actions.map((a) => `${a.action}:${a.key}`)).toEqual(["create:1"]);
  });

  it("a filter that keeps no row deletes nothing and says so; an empty source says its own words", () => {
    const state = [stateRow("1", fields("Ann")), stateRow("2", fields("Bob"))];
    const p = plan(snapshot(rows.slice(1)), state, opts({ where }));
    expect(p.actions).toEqual([]);
    expect(p.guards).toEqual([{ guard: "empty-source", refused: false, message: "where leaves none of the 3 rows of x.csv: nothing is deleted (a filter that keeps no row never deletes; check its values)" }]);
    expect(plan(snapshot([]), state, opts({ where })).guards[0]!.message).toContain("x.csv has no rows");
  });

  it("a row the connector could not read is rejected for its problem, never judged by the filter", () => {
    const snap = snapshot(rows.slice(1, 2));
    snap.rows[0]!.problem = "row 3 has 9 cells; the header has 6";
    const p = plan(snap, [], opts({ where }));
    expect(p.filtered).toEqual([]);
    expect(p.rejected.map((r) => r.reason)).toEqual(["row 3 has 9 cells; the header has 6"]);
  });
});

describe("blanks: keep", () => {
  const known = stateRow("1", fields("Ann", { lastName: "Lee", company: "Acme", phoneNumbers: [{ name: "mobile", value: "+14155550100" }] }));

  it("a blank cell asks for what the contact holds: no update for it alone, and an update for another field carries the last value and names the field kept", () => {
    const blank = { id: "1", first: "Ann", last: "Lee", company: "", phone: "", status: "" };
    const same = plan(snapshot([blank]), [known], opts({ blanks: "keep" }));
    expect(same.actions).toEqual([]);
    expect(same.counts.unchanged).toBe(1);

    const renamed = plan(snapshot([{ ...blank, last: "Stone" }]), [known], opts({ blanks: "keep" }));
    const u = renamed.actions[0]!;
    expect(u.action).toBe("update");
    if (u.action !== "update") return;
    expect(u.changes).toEqual({ lastName: { from: "Lee", to: "Stone" } });
    expect(u.fields).toMatchObject({ company: "Acme", phoneNumbers: [{ name: "mobile", value: "+14155550100" }] });
    expect(u.keep).toEqual(["company", "phoneNumbers.mobile"]);
  });

  it("with clear the same cells clear the fields; a new row's kept blanks are simply left out", () => {
    const blank = { id: "1", first: "Ann", last: "Lee", company: "", phone: "", status: "" };
    const cleared = plan(snapshot([blank]), [known], opts({}));
    const u = cleared.actions[0]!;
    expect(u.action === "update" && u.changes).toEqual({ company: { from: "Acme", to: null }, "phoneNumbers.mobile": { from: "+14155550100", to: null } });
    const created = plan(snapshot([{ ...blank, id: "2" }]), [], opts({ blanks: "keep" }));
    expect(created.actions[0]).toMatchObject({ action: "create", fields: { firstName: "Ann", lastName: "Lee", phoneNumbers: [] } });
    expect(created.actions[0]!.action === "create" && "company" in created.actions[0]!.fields).toBe(false);
  });

  it("with --verify, a person's edit of a field whose cell is blank and kept is no drift; an edit of another field still is", () => {
    const blank = { id: "1", first: "Ann", last: "Lee", company: "", phone: "+14155550100", status: "" };
    const seen = (f: ContactFields) => new Map([["1", { fields: f, itemIds: known.itemIds }]]);
    const keptEdit = plan(snapshot([blank]), [known], { ...opts({ blanks: "keep" }), observed: seen({ ...known.fields, company: "Typed in the app" }) });
    expect(keptEdit.drift).toEqual([]);
    expect(keptEdit.actions).toEqual([]);
    const otherEdit = plan(snapshot([blank]), [known], { ...opts({ blanks: "keep" }), observed: seen({ ...known.fields, company: "Typed", lastName: "Typed" }) });
    expect(otherEdit.drift!.map((d) => d.key)).toEqual(["1"]);
    const u = otherEdit.actions[0]!;
    // Overwritten back to the source, the kept field keeping the person's value.
    expect(u.action === "update" && u.changes).toEqual({ lastName: { from: "Typed", to: "Lee" } });
  });
});

describe("explain", () => {
  it("lists every row in order with its outcome, reason and mapping", () => {
    const rows = [
      person("1", "Ann", "Customer"),
      person("2", "Bob", "Churned"),
      person("3", "", "Lead"),
      person("4", "Dee", "Lead"),
      person("1", "Twin", "Lead"),
    ];
    const state = [stateRow("4", fields("Dee"))];
    const p = plan(snapshot(rows), state, { ...opts({ where: [{ column: "status", notIn: ["Churned"] }] }), explain: true });
    expect(p.explained!.map((r) => [r.key, r.row, r.outcome])).toEqual([
      ["1", 2, "create"],
      ["2", 3, "filtered"],
      ["3", 4, "rejected"],
      ["4", 5, "unchanged"],
      ["1", 6, "rejected"],
    ]);
    expect(p.explained![0]!.mapping!.firstName).toEqual({ value: "Ann", via: "column 'first'" });
    expect(p.explained![1]!.reason).toBe("where[0]: 'status' not in [\"Churned\"]");
    expect(p.explained![2]!.reason).toContain("first name is empty");
    expect(p.explained![3]!.mapping!.firstName).toEqual({ value: "Dee", via: "column 'first'" });
    expect(p.explained![4]!.reason).toContain("repeats the key of row 2");
    expect(p.mappings!.get("1")!.firstName!.value).toBe("Ann");
    // Without explain, none of it is computed.
    const plain = plan(snapshot(rows), state, opts({}));
    expect(plain.explained).toBeUndefined();
    expect(plain.mappings).toBeUndefined();
  });
});

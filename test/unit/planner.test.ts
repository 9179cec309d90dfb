import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { syncSchema, type SyncConfig } from "../../src/config.js";
import type { ContactFields, Snapshot, SyncRow } from "../../src/model.js";
import { hashContact } from "../../src/plan/hash.js";
import { isRefused, plan } from "../../src/plan/planner.js";

function syncConfig(over: Record<string, unknown> = {}): SyncConfig {
  return syncSchema.parse({
    name: "leads",
    source: { type: "csv", path: "x.csv" },
    key: "id",
    fields: { firstName: "first", lastName: "last", phoneNumbers: { mobile: "phone" } },
    deletes: "mirror",
    maxDeletePercent: 100,
    ...over,
  });
}

const COLUMNS = ["id", "first", "last", "phone"];

function snapshot(rows: Record<string, string>[]): Snapshot {
  return { origin: "x.csv", columns: COLUMNS, rows: rows.map((values, i) => ({ row: i + 2, values })) };
}

function fields(first: string, last?: string, phone?: string): ContactFields {
  return {
    firstName: first,
    ...(last ? { lastName: last } : {}),
    phoneNumbers: phone ? [{ name: "mobile", value: phone }] : [],
    emails: [],
    customFields: {},
  };
}

function stateRow(key: string, f: ContactFields, quoId = `Q${key}`): SyncRow {
  return { key, quoId, hash: hashContact(f), fields: f, itemIds: { phoneNumbers: f.phoneNumbers.length ? { mobile: `P${key}` } : {}, emails: {} } };
}

describe("plan", () => {
  const opts = { sync: syncConfig(), customFields: [], allowDeletes: false };

  it("creates new keys, updates changed ones, leaves equal ones, deletes gone ones", () => {
    const state = [stateRow("1", fields("Ann", "Lee", "+14155550100")), stateRow("2", fields("Bob")), stateRow("3", fields("Cy"))];
    const p = plan(
      snapshot([
        { id: "1", first: "Ann", last: "Lee", phone: "(415) 555-0100" },
        { id: "2", first: "Bob", last: "Stone", phone: "" },
        { id: "4", first: "Dee", last: "", phone: "" },
      ]),
      state,
      opts,
    );
    expect(p.counts).toEqual({ create: 1, update: 1, delete: 1, link: 0, unlink: 0, unchanged: 1, rejected: 0, skipped: 0, filtered: 0 });
    expect(p.actions.map((a) => `${a.action}:${a.key}`)).toEqual(["update:2", "create:4", "delete:3"]);
    const upd = p.actions[0]!;
    expect(upd.action === "update" && upd.changes).toEqual({ lastName: { from: null, to: "Stone" } });
  });

  it("deletes nothing when deletes is never", () => {
    const p = plan(snapshot([{ id: "1", first: "A", last: "", phone: "" }]), [stateRow("1", fields("A")), stateRow("2", fields("B"))], {
      ...opts,
      sync: syncConfig({ deletes: "never" }),
    });
    expect(p.counts.delete).toBe(0);
  });

  it("an empty source deletes nothing and says so", () => {
    const p = plan(snapshot([]), [stateRow("1", fields("A"))], opts);
    expect(p.actions).toEqual([]);
    expect(p.guards).toEqual([expect.objectContaining({ guard: "empty-source", refused: false })]);
  });

  it.each([
    { percent: 20, deleting: 3, of: 10, allow: false, refused: true },
    { percent: 30, deleting: 3, of: 10, allow: false, refused: false },
    { percent: 20, deleting: 3, of: 10, allow: true, refused: false },
    { percent: 0, deleting: 1, of: 10, allow: false, refused: true },
  ])("maxDeletePercent $percent, deleting $deleting of $of, allow $allow → refused $refused", ({ percent, deleting, of, allow, refused }) => {
    const state = Array.from({ length: of }, (_, i) => stateRow(String(i), fields(`N${i}`)));
    const rows = Array.from({ length: of - deleting }, (_, i) => ({ id: String(i), first: `N${i}`, last: "", phone: "" }));
    const p = plan(snapshot(rows), state, { sync: syncConfig({ maxDeletePercent: percent }), customFields: [], allowDeletes: allow });
    expect(isRefused(p)).toBe(refused);
    expect(p.counts.delete).toBe(deleting);
    if (refused) expect(p.guards[0]!.message).toContain(`would delete ${deleting} of the sync's ${of} contacts`);
  });

  it("a rejected row is reported and keeps its contact", () => {
    const p = plan(snapshot([{ id: "1", first: "A", last: "", phone: "12" }, { id: "", first: "B", last: "", phone: "" }, { id: "1", first: "C", last: "", phone: "" }]), [stateRow("1", fields("A"))], opts);
    expect(p.counts).toEqual({ create: 0, update: 0, delete: 0, link: 0, unlink: 0, unchanged: 0, rejected: 3, skipped: 0, filtered: 0 });
    expect(p.rejected.map((r) => [r.row, r.field])).toEqual([
      [2, "phoneNumbers.mobile"],
      [3, "key"],
      [4, "key"],
    ]);
  });

  it("a row with several fields at fault has a rejection per field, next to each other, and counts once", () => {
    const rows = [
      { id: "1", first: "", last: "", phone: "12" },
      { id: "2", first: "Bo", last: "", phone: "" },
      { id: "3", first: "", last: "", phone: "" },
    ];
    const p = plan(snapshot(rows), [], opts);
    expect(p.counts).toEqual({ create: 1, update: 0, delete: 0, link: 0, unlink: 0, unchanged: 0, rejected: 2, skipped: 0, filtered: 0 });
    expect(p.rejected.map((r) => [r.row, r.key, r.field])).toEqual([
      [2, "1", "firstName"],
      [2, "1", "phoneNumbers.mobile"],
      [4, "3", "firstName"],
    ]);
  });
});

/**
 * Property: any sequence of source edits and runs — where any write may fail and be retried by a
 * later run — converges: after one clean run, Quo holds exactly the valid source rows, rejected
 * rows keep their last good contact, nothing else of this sync remains, and a further plan is empty.
 */
describe("convergence (fast-check)", () => {
  type Row = { first: string; last: string; phone: string };
  type Cmd = { kind: "put"; key: number; row: Row } | { kind: "remove"; key: number } | { kind: "run"; failMask: number };

  const rowArb: fc.Arbitrary<Row> = fc.record({
    first: fc.constantFrom("Ann", "Bob", " Cy ", "", "Dee"),
    last: fc.constantFrom("", "Lee", "Stone"),
    phone: fc.constantFrom("", "(415) 555-0100", "+1 212 555 0199", "12", "415.555.0142"),
  });
  const cmdArb: fc.Arbitrary<Cmd> = fc.oneof(
    fc.record({ kind: fc.constant("put" as const), key: fc.integer({ min: 0, max: 7 }), row: rowArb }),
    fc.record({ kind: fc.constant("remove" as const), key: fc.integer({ min: 0, max: 7 }) }),
    fc.record({ kind: fc.constant("run" as const), failMask: fc.integer({ min: 0, max: 255 }) }),
  );

  it("converges to Quo == source", () => {
    fc.assert(
      fc.property(fc.array(cmdArb, { maxLength: 25 }), (cmds) => {
        const sync = syncConfig();
        const source = new Map<number, Row>();
        const quo = new Map<string, { externalKey: string; fields: ContactFields }>();
        const state = new Map<string, SyncRow>();
        let nextId = 1;

        const run = (failMask: number): void => {
          const rows = [...source.entries()].map(([k, r]) => ({ id: `k${k}`, first: r.first, last: r.last, phone: r.phone }));
          const p = plan(snapshot(rows), [...state.values()], { sync, customFields: [], allowDeletes: true });
          p.actions.forEach((a, i) => {
            if (failMask & (1 << (i % 8))) return; // this write failed; a later run must fix it
            if (a.action === "create" || (a.action === "update" && !quo.has(a.quoId))) {
              const id = `C${nextId++}`;
              quo.set(id, { externalKey: a.key, fields: a.fields });
              state.set(a.key, { key: a.key, quoId: id, hash: a.hash, fields: a.fields, itemIds: { phoneNumbers: {}, emails: {} }, sourceHash: a.sourceHash });
            } else if (a.action === "update") {
              quo.set(a.quoId, { externalKey: a.key, fields: a.fields });
              state.set(a.key, { ...state.get(a.key)!, hash: a.hash, fields: a.fields, sourceHash: a.sourceHash });
            } else {
              quo.delete(a.quoId);
              state.delete(a.key);
            }
          });
        };

        for (const c of cmds) {
          if (c.kind === "put") source.set(c.key, c.row);
          else if (c.kind === "remove") source.delete(c.key);
          else run(c.failMask);
        }
        run(0);

        const rows = [...source.entries()].map(([k, r]) => ({ id: `k${k}`, first: r.first, last: r.last, phone: r.phone }));
        const final = plan(snapshot(rows), [...state.values()], { sync, customFields: [], allowDeletes: true });
        expect(final.actions).toEqual([]);
        const rejectedKeys = new Set(final.rejected.map((r) => r.key));
        const inQuo = new Map([...quo.values()].map((c) => [c.externalKey, c.fields]));
        expect(inQuo.size).toBe(quo.size); // never two contacts for one key
        for (const [k, r] of source) {
          const key = `k${k}`;
          if (rejectedKeys.has(key)) continue;
          const got = inQuo.get(key);
          expect(got?.firstName).toBe(r.first.trim());
          expect(got?.lastName ?? "").toBe(r.last);
        }
        if (source.size > 0) {
          for (const key of inQuo.keys()) expect(source.has(Number(key.slice(1)))).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe("plan with observed Quo contacts (--verify)", () => {
  const rows = [
    { id: "1", first: "Ann", last: "Lee", phone: "" },
    { id: "2", first: "Bob", last: "", phone: "" },
    { id: "3", first: "Cy", last: "", phone: "" },
  ];
  const state = [stateRow("1", fields("Ann", "Lee")), stateRow("2", fields("Bob")), stateRow("3", fields("Cy"))];
  const observed = new Map([
    ["1", { fields: fields("Ann", "Changed"), itemIds: { phoneNumbers: {}, emails: {} } }],
    ["2", null],
    ["3", { fields: fields("Cy"), itemIds: { phoneNumbers: {}, emails: {} } }],
  ]);

  it("overwrite: an edited contact is PATCHed back, a deleted one created again", () => {
    const p = plan(snapshot(rows), state, { sync: syncConfig(), customFields: [], allowDeletes: false, observed });
    expect(p.drift?.map((d) => [d.key, d.kind, d.resolution])).toEqual([
      ["1", "edited", "overwrite"],
      ["2", "deleted", "overwrite"],
    ]);
    expect(p.actions.map((a) => `${a.action}:${a.key}`)).toEqual(["update:1", "create:2"]);
    const upd = p.actions[0]!;
    expect(upd.action === "update" && upd.changes).toEqual({ lastName: { from: "Changed", to: "Lee" } });
  });

  it("skip: drifted contacts are left alone and reported", () => {
    const p = plan(snapshot(rows), state, { sync: syncConfig({ onDrift: "skip" }), customFields: [], allowDeletes: false, observed });
    expect(p.actions).toEqual([]);
    expect(p.drift?.map((d) => d.resolution)).toEqual(["skip", "skip"]);
    expect(p.counts.unchanged).toBe(3);
  });

  it("without read-back there is no drift section", () => {
    expect(plan(snapshot(rows), state, { sync: syncConfig(), customFields: [], allowDeletes: false }).drift).toBeUndefined();
  });
});

describe("plan from a partial snapshot (an incremental read)", () => {
  const opts = { sync: syncConfig({ maxDeletePercent: 20 }), customFields: [], allowDeletes: false };
  const state = Array.from({ length: 10 }, (_, i) => stateRow(String(i + 1), fields(`P${i + 1}`)));
  const partial = (rows: Record<string, string>[]): Snapshot => ({ ...snapshot(rows), partial: true });

  it("creates and updates what it holds, and deletes nothing it lacks: no delete guard counts the absent rows", () => {
    const rows = [
      { id: "3", first: "P3 changed", last: "", phone: "" },
      { id: "11", first: "New", last: "", phone: "" },
    ];
    const p = plan(partial(rows), state, opts);
    expect(p.counts).toEqual({ create: 1, update: 1, delete: 0, link: 0, unlink: 0, unchanged: 0, rejected: 0, skipped: 0, filtered: 0 });
    expect(p.actions.map((a) => `${a.action}:${a.key}`)).toEqual(["update:3", "create:11"]);
    expect(p.guards).toEqual([]);
    expect(p.partial).toBe(true);
    expect(isRefused(p)).toBe(false);
    // The same rows as a full snapshot: the 9 absent keys are deletes, over maxDeletePercent 20.
    const full = plan(snapshot(rows), state, opts);
    expect(full.counts.delete).toBe(9);
    expect(isRefused(full)).toBe(true);
    expect(full.partial).toBeUndefined();
  });

  it("an empty partial snapshot (nothing changed) is no empty source: no guard, no delete, nothing to do", () => {
    const p = plan(partial([]), state, opts);
    expect(p.actions).toEqual([]);
    expect(p.guards).toEqual([]);
    const empty = plan(snapshot([]), state, opts);
    expect(empty.guards.map((g) => g.guard)).toEqual(["empty-source"]);
  });

  it("a linked contact absent from a partial snapshot is not unlinked", () => {
    const linked = state.map((r, i) => (i === 0 ? { ...r, linked: true } : r));
    const p = plan(partial([{ id: "2", first: "P2", last: "", phone: "" }]), linked, { ...opts, sync: syncConfig({ maxDeletePercent: 100 }) });
    expect(p.counts.unlink).toBe(0);
    expect(plan(snapshot([{ id: "2", first: "P2", last: "", phone: "" }]), linked, { ...opts, sync: syncConfig({ maxDeletePercent: 100 }) }).counts.unlink).toBe(1);
  });
});

describe("plan from a targeted snapshot (a webhook's ids): gone keys", () => {
  const state = Array.from({ length: 5000 }, (_, i) => stateRow(String(i + 1), fields(`P${i + 1}`)));
  const opts = { sync: syncConfig({ maxDeletePercent: 1 }), customFields: [], allowDeletes: false };
  const targeted = (rows: Record<string, string>[], gone: string[]): Snapshot => ({ ...snapshot(rows), partial: true, gone });

  it("deletes exactly the gone keys, and the guard counts them against the sync's whole state", () => {
    const p = plan(targeted([{ id: "7", first: "P7 changed", last: "", phone: "" }], ["42"]), state, opts);
    expect(p.actions.map((a) => `${a.action}:${a.key}`)).toEqual(["update:7", "delete:42"]);
    expect(p.counts).toMatchObject({ update: 1, delete: 1, create: 0, unchanged: 0 });
    expect(p.guards).toEqual([]);
    expect(p.partial).toBe(true);
  });

  it("more gone keys than maxDeletePercent of the whole state refuses the run", () => {
    const gone = Array.from({ length: 51 }, (_, i) => String(i + 1));
    const p = plan(targeted([], gone), state, opts);
    expect(p.counts.delete).toBe(51);
    expect(isRefused(p)).toBe(true);
    expect(p.guards[0]?.message).toContain("51 of the sync's 5000 contacts");
    expect(isRefused(plan(targeted([], gone), state, { ...opts, allowDeletes: true }))).toBe(false);
  });

  it("a gone key the sync never wrote, or one still present in the rows, deletes nothing; a linked one is unlinked", () => {
    const linked = state.map((r) => (r.key === "9" ? { ...r, linked: true } : r));
    const p = plan(targeted([{ id: "3", first: "P3", last: "", phone: "" }], ["3", "99999", "9"]), linked, opts);
    expect(p.actions.map((a) => `${a.action}:${a.key}`)).toEqual(["unlink:9"]);
    expect(p.counts.unchanged).toBe(1);
  });

  it("deletes nothing with deletes: never, nor for gone keys of a full snapshot's absent rows beyond them", () => {
    expect(plan(targeted([], ["1"]), state, { ...opts, sync: syncConfig({ deletes: "never" }) }).actions).toEqual([]);
    expect(plan(targeted([], []), state, opts).actions).toEqual([]);
  });
});

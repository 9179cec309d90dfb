/**
 * What write-back records per source record: its Quo id, and "ok" or why it is not in Quo.
 */
import { describe, expect, it } from "vitest";
import type { Plan, Snapshot } from "../../src/model.js";
import { writeBackEntries } from "../../src/write-back.js";

const snapshot: Snapshot = {
  origin: "sheet",
  columns: ["id"],
  rows: [2, 3, 4, 5].map((row, i) => ({ row, values: { id: ["A", "B", "C", "B"][i]! } })),
};

function planWith(rejected: Plan["rejected"]): Plan {
  return { sync: "leads", actions: [], unchanged: 0, rejected, guards: [], filtered: [], skipped: [], counts: { create: 0, update: 0, delete: 0, link: 0, unlink: 0, unchanged: 0, rejected: 0, skipped: 0, filtered: 0 } };
}

describe("writeBackEntries", () => {
  it.each([
    {
      name: "a row with one field at fault",
      rejected: [{ key: "B", row: 3, field: "emails.work", value: "x", reason: "emails.work: 'x' is not a valid email address" }],
      status: "emails.work: 'x' is not a valid email address",
    },
    {
      name: "a row with several: every reason, in order",
      rejected: [
        { key: "B", row: 3, field: "firstName", value: "", reason: "firstName: first name is empty" },
        { key: "B", row: 3, field: "phoneNumbers.mobile", value: "12", reason: "phoneNumbers.mobile: '12' is not a valid phone number for US" },
      ],
      status: "firstName: first name is empty; phoneNumbers.mobile: '12' is not a valid phone number for US",
    },
    {
      name: "a key's later row repeating it: the first row speaks for the key",
      rejected: [
        { key: "B", row: 3, field: "firstName", value: "", reason: "firstName: first name is empty" },
        { key: "B", row: 5, field: "key", value: "B", reason: "key: 'B' repeats the key of row 3" },
      ],
      status: "firstName: first name is empty",
    },
  ])("$name", ({ rejected, status }) => {
    const entries = writeBackEntries(snapshot, "id", planWith(rejected), [], [{ key: "A", quoId: "QA", hash: "h", fields: { firstName: "A", phoneNumbers: [], emails: [], customFields: {} }, itemIds: { phoneNumbers: {}, emails: {} } }]);
    expect(entries).toEqual([
      { key: "A", quoId: "QA", status: "ok" },
      { key: "B", quoId: null, status },
      { key: "C", quoId: null, status: "not synced" },
    ]);
  });
});

describe("writeBackEntries under where and mode", () => {
  it("says a row is filtered (with its condition) or skipped (with the reason), never ok", () => {
    const p: Plan = {
      ...planWith([]),
      filtered: [{ key: "B", row: 3, condition: "where[0]: 'Status' not in [\"Churned\"]", column: "Status", value: "Churned" }],
      skipped: [{ key: "C", row: 4, reason: "no Quo contact is bound to this row: update-only never creates one" }],
    };
    const state = [{ key: "A", quoId: "QA", hash: "h", fields: { firstName: "A", phoneNumbers: [], emails: [], customFields: {} }, itemIds: { phoneNumbers: {}, emails: {} } }];
    expect(writeBackEntries(snapshot, "id", p, [], state)).toEqual([
      { key: "A", quoId: "QA", status: "ok" },
      { key: "B", quoId: null, status: "filtered: where[0]: 'Status' not in [\"Churned\"]" },
      { key: "C", quoId: null, status: "skipped: no Quo contact is bound to this row: update-only never creates one" },
    ]);
  });
});
